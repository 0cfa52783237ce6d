"""Branch-and-price (matchmaker.solve.branch_price, branch_price_node, phases/branch_price.py).

Checked against brute force (tests/solve/solver_bruteforce.py) on tiny rounds and against an
independent time-indexed SCIP model (tests/solve/exact_scip.py) on rounds too big for brute
force (issue 12's "Done when"): locks, binding budgets, grouped and individual hosts on
overlapping dates, branches that empty a pricing problem; the status, objective and bound;
every node's bound and every pair's bound against the node's own brute-force optimum; the
same nodes, work and answer on every run; the phase in the default and the prove mode.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
from branch_price_rounds import hard_round, random_round, tiny_round
from exact_scip import scip_optimum
from hypothesis import given
from solver_bruteforce import brute_force, feasible_solutions, with_pair_locked
from solver_strategies import fixed, pair, solver_instances

import matchmaker.solve.branch_price as branch_price_module
import matchmaker.solve.branch_price_node as node_module
from matchmaker.solve.branch_price import branch_and_price
from matchmaker.solve.branch_price_node import forced_conflict, node_core, price_node
from matchmaker.solve.config import SolveConfig, prove_config
from matchmaker.solve.core import build_core, lock_conflicts
from matchmaker.solve.effort import Effort
from matchmaker.solve.lagrangian import lagrangian
from matchmaker.solve.lp import solve_relaxation
from matchmaker.solve.phases import PHASES, SolveState
from matchmaker.solve.phases.branch_price import BranchPrice
from matchmaker.solve.problem import make_instance
from matchmaker.solve.schedule import schedule_pairs
from matchmaker.solve.schedule_cuts import CutPool
from matchmaker.solver import solve

#: An incumbent below every objective: no node is pruned by it.
NO_INCUMBENT = -(10**15)


def best_value(core, solutions, must=(), within=None) -> int | None:
    """Best objective of the ``solutions`` that use all of ``must`` and only pairs of ``within``."""
    must = set(np.asarray(must).tolist())
    allowed = None if within is None else set(np.asarray(within).tolist())
    vals = [core.value(np.array(s, dtype=np.int64)) for s in solutions
            if must <= set(s) and (allowed is None or set(s) <= allowed)]
    return max(vals) if vals else None


@contextmanager
def watched_nodes():
    """Every node priced by :func:`branch_and_price` in the block: ``(core, result)``."""
    seen = []

    def spy(core, pool, prices, incumbent, **kwargs):
        res = real(core, pool, prices, incumbent, **kwargs)
        seen.append((core, res))
        return res

    real = node_module.price_node
    with mock.patch.object(branch_price_module, "price_node", spy):
        yield seen


def assert_nodes_bound_their_solutions(solutions, seen):
    """No node's bound is below its best solution; no pair's bound below its best solution with the pair."""
    for core, res in seen:
        within = np.concatenate([core.locked, core.cand])
        best = best_value(core, solutions, core.locked, within)
        if best is None:
            continue
        assert res.bound >= best
        for i, j in enumerate(core.cand[:len(res.pair_bound)].tolist()):
            with_j = best_value(core, solutions, np.append(core.locked, j), within)
            if with_j is not None:
                assert res.pair_bound[i] >= with_j


def assert_proven(p, core, res, optimum):
    assert res.status == "optimal" and res.objective == res.bound == optimum, (res.status, res.objective,
                                                                               res.bound, optimum)
    assert res.objective == core.value(res.pairs)
    assert not core.violations(res.pairs, schedule_pairs(p, res.pairs)[0])


def search_tiny(p):
    """Brute force and the search from the locks alone, every node watched, and the bound
    heard after each node never below the optimum."""
    solutions = feasible_solutions(p)
    core = build_core(p)
    optimum = best_value(core, solutions)
    heard = []
    with watched_nodes() as seen:
        res = branch_and_price(core, core.locked, progress=lambda best, bound, open_nodes: heard.append(bound))
    assert_proven(p, core, res, optimum)
    assert all(bound >= optimum for bound in heard)
    assert_nodes_bound_their_solutions(solutions, seen)
    return res


def test_search_stays_exact_when_column_generation_stops_early(monkeypatch):
    """Regression: a node whose master was whole but below the node's bound (column generation
    stopped by its round or stall limit; here one round) was closed, and the search said "optimal" at a
    worse answer (tiny round 22 of 7 visitors: 2,637 for 3,129). The bound of a node is
    valid whether or not its prices converged, so the search must be exact however early
    each node stops."""
    monkeypatch.setattr(node_module, "MAX_ROUNDS", 1)
    for seed in (22, 34, 53, 54):
        p = tiny_round(seed, 7, locks=seed % 2 == 1)
        if not lock_conflicts(p):
            search_tiny(p)


@fixed(100)
@given(solver_instances())
def test_search_stays_exact_however_early_each_node_stops(p):
    """One knapsack round and one round of cuts per node, on every option of the strategy."""
    _, chosen = brute_force(p)
    if chosen is None:
        return
    with mock.patch.multiple(node_module, MAX_ROUNDS=1, CUT_ROUNDS=1):
        search_tiny(p)


# -- against brute force ---------------------------------------------------------------------


@fixed(150)
@given(solver_instances())
def test_branch_and_price_equals_brute_force_on_tiny_rounds(p):
    """Every option of the strategy (locks, budgets, programme budget, fairness, the
    lexicographic objective, virtual pairs); the bound heard after each node never below
    the optimum, and no node's bound below the node's own optimum."""
    _, chosen = brute_force(p)
    if chosen is not None:
        search_tiny(p)


def test_branch_and_price_branches_and_every_node_bounds_its_solutions():
    """Tiny rounds of 7 visitors, half with locks: the search branches on several of them,
    and no node's bound (nor pair bound) is below the node's own brute-force optimum."""
    nodes = []
    for seed in range(24):
        p = tiny_round(seed, 7, locks=seed % 2 == 1)
        if not lock_conflicts(p):
            nodes.append(search_tiny(p).nodes)
    assert len(nodes) >= 20 and sum(n > 1 for n in nodes) >= 3 and max(nodes) >= 9


def test_locks():
    """Visitor 0 is locked to host 0 (one a day) on the dates visitor 1 wants there: visitor 1
    goes to host 1 or stays home, though without the lock host 0 would take visitor 1."""
    rows = [pair(0, 0, 100, duration=4, es=0, ls=0, locked=True), pair(0, 1, 300, duration=4, es=0, ls=2),
            pair(1, 0, 900, duration=4, es=1, ls=2), pair(1, 1, 400, duration=4, es=0, ls=1),
            pair(2, 1, 500, duration=3, es=1, ls=3)]
    p = make_instance(rows, capacity=[1, 1], max_visitors=[2, 2], budget=[0])
    res = search_tiny(p)
    assert 0 in res.pairs.tolist() and 2 not in res.pairs.tolist()
    unlocked = make_instance([dict(r, locked=False) for r in rows], capacity=[1, 1], max_visitors=[2, 2], budget=[0])
    assert 2 in search_tiny(unlocked).pairs.tolist()


def test_binding_budgets():
    """EUR 11 for partnership 0 (stays of 6, 5.50 and 5) and 10 for partnership 1: the knapsacks
    bind and their LP would take fractions."""
    rows = [pair(0, 0, 900, cost=600, ls=0), pair(1, 1, 800, cost=550, es=6, ls=6),
            pair(2, 2, 700, cost=500, es=12, ls=12), pair(3, 0, 650, cost=700, es=18, ls=18),
            pair(3, 1, 600, cost=400, es=18, ls=18), pair(4, 2, 640, cost=600, ls=0),
            pair(5, 1, 500, cost=400, es=24, ls=24)]
    p = make_instance(rows, capacity=[1, 1, 1], max_visitors=[3, 3, 3], budget=[1100, 1000],
                      visitor_part=[0, 0, 0, 1, 1, 1])
    res = search_tiny(p)
    rich = make_instance(rows, capacity=[1, 1, 1], max_visitors=[3, 3, 3], budget=[10**6, 10**6],
                         visitor_part=[0, 0, 0, 1, 1, 1])
    assert res.objective < search_tiny(rich).objective  # the budgets bind


def test_grouped_and_individual_hosts_on_overlapping_dates():
    """Host 0 takes two a day, host 1 one a day; the stays overlap, so only some orders fit."""
    rows = [pair(0, 0, 500, duration=4, es=0, ls=2), pair(1, 0, 510, duration=4, es=0, ls=1),
            pair(2, 0, 520, duration=3, es=1, ls=2), pair(3, 0, 505, duration=2, es=2, ls=4),
            pair(0, 1, 515, duration=3, es=0, ls=1), pair(2, 1, 508, duration=2, es=1, ls=3),
            pair(3, 1, 512, duration=3, es=0, ls=3), pair(4, 1, 530, duration=2, es=2, ls=2),
            pair(4, 0, 501, duration=2, es=0, ls=5, physical=False)]
    p = make_instance(rows, capacity=[2, 1], max_visitors=[4, 3], budget=[0])
    res = search_tiny(p)
    starts = schedule_pairs(p, res.pairs)[0]
    assert len(res.pairs) >= 4 and len(starts) == len(res.pairs)


# -- branches that empty a pricing problem ----------------------------------------------------


def two_partnership_round():
    rows = [pair(0, 0, 600, cost=1000, duration=3, es=0, ls=2), pair(0, 1, 550, cost=800, duration=3, es=0, ls=2),
            pair(1, 0, 580, cost=900, duration=3, es=1, ls=3), pair(2, 1, 590, cost=1000, duration=3, es=0, ls=1),
            pair(2, 0, 520, cost=500, duration=2, es=2, ls=4), pair(3, 1, 570, cost=600, duration=2, es=1, ls=2)]
    return make_instance(rows, capacity=[1, 1], max_visitors=[2, 2], budget=[1800, 1000],
                         visitor_part=[0, 0, 1, 1])


def node_optimum(p, forced, forbidden):
    core = build_core(p)
    within = np.flatnonzero(~forbidden)
    return best_value(core, feasible_solutions(p), np.flatnonzero(forced | p.locked), within)


def test_forbidding_every_pair_of_a_partnership_empties_its_knapsack():
    p = two_partnership_round()
    forced = np.zeros(p.n_pairs, dtype=bool)
    forbidden = p.part == 1
    core = node_core(p, forced, forbidden)
    assert not (p.part[core.cand] == 1).any() and (p.part[core.cand] == 0).any()
    res = price_node(core, CutPool(), {}, NO_INCUMBENT)
    assert res.bound >= node_optimum(p, forced, forbidden)


def test_a_forced_pair_that_spends_a_budget_empties_its_knapsack():
    """Partnership 1's pair 3 costs its whole budget: forced, no other pair of it is left to price,
    and the search from there proves the optimum of the round with the pair locked."""
    p = two_partnership_round()
    forced = np.arange(p.n_pairs) == 3
    core = node_core(p, forced, np.zeros(p.n_pairs, dtype=bool))
    assert 3 in core.locked.tolist() and not (p.part[core.cand] == 1).any()
    res = price_node(core, CutPool(), {}, NO_INCUMBENT)
    assert res.bound >= node_optimum(p, forced, np.zeros(p.n_pairs, dtype=bool))
    q = with_pair_locked(p, 3)
    search_tiny(q)


def test_forced_pairs_over_a_budget_make_the_node_infeasible():
    p = two_partnership_round()
    forced = np.isin(np.arange(p.n_pairs), [3, 5])  # EUR 16 of partnership 1's 10
    assert forced_conflict(p, forced) and node_core(p, forced, np.zeros(p.n_pairs, dtype=bool)) is None


def test_a_node_with_every_pair_forbidden_is_worth_its_locks():
    p = two_partnership_round()
    forced = np.arange(p.n_pairs) == 0
    core = node_core(p, forced, np.ones(p.n_pairs, dtype=bool))
    assert len(core.cand) == 0
    res = price_node(core, CutPool(), {}, NO_INCUMBENT)
    assert res.bound == core.value([0]) and not res.pruned
    assert price_node(core, CutPool(), {}, res.bound).pruned


# -- forced conflicts -------------------------------------------------------------------------


def test_forced_conflict_names_proven_conflicts_only():
    rows = [pair(0, 0, 500, duration=3, es=0, ls=0), pair(1, 0, 500, duration=3, es=1, ls=1),
            pair(0, 1, 400, duration=3, es=0, ls=0), pair(2, 1, 400, duration=3, es=5, ls=5)]
    p = make_instance(rows, capacity=[1, 1], max_visitors=[2, 1], budget=[0])
    assert forced_conflict(p, np.isin(np.arange(4), [0, 1]))  # one a day, both on day 1: proven
    assert forced_conflict(p, np.isin(np.arange(4), [0, 2]))  # visitor 0 twice
    assert forced_conflict(p, np.isin(np.arange(4), [2, 3]))  # host 1 takes one visitor
    assert not forced_conflict(p, np.isin(np.arange(4), [1, 2]))


def test_an_unproven_schedule_is_no_conflict(monkeypatch):
    """The exact check of host 0 ran out of its limit: not proven, so the node is kept."""
    rows = [pair(0, 0, 500, duration=3, es=0, ls=0), pair(1, 0, 500, duration=3, es=1, ls=1)]
    p = make_instance(rows, capacity=[1], max_visitors=[2], budget=[0])
    forced = np.ones(2, dtype=bool)
    host0 = np.array([0], dtype=np.int64)
    monkeypatch.setattr(node_module, "schedule_pairs", lambda problem, idx: (np.full(len(idx), -1), host0, host0))
    assert not forced_conflict(p, forced) and node_core(p, forced, np.zeros(2, dtype=bool)) is not None
    monkeypatch.setattr(node_module, "schedule_pairs",
                        lambda problem, idx: (np.full(len(idx), -1), host0, np.zeros(0, np.int64)))
    assert forced_conflict(p, forced)


# -- bigger rounds: an independent SCIP model -------------------------------------------------


def test_branch_and_price_equals_an_independent_scip_model_on_bigger_rounds():
    """From the locks alone, and from the Lagrangian's solution with the LP's window cuts and
    the Lagrangian's prices (as the phase starts it)."""
    checked = 0
    for seed in range(12):
        p = random_round(seed)
        if lock_conflicts(p):
            continue
        core = build_core(p)
        optimum = scip_optimum(p)
        assert_proven(p, core, branch_and_price(core, core.locked), optimum)
        lr = lagrangian(p, time_limit=None, core=core)
        windows = solve_relaxation(core).rows.windows
        prices = {("host", h): float(v) for h, v in enumerate(lr.multipliers.host) if v > 0}
        assert_proven(p, core, branch_and_price(core, lr.pairs, windows=windows, prices=prices), optimum)
        checked += 1
    assert checked >= 8


