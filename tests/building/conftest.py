"""A small round with its ledger for the Commitment to Quality drafts: a physical, a virtual and a grouped exchange.

Round 1 of the ledger (``ROUND_DIR/ledger.sqlite``):

* V001 (ES) at H001 (PT): physical, 5 working days from Mon 1 Mar 2027, EUR 780, accepted;
* V002 (FR, a hostile name) at H001: virtual, 5 days in 5 weeks from Thu 4 Mar 2027, accepted;
* V003 (DE) and V004 (PL) at H002 (IT, grouped): physical on overlapping dates, V003 locked, V004 accepted
  (4 working days: the lump sum halved);
* V005 (ES) at H003 (FR): proposed, undecided (no draft).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from helpers import host, visitor, write_round

from matchmaker.inputs.loading import load_round
from matchmaker.ledger.store import Ledger

HOSTILE = "<script>alert('x')</script> & \"Co\""


def _row(v, h, vc, hc, mode, start, end, days, lump, partnership, distance=None, **extra):
    return {"visitor_id": v, "visitor_name": NAMES[v], "visitor_country": vc, "host_id": h, "host_name": NAMES[h],
            "host_country": hc, "mode": mode, "start_date": start, "end_date": end, "working_days": days,
            "distance_km": distance, "lump_sum_eur": lump, "partnership": partnership, "score": 60.0,
            "score_activities": 30.0, "score_objectives": 30.0, "locked": False, **extra}


NAMES = {"V001": "Clúster Textil Valencià", "V002": HOSTILE, "V003": "Berlin Water Hub", "V004": "Łódź Textile Hub",
         "V005": "Sevilla Food Lab", "H001": "Citeve Porto", "H002": "Milano Lighting Cluster",
         "H003": "Lyon Health Campus"}


def _registrations() -> list[dict]:
    return [
        visitor(org_id="V001", name=NAMES["V001"], activities="networking;marketing;shadowing",
                objectives="new_markets;green_transition"),
        visitor(org_id="V002", name=HOSTILE, country="FR", city="Lyon", latitude=45.764, longitude=4.8357,
                partnership="BLUES", mode="virtual", activities="market_research;networking",
                objectives="new_technologies"),
        visitor(org_id="V003", name=NAMES["V003"], country="DE", city="Berlin", latitude=52.52, longitude=13.405,
                partnership="BLUES", activities="capacity_building", objectives="learn_from_cluster"),
        visitor(org_id="V004", name=NAMES["V004"], country="PL", city="Łódź", latitude=51.759, longitude=19.456,
                activities="capacity_building;networking", objectives="learn_from_cluster"),
        visitor(org_id="V005", name=NAMES["V005"], city="Sevilla", latitude=37.389, longitude=-5.984),
        host(org_id="H001", name=NAMES["H001"], mode="either",
             activities="networking;marketing;training;market_research",
             objectives="new_markets;new_technologies"),
        host(org_id="H002", name=NAMES["H002"], country="IT", city="Milan", latitude=45.4642, longitude=9.19,
             partnership="BRILLIANT", capacity=3, max_visitors=4, grouped=True, activities="capacity_building",
             objectives="learn_from_cluster;interregional_collaboration"),
        host(org_id="H003", name=NAMES["H003"], country="FR", city="Lyon", latitude=45.764, longitude=4.8357),
    ]


@pytest.fixture(scope="module")
def ctq_round(tmp_path_factory):
    """``(round_dir, ledger_url)``: the round above, recorded as round 1 with its decisions.

    One per test module: the tests only read it."""
    d = write_round(tmp_path_factory.mktemp("ctq"), _registrations(),
                    settings={"rules": {"virtual_until": dt.date(2027, 12, 31)}})
    rnd = load_round(d)
    props = pd.DataFrame([
        _row("V001", "H001", "ES", "PT", "physical", "2027-03-01", "2027-03-05", 5, 780.0, "CLAMTEX", 455.2),
        _row("V002", "H001", "FR", "PT", "virtual", "2027-03-04", "2027-04-07", 5, 0.0, "BLUES"),
        _row("V003", "H002", "DE", "IT", "physical", "2027-03-08", "2027-03-12", 5, 900.0, "BLUES", 842.0),
        _row("V004", "H002", "PL", "IT", "physical", "2027-03-10", "2027-03-15", 4, 450.0, "CLAMTEX", 1020.0),
        _row("V005", "H003", "ES", "FR", "physical", "2027-03-01", "2027-03-05", 5, 900.0, "CLAMTEX", 1300.0),
    ])
    url = f"sqlite:///{d / 'ledger.sqlite'}"
    with Ledger(url) as led:
        rid = led.record_round(rnd, {"proposals": props, "unmatched": pd.DataFrame(columns=["visitor_id", "reason"]),
                                     "summary": {}})
        led.decide(rid, "V001", "H001", "accept", reviewer="ana@clamtex.eu")
        led.decide(rid, "V002", "H001", "accept", reviewer="jan@blues.eu")
        led.decide(rid, "V003", "H002", "lock", reviewer="office", comment="prior agreement")
        led.decide(rid, "V004", "H002", "accept", reviewer="ana@clamtex.eu")
    return d, url
