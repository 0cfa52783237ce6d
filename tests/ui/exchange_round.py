"""A small round and its ledger for the exchange-building panels, notebook 04 and its browser test (issue 14).

Round 1 of the ledger (``ROUND_DIR/ledger.sqlite``), no solver needed:

* V001 (ES, CLAMTEX) at H001 (PT, CLAMTEX): physical, 5 working days from 1 Mar 2027, EUR 780, accepted;
* V002 (FR, BLUES) at H001: virtual, accepted (no lump sum, no Financial Agreement);
* V003 (DE, BLUES) at H002 (IT, BRILLIANT): physical, EUR 900, locked;
* V004 (PL, CLAMTEX) at H002: physical, EUR 450, accepted; two Partnerships in charge (CLAMTEX, BRILLIANT);
* V005 (ES, CLAMTEX) at H003 (FR): proposed, undecided (not an exchange).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from helpers import host, visitor, write_round

from matchmaker.inputs.loading import load_round
from matchmaker.ledger.store import Ledger

NAMES = {"V001": "Clúster Textil Valencià", "V002": "Lyon Digital <b>Hub</b>", "V003": "Berlin Water Hub",
         "V004": "Łódź Textile Hub", "V005": "Sevilla Food Lab", "H001": "Citeve Porto",
         "H002": "Milano Lighting Cluster", "H003": "Lyon Health Campus"}
#: (visitor, host) -> decision in the ledger
DECIDED = {("V001", "H001"): "accept", ("V002", "H001"): "accept", ("V003", "H002"): "lock",
           ("V004", "H002"): "accept"}


def _registrations() -> list[dict]:
    return [
        visitor(org_id="V001", name=NAMES["V001"], activities="networking;marketing",
                objectives="new_markets"),
        visitor(org_id="V002", name=NAMES["V002"], country="FR", city="Lyon", latitude=45.764, longitude=4.8357,
                partnership="BLUES", mode="virtual", activities="networking", objectives="new_technologies"),
        visitor(org_id="V003", name=NAMES["V003"], country="DE", city="Berlin", latitude=52.52, longitude=13.405,
                partnership="BLUES", activities="capacity_building", objectives="learn_from_cluster"),
        visitor(org_id="V004", name=NAMES["V004"], country="PL", city="Łódź", latitude=51.759, longitude=19.456,
                activities="capacity_building", objectives="learn_from_cluster"),
        visitor(org_id="V005", name=NAMES["V005"], city="Sevilla", latitude=37.389, longitude=-5.984),
        host(org_id="H001", name=NAMES["H001"], mode="either", activities="networking;marketing",
             objectives="new_markets;new_technologies"),
        host(org_id="H002", name=NAMES["H002"], country="IT", city="Milan", latitude=45.4642, longitude=9.19,
             partnership="BRILLIANT", capacity=3, max_visitors=4, grouped=True, activities="capacity_building",
             objectives="learn_from_cluster"),
        host(org_id="H003", name=NAMES["H003"], country="FR", city="Lyon", latitude=45.764, longitude=4.8357),
    ]


def _row(v, h, vc, hc, mode, start, end, days, lump, partnership, distance=None):
    return {"visitor_id": v, "visitor_name": NAMES[v], "visitor_country": vc, "host_id": h, "host_name": NAMES[h],
            "host_country": hc, "mode": mode, "start_date": start, "end_date": end, "working_days": days,
            "distance_km": distance, "lump_sum_eur": lump, "partnership": partnership, "score": 60.0,
            "score_activities": 30.0, "score_objectives": 30.0, "locked": False}


def write_exchange_round(base: Path, name: str = "round") -> tuple[Path, str]:
    """Write the round under ``base/name``, record it with its decisions; return ``(round_dir, ledger_url)``."""
    d = write_round(base, _registrations(), settings={"rules": {"virtual_until": dt.date(2027, 12, 31)}}, name=name)
    props = pd.DataFrame([
        _row("V001", "H001", "ES", "PT", "physical", "2027-03-01", "2027-03-05", 5, 780.0, "CLAMTEX", 455.2),
        _row("V002", "H001", "FR", "PT", "virtual", "2027-03-04", "2027-04-07", 5, 0.0, "BLUES"),
        _row("V003", "H002", "DE", "IT", "physical", "2027-03-08", "2027-03-12", 5, 900.0, "BLUES", 842.0),
        _row("V004", "H002", "PL", "IT", "physical", "2027-03-10", "2027-03-15", 4, 450.0, "CLAMTEX", 1020.0),
        _row("V005", "H003", "ES", "FR", "physical", "2027-03-01", "2027-03-05", 5, 900.0, "CLAMTEX", 1300.0),
    ])
    url = f"sqlite:///{d / 'ledger.sqlite'}"
    with Ledger(url) as led:
        rid = led.record_round(load_round(d), {"proposals": props, "summary": {},
                                               "unmatched": pd.DataFrame(columns=["visitor_id", "reason"])})
        for (v, h), decision in DECIDED.items():
            led.decide(rid, v, h, decision, reviewer="ana@clamtex.eu")
    return d, url
