"""A small hand-made solved round for the report and notebook-UI tests (no solver needed).

:func:`write_solved_round` writes a round of 4 visitors and 3 hosts (with
:func:`helpers.write_round`) and, beside it, the output files of a solved round:
3 proposals (2 physical for CLAMTEX, 1 virtual for BLUES) and 1 unmatched visitor.
The first visitor's name is hostile HTML with accents.
"""

from __future__ import annotations

import json

import pandas as pd
from helpers import host, visitor, write_round

HOSTILE_NAME = '<script>alert("x")</script> Clúster Têxtil'


def write_solved_round(tmp_path):
    """Write the round and its solution under ``tmp_path``; return ``(round_dir, out_dir, proposals)``."""
    rows = [
        visitor(org_id="V1", name=HOSTILE_NAME),
        visitor(org_id="V2", country="FR", city="Lyon", latitude=45.764, longitude=4.8357),
        visitor(org_id="V3", country="DE", city="Berlin", latitude=52.52, longitude=13.405, partnership="BLUES",
                sectors="water"),
        visitor(org_id="V4", country="IT", city="Milan", latitude=45.4642, longitude=9.19),
        host(org_id="H1"),
        host(org_id="H2", country="FR", city="Paris", latitude=48.8566, longitude=2.3522),
        host(org_id="H3", country="PL", city="Warsaw", latitude=52.2297, longitude=21.0122, partnership="BLUES",
             mode="either"),
    ]
    round_dir = write_round(tmp_path, rows)
    out = tmp_path / "out"
    out.mkdir()
    proposals = pd.DataFrame({
        "visitor_id": ["V1", "V2", "V3"],
        "visitor_name": [HOSTILE_NAME, "Visitor 2", "Visitor 3"],
        "visitor_country": ["ES", "FR", "DE"],
        "host_id": ["H1", "H1", "H3"],
        "host_name": ["Host 1", "Host 1", "Host 3"],
        "host_country": ["PT", "PT", "PL"],
        "mode": ["physical", "physical", "virtual"],
        "start_date": ["2027-03-01", "2027-04-01", "2027-03-08"],
        "end_date": ["2027-03-05", "2027-04-07", "2027-04-11"],
        "working_days": [5, 5, 5],
        "distance_km": [469.9, 1110.2, 516.4],
        "lump_sum_eur": [780.0, 780.0, 0.0],
        "partnership": ["CLAMTEX", "CLAMTEX", "BLUES"],
        "score": [80.0, 60.0, 40.0],
        "score_sectors": [50.0, 30.0, 20.0],
        "score_languages": [30.0, 30.0, 20.0],
        "locked": [True, False, False],
    })
    proposals.to_csv(out / "proposals.csv", index=False)
    pd.DataFrame({"visitor_id": ["V4"], "visitor_name": ["Visitor 4"], "rule": ["budget"],
                  "reason": ["partnership CLAMTEX has no budget left for this visitor"]}).to_csv(
        out / "unmatched.csv", index=False)
    (out / "summary.json").write_text(json.dumps({"solver": {"status": "optimal", "gap": 0.0}}), encoding="utf-8")
    return round_dir, out, proposals
