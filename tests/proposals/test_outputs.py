"""The output files for people (issue 11, item 9): countries in words, the host's partnership, no distance
on virtual rows, a virtual exchange's dates in words, ``unmatched.csv`` without repeated columns, and a
``summary.json`` in an officer's part and a solver's part."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from helpers import host, visitor

from matchmaker.inputs.loading import load_round
from matchmaker.proposals.reading import read_proposals
from matchmaker.proposals.solution import read_output_table
from matchmaker.proposals.summary import TOTAL_SCORE_NOTE
from matchmaker.proposals.validator import check_proposals_file
from matchmaker.proposals.wording import schedule_text
from matchmaker.run import run_round

IT = dict(country="IT", city="Milan", latitude=45.4642, longitude=9.19)
PT = dict(country="PT", city="Porto", latitude=41.1579, longitude=-8.6291)
VIRTUAL_SEASON = {"rules": {"virtual_until": dt.date(2027, 12, 31)}}


@pytest.fixture
def mixed_round(make_round):
    """V001 (ES) physical at H001 (PT); V002 (FR) virtual at H002 (IT, BRILLIANT), 5 days from 2027-08-05;
    V003 (PT, physical) has no host in another country that takes it, so it is unmatched."""
    rows = [visitor(),
            visitor(org_id="V002", country="FR", city="Lyon", latitude=45.764, longitude=4.8357, mode="virtual",
                    min_days=5, max_days=5, available_from="2027-08-05", available_to="2027-09-30"),
            visitor(org_id="V003", **PT),
            host(max_visitors=1),
            host(org_id="H002", **IT, partnership="BRILLIANT", mode="virtual", available_from="2027-08-05",
                 available_to="2027-09-30")]
    return make_round(rows, settings=VIRTUAL_SEASON)


@pytest.fixture
def solved(mixed_round, tmp_path):
    out = tmp_path / "out"
    assert run_round(load_round(mixed_round), out, time_limit=20, verbose=False) == 0
    props = read_output_table(out / "proposals.csv").set_index("visitor_id")
    unmatched = read_output_table(out / "unmatched.csv")
    return mixed_round, out, props, unmatched, json.loads((out / "summary.json").read_text())


def test_proposals_name_the_countries_and_the_hosts_partnership(solved):
    _, _, props, _, _ = solved
    assert props.loc["V001", ["visitor_country", "visitor_country_name", "host_country", "host_country_name"]
                     ].tolist() == ["ES", "Spain", "PT", "Portugal"]
    assert props.loc["V002", "host_country_name"] == "Italy"
    assert props.loc["V002", "host_partnership"] == "BRILLIANT" and props.loc["V002", "partnership"] == "CLAMTEX"


def test_virtual_rows_have_no_distance(solved):
    round_dir, out, props, _, _ = solved
    assert props.loc["V002", "mode"] == "virtual" and pd.isna(props.loc["V002", "distance_km"])
    assert props.loc["V001", "mode"] == "physical" and props.loc["V001", "distance_km"] > 0
    assert ",virtual,2027-08-05,2027-09-08,5," in (out / "proposals.csv").read_text()  # the cell is empty
    assert check_proposals_file(load_round(round_dir), out / "proposals.csv") == []  # the validator agrees
    assert pd.isna(read_proposals(out / "proposals.csv").set_index("visitor_id").loc["V002", "distance_km"])


def test_virtual_dates_are_explained_one_day_a_week(solved):
    _, _, props, _, _ = solved
    row = props.loc["V002"]
    assert (row["start_date"], row["end_date"], row["working_days"]) == ("2027-08-05", "2027-09-08", 5)
    assert row["schedule"] == "5 days online, one a week for 5 weeks, 5 Aug 2027 to 8 Sep 2027"
    assert props.loc["V001", "schedule"] == "10 working days in a row on site, 1 Mar 2027 to 12 Mar 2027"
    assert schedule_text("virtual", "2027-08-05", "2027-08-11", 1) == (
        "1 day online, one a week for 1 week, 5 Aug 2027 to 11 Aug 2027")


def test_proposals_have_no_status_column_the_locked_flag_says_it(solved):
    _, _, props, _, _ = solved
    assert "status" not in props.columns and "locked" in props.columns  # docs/decisions.md §31


def test_unmatched_csv_has_no_duplicate_columns(solved):
    _, _, _, unmatched, _ = solved
    assert list(unmatched.columns) == ["visitor_id", "visitor_name", "visitor_country", "visitor_country_name",
                                       "partnership", "reason_code", "reason", "eligible_hosts"]
    row = unmatched.set_index("visitor_id").loc["V003"]
    assert row["visitor_country_name"] == "Portugal" and row["reason_code"] == "no_eligible_host"
    assert "the rule of visitor and host in different countries refuses" in row["reason"]  # the rule in words
    for a in unmatched.columns:  # no column repeats another
        for b in unmatched.columns:
            assert a == b or not unmatched[a].astype(str).equals(unmatched[b].astype(str)), (a, b)


def test_summary_has_officer_and_solver_parts(solved):
    _, _, props, unmatched, summary = solved
    assert list(summary)[:6] == ["round_dir", "input_hash", "seed", "round", "match_quality", "solver"]
    assert list(summary)[-1] == "output_set"
    officer, solver = summary["round"], summary["solver"]
    assert officer["exchanges"] == 2 and officer["physical"] == 1 and officer["virtual"] == 1
    assert officer["total_score"] == pytest.approx(props["score"].sum(), abs=0.005)
    assert officer["total_score_note"] == TOTAL_SCORE_NOTE and "out of 100" in TOTAL_SCORE_NOTE
    assert officer["proof"].startswith("optimal: the solver proved")
    assert officer["visitors"] == 3 and officer["visitors_unmatched"] == 1
    assert officer["unmatched_by_reason"] == [{"reason": "no host passes every rule of the scheme",
                                               "reason_code": "no_eligible_host", "visitors": 1}]
    assert {b["partnership"] for b in officer["budgets"]} >= {"CLAMTEX"}
    assert set(officer["budgets"][0]) == {"partnership", "budget_eur", "used_eur", "remaining_eur", "exchanges"}
    assert officer["reproducible"] is True and "same proposals" in officer["reproducible_note"]
    for key in ("status", "objective", "bound", "gap", "phases", "times_s", "work_spent", "work_limit", "versions",
                "solver_stats", "catalogue", "budget_prices", "objective_note"):
        assert key in solver, key
        assert key not in officer and key not in summary, key
    assert solver["status"] == "optimal" and solver["objective"] == pytest.approx(officer["total_score"], abs=0.02)


def test_the_command_prints_one_total_and_says_what_it_is(mixed_round, tmp_path, capsys):
    assert run_round(load_round(mixed_round), tmp_path / "out", time_limit=20, verbose=True) == 0
    line = [t for t in capsys.readouterr().out.splitlines() if "wrote" in t][0]
    assert line.startswith("2 exchanges (1 physical, 1 virtual), total score ")
    assert "; optimal: the solver proved" in line and line.count("optimal") == 1  # said once, in the proof
    assert f"({TOTAL_SCORE_NOTE})" in line and line.count("total") == 1 and "bound" not in line


def test_the_review_details_word_a_virtual_exchange(solved):
    from matchmaker.ui.pairs_grid import pair_details_html

    _, _, props, _, _ = solved
    rows = {r["visitor_id"]: r for r in props.reset_index().to_dict("records")}
    virtual = pair_details_html(rows["V002"])
    assert "none (virtual exchange)" in virtual and "5 days online, one a week for 5 weeks" in virtual
    physical = pair_details_html(rows["V001"])
    assert "nan" not in physical and " km<" in physical and "10 working days in a row on site" in physical
