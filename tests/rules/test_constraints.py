"""The scheme's rules (matchmaker.constraints): each rule allowed and refused, edges,
registration refusals, and the vectorised block against the one-pair answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matchmaker import constraints
from matchmaker.common.geo import great_circle_km
from matchmaker.common.workdays import busdaycal, count_working_days, stay_end
from matchmaker.constraints import (
    RULE_NAMES,
    RULES,
    eligible_block,
    lock_problems,
    locked_refusals,
    pair_refusals,
    refusal_counts,
    registration_refusals,
    round_rules,
)
from matchmaker.inputs.instance import Round
from matchmaker.inputs.loading import load_round
from matchmaker.inputs.settings import load_settings
from matchmaker.pairs.catalogue import build_catalogue
from matchmaker.rules.pair_arrays import WorkdayTable, to_dates, to_days
from matchmaker.solve.core import lock_conflicts
from matchmaker.solve.problem import build_instance

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"

#: A point per country (capitals), for hand-made registrations.
PLACES = {
    "ES": (40.4168, -3.7038), "PT": (38.7223, -9.1393), "FR": (48.8566, 2.3522),
    "DE": (52.5200, 13.4050), "IT": (41.9028, 12.4964), "PL": (52.2297, 21.0122),
    "DK": (55.6761, 12.5683), "GB": (51.5074, -0.1278), "NO": (59.9139, 10.7522),
    "AT": (48.2082, 16.3738), "SK": (48.1486, 17.1077), "BE": (50.8503, 4.3517),
}


def reference_countries() -> pd.DataFrame:
    c = pd.read_csv(REFERENCE / "countries.csv", dtype=str, keep_default_na=False)
    c["cosme"] = c["cosme"] == "true"
    c["lump_sum_eur"] = pd.to_numeric(c["lump_sum_eur"].replace("", np.nan))
    return c.set_index("country")


def reference_partnerships() -> pd.DataFrame:
    p = pd.read_csv(REFERENCE / "partnerships.csv", dtype=str, keep_default_na=False)
    for col in ("sectors", "member_countries"):
        p[col] = p[col].map(lambda s: tuple(s.split(";")))
    p["budget_eur"] = p["budget_eur"].astype(float)
    return p.set_index("partnership_id")


def org(org_id: str, country: str = "ES", **kw) -> dict:
    """One registration with sensible defaults (a Monday-to-Friday spring window)."""
    lat, lon = PLACES[country]
    base = dict(org_id=org_id, name=f"Organisation {org_id}", org_type="sme", country=country,
                city="City", latitude=lat, longitude=lon, partnership="CLAMTEX", sectors=("textile",),
                activities=("networking",), objectives=("new_markets",), languages=("en",), mode="either",
                available_from="2027-03-01", available_to="2027-06-30", min_days=3, max_days=10,
                capacity=1, max_visitors=5, grouped=False, already_visited=False,
                preferred_countries=(), max_distance_km=np.nan, description="")
    base.update(kw)
    return base


def _table(rows: list[dict], role: str) -> pd.DataFrame:
    df = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(org("x")))
    df["role"] = role
    for c in ("available_from", "available_to"):
        df[c] = pd.to_datetime(df[c])
    df["source_row"] = np.arange(2, 2 + len(df))
    df["partnership_requested"] = df["partnership"]
    df["partnership_reason"] = "chosen by the applicant"
    drop = ("capacity", "max_visitors", "grouped") if role == "visitor" else ("already_visited",)
    return df.drop(columns=list(drop)).reset_index(drop=True)


def make_round(visitors: list[dict], hosts: list[dict], decisions=(), **overrides) -> Round:
    """A Round built directly from registrations (``decisions``: (visitor, host, kind))."""
    dec = pd.DataFrame(list(decisions), columns=["visitor_id", "host_id", "decision"])
    dec["comment"] = ""
    dec["source_row"] = np.arange(2, 2 + len(dec))
    return Round(visitors=_table(visitors, "visitor"), hosts=_table(hosts, "host"),
                 partnerships=reference_partnerships(), countries=reference_countries(),
                 decisions=dec, settings=load_settings(overrides=overrides or None))


VIRTUAL_OPEN = {"rules": {"virtual_until": pd.Timestamp("2030-12-31").date()}}


def refused(rnd, v=0, h=0) -> dict[str, str]:
    return dict(pair_refusals(rnd, v, h))


def only_pair(rnd) -> pd.Series:
    out = eligible_block(rnd, [0])
    assert len(out) == 1, out
    return out.iloc[0]


# --- every rule, allowed and refused ------------------------------------------------------

def test_rules_are_named_in_order():
    assert RULE_NAMES == ("cosme_countries", "different_countries", "organisation_types", "partnership_known",
                          "visitor_once", "mode_compatible", "duration_range", "availability", "not_forbidden")
    assert all(r.description for r in RULES)


def test_valid_pair_has_no_refusal_and_is_physical():
    rnd = make_round([org("V1", "ES")], [org("H1", "PT")])
    assert pair_refusals(rnd, 0, 0) == []
    p = only_pair(rnd)
    assert (p.v, p.h, p["mode"], p.working_days, p.partnership, p.locked) == (0, 0, "physical", 10, "CLAMTEX", False)


@pytest.mark.parametrize("v_country, h_country, bad", [("GB", "PT", "visitor V1"), ("ES", "NO", "host H1")])
def test_cosme_countries_refuses_non_cosme_country(v_country, h_country, bad):
    rnd = make_round([org("V1", v_country)], [org("H1", h_country)])
    why = refused(rnd)
    assert list(why) == ["cosme_countries"]
    assert bad in why["cosme_countries"] and "does not take part in COSME" in why["cosme_countries"]
    assert eligible_block(rnd, [0]).empty


def test_different_countries_refuses_same_country():
    rnd = make_round([org("ORG-1", "PT")], [org("ORG-9", "PT")])
    assert refused(rnd) == {"different_countries": "visitor ORG-1 and host ORG-9 are both in PT"}


@pytest.mark.parametrize("v_type, h_type", [("other", "sme"), ("sme", "other"), ("other", "other")])
def test_organisation_types_refuses_other(v_type, h_type):
    rnd = make_round([org("V1", org_type=v_type)], [org("H1", "FR", org_type=h_type)])
    why = refused(rnd)
    assert list(why) == ["organisation_types"]
    assert why["organisation_types"].count("'other'") == (v_type, h_type).count("other")


@pytest.mark.parametrize("t", ["cluster_organisation", "scaleup_support", "sme"])
def test_organisation_types_accepts_each_eligible_type(t):
    assert refused(make_round([org("V1", org_type=t)], [org("H1", "FR", org_type=t)])) == {}


def test_partnership_known_refuses_unresolved_partnership():
    rnd = make_round([org("V1", partnership="auto")], [org("H1", "FR")])
    why = refused(rnd)
    assert list(why) == ["partnership_known"] and "'auto'" in why["partnership_known"]


def test_visitor_once_refuses_physical_for_already_visited():
    rnd = make_round([org("V1", mode="physical", already_visited=True)], [org("H1", "FR", mode="either")],
                     **VIRTUAL_OPEN)
    why = refused(rnd)
    assert list(why) == ["visitor_once"] and "already_visited" in why["visitor_once"]


def test_visitor_once_allows_virtual_for_already_visited():
    rnd = make_round([org("V1", mode="either", already_visited=True)], [org("H1", "FR", mode="either")],
                     **VIRTUAL_OPEN)
    p = only_pair(rnd)
    assert p["mode"] == "virtual" and p.lump_sum_eur == 0.0


def test_visitor_once_refuses_already_visited_when_virtual_not_allowed():
    rnd = make_round([org("V1", mode="either", already_visited=True)], [org("H1", "FR")],
                     rules={"allow_virtual": False})
    why = refused(rnd)
    assert list(why) == ["visitor_once"] and "rules.allow_virtual = false" in why["visitor_once"]


@pytest.mark.parametrize("v_mode, h_mode, mode", [
    ("either", "either", "physical"), ("physical", "either", "physical"), ("either", "physical", "physical"),
    ("physical", "physical", "physical"), ("virtual", "either", "virtual"), ("either", "virtual", "virtual"),
    ("virtual", "virtual", "virtual"), ("physical", "virtual", None), ("virtual", "physical", None),
])
def test_mode_compatible_combinations(v_mode, h_mode, mode):
    rnd = make_round([org("V1", mode=v_mode)], [org("H1", "FR", mode=h_mode)], **VIRTUAL_OPEN)
    if mode is None:
        why = refused(rnd)
        assert list(why) == ["mode_compatible"]
        assert f"accepts '{v_mode}'" in why["mode_compatible"] and f"accepts '{h_mode}'" in why["mode_compatible"]
    else:
        assert only_pair(rnd)["mode"] == mode


def test_mode_compatible_refuses_virtual_when_not_allowed():
    rnd = make_round([org("V1", mode="virtual")], [org("H1", "FR")], rules={"allow_virtual": False})
    assert "rules.allow_virtual = false" in refused(rnd)["mode_compatible"]


def test_mode_compatible_refuses_virtual_after_the_cutoff():
    rnd = make_round([org("V1", mode="virtual")], [org("H1", "FR")])  # default cut-off 2020-12-31
    why = refused(rnd)
    assert "2020-12-31 (rules.virtual_until)" in why["mode_compatible"]
    assert "availability" in why  # no week left before the cut-off either


def test_duration_range_refuses_disjoint_ranges():
    rnd = make_round([org("V1", min_days=3, max_days=4)], [org("H1", "FR", min_days=5, max_days=10)])
    why = refused(rnd)
    assert list(why) == ["duration_range"] and "4 working days" in why["duration_range"]


def test_duration_range_uses_the_rules_minimum():
    rnd = make_round([org("V1", min_days=3, max_days=4)], [org("H1", "FR", min_days=3, max_days=4)],
                     rules={"min_working_days": 5})
    assert list(refused(rnd)) == ["duration_range"]


def test_working_days_is_the_longest_stay_both_accept():
    rnd = make_round([org("V1", min_days=3, max_days=8)], [org("H1", "FR", min_days=5, max_days=12)])
    assert only_pair(rnd).working_days == 8
    rnd = make_round([org("V1", max_days=22)], [org("H1", "FR", max_days=22)], rules={"max_working_days": 15})
    assert only_pair(rnd).working_days == 15


def test_availability_window_of_exactly_the_minimum_is_allowed():
    # Mon 2027-03-01 .. Wed 2027-03-03: 3 working days
    rnd = make_round([org("V1", available_from="2027-03-01", available_to="2027-03-03")], [org("H1", "FR")])
    p = only_pair(rnd)
    assert p.working_days == 3
    assert p.earliest_start == p.latest_start == pd.Timestamp("2027-03-01")


def test_availability_counts_working_days_across_a_weekend():
    # Fri 2027-03-05 .. Tue 2027-03-09: Fri, Mon, Tue
    rnd = make_round([org("V1", available_from="2027-03-05", available_to="2027-03-09")], [org("H1", "FR")])
    p = only_pair(rnd)
    assert (p.working_days, p.earliest_start, p.latest_start) == (3, pd.Timestamp("2027-03-05"),
                                                                 pd.Timestamp("2027-03-05"))
    # Sat 2027-03-06 .. Tue 2027-03-09: only Mon, Tue
    rnd = make_round([org("V1", available_from="2027-03-06", available_to="2027-03-09")], [org("H1", "FR")])
    why = refused(rnd)
    assert list(why) == ["availability"] and "has 2 working days" in why["availability"]


def test_availability_excludes_holidays():
    window = dict(available_from="2027-03-01", available_to="2027-03-03")
    rnd = make_round([org("V1", **window)], [org("H1", "FR")],
                     rules={"holidays": [pd.Timestamp("2027-03-02").date()]})
    assert list(refused(rnd)) == ["availability"]


def test_availability_uses_the_overlap_of_both_windows():
    rnd = make_round([org("V1", available_from="2027-03-01", available_to="2027-03-31")],
                     [org("H1", "FR", available_from="2027-03-29", available_to="2027-06-30")])
    p = only_pair(rnd)  # Mon 29 .. Wed 31 March
    assert (p.working_days, p.earliest_start) == (3, pd.Timestamp("2027-03-29"))
    rnd = make_round([org("V1", available_from="2027-03-01", available_to="2027-03-31")],
                     [org("H1", "FR", available_from="2027-05-01", available_to="2027-06-30")])
    assert "do not overlap" in refused(rnd)["availability"]


def test_availability_latest_start_leaves_the_whole_stay():
    # 2027-03-01 .. 2027-03-19 is 15 working days; a stay of 10 starts at the latest on Mon 2027-03-08
    rnd = make_round([org("V1", available_from="2027-03-01", available_to="2027-03-19")], [org("H1", "FR")])
    p = only_pair(rnd)
    assert (p.working_days, p.earliest_start, p.latest_start) == (10, pd.Timestamp("2027-03-01"),
                                                                  pd.Timestamp("2027-03-08"))


def test_availability_virtual_needs_seven_days_per_day():
    virtual = dict(mode="virtual", available_from="2027-03-01")
    rnd = make_round([org("V1", available_to="2027-03-21", **virtual)], [org("H1", "FR")], **VIRTUAL_OPEN)
    p = only_pair(rnd)
    assert (p["mode"], p.working_days, p.earliest_start, p.latest_start) == (
        "virtual", 3, pd.Timestamp("2027-03-01"), pd.Timestamp("2027-03-01"))
    rnd = make_round([org("V1", available_to="2027-03-20", **virtual)], [org("H1", "FR")], **VIRTUAL_OPEN)
    assert list(refused(rnd)) == ["availability"]


@pytest.mark.parametrize("cutoff, allowed", [("2020-12-31", True), ("2020-12-30", False)])
def test_availability_virtual_cutoff_day(cutoff, allowed):
    # window 2020-12-11 .. 2021-01-31: up to the cut-off 31 December there are exactly 21 days
    rnd = make_round([org("V1", mode="virtual", available_from="2020-12-11", available_to="2021-01-31")],
                     [org("H1", "FR", available_from="2020-12-01", available_to="2021-03-31")],
                     rules={"virtual_until": pd.Timestamp(cutoff).date()})
    if allowed:
        p = only_pair(rnd)
        assert (p.working_days, p.latest_start) == (3, pd.Timestamp("2020-12-11"))
    else:
        why = refused(rnd)
        assert list(why) == ["availability"] and "2 weeks" in why["availability"]


def test_not_forbidden_and_locked_follow_decisions():
    rnd = make_round([org("V1"), org("V2")], [org("H1", "FR"), org("H2", "DE")],
                     decisions=[("V1", "H2", "forbid"), ("V2", "H1", "lock")])
    assert list(refused(rnd, 0, 1)) == ["not_forbidden"]
    pairs = eligible_block(rnd, [0, 1])
    assert list(zip(pairs.v, pairs.h, pairs.locked)) == [(0, 0, False), (1, 0, True), (1, 1, False)]
    assert locked_refusals(rnd).empty


def test_locked_refusals_lists_a_locked_pair_a_rule_refuses():
    rnd = make_round([org("V1", "FR")], [org("H1", "FR")], decisions=[("V1", "H1", "lock")])
    out = locked_refusals(rnd)
    assert out[["visitor_id", "host_id", "rule"]].values.tolist() == [["V1", "H1", "different_countries"]]


# --- lock_problems: what solve refuses about the locks, found by validate ---------------------

def _lock_rules(problems) -> list[tuple]:
    return [(p.file, p.row, p.column, p.value) for p in problems]


def solver_refuses_locks(rnd: Round) -> bool:
    """What ``solve`` decides about the locks: a rule refusing one, or the solver's lock conflicts."""
    if len(locked_refusals(rnd)):
        return True
    problem = build_instance(rnd, build_catalogue(rnd))
    return bool(lock_conflicts(problem))


