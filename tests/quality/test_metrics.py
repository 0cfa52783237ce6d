"""The match-quality report (quality/metrics.py) on a small hand-made round with known figures,
and its place in ``summary.json`` after a solve (run.run_round in-process)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import host, visitor, write_round

from matchmaker.inputs.loading import load_round
from matchmaker.quality.metrics import match_quality, round_budgets
from matchmaker.run import run_round

FR = dict(country="FR", city="Lyon", latitude=45.764, longitude=4.8357)
DE = dict(country="DE", city="Berlin", latitude=52.52, longitude=13.405)
IT = dict(country="IT", city="Milan", latitude=45.4642, longitude=9.19)
PL = dict(country="PL", city="Warsaw", latitude=52.2297, longitude=21.0122)


@pytest.fixture
def hand_round(tmp_path):
    """5 visitors of two Partnerships (P01 budget 2000, P02 budget 1000), 2 hosts; 3 exchanges."""
    rows = [visitor(org_id="V1", partnership="P01"),
            visitor(org_id="V2", partnership="P01", org_type="cluster_organisation", **FR),
            visitor(org_id="V3", partnership="P02", **DE),
            visitor(org_id="V4", partnership="P02", org_type="scaleup_support", **IT),
            visitor(org_id="V5", partnership="P01"),
            host(org_id="H1", partnership="P01", max_visitors=2),
            host(org_id="H2", partnership="P02", mode="either", **PL)]
    parts = [{"partnership_id": "P01", "name": "Textile Partnership", "budget_eur": 2000,
              "member_countries": "ES;PT;FR;DE;IT;PL"},
             {"partnership_id": "P02", "budget_eur": 1000, "member_countries": "ES;PT;FR;DE;IT;PL"}]
    rnd = load_round(write_round(tmp_path, rows, partnerships=parts))
    proposals = pd.DataFrame({
        "visitor_id": ["V1", "V2", "V3"], "visitor_country": ["ES", "FR", "DE"],
        "host_id": ["H1", "H1", "H2"], "host_country": ["PT", "PT", "PL"], "host_partnership": ["P01", "P01", "P02"],
        "mode": ["physical", "physical", "virtual"], "lump_sum_eur": [780.0, 780.0, 0.0],
        "partnership": ["P01", "P01", "P02"], "score": [80.0, 60.0, 40.0]})
    unmatched = pd.DataFrame({"visitor_id": ["V4", "V5"], "partnership": ["P02", "P01"],
                              "visitor_country": ["IT", "ES"], "reason_code": ["budget_spent", "hosts_full"],
                              "reason": ["no money", "no room"]})
    return rnd, proposals, unmatched


def _groups(q, key):
    return {g["group"]: g for g in q["spread"][key]["groups"]}


def test_headline_figures_of_the_hand_made_round(hand_round):
    q = match_quality(*hand_round)
    assert q["exchanges"] == {"total": 3, "physical": 2, "virtual": 1}
    assert q["score"]["total"] == 180.0 and q["score"]["mean"] == 60.0 and "out of 100" in q["score"]["note"]
    assert q["visitors"] == {"total": 5, "matched": 3, "unmatched": 2, "share_matched": 0.6}
    assert q["unmatched_by_reason"] == [{"reason": "every possible host is full", "visitors": 1},
                                        {"reason": "its Partnership's budget is spent", "visitors": 1}]
    assert q["comparison"] is None and q["stability"] is None  # places filled later
    json.dumps(q, allow_nan=False)  # JSON-ready


def test_budget_use_per_partnership_in_names(hand_round):
    b = match_quality(*hand_round)["budget_use"]
    rows = {r["partnership"]: r for r in b["partnerships"]}
    assert set(rows) == {"Textile Partnership", "P02"}
    assert rows["Textile Partnership"] == {
        "partnership": "Textile Partnership", "budget_eur": 2000.0, "committed_eur": 0.0, "used_eur": 1560.0,
        "remaining_eur": 440.0, "share_used": 0.78, "exchanges": 2}
    assert rows["P02"]["used_eur"] == 0.0 and rows["P02"]["share_used"] == 0.0 and rows["P02"]["exchanges"] == 1
    assert b["total"]["budget_eur"] == 3000.0 and b["total"]["share_used"] == 0.52
    assert "EUR 1,560.00 of EUR 3,000.00 used (52.0%)" in b["summary"]
    assert "share used from 0.0% (P02) to 78.0% (Textile Partnership)" in b["summary"]


def test_spread_across_partnerships_countries_and_organisation_types(hand_round):
    q = match_quality(*hand_round)
    p = _groups(q, "partnership")
    assert p["Textile Partnership"] == {"group": "Textile Partnership", "visitors": 3, "exchanges": 2,
                                              "share_matched": 0.6667, "total_score": 140.0, "mean_score": 70.0,
                                              "hosted": 2}
    assert (p["P02"]["visitors"], p["P02"]["exchanges"], p["P02"]["share_matched"], p["P02"]["mean_score"]) == (
        2, 1, 0.5, 40.0)
    c = _groups(q, "country")
    assert c["Spain (ES)"]["visitors"] == 2 and c["Spain (ES)"]["share_matched"] == 0.5
    assert c["Italy (IT)"]["exchanges"] == 0 and c["Italy (IT)"]["mean_score"] is None
    assert c["Portugal (PT)"] == {"group": "Portugal (PT)", "visitors": 0, "exchanges": 0, "share_matched": None,
                                  "total_score": 0.0, "mean_score": None, "hosted": 2}
    country = q["spread"]["country"]
    assert country["lowest_share_matched"] == {"group": "Italy (IT)", "share_matched": 0.0}
    assert country["highest_share_matched"] == {"group": "France (FR)", "share_matched": 1.0}  # first of the ties
    assert country["highest_mean_score"] == {"group": "Spain (ES)", "mean_score": 80.0}
    assert "from 0.0% (Italy (IT)) to 100.0% (France (FR))" in country["summary"]
    assert "1 country with visitors but no exchange (Italy (IT))" in country["summary"]
    t = _groups(q, "organisation_type")
    assert t["SME"]["visitors"] == 3 and t["SME"]["exchanges"] == 2 and t["SME"]["hosted"] == 3
    assert t["cluster organisation"]["share_matched"] == 1.0
    assert t["scale-up support organisation"]["exchanges"] == 0
    assert q["spread"]["organisation_type"]["grouping"] == "organisation type"


def test_budgets_carried_over_count_what_earlier_rounds_committed(hand_round):
    rnd, proposals, unmatched = hand_round
    summary = {"carry_over": {"budgets": [{"partnership_id": "P01", "budget_eur": 2000.0, "committed_eur": 400.0},
                                          {"partnership_id": "P02", "budget_eur": 1000.0, "committed_eur": 0.0}]}}
    budgets, committed = round_budgets(rnd, summary)
    rows = match_quality(rnd, proposals, unmatched, budgets, committed)["budget_use"]["partnerships"]
    p01 = next(r for r in rows if r["partnership"] == "Textile Partnership")
    assert p01["committed_eur"] == 400.0 and p01["remaining_eur"] == 40.0 and p01["share_used"] == 0.98
    assert round_budgets(rnd)[1] is None


def test_a_round_without_proposals(hand_round):
    rnd, proposals, unmatched = hand_round
    q = match_quality(rnd, proposals.iloc[:0], pd.concat([unmatched, unmatched.iloc[:0]]))
    assert q["exchanges"]["total"] == 0 and q["score"]["mean"] is None and q["visitors"]["share_matched"] == 0.0
    assert "from 0.0%" in q["spread"]["partnership"]["summary"]
    json.dumps(q, allow_nan=False)


def test_summary_json_holds_match_quality_after_round(tmp_path):
    rows = [visitor(), visitor(org_id="V002", **FR), host(max_visitors=2)]
    out = tmp_path / "out"
    assert run_round(load_round(write_round(tmp_path, rows)), out, time_limit=20, work_limit=0.3, verbose=False) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    keys = list(summary)
    assert keys[keys.index("round") + 1] == "match_quality"
    q, officer = summary["match_quality"], summary["round"]
    assert q["exchanges"]["total"] == officer["exchanges"] and q["score"]["total"] == officer["total_score"]
    assert q["visitors"]["total"] == officer["visitors"]
    assert [g["group"] for g in q["spread"]["country"]["groups"]] == ["France (FR)", "Portugal (PT)", "Spain (ES)"]
    assert "comparison" in q and "stability" in q