@pytest.mark.parametrize("seed", [2, 8])
def test_branch_and_price_equals_scip_on_rounds_of_30_visitors(seed):
    p = hard_round(seed)
    core = build_core(p)
    heard = []
    res = branch_and_price(core, core.locked, progress=lambda best, bound, open_nodes: heard.append(bound))
    optimum = scip_optimum(p)
    assert_proven(p, core, res, optimum)
    assert res.nodes > 1 and all(bound >= optimum for bound in heard)


@pytest.mark.slow
def test_branch_and_price_equals_scip_on_a_round_of_hundreds_of_nodes():
    p = hard_round(5)
    core = build_core(p)
    res = branch_and_price(core, core.locked)
    assert_proven(p, core, res, scip_optimum(p))
    assert res.nodes > 50


# -- determinism and limits -------------------------------------------------------------------


def test_two_runs_give_the_same_nodes_work_and_answer():
    p = hard_round(2)
    core = build_core(p)
    a, b = (branch_and_price(core, core.locked) for _ in range(2))
    assert a.status == b.status == "optimal"
    assert np.array_equal(a.pairs, b.pairs) and (a.nodes, a.work, a.objective, a.bound, a.cuts) == (
        b.nodes, b.work, b.objective, b.bound, b.cuts)


def test_a_work_limit_stops_at_the_same_node_twice_with_a_valid_bound():
    p = hard_round(2)
    core = build_core(p)
    full = branch_and_price(core, core.locked)
    limit = full.work / 3
    a, b = (branch_and_price(core, core.locked, max_work=limit) for _ in range(2))
    assert a.status == b.status == "stopped" and not a.clock_stopped
    assert (a.nodes, a.open, a.work, a.objective, a.bound) == (b.nodes, b.open, b.work, b.objective, b.bound)
    assert np.array_equal(a.pairs, b.pairs) and a.nodes < full.nodes
    assert a.objective <= full.objective <= a.bound