def test_lock_problems_none_for_honourable_locks():
    rnd = make_round([org("V1", "ES"), org("V2", "ES")], [org("H1", "PT", max_visitors=2, capacity=2, grouped=True)],
                     decisions=[("V1", "H1", "lock"), ("V2", "H1", "lock")])
    assert lock_problems(rnd) == [] and not solver_refuses_locks(rnd)


def test_lock_problems_names_a_locked_pair_a_rule_refuses():
    rnd = make_round([org("V1", "FR")], [org("H1", "FR")], decisions=[("V1", "H1", "lock")])
    (p,) = lock_problems(rnd)
    assert _lock_rules([p]) == [("decisions.csv", 2, "host_id", "H1")]
    assert "V1 -> H1" in p.rule and "different_countries" in p.rule and "both in FR" in p.rule
    assert solver_refuses_locks(rnd)


def test_lock_problems_names_two_locks_on_one_visitor():
    rnd = make_round([org("V1", "ES")], [org("H1", "PT"), org("H2", "FR")],
                     decisions=[("V1", "H1", "lock"), ("V1", "H2", "lock")])
    (p,) = lock_problems(rnd)
    assert _lock_rules([p]) == [("decisions.csv", 3, "visitor_id", "V1")]
    assert "H1, H2" in p.rule and "at most one exchange" in p.rule
    assert solver_refuses_locks(rnd)


