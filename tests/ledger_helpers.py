"""Hand-made rounds, proposals and solutions for the ledger's tests (tests/ledger/, tests/report/)."""

from __future__ import annotations

import pandas as pd

from matchmaker.inputs.instance import Round

VISITORS = [  # org_id, name, country, partnership
    ("V1", "Clúster Textil Valencià", "ES", "CLAMTEX"),
    ("V2", "Škoda Cluster", "CZ", "EXTRATEX"),
    ("V3", "Łódź Textile Hub", "PL", "BLUES"),
    ("V4", "Ørsted Energy Group", "DK", "CELIS"),
]
HOSTS = [
    ("H1", "Citeve Porto", "PT"),
    ("H2", "Techtera Lyon", "FR"),
    ("H3", "Valencia Host", "ES"),
]
PARTNERSHIPS = {"CLAMTEX": 3000.0, "EXTRATEX": 3000.0, "BLUES": 3000.0, "CELIS": 3000.0}


def hand_made_round(visitors=VISITORS, hosts=HOSTS, budgets=PARTNERSHIPS, decisions=None) -> Round:
    """A small Round with the columns the ledger and carry-over read."""
    v = pd.DataFrame(visitors, columns=["org_id", "name", "country", "partnership"])
    v["already_visited"] = False
    v["source_row"] = range(2, 2 + len(v))
    h = pd.DataFrame(hosts, columns=["org_id", "name", "country"])
    h["source_row"] = range(2 + len(v), 2 + len(v) + len(h))
    p = pd.DataFrame({"partnership_id": list(budgets), "name": list(budgets),
                      "budget_eur": [float(b) for b in budgets.values()]}).set_index("partnership_id")
    if decisions is None:
        decisions = pd.DataFrame({"visitor_id": pd.Series(dtype=str), "host_id": pd.Series(dtype=str),
                                  "decision": pd.Series(dtype=str), "comment": pd.Series(dtype=str),
                                  "source_row": pd.Series(dtype="int64")})
    return Round(visitors=v, hosts=h, partnerships=p, countries=pd.DataFrame(), decisions=decisions,
                 settings={"solver": {"programme_budget_eur": 0.0}}, input_hash="abc123")


def proposal(v, h, lump=830.0, mode="physical", score=70.0, locked=False, **extra):
    vrow = next(r for r in VISITORS if r[0] == v)
    hrow = next(r for r in HOSTS if r[0] == h)
    row = {"visitor_id": v, "visitor_name": vrow[1], "visitor_country": vrow[2], "host_id": h,
           "host_name": hrow[1], "host_country": hrow[2], "mode": mode, "start_date": "2027-03-01",
           "end_date": "2027-03-05", "working_days": 5, "distance_km": 1234.5, "lump_sum_eur": lump,
           "partnership": vrow[3], "score": score, "score_sectors": score * 0.6,
           "score_languages": score * 0.4, "locked": locked}
    row.update(extra)
    return row


def solution(*rows, unmatched=()):
    return {"proposals": pd.DataFrame(list(rows)),
            "unmatched": pd.DataFrame(list(unmatched), columns=["visitor_id", "reason"]),
            "summary": {"n_proposals": len(rows), "gap": float("nan")}}
