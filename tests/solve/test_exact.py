"""The exact method of the prove mode (matchmaker.solve.exact, phases/exact.py).

Checked against brute force (tests/solve/solver_bruteforce.py) on tiny random rounds and
against an independent time-indexed SCIP model (tests/solve/exact_scip.py) on rounds too
big for brute force: locks, binding budgets, grouped and individual hosts on overlapping
dates, virtual pairs, fairness; the knapsack cuts hold for every optimum; fixing that
empties a host and a partnership's knapsack still proves the optimum.
"""

from __future__ import annotations

import time

import numpy as np
from exact_scip import scip_optimum
from hypothesis import given
from solver_bruteforce import brute_force
from solver_strategies import fixed, pair, solver_instances

from matchmaker.solve.config import SolveConfig
from matchmaker.solve.core import build_core, lock_conflicts
from matchmaker.solve.effort import Effort
from matchmaker.solve.exact import knapsack_cuts, lagrangian_fixing, prove_config, solve_exact
from matchmaker.solve.lagrangian import lagrangian
from matchmaker.solve.phases import PHASES, SolveState
from matchmaker.solve.phases.exact import Exact
from matchmaker.solve.problem import make_instance
from matchmaker.solve.schedule import schedule_pairs
from matchmaker.solver import solve


def exact_from_locks(p):
    """The exact method from the weakest incumbent (the locks alone), with a converged Lagrangian."""
    core = build_core(p)
    lr = lagrangian(p, time_limit=None, core=core)
    return core, lr, solve_exact(core, lr, core.locked, first_step=0.5)


def assert_proven(p, core, res, optimum):
    assert res.status == "optimal" and res.bound == res.objective == optimum
    assert not core.violations(res.pairs, schedule_pairs(p, res.pairs)[0])


@fixed(80)
@given(solver_instances())
def test_exact_equals_brute_force_on_tiny_rounds(p):
    _, chosen = brute_force(p)
    if chosen is None or len(build_core(p).cand) == 0:
        return
    core, _, res = exact_from_locks(p)
    assert_proven(p, core, res, core.value(np.array(chosen, dtype=np.int64)))


@fixed(60)
@given(solver_instances())
def test_knapsack_cuts_hold_for_the_optimum(p):
    _, chosen = brute_force(p)
    core = build_core(p) if chosen is not None else None
    if core is None or len(core.cand) == 0:
        return
    x = np.zeros(p.n_pairs)
    x[chosen] = 1
    for cut in knapsack_cuts(core, lagrangian(p, time_limit=None, core=core)):
        assert float(cut.coef @ x[cut.pairs]) <= cut.rhs


def random_round(seed: int, n_visitors: int = 12, n_hosts: int = 4):
    """A round too big for brute force: two partnerships with binding budgets, grouped and
    individual hosts with overlapping dates, virtual pairs, a few locks."""
    rng = np.random.default_rng(seed)
    rows = []
    for v in range(n_visitors):
        for h in rng.choice(n_hosts, size=int(rng.integers(1, 4)), replace=False).tolist():
            es = int(rng.integers(0, 8))
            rows.append(pair(v, h, int(rng.integers(100, 1000)), cost=int(rng.choice([500, 1000, 1500, 2000])),
                             duration=int(rng.integers(2, 6)), es=es, ls=es + int(rng.integers(0, 5)),
                             physical=bool(rng.random() < 0.8), locked=bool(rng.random() < 0.04)))
    return make_instance(rows, capacity=[1, 2, 1, 3][:n_hosts], max_visitors=[3, 4, 2, 5][:n_hosts],
                         budget=[4000, 5000], visitor_part=[v % 2 for v in range(n_visitors)],
                         n_visitors=n_visitors)


def test_exact_equals_an_independent_scip_model_on_bigger_rounds():
    checked = 0
    for seed in range(12):
        p = random_round(seed)
        if lock_conflicts(p):
            continue
        core, lr, res = exact_from_locks(p)
        optimum = scip_optimum(p)
        assert_proven(p, core, res, optimum)
        # from the Lagrangian's own primal, the fixing leaves pairs out: the same optimum
        assert_proven(p, core, solve_exact(core, lr, lr.pairs, first_step=0.5), optimum)
        checked += 1
    assert checked >= 8


def test_fixing_that_empties_a_host_and_a_partnership_still_proves():
    """Host 1 and partnership 1 have only poor pairs: with the optimum as incumbent the
    fixing leaves none of their pairs, and the optimum is proven all the same."""
    rows = [pair(0, 0, 900, cost=1000), pair(1, 0, 800, cost=1000, es=0, ls=0),
            pair(2, 0, 850, cost=1000, es=0, ls=0), pair(1, 1, 10, cost=1000), pair(2, 1, 5, cost=1000),
            pair(3, 1, 1, cost=1000)]
    p = make_instance(rows, capacity=[1, 1], max_visitors=[3, 3], budget=[2000, 1000], visitor_part=[0, 0, 0, 1])
    core = build_core(p)
    lr = lagrangian(p, time_limit=None, core=core)
    best = scip_optimum(p)
    res0 = solve_exact(core, lr, core.locked, first_step=0.5)
    assert res0.objective == best
    keep = lagrangian_fixing(lr, best)
    kept = core.cand[keep]
    assert not np.isin(kept, np.flatnonzero(p.h == 1)).any()
    assert not np.isin(kept, np.flatnonzero(p.part == 1)).any()
    res = solve_exact(core, lr, res0.pairs)
    assert res.status == "optimal" and res.objective == res.bound == best


def state_after_opening(p, config):
    core = build_core(p)
    state = SolveState(core, config, Effort.for_config(config, time.monotonic()), None, time.monotonic())
    for phase in PHASES[:4]:  # locks, flow, lp, repair
        phase.run(state)
    return state


def test_exact_phase_runs_only_in_prove_mode_and_proves():
    p = random_round(3)
    optimum = scip_optimum(p)
    idle = state_after_opening(p, SolveConfig())
    before = (idle.best, idle.bound)
    Exact().run(idle)
    assert (idle.best, idle.bound) == before and "exact_status" not in idle.stats
    heard = []
    state = state_after_opening(p, SolveConfig(prove=True))
    state.progress = heard.append
    Exact().run(state)
    if not state.done():
        raise AssertionError(f"prove mode ended unproven: {state.best} < {state.bound}")
    assert state.best == state.bound == optimum and state.lagrangian is not None
    assert heard and heard[-1]["phase"] == "exact" and heard[-1]["best"] == optimum


def test_prove_config_keeps_the_work_of_the_phases_and_drops_the_clock():
    config = prove_config(SolveConfig(time_limit=60))
    assert config.prove and config.time_limit is None and config.work_limit == SolveConfig(time_limit=60).work_limit
    assert prove_config(SolveConfig(), time_limit=5).time_limit == 5


def test_solve_in_prove_mode_returns_the_proven_optimum():
    for seed in (4, 8, 11):  # rounds with a Lagrangian gap (tests above)
        p = random_round(seed)
        r = solve(p, prove_config(SolveConfig(work_limit=1.0)))
        assert r.status == "optimal" and r.objective == r.bound == scip_optimum(p)


def test_prove_mode_without_a_binding_budget():
    p = random_round(7)
    p.budget[:] = 10**9
    r = solve(p, prove_config(SolveConfig(work_limit=1.0)))
    assert r.status == "optimal" and r.objective == r.bound == scip_optimum(p)
    state = state_after_opening(p, SolveConfig(prove=True))
    Exact().run(state)
    assert state.done() and state.best == scip_optimum(p)