def test_lock_problems_names_a_host_locked_over_its_max_visitors():
    rnd = make_round([org("V1", "ES"), org("V2", "ES")], [org("H1", "PT", max_visitors=1)],
                     decisions=[("V1", "H1", "lock"), ("V2", "H1", "lock")])
    (p,) = lock_problems(rnd)
    assert _lock_rules([p]) == [("decisions.csv", 3, "host_id", "H1")]
    assert "max_visitors is 1" in p.rule and "V1, V2" in p.rule
    assert solver_refuses_locks(rnd)


@pytest.mark.parametrize("budget, refused", [(779.99, True), (780.0, False), (780.004, False)])
def test_lock_problems_partnership_budget_in_cents_as_the_solver(budget, refused):
    rnd = make_round([org("V1", "ES")], [org("H1", "PT")], decisions=[("V1", "H1", "lock")])
    rnd.partnerships.loc["CLAMTEX", "budget_eur"] = budget  # the lock's lump sum is PT's 780
    problems = lock_problems(rnd)
    assert bool(problems) == refused == solver_refuses_locks(rnd)
    if refused:
        assert "partnership CLAMTEX" in problems[0].rule and "budget_eur" in problems[0].rule


@pytest.mark.parametrize("programme, refused", [(1000.0, True), (1560.0, False), (0.0, False)])
def test_lock_problems_programme_budget(programme, refused):
    rnd = make_round([org("V1", "ES"), org("V2", "ES")], [org("H1", "PT"), org("H2", "PT")],
                     decisions=[("V1", "H1", "lock"), ("V2", "H2", "lock")],
                     solver={"programme_budget_eur": programme})
    problems = lock_problems(rnd)
    assert bool(problems) == refused == solver_refuses_locks(rnd)
    if refused:
        assert "programme_budget_eur" in problems[0].rule and "1560.00" in problems[0].rule


