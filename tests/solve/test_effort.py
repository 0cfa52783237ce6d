"""The deterministic work limit (matchmaker.solve.effort) and what the solver reports about it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matchmaker.common.errors import SettingsError
from matchmaker.solve.config import DEFAULT_WORK_SHARE, SolveConfig
from matchmaker.solve.effort import RATES, Effort, units
from matchmaker.solver import solve


@pytest.fixture(scope="module")
def budgeted_problem(tmp_path_factory):
    """A generated round whose budgets bind, too hard to prove within one work unit."""
    from matchmaker.generator.generate import generate_round
    from matchmaker.inputs.loading import load_round
    from matchmaker.pairs.catalogue import build_catalogue
    from matchmaker.solve.problem import build_instance

    d = tmp_path_factory.mktemp("effort") / "round"
    generate_round(d, 90, 45, 4, budget_share=0.5)
    rnd = load_round(d)
    return build_instance(rnd, build_catalogue(rnd))


def test_work_limit_defaults_to_three_quarters_of_the_time_limit():
    config = SolveConfig(time_limit=40.0)
    assert config.work_limit == pytest.approx(DEFAULT_WORK_SHARE * 40.0) and DEFAULT_WORK_SHARE == 0.75
    assert Effort.for_config(config).work_limit == config.work_limit
    assert config.within(10.0).work_limit == config.work_limit  # a shorter clock keeps the resolved work
    assert SolveConfig(time_limit=40.0, work_limit=2.0).work_limit == 2.0
    assert math.isinf(Effort.for_config(SolveConfig()).left())


def test_effort_spends_allots_and_never_goes_below_zero():
    e = Effort(10.0, None)
    assert e.allot(0.4) == pytest.approx(4.0)
    e.spend(units("flow_pair", 1_000_000))  # a million candidate pairs of min-cost flow
    assert e.spent == pytest.approx(1_000_000 * RATES["flow_pair"])
    e.spend(100.0)
    assert e.left() == 0 and e.exhausted() and e.reproducible


def test_solve_config_rejects_a_work_limit_that_is_not_a_finite_positive_number():
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(SettingsError, match="work_limit must be a finite number > 0 work units"):
            SolveConfig(time_limit=10.0, work_limit=bad)


def test_solve_config_from_settings_names_the_setting_or_the_option_at_fault():
    solver = dict(time_limit_s=60.0, work_limit=0.0, seed=0, relative_gap=0.0)
    config = SolveConfig.from_settings(solver)
    assert (config.time_limit, config.work_limit, config.seed) == (60.0, 45.0, 0)  # 0: three quarters
    config = SolveConfig.from_settings(solver, time_limit=20, work_limit=3, seed=7)
    assert (config.time_limit, config.work_limit, config.seed) == (20.0, 3.0, 7)
    with pytest.raises(SettingsError, match=r"time_limit \(--time-limit\) must be a finite number > 0"):
        SolveConfig.from_settings(solver, time_limit=0)
    with pytest.raises(SettingsError, match=r"solver.time_limit_s must be a finite number > 0"):
        SolveConfig.from_settings(dict(solver, time_limit_s=float("nan")))
    with pytest.raises(SettingsError, match=r"work_limit \(--work-limit\) must be a finite number > 0"):
        SolveConfig.from_settings(solver, work_limit=-1)
    with pytest.raises(SettingsError, match=r"solver.relative_gap must be in \[0, 1\)"):
        SolveConfig.from_settings(dict(solver, relative_gap=1.0))
    with pytest.raises(SettingsError, match="seed"):
        SolveConfig.from_settings(solver, seed=1.5)


def test_same_round_and_work_limit_give_the_same_proposals_when_the_work_limit_stops_the_solve(budgeted_problem):
    # the time limit is far away, so only the (deterministic) work limit ends the phases
    a = solve(budgeted_problem, SolveConfig(time_limit=300, work_limit=0.8, seed=0))
    b = solve(budgeted_problem, SolveConfig(time_limit=300, work_limit=0.8, seed=0))
    assert a.status == "feasible" and a.gap > 0  # stopped by work, not proven
    assert a.stats["reproducible"] and b.stats["reproducible"] and a.stats["clock_stops"] == []
    assert a.pairs.tolist() == b.pairs.tolist() and a.starts.tolist() == b.starts.tolist()
    assert (a.objective, a.bound) == (b.objective, b.bound)
    assert a.stats["work_spent"] == b.stats["work_spent"]


def test_a_solve_cut_by_the_clock_is_reported_as_not_reproducible(budgeted_problem):
    r = solve(budgeted_problem, SolveConfig(time_limit=0.3, work_limit=1000.0, seed=0))
    assert r.status == "feasible" and r.objective <= r.bound
    assert not r.stats["reproducible"] and r.stats["clock_stops"]


def test_work_limit_setting_must_not_be_negative():
    from matchmaker.common.errors import SettingsError
    from matchmaker.inputs.settings import load_settings

    assert load_settings()["solver"]["work_limit"] == 0.0  # 0: the default, 45 units (3/4 of a time limit set)
    with pytest.raises(SettingsError, match="solver.work_limit"):
        load_settings(overrides={"solver": {"work_limit": -5}})


def test_work_spent_stays_within_twice_the_work_limit(budgeted_problem):
    # a started MIP round always finishes its root, so a solve may overspend a little
    r = solve(budgeted_problem, SolveConfig(time_limit=300, work_limit=0.8, seed=0))
    assert 0.8 <= r.stats["work_spent"] <= 2 * 0.8
    assert sum(ph["work"] for ph in r.phases) == pytest.approx(r.stats["work_spent"], abs=1e-2)


def test_support_mip_never_changes_the_bound(budgeted_problem):
    r = solve(budgeted_problem, SolveConfig(time_limit=300, work_limit=0.8, seed=0))
    names = [ph["phase"] for ph in r.phases]
    assert "lagrangian" in names and "support-mip" in names
    at = {ph["phase"]: ph["bound"] for ph in r.phases}
    assert at["support-mip"] == at["lagrangian"]


def test_a_phase_stopped_by_the_clock_is_named(budgeted_problem, monkeypatch):
    # deterministic stand-in for a slow machine: the clock has run out after the locks
    monkeypatch.setattr(Effort, "out_of_time", lambda self: True)
    r = solve(budgeted_problem, SolveConfig(time_limit=300, work_limit=100.0, seed=0))
    assert r.stats["clock_stops"] == ["locks"] and not r.stats["reproducible"]
    assert r.status == "feasible" and r.objective <= r.bound


def test_highs_node_limit_is_reported_as_such():
    import numpy as np
    import scipy.sparse as sp

    from matchmaker.solve.highs import Highs

    # a knapsack whose LP optimum is fractional: the root cannot close it
    rng = np.random.default_rng(0)
    n = 40
    weights = rng.integers(20, 60, n).astype(float)
    values = weights + rng.integers(0, 9, n)
    h = Highs()
    h.load(-values, sp.csr_matrix(weights[None, :]), [weights.sum() / 2 + 0.5], np.ones(n), integer=True)
    status = h.solve(None, node_limit=1)
    assert status in ("node_limit", "optimal") and h.mip_nodes() <= 1
    assert h.solve(None) == "optimal"


def test_restricted_mip_with_the_same_work_gives_the_same_answer(budgeted_problem):
    from matchmaker.solve.core import build_core
    from matchmaker.solve.lp import solve_relaxation
    from matchmaker.solve.mip import solve_restricted_mip

    core = build_core(budgeted_problem)
    lp = solve_relaxation(core)
    keep = core.cand[np.argsort(-lp.rc, kind="stable")[:600]]
    a = solve_restricted_mip(core, keep, time_limit=None, rows=lp.rows, max_work=0.3)
    b = solve_restricted_mip(core, keep, time_limit=None, rows=lp.rows, max_work=0.3)
    assert not a.clock_stopped and a.work == b.work and a.bound == b.bound
    assert (a.pairs is None and b.pairs is None) or a.pairs.tolist() == b.pairs.tolist()


def test_lagrangian_work_limit_caps_its_knapsack_rounds(budgeted_problem):
    from matchmaker.solve.core import build_core
    from matchmaker.solve.lagrangian import lagrangian

    core = build_core(budgeted_problem)
    round_work = units("lagrangian_pair_iteration", len(core.cand))
    r = lagrangian(budgeted_problem, time_limit=None, core=core, max_work=10 * round_work, primal=False)
    assert 1 <= r.iterations <= 10 and r.work <= 10 * round_work + 1e-12
    assert r.support is not None and ((r.support >= 0) & (r.support < len(core.cand))).all()
