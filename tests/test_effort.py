"""The deterministic work limit (matchmaker.effort) and what the solver reports about it."""

from __future__ import annotations

import math

import pytest

from matchmaker.effort import DEFAULT_WORK_SHARE, RATES, Effort, units
from matchmaker.solver import solve


@pytest.fixture(scope="module")
def budgeted_problem(tmp_path_factory):
    """A generated round whose budgets bind, too hard to prove within one work unit."""
    from matchmaker.catalogue import build_catalogue
    from matchmaker.generator import generate_round
    from matchmaker.loading import load_round
    from matchmaker.problem import build_problem

    d = tmp_path_factory.mktemp("effort") / "round"
    generate_round(d, 90, 45, 4, budget_share=0.5)
    rnd = load_round(d)
    return build_problem(rnd, build_catalogue(rnd))


def test_work_limit_defaults_to_three_quarters_of_the_time_limit():
    e = Effort.from_limits(time_limit=40.0)
    assert e.work_limit == pytest.approx(DEFAULT_WORK_SHARE * 40.0) and DEFAULT_WORK_SHARE == 0.75
    assert math.isinf(Effort.from_limits(time_limit=None).left())


def test_effort_spends_allots_and_never_goes_below_zero():
    e = Effort(10.0, None)
    assert e.allot(0.4) == pytest.approx(4.0)
    e.spend(units("flow_pair", 1_000_000))  # a million candidate pairs of min-cost flow
    assert e.spent == pytest.approx(1_000_000 * RATES["flow_pair"])
    e.spend(100.0)
    assert e.left() == 0 and e.exhausted() and e.reproducible


def test_effort_rejects_a_non_positive_work_limit():
    with pytest.raises(ValueError, match="work_limit must be > 0"):
        Effort(0.0, 10.0)
    with pytest.raises(ValueError, match="work_limit must be > 0"):
        solve(None, work_limit=-1.0)


def test_same_round_and_work_limit_give_the_same_proposals_when_the_work_limit_stops_the_solve(budgeted_problem):
    # the time limit is far away, so only the (deterministic) work limit ends the phases
    a = solve(budgeted_problem, time_limit=300, work_limit=0.8, seed=0)
    b = solve(budgeted_problem, time_limit=300, work_limit=0.8, seed=0)
    assert a.status == "feasible" and a.gap > 0  # stopped by work, not proven
    assert a.stats["reproducible"] and b.stats["reproducible"] and a.stats["clock_stops"] == []
    assert a.pairs.tolist() == b.pairs.tolist() and a.starts.tolist() == b.starts.tolist()
    assert (a.objective, a.bound) == (b.objective, b.bound)
    assert a.stats["work_spent"] == b.stats["work_spent"]


def test_a_solve_cut_by_the_clock_is_reported_as_not_reproducible(budgeted_problem):
    r = solve(budgeted_problem, time_limit=0.3, work_limit=1000.0, seed=0)
    assert r.status == "feasible" and r.objective <= r.bound
    assert not r.stats["reproducible"] and r.stats["clock_stops"]


def test_work_limit_setting_must_not_be_negative():
    from matchmaker.errors import SettingsError
    from matchmaker.settings import load_settings

    assert load_settings()["solver"]["work_limit"] == 0.0  # 0: three quarters of time_limit_s
    with pytest.raises(SettingsError, match="solver.work_limit"):
        load_settings(overrides={"solver": {"work_limit": -5}})