def test_block_quantities_distance_and_lump_sum():
    rnd = make_round([org("V1", "ES", max_days=4)], [org("H1", "PT")])  # Madrid-Lisbon ~503 km, 4 days
    p = only_pair(rnd)
    assert 500 < p.distance_km < 506
    assert p.lump_sum_eur == 390.0  # PT threshold 780 halved (stay under 5 working days)


def test_block_column_types():
    rnd = make_round([org("V1")], [org("H1", "FR")])
    out = eligible_block(rnd, [0])
    assert list(out.columns) == ["v", "h", "mode", "working_days", "earliest_start", "latest_start",
                                 "distance_km", "lump_sum_eur", "partnership", "locked"]
    assert (out.v.dtype, out.h.dtype, out.working_days.dtype) == (np.int32, np.int32, np.int16)
    assert out.distance_km.dtype == np.float64 and out.locked.dtype == bool
    assert out.earliest_start.dtype.kind == "M"


def test_bad_positions_are_refused_loudly():
    rnd = make_round([org("V1")], [org("H1", "FR")])
    with pytest.raises(IndexError, match="visitor position 3"):
        eligible_block(rnd, [3])
    with pytest.raises(IndexError, match="host position 1"):
        pair_refusals(rnd, 0, 1)


# --- registrations that cannot take part --------------------------------------------------

