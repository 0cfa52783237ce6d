"""The independent validator (matchmaker.proposals.validator): a valid proposals table passes, and
each kind of violation is caught on its own, one at a time."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from helpers import host, visitor, write_big_round, write_round

from matchmaker.common.errors import RoundDataError
from matchmaker.common.workdays import busdaycal, stay_end
from matchmaker.constraints import eligible_block
from matchmaker.inputs.loading import load_round
from matchmaker.proposals.validator import (
    Violation,
    check_proposals,
    check_proposals_file,
    objective_value,
    read_proposals,
)

LYON = dict(country="FR", city="Lyon", latitude=45.764, longitude=4.8357)
BERLIN = dict(country="DE", city="Berlin", latitude=52.52, longitude=13.405)
MILAN = dict(country="IT", city="Milan", latitude=45.4642, longitude=9.19)


def build_round(tmp_path, *, rules=None, solver=None, h2=None, v3=None, decisions=None, scoring=None):
    """3 physical visitors and one that already visited (virtual); a single host in Porto
    and a grouped host in Milan. V001 -> H001 is locked, V002 -> H001 forbidden."""
    rows = [visitor(), visitor(**LYON), visitor(**(BERLIN | (v3 or {}))),
            visitor(country="PL", city="Warsaw", latitude=52.2297, longitude=21.0122, mode="either",
                    already_visited=True),
            host(),
            host(**(MILAN | dict(capacity=2, max_visitors=4, grouped=True, mode="either") | (h2 or {})))]
    settings = {"rules": {"virtual_until": dt.date(2027, 12, 31)} | (rules or {})}
    if solver:
        settings["solver"] = solver
    if scoring:
        settings["scoring"] = {"options": scoring}
    if decisions is None:
        decisions = [{"visitor_id": "V001", "host_id": "H001", "decision": "lock"},
                     {"visitor_id": "V002", "host_id": "H001", "decision": "forbid"}]
    return load_round(write_round(tmp_path, rows, decisions=decisions, settings=settings))


def valid_table() -> pd.DataFrame:
    """Proposals that respect every rule of :func:`build_round` (worked out by hand)."""
    rows = [  # visitor, host, mode, start, end, working days, lump sum, km
        ("V001", "H001", "physical", "2027-03-01", "2027-03-12", 10, 780.0, 724.15),  # ES -> PT, full
        ("V002", "H002", "physical", "2027-03-01", "2027-03-12", 10, 900.0, 340.27),  # FR -> IT, full
        ("V003", "H002", "physical", "2027-03-08", "2027-03-19", 10, 900.0, 842.32),  # DE -> IT, overlaps V002
        ("V004", "H002", "virtual", "2027-03-01", "2027-05-09", 10, 0.0, 1143.9),     # 10 days in 10 weeks
    ]
    t = pd.DataFrame(rows, columns=["visitor_id", "host_id", "mode", "start_date", "end_date", "working_days",
                                    "lump_sum_eur", "distance_km"])
    t["partnership"] = "CLAMTEX"
    return t


def rules_of(violations: list[Violation]) -> Counter:
    return Counter(v.rule for v in violations)


@pytest.fixture
def rnd(tmp_path):
    return build_round(tmp_path)


def test_valid_proposals_pass(rnd):
    assert check_proposals(rnd, valid_table()) == []


def test_valid_proposals_agree_with_the_catalogue_rules(rnd):
    """The hand-made table and the vectorised rules give the same mode, stay and lump sum."""
    pairs = eligible_block(rnd, np.arange(rnd.n_visitors))
    vid, hid = rnd.visitors["org_id"].to_numpy(), rnd.hosts["org_id"].to_numpy()
    got = {(vid[r.v], hid[r.h]): (r.mode, r.working_days, r.lump_sum_eur) for r in pairs.itertuples()}
    for r in valid_table().itertuples():
        assert got[r.visitor_id, r.host_id] == (r.mode, r.working_days, r.lump_sum_eur)


def test_valid_file_round_trip(rnd, tmp_path):
    path = tmp_path / "proposals.csv"
    valid_table().to_csv(path, index=False)
    table = read_proposals(path)
    assert table["row"].tolist() == [2, 3, 4, 5]
    assert check_proposals_file(rnd, path) == []


# --- each violation on its own -------------------------------------------------------------

def changed(**cells) -> pd.DataFrame:
    """The valid table with some cells changed: ``changed(V002={"working_days": 9})``."""
    t = valid_table().astype(object)
    for vid, values in cells.items():
        for col, value in values.items():
            t.loc[t.visitor_id == vid, col] = value
    return t


@pytest.mark.parametrize("table, rule", [
    (changed(V002={"visitor_id": "NOPE"}), "unknown_visitor"),
    (changed(V002={"host_id": "H999"}), "unknown_host"),
    (changed(V003={"mode": "virtual", "end_date": "2027-05-16", "lump_sum_eur": 0.0}), "mode"),
    (changed(V002={"working_days": 9, "end_date": "2027-03-11"}), "working_days"),
    (changed(V003={"start_date": "2027-03-06"}), "dates"),         # a Saturday (Sat..Fri holds 10 working days)
    (changed(V002={"end_date": "2027-03-15"}), "dates"),           # 11 working days, not 10
    (changed(V004={"end_date": "2027-05-08"}), "dates"),           # virtual: 10 days span 70 calendar days
    (changed(V002={"end_date": "2027-03-05"}), "dates"),           # 5 working days
    (changed(V002={"lump_sum_eur": 450.0}), "lump_sum"),
    (changed(V002={"lump_sum_eur": 900.02}), "lump_sum"),
    (changed(V002={"partnership": "BLUES"}), "partnership"),
    (changed(V002={"distance_km": 340.27 + 0.6}), "distance_km"),
])
def test_each_row_violation_alone(rnd, table, rule):
    found = rules_of(check_proposals(rnd, table))
    assert found == Counter({rule: 1}), found


def test_tolerances_are_not_violations(rnd):
    table = changed(V002={"lump_sum_eur": 900.01, "distance_km": 340.27 + 0.4})
    assert check_proposals(rnd, table) == []


def test_outside_both_windows(rnd):
    table = changed(V001={"start_date": "2027-06-21", "end_date": "2027-07-02"})
    violations = check_proposals(rnd, table)
    assert rules_of(violations) == Counter({"outside_window": 2})
    assert "visitor's availability 2027-03-01..2027-06-30" in violations[0].message


def test_visitor_matched_twice(rnd):
    extra = pd.DataFrame([("V003", "H002", "physical", "2027-04-05", "2027-04-16", 10, 900.0, 842.32, "CLAMTEX")],
                         columns=valid_table().columns)
    violations = check_proposals(rnd, pd.concat([valid_table(), extra], ignore_index=True))
    assert rules_of(violations) == Counter({"visitor_matched_twice": 1})
    assert violations[0].row == 6 and "row 4" in violations[0].message


def test_forbidden_pair_present(tmp_path):
    rnd = build_round(tmp_path, decisions=[{"visitor_id": "V003", "host_id": "H002", "decision": "forbid"}])
    violations = check_proposals(rnd, valid_table())
    assert rules_of(violations) == Counter({"not_forbidden": 1})
    assert (violations[0].visitor_id, violations[0].host_id, violations[0].row) == ("V003", "H002", 4)


def test_pair_refused_by_a_rule(tmp_path):
    rnd = build_round(tmp_path, v3={"country": "IT"})  # Berlin's coordinates, Italian registration
    violations = check_proposals(rnd, valid_table())
    assert rules_of(violations) == Counter({"different_countries": 1})
    assert "both in IT" in violations[0].message


def test_locked_pair_missing(rnd):
    violations = check_proposals(rnd, valid_table().iloc[1:])
    assert rules_of(violations) == Counter({"locked_pair_missing": 1})
    assert (violations[0].visitor_id, violations[0].host_id, violations[0].row) == ("V001", "H001", None)


def test_host_capacity_per_calendar_day(tmp_path):
    rnd = build_round(tmp_path, h2={"capacity": 1})
    violations = check_proposals(rnd, valid_table())
    assert rules_of(violations) == Counter({"host_capacity": 1})
    assert "2 visitors on site on 2027-03-08" in violations[0].message and "5 day(s)" in violations[0].message


def test_host_capacity_counts_weekends_inside_a_stay(tmp_path):
    # V002 Mon 1 .. Fri 12 March; V003 moved to Mon 15 .. Fri 26 March: no common day
    rnd = build_round(tmp_path, h2={"capacity": 1})
    ok = changed(V003={"start_date": "2027-03-15", "end_date": "2027-03-26"})
    assert check_proposals(rnd, ok) == []


def test_virtual_stays_do_not_use_capacity_but_count_against_max_visitors(tmp_path):
    rnd = build_round(tmp_path, h2={"capacity": 2, "max_visitors": 2})
    violations = check_proposals(rnd, valid_table())
    assert rules_of(violations) == Counter({"host_max_visitors": 1})
    assert "3 exchanges" in violations[0].message


def test_virtual_after_the_cutoff(tmp_path):
    rnd = build_round(tmp_path, rules={"virtual_until": dt.date(2027, 4, 30)})
    # up to the cut-off the window holds 8 weeks, so the stay is 8 days; starting on 10 March it ends too late
    table = changed(V004={"working_days": 8, "start_date": "2027-03-10", "end_date": "2027-05-04"})
    assert rules_of(check_proposals(rnd, table)) == Counter({"virtual_cutoff": 1})
    table = changed(V004={"working_days": 8, "start_date": "2027-03-01", "end_date": "2027-04-25"})
    assert check_proposals(rnd, table) == []


def test_partnership_budget(tmp_path):
    rnd = build_round(tmp_path)
    rnd.partnerships.loc["CLAMTEX", "budget_eur"] = 2580.0  # exactly the lump sums
    assert check_proposals(rnd, valid_table()) == []
    rnd.partnerships.loc["CLAMTEX", "budget_eur"] = 2579.0
    violations = check_proposals(rnd, valid_table())
    assert rules_of(violations) == Counter({"partnership_budget": 1})
    assert "EUR 2580.00" in violations[0].message


@pytest.mark.parametrize("limit, broken", [(0.0, False), (2580.0, False), (2500.0, True)])
def test_programme_budget(tmp_path, limit, broken):
    rnd = build_round(tmp_path, solver={"programme_budget_eur": limit})
    assert rules_of(check_proposals(rnd, valid_table())) == (Counter({"programme_budget": 1}) if broken else Counter())


def test_score_below_min_score_and_objective(tmp_path):
    rnd = build_round(tmp_path, scoring={"min_score": 40.0})
    table = valid_table()
    table["score"] = [80.0, 60.0, 50.0, 45.5]
    assert check_proposals(rnd, table) == []
    assert objective_value(table) == pytest.approx(235.5)
    table.loc[3, "score"] = 39.9
    assert rules_of(check_proposals(rnd, table)) == Counter({"min_score": 1})


def test_a_score_rounded_to_the_hundredth_is_not_below_min_score(tmp_path):
    """proposals.csv writes scores to a hundredth (issue 12): 40.0041 kept at min_score 40.004 is written 40.0."""
    rnd = build_round(tmp_path, scoring={"min_score": 40.004})
    table = valid_table()
    table["score"] = [80.0, 60.0, 50.0, 40.0]
    assert check_proposals(rnd, table) == []
    table.loc[3, "score"] = 39.99
    assert rules_of(check_proposals(rnd, table)) == Counter({"min_score": 1})


def test_score_parts_must_add_up(rnd):
    table = valid_table()
    table["score"] = [80.0, 60.0, 50.0, 45.0]
    table["score_sectors"] = [50.0, 30.0, 25.0, 20.0]
    table["score_languages"] = [30.0, 30.0, 25.0, 25.0]
    assert check_proposals(rnd, table) == []
    table.loc[0, "score_sectors"] = 49.0
    assert rules_of(check_proposals(rnd, table)) == Counter({"score_parts": 1})


def test_optional_columns_checked_when_present(rnd):
    table = valid_table()
    table["locked"] = [True, False, False, False]
    table["visitor_country"] = ["ES", "FR", "DE", "PL"]
    assert check_proposals(rnd, table) == []
    table["locked"] = [False, False, False, False]
    table.loc[1, "visitor_country"] = "IT"
    assert rules_of(check_proposals(rnd, table)) == Counter({"locked_flag": 1, "registration_field": 1})


def test_objective_value_needs_a_score_column():
    with pytest.raises(ValueError, match="no 'score' column"):
        objective_value(valid_table())


def test_violation_reads_as_one_line():
    v = Violation("lump_sum", 3, "V002", "H002", "lump_sum_eur is 450.00 but decisions §8 gives 900.00")
    assert str(v) == "row 3 (V002 -> H002): lump_sum: lump_sum_eur is 450.00 but decisions §8 gives 900.00"
    assert str(Violation("programme_budget", None, "", "", "over")) == "round: programme_budget: over"


# --- reading errors ------------------------------------------------------------------------

def test_read_proposals_reports_missing_columns(tmp_path):
    path = tmp_path / "p.csv"
    valid_table().drop(columns=["start_date", "partnership"]).to_csv(path, index=False)
    with pytest.raises(RoundDataError) as err:
        read_proposals(path)
    assert {(p.file, p.column) for p in err.value.problems} == {("p.csv", "start_date"), ("p.csv", "partnership")}


def test_read_proposals_names_row_column_and_value(tmp_path):
    path = tmp_path / "p.csv"
    changed(V002={"start_date": "2027-02-30"}, V003={"working_days": "ten", "mode": "remote"}).to_csv(path, index=False)
    with pytest.raises(RoundDataError) as err:
        read_proposals(path)
    got = {(p.row, p.column, p.value) for p in err.value.problems}
    assert got == {(3, "start_date", "2027-02-30"), (4, "working_days", "ten"), (4, "mode", "remote")}
    assert "ISO date" in str([p for p in err.value.problems if p.column == "start_date"][0])


def test_check_file_turns_reading_problems_into_violations(rnd, tmp_path):
    path = tmp_path / "p.csv"
    changed(V002={"end_date": "12/03/2027"}).to_csv(path, index=False)
    violations = check_proposals_file(rnd, path)
    assert [(v.rule, v.row) for v in violations] == [("proposals_file", 3)]
    assert "12/03/2027" in str(violations[0])
    assert check_proposals_file(rnd, tmp_path / "missing.csv")[0].rule == "proposals_file"


# --- consistency with the vectorised rules on a larger round -------------------------------

@pytest.mark.parametrize("start_column", ["earliest_start", "latest_start"])
def test_proposals_built_from_eligible_pairs_are_valid(tmp_path, start_column):
    """Any one-to-one choice among eligible pairs, at the earliest or latest start, passes."""
    rnd = load_round(write_big_round(tmp_path, 60, 40, seed=3))
    pairs = eligible_block(rnd, np.arange(rnd.n_visitors))
    cal = busdaycal(rnd.settings["rules"]["holidays"])
    used_v, used_h, rows = set(), set(), []
    for p in pairs.sample(frac=1.0, random_state=0).itertuples():
        if p.v in used_v or p.h in used_h:
            continue
        used_v.add(p.v)
        used_h.add(p.h)
        start = np.datetime64(getattr(p, start_column).date())
        end = stay_end(start, p.working_days, cal) if p.mode == "physical" else start + 7 * p.working_days - 1
        rows.append((rnd.visitors.org_id.iloc[p.v], rnd.hosts.org_id.iloc[p.h], p.mode, str(start), str(end),
                     p.working_days, p.lump_sum_eur, round(p.distance_km, 2), p.partnership))
    assert len(rows) >= 20
    table = pd.DataFrame(rows, columns=["visitor_id", "host_id", "mode", "start_date", "end_date", "working_days",
                                        "lump_sum_eur", "distance_km", "partnership"])
    assert check_proposals(rnd, table) == []


def test_virtual_and_already_visited_pairs_from_the_rules_are_valid(tmp_path):
    """The same, on a round mixing modes, already-visited visitors, holidays and a cut-off."""
    rng = np.random.default_rng(7)
    places = [dict(country="ES", latitude=40.42, longitude=-3.70), dict(country="PT", latitude=38.72, longitude=-9.14),
              dict(country="FR", latitude=48.86, longitude=2.35), dict(country="DE", latitude=52.52, longitude=13.40),
              dict(country="EE", latitude=58.39, longitude=24.50), dict(country="FI", latitude=60.17, longitude=24.94)]

    def one(make):
        start = np.datetime64("2027-03-01") + int(rng.integers(0, 40))
        lo = int(rng.integers(3, 7))
        return make(**places[rng.integers(len(places))], mode=str(rng.choice(["physical", "virtual", "either"])),
                    available_from=str(start), available_to=str(start + int(rng.integers(10, 90))),
                    min_days=lo, max_days=lo + int(rng.integers(0, 8)))

    rows = [one(visitor) | {"already_visited": bool(rng.random() < 0.3)} for _ in range(40)]
    rows += [one(host) | {"capacity": 3, "max_visitors": 3, "grouped": True} for _ in range(30)]
    settings = {"rules": {"virtual_until": dt.date(2027, 5, 15), "holidays": [dt.date(2027, 4, 5)]}}
    rnd = load_round(write_round(tmp_path, rows, settings=settings))
    pairs = eligible_block(rnd, np.arange(rnd.n_visitors))
    assert set(pairs["mode"]) == {"physical", "virtual"}
    cal = busdaycal(rnd.settings["rules"]["holidays"])
    first = pairs.sample(frac=1.0, random_state=1).drop_duplicates("v")  # one pair per visitor; hosts take up to 3
    first = first[first.groupby("h").cumcount() < 3]
    table = pd.DataFrame({
        "visitor_id": rnd.visitors.org_id.to_numpy()[first.v], "host_id": rnd.hosts.org_id.to_numpy()[first.h],
        "mode": first["mode"].astype(str).to_numpy(), "start_date": first.latest_start.to_numpy(),
        "end_date": [stay_end(np.datetime64(s.date()), d, cal) if m == "physical"
                     else np.datetime64(s.date()) + 7 * d - 1
                     for s, d, m in zip(first.latest_start, first.working_days, first["mode"])],
        "working_days": first.working_days.to_numpy(), "lump_sum_eur": first.lump_sum_eur.to_numpy(),
        "partnership": first.partnership.astype(str).to_numpy(),
    })
    assert len(table) >= 15 and (table["mode"] == "virtual").any()
    assert check_proposals(rnd, table) == []


def test_empty_proposals_file(tmp_path):
    path = tmp_path / "empty.csv"
    valid_table().iloc[:0].to_csv(path, index=False)
    assert read_proposals(path).empty
    rnd = build_round(tmp_path, decisions=[])
    assert check_proposals_file(rnd, path) == []
    rnd = build_round(tmp_path / "locked")
    assert rules_of(check_proposals_file(rnd, path)) == Counter({"locked_pair_missing": 1})