def test_more_work_never_gives_a_worse_answer():
    p = hard_round(8)
    core = build_core(p)
    full = branch_and_price(core, core.locked)
    objectives = [branch_and_price(core, core.locked, max_work=full.work * f).objective
                  for f in (0.1, 0.3, 0.6, 1.0)]
    assert objectives == sorted(objectives) and objectives[-1] == full.objective


def test_a_stop_before_the_first_node_reports_a_finite_bound():
    """Regression: stopped before the root was solved (a time limit of 0, or no work), the
    search crashed turning the root's infinite bound into an integer."""
    p = hard_round(2)
    core = build_core(p)
    res = branch_and_price(core, core.locked, time_limit=0.0)
    assert res.status == "stopped" and res.clock_stopped and res.nodes == 0
    assert res.objective == core.value(core.locked) and res.bound >= scip_optimum(p)
    idle = branch_and_price(core, core.locked, max_work=0.0)
    assert (idle.status, idle.nodes, idle.bound, idle.clock_stopped) == ("stopped", 0, res.bound, False)


# -- the phase --------------------------------------------------------------------------------


def state_after(p, config, phases=4):
    """The solve's state after its first ``phases`` phases (4: locks, flow, lp, repair)."""
    core = build_core(p)
    state = SolveState(core, config, Effort.for_config(config, time.monotonic()), None, time.monotonic())
    for phase in PHASES[:phases]:
        phase.run(state)
    return state