def test_registration_refusals_name_each_reason_and_drop_nothing():
    visitors = [org("V-OK"), org("V-OTHER", org_type="other"), org("V-GB", "GB"),
                org("V-ONCE", mode="physical", already_visited=True),
                org("V-SHORT", available_from="2027-03-05", available_to="2027-03-08"),
                org("V-AUTO", partnership="auto")]
    hosts = [org("H-OK", "FR"), org("H-VIRTUAL", "FR", mode="virtual"),
             org("H-DAYS", "FR", min_days=3, max_days=4)]
    rnd = make_round(visitors, hosts, rules={"allow_virtual": False, "min_working_days": 5})
    out = registration_refusals(rnd)
    got = set(zip(out.org_id, out.rule))
    assert got == {("V-OTHER", "organisation_types"), ("V-GB", "cosme_countries"), ("V-ONCE", "visitor_once"),
                   ("V-SHORT", "availability"), ("V-AUTO", "partnership_known"),
                   ("H-VIRTUAL", "mode_compatible"), ("H-DAYS", "duration_range")}
    assert list(out.columns) == ["role", "org_id", "name", "source_row", "rule", "reason"]
    short = out[out.org_id == "V-SHORT"].iloc[0]
    assert short.source_row == 6 and "2 working days" in short.reason and "minimum stay of 5" in short.reason
    assert rnd.n_visitors == 6 and rnd.n_hosts == 3  # nothing dropped
    # every pair with a refused registration is refused by the rules
    ok = eligible_block(rnd, np.arange(rnd.n_visitors))
    assert set(zip(ok.v, ok.h)) == {(0, 0)}