def test_phase_runs_in_the_default_mode_only_after_the_lagrangian():
    p = random_round(3)
    idle = state_after(p, SolveConfig())
    before = (idle.best, idle.bound)
    BranchPrice().run(idle)
    assert (idle.best, idle.bound) == before and "branch_price_status" not in idle.stats
    skipped = state_after(p, SolveConfig(branch_price_share=0.0), phases=5)
    BranchPrice().run(skipped)
    assert "branch_price_status" not in skipped.stats


def phase_after_the_lagrangian(p, work_limit: float):
    """The phase in the default mode, after locks, flow, lp, repair, lagrangian and support-mip."""
    state = state_after(p, SolveConfig(work_limit=work_limit), phases=6)
    assert state.lagrangian is not None and not state.done()
    BranchPrice().run(state)
    return state


def test_phase_in_the_default_mode_proves_a_round_within_its_share():
    p = hard_round(2)
    state = phase_after_the_lagrangian(p, 2.0)
    assert state.stats["branch_price_status"] == "optimal" and state.best == state.bound == scip_optimum(p)
    assert state.stats["branch_price_work"] <= 0.95 * 2.0


def test_phase_in_the_default_mode_stops_at_the_same_node_on_every_run():
    """The share of the work ends the search (hard round 5 needs hundreds of nodes), at the same
    node, with the same answer and bound, each time."""
    p = hard_round(5)
    a, b = (phase_after_the_lagrangian(p, 2.0) for _ in range(2))
    keys = ("branch_price_status", "branch_price_nodes", "branch_price_open_nodes", "branch_price_cuts",
            "branch_price_work")
    assert a.stats["branch_price_status"] == "stopped" and a.stats["branch_price_nodes"] > 1
    assert [a.stats[k] for k in keys] == [b.stats[k] for k in keys]
    assert (a.best, a.bound) == (b.best, b.bound) and np.array_equal(a.best_pairs, b.best_pairs)
    assert a.best < a.bound