def test_registration_refusals_empty_for_a_valid_round():
    assert registration_refusals(make_round([org("V1")], [org("H1", "FR")])).empty


# --- vectorised == one pair at a time -----------------------------------------------------

def random_round(seed: int, nv: int = 40, nh: int = 30) -> Round:
    rng = np.random.default_rng(seed)
    countries = ["ES", "PT", "FR", "DE", "GB", "IT"]
    day0 = np.datetime64("2027-02-15")

    def one(prefix, i):
        start = day0 + int(rng.integers(0, 60))
        lo = int(rng.integers(3, 8))
        return org(f"{prefix}{i}", str(rng.choice(countries)),
                   org_type=str(rng.choice(["sme", "cluster_organisation", "other"], p=[0.6, 0.3, 0.1])),
                   mode=str(rng.choice(["physical", "virtual", "either"])),
                   available_from=str(start), available_to=str(start + int(rng.integers(0, 50))),
                   min_days=lo, max_days=lo + int(rng.integers(0, 10)),
                   already_visited=bool(rng.random() < 0.2),
                   partnership=str(rng.choice(["CLAMTEX", "BLUES", "auto"], p=[0.5, 0.45, 0.05])))

    vs = [one("V", i) for i in range(nv)]
    hs = [one("H", i) for i in range(nh)]
    decisions = {(f"V{rng.integers(nv)}", f"H{rng.integers(nh)}") for _ in range(10)}
    decisions = [(v, h, "forbid" if k % 2 else "lock") for k, (v, h) in enumerate(sorted(decisions))]
    return make_round(vs, hs, decisions, rules={"virtual_until": pd.Timestamp("2027-04-15").date(),
                                                "holidays": [pd.Timestamp("2027-04-05").date()]})


def expected_pair(rnd: Round, v: int, h: int) -> dict:
    """Mode, stay and dates of one allowed pair, by plain scalar arithmetic (decisions §2-5)."""
    V, H, r = rnd.visitors.iloc[v], rnd.hosts.iloc[h], rnd.settings["rules"]
    cal = busdaycal(r["holidays"])
    first = np.datetime64(max(V.available_from, H.available_from).date())
    last = np.datetime64(min(V.available_to, H.available_to).date())
    physical = V["mode"] != "virtual" and H["mode"] != "virtual" and not V.already_visited
    top = min(V.max_days, H.max_days, r["max_working_days"])
    if physical:
        days = min(top, int(count_working_days(first, last, cal)))
        starts = [d for d in np.arange(first, last + 1) if np.is_busday(d, busdaycal=cal)
                  and stay_end(d, days, cal) <= last]
    else:
        end = min(last, np.datetime64(r["virtual_until"]))
        days = min(top, int((end - first).astype(int) + 1) // 7)
        starts = [d for d in np.arange(first, end + 1) if d + 7 * days - 1 <= end]
    return {"mode": "physical" if physical else "virtual", "working_days": days,
            "earliest_start": pd.Timestamp(starts[0]), "latest_start": pd.Timestamp(starts[-1])}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_block_equals_pair_refusals_on_every_pair(seed, monkeypatch):
    rnd = random_round(seed)
    monkeypatch.setattr(constraints, "BLOCK", 7)  # several blocks, the last one partial
    block = eligible_block(rnd, np.arange(rnd.n_visitors))
    rules = round_rules(rnd)
    refusals = {(v, h): rules.pair_refusals(v, h) for v in range(rnd.n_visitors) for h in range(rnd.n_hosts)}
    allowed = {pair for pair, why in refusals.items() if not why}
    assert set(zip(block.v.tolist(), block.h.tolist())) == allowed
    assert 0 < len(allowed) < rnd.n_visitors * rnd.n_hosts
    assert set(block["mode"]) == {"physical", "virtual"}
    for row in block.itertuples(index=False):
        exp = expected_pair(rnd, row.v, row.h)
        got = {"mode": row.mode, "working_days": row.working_days,
               "earliest_start": row.earliest_start, "latest_start": row.latest_start}
        assert got == exp, (row.v, row.h)
    V, H = rnd.visitors.iloc[block.v], rnd.hosts.iloc[block.h]
    exact = great_circle_km(V.latitude.to_numpy(), V.longitude.to_numpy(),
                            H.latitude.to_numpy(), H.longitude.to_numpy())
    assert np.allclose(block.distance_km, exact, rtol=0, atol=1e-6)
    counts = refusal_counts(rnd, np.arange(rnd.n_visitors))
    for v in range(rnd.n_visitors):
        names = [n for h in range(rnd.n_hosts) for n, _ in refusals[v, h]]
        assert counts.loc[v, list(RULE_NAMES)].tolist() == [names.count(n) for n in RULE_NAMES]
        assert counts.loc[v, "eligible_hosts"] == (block.v == v).sum()


def test_workday_table_agrees_with_numpy_busday():
    rng = np.random.default_rng(0)
    cal = busdaycal([np.datetime64("2027-04-05"), np.datetime64("2027-05-01")])
    table = WorkdayTable(to_days("2027-01-01"), to_days("2027-12-31"), cal)
    a = np.datetime64("2027-01-01") + rng.integers(0, 365, 500)
    b = np.minimum(a + rng.integers(-5, 60, 500), np.datetime64("2027-12-31"))
    assert (table.count(to_days(a), to_days(b)) == count_working_days(a, b, cal)).all()
    first = to_dates(table.first_on_or_after(to_days(a)))
    assert (first == np.busday_offset(a, 0, roll="forward", busdaycal=cal)).all()
    d = rng.integers(1, 4, 500)
    fits = table.count(to_days(a), to_days(b)) >= d
    latest = to_dates(table.start_ending_by(to_days(b), d))[fits]
    assert (stay_end(latest, d[fits], cal) <= b[fits]).all()  # the stay fits ...
    assert (stay_end(np.busday_offset(latest, 1, busdaycal=cal), d[fits], cal) > b[fits]).all()  # ... a day later not


def test_rules_on_a_round_from_the_loader(small_round):
    rnd = load_round(small_round)
    block = eligible_block(rnd, np.arange(rnd.n_visitors))
    rules = round_rules(rnd)
    allowed = {(v, h) for v in range(rnd.n_visitors) for h in range(rnd.n_hosts) if not rules.pair_refusals(v, h)}
    assert set(zip(block.v.tolist(), block.h.tolist())) == allowed and len(allowed) == 6
    assert block.loc[(block.v == 0) & (block.h == 0), "locked"].tolist() == [True]
    assert registration_refusals(rnd).empty


def test_rounds_without_hosts_or_visitors():
    rnd = make_round([org("V1")], [])
    assert eligible_block(rnd, [0]).empty
    assert refusal_counts(rnd, [0])["eligible_hosts"].tolist() == [0]
    rnd = make_round([], [org("H1", "FR")])
    out = eligible_block(rnd, [])
    assert out.empty and out["working_days"].dtype == np.int16