def test_phase_in_prove_mode_proves_and_shows_progress():
    p = random_round(3)
    optimum = scip_optimum(p)
    heard = []
    state = state_after(p, SolveConfig(prove=True))
    state.progress = heard.append
    BranchPrice().run(state)
    if not state.done():
        raise AssertionError(f"prove mode ended unproven: {state.best} < {state.bound}")
    assert state.best == state.bound == optimum and state.stats["branch_price_status"] == "optimal"
    assert heard and heard[-1]["phase"] == "branch-and-price" and heard[-1]["best"] == optimum


def test_prove_config_keeps_the_work_of_the_phases_and_drops_the_clock():
    config = prove_config(SolveConfig(time_limit=60))
    assert config.prove and config.time_limit is None and config.work_limit == SolveConfig(time_limit=60).work_limit
    assert prove_config(SolveConfig(), time_limit=5).time_limit == 5


def test_solve_in_prove_mode_returns_the_proven_optimum():
    for seed in (4, 8, 11):
        p = random_round(seed)
        r = solve(p, prove_config(SolveConfig(work_limit=1.0)))
        assert r.status == "optimal" and r.objective == r.bound == scip_optimum(p)


def test_prove_mode_without_a_binding_budget():
    p = random_round(7)
    p.budget[:] = 10**9
    r = solve(p, prove_config(SolveConfig(work_limit=1.0)))
    assert r.status == "optimal" and r.objective == r.bound == scip_optimum(p)
    state = state_after(p, SolveConfig(prove=True))
    BranchPrice().run(state)
    assert state.done() and state.best == scip_optimum(p)
