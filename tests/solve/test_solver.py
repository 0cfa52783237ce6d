"""The solver on small hand-made problems with known optima (checked by brute force).

Problems are built with :func:`matchmaker.solve.problem.make_instance`: scores in hundredths,
lump sums in cents, dates as working-day indices. ``brute_force`` (tests/solver_bruteforce.py)
enumerates every assignment and compares objectives in the scheme's words.
"""

from __future__ import annotations

import numpy as np
import pytest
from solver_bruteforce import brute_force, feasible, key

from matchmaker.solve.core import build_core, lock_conflicts
from matchmaker.solve.cpsat_model import solve_restricted
from matchmaker.solve.flow import max_weight_assignment
from matchmaker.solve.lp import solve_relaxation
from matchmaker.solve.lp_rows import LPRows
from matchmaker.solve.mip import solve_restricted_mip
from matchmaker.solve.phases.restricted import restrict
from matchmaker.solve.problem import make_instance, objective_weights
from matchmaker.solve.schedule import max_coverage, schedule_stays
from matchmaker.solver import SolveConfig, solve


def pair(v, h, score, cost=0, duration=5, es=0, ls=10, physical=True, locked=False):
    return dict(v=v, h=h, score=score, cost=cost, physical=physical, duration=duration, es=es, ls=ls, locked=locked)


def check_optimal(p, **kw):
    """Solve, assert proven optimal, feasible and equal to the brute-force optimum."""
    r = solve(p, SolveConfig(**kw))
    best, _ = brute_force(p)
    assert r.status == "optimal", (r.status, r.objective, r.bound)
    assert feasible(p, r.pairs.tolist())
    assert key(p, r.pairs.tolist()) == best
    assert r.objective == r.bound
    assert not r.core.violations(r.pairs, r.starts)
    return r


def chosen(p, r):
    return sorted((int(p.v[j]), int(p.h[j])) for j in r.pairs)


# -- the flow alone -----------------------------------------------------------------------

def test_no_budget_round_is_solved_by_the_flow():
    p = make_instance([pair(0, 0, 9000), pair(0, 1, 8000), pair(1, 0, 8500), pair(1, 1, 1000), pair(2, 1, 5000)],
                     capacity=[1, 1], max_visitors=[1, 1], budget=[10**9], n_visitors=3)
    r = check_optimal(p)
    assert chosen(p, r) == [(0, 1), (1, 0)]  # 165 beats 90 + 50
    assert [ph["phase"] for ph in r.phases] == ["locks", "flow"]


def test_flow_respects_host_room_and_ignores_worthless_pairs():
    v = np.array([0, 1, 2, 2])
    h = np.array([0, 0, 0, 1])
    chosen_ = max_weight_assignment(v, h, np.array([5, 4, 3, 0]), np.array([2, 5]), 3)
    assert chosen_.tolist() == [True, True, False, False]


# -- same-day capacity and start dates -----------------------------------------------------

def test_individual_host_schedules_overlapping_visitors_one_after_the_other():
    # v1 must start on day 0, so v0 (which could start at 0..5) has to wait until day 5
    p = make_instance([pair(0, 0, 6000, duration=5, es=0, ls=5), pair(1, 0, 5000, duration=5, es=0, ls=0)],
                     capacity=[1], max_visitors=[2], budget=[10**9], n_visitors=2)
    r = check_optimal(p)
    starts = dict(zip(p.v[r.pairs].tolist(), r.starts.tolist()))
    assert starts == {1: 0, 0: 5}


def test_individual_host_takes_the_better_of_two_visitors_that_cannot_both_fit():
    p = make_instance([pair(0, 0, 6000, duration=5, es=0, ls=3), pair(1, 0, 5000, duration=5, es=0, ls=0),
                      pair(1, 1, 1000)],
                     capacity=[1, 1], max_visitors=[2, 1], budget=[10**9], n_visitors=2)
    r = check_optimal(p)
    assert chosen(p, r) == [(0, 0), (1, 1)]


def test_grouped_host_takes_capacity_visitors_on_the_same_days():
    rows = [pair(v, 0, s, duration=3, es=0, ls=0) for v, s in enumerate([7000, 9000, 8000])]
    p = make_instance(rows, capacity=[2], max_visitors=[3], budget=[10**9], n_visitors=3)
    r = check_optimal(p)
    assert chosen(p, r) == [(1, 0), (2, 0)]


def test_grouped_host_fits_three_when_dates_allow():
    rows = [pair(0, 0, 7000, duration=3, es=0, ls=0), pair(1, 0, 9000, duration=3, es=0, ls=0),
            pair(2, 0, 8000, duration=3, es=0, ls=3)]
    p = make_instance(rows, capacity=[2], max_visitors=[3], budget=[10**9], n_visitors=3)
    r = check_optimal(p)
    assert len(r.pairs) == 3


def test_virtual_exchanges_do_not_use_the_same_day_capacity():
    rows = [pair(v, 0, 5000, duration=3, es=0, ls=0, physical=False) for v in range(3)]
    p = make_instance(rows, capacity=[1], max_visitors=[3], budget=[10**9], n_visitors=3)
    r = check_optimal(p)
    assert len(r.pairs) == 3


def test_schedule_needs_idle_time_before_a_long_stay():
    # starting the long stay at once (non-delay) would block the short one due on day 1
    s, proven = schedule_stays([10, 2], [0, 1], [20, 1], 1)
    assert proven and s is not None
    assert s[1] == 1 and s[0] >= 3


def test_schedule_reports_a_proven_impossible_case():
    s, proven = schedule_stays([5, 5, 5], [0, 0, 0], [4, 4, 4], 1)
    assert s is None and proven


def test_max_coverage_counts_overlap_per_group():
    deep = max_coverage([0, 0, 0, 1, 1, 1], [0, 2, 5, 0, 8, 9], [3, 4, 6, 7, 9, 9], 3)
    assert deep.tolist() == [2, 2, 0]


# -- budgets -------------------------------------------------------------------------------

def test_binding_budget_funds_two_cheap_visitors_rather_than_one_expensive():
    rows = [pair(0, 0, 10000, cost=1000), pair(1, 1, 6000, cost=500), pair(2, 2, 5500, cost=500)]
    p = make_instance(rows, capacity=[1, 1, 1], max_visitors=[1, 1, 1], budget=[1000], n_visitors=3)
    r = check_optimal(p)
    assert chosen(p, r) == [(1, 1), (2, 2)]


def test_each_partnership_pays_from_its_own_budget():
    rows = [pair(0, 0, 9000, cost=800), pair(1, 0, 5000, cost=300), pair(2, 1, 7000, cost=800)]
    p = make_instance(rows, capacity=[1, 1], max_visitors=[2, 1], budget=[500, 800], visitor_part=[0, 0, 1],
                     n_visitors=3)
    r = check_optimal(p)
    assert chosen(p, r) == [(1, 0), (2, 1)]


def test_programme_budget_caps_all_partnerships_together():
    rows = [pair(0, 0, 9000, cost=800), pair(1, 1, 7000, cost=500), pair(2, 2, 6000, cost=400)]
    p = make_instance(rows, capacity=[1, 1, 1], max_visitors=[1, 1, 1], budget=[10**6, 10**6],
                     visitor_part=[0, 1, 1], n_visitors=3, programme_budget=1000)
    r = check_optimal(p)
    assert chosen(p, r) == [(1, 1), (2, 2)]


def test_budget_and_capacity_together_need_an_exact_search():
    rng = np.random.default_rng(3)
    rows = [pair(v, h, int(rng.integers(1000, 9000)), cost=int(rng.choice([300, 500, 800])),
                 duration=int(rng.integers(2, 5)), es=int(rng.integers(0, 3)), ls=int(rng.integers(3, 6)))
            for v in range(5) for h in range(3) if rng.random() < 0.8]
    p = make_instance(rows, capacity=[1, 1, 2], max_visitors=[2, 2, 2], budget=[1300, 1100],
                     visitor_part=[0, 0, 1, 1, 1], n_visitors=5)
    r = check_optimal(p)
    # the flow, the LP rounding and the Lagrangian were not enough: branch-and-price proved it
    assert [ph["phase"] for ph in r.phases][-1] == "branch-and-price"


# -- locks and their conflicts -------------------------------------------------------------

def test_locked_pair_is_kept_even_when_a_better_assignment_exists():
    rows = [pair(0, 0, 9000), pair(0, 1, 1000, locked=True), pair(1, 0, 2000)]
    p = make_instance(rows, capacity=[1, 1], max_visitors=[1, 1], budget=[10**9], n_visitors=2)
    r = check_optimal(p)
    assert chosen(p, r) == [(0, 1), (1, 0)]


def test_two_locks_of_one_visitor_are_infeasible_and_named():
    rows = [pair(0, 0, 9000, locked=True), pair(0, 1, 1000, locked=True)]
    p = make_instance(rows, capacity=[1, 1], max_visitors=[1, 1], budget=[10**9], n_visitors=1)
    r = solve(p)
    assert r.status == "infeasible"
    assert [c["rule"] for c in r.conflicts] == ["one_exchange_per_visitor"]
    assert "visitor 0 is locked to 2 hosts" in r.message


@pytest.mark.parametrize("case, rule", [
    ("max_visitors", "max_visitors"), ("capacity", "capacity"), ("budget", "partnership_budget"),
    ("programme", "programme_budget")])
def test_locks_breaking_a_host_or_budget_rule_are_infeasible_and_named(case, rule):
    rows = [pair(0, 0, 5000, cost=600, duration=5, es=0, ls=1, locked=True),
            pair(1, 0, 5000, cost=600, duration=5, es=0, ls=1, locked=True)]
    opts = dict(capacity=[2], max_visitors=[2], budget=[10**6], n_visitors=2)
    if case == "max_visitors":
        opts["max_visitors"] = [1]
    elif case == "capacity":
        opts["capacity"] = [1]
    elif case == "budget":
        opts["budget"] = [1000]
    else:
        opts["programme_budget"] = 1000
    p = make_instance(rows, **opts)
    r = solve(p)
    assert r.status == "infeasible"
    assert rule in [c["rule"] for c in r.conflicts]
    assert brute_force(p)[0] is None


def test_lock_conflicts_is_empty_for_compatible_locks():
    rows = [pair(0, 0, 5000, duration=5, es=0, ls=5, locked=True), pair(1, 0, 5000, duration=5, es=0, ls=5,
                                                                        locked=True)]
    p = make_instance(rows, capacity=[1], max_visitors=[2], budget=[10**6], n_visitors=2)
    assert lock_conflicts(p) == []


# -- objective options ---------------------------------------------------------------------

def test_exchanges_then_score_prefers_two_exchanges_to_one_better_one():
    rows = [pair(0, 0, 9000, cost=1000), pair(1, 1, 4000, cost=500), pair(2, 2, 4000, cost=500)]
    args = dict(capacity=[1, 1, 1], max_visitors=[1, 1, 1], budget=[1000], n_visitors=3)
    r = check_optimal(make_instance(rows, **args))
    assert len(r.pairs) == 1
    p = make_instance(rows, objective="exchanges_then_score", **args)
    r = check_optimal(p)
    assert chosen(p, r) == [(1, 1), (2, 2)]
    w, penalty = objective_weights(p)
    assert penalty == 0 and w.min() > 9000 + 4000 + 4000  # M outweighs any total score


def test_fairness_gives_each_partnership_its_share_before_score():
    rows = [pair(0, 0, 9000), pair(1, 0, 8000), pair(2, 0, 1000)]
    args = dict(capacity=[2], max_visitors=[2], budget=[10**6, 10**6], visitor_part=[0, 0, 1], n_visitors=3)
    p = make_instance(rows, **args)
    assert chosen(p, check_optimal(p)) == [(0, 0), (1, 0)]
    p = make_instance(rows, fairness_share=0.5, **args)
    r = check_optimal(p)
    assert chosen(p, r) == [(0, 0), (2, 0)]
    assert r.stats["shortfall"] == 0


def test_fairness_shortfall_is_minimised_where_the_share_is_impossible():
    rows = [pair(0, 0, 9000), pair(1, 0, 8000), pair(2, 0, 1000)]
    p = make_instance(rows, capacity=[1], max_visitors=[1], budget=[10**6, 10**6], visitor_part=[0, 0, 1],
                     n_visitors=3, fairness_share=1.0)
    r = check_optimal(p)
    assert len(r.pairs) == 1 and r.stats["shortfall"] == 2


# -- proofs, bounds and limits -------------------------------------------------------------

def random_problem(seed, n_visitors=5, n_hosts=3):
    rng = np.random.default_rng(seed)
    rows = [pair(v, h, int(rng.integers(0, 60)) * 100 + int(rng.integers(0, 3)),
                 cost=int(rng.choice([0, 50, 100, 150])), duration=int(rng.integers(1, 4)),
                 es=int(rng.integers(0, 4)), ls=0, physical=bool(rng.random() < 0.8))
            for v in range(n_visitors) for h in range(n_hosts) if rng.random() < 0.7]
    for r in rows:
        r["ls"] = r["es"] + int(rng.integers(0, 3))
    return make_instance(rows, capacity=rng.integers(1, 3, size=n_hosts), max_visitors=rng.integers(1, 4, size=n_hosts),
                        budget=rng.integers(100, 400, size=2), visitor_part=rng.integers(0, 2, size=n_visitors),
                        n_visitors=n_visitors)


@pytest.mark.parametrize("seed", range(6))
def test_safe_bound_holds_for_any_duals(seed):
    p = random_problem(seed)
    core = build_core(p)
    best, best_set = brute_force(p)
    opt = core.value(best_set)
    rows = LPRows(core)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        y = rng.random(rows.n) * rng.choice([0.0, 1.0, 100.0])
        ub, _ = rows.bound(y, rows.reduced_costs(y, core.cand))
        assert ub >= opt
    assert solve_relaxation(core).bound >= opt


@pytest.mark.parametrize("seed, use", [(s, u) for s in range(6) for u in ("lp", "lagrangian")])
def test_pairs_left_out_by_reduced_cost_cannot_beat_the_filter_value(seed, use):
    from matchmaker.solve.lagrangian import Multipliers, lagrangian

    p = random_problem(seed, n_visitors=4)
    core = build_core(p)
    lp = solve_relaxation(core)
    filt = lp if use == "lp" else lagrangian(p, Multipliers.from_lp(lp), time_limit=None, core=core)
    keep, z_filter = restrict(filt, filt.bound - 400, 3)
    if z_filter is None:
        return
    left_out = set(core.cand[~keep].tolist())
    # the best solution using any left-out pair, by brute force over all assignments
    import itertools
    options = [[None] + np.flatnonzero(p.v == v).tolist() for v in range(p.n_visitors)]
    for combo in itertools.product(*options):
        sol = [j for j in combo if j is not None]
        if left_out.intersection(sol) and feasible(p, sol):
            assert core.value(sol) <= z_filter


@pytest.mark.parametrize("seed", range(8))
def test_restricted_cpsat_model_finds_the_brute_force_optimum(seed):
    p = random_problem(seed)
    core = build_core(p)
    best, _ = brute_force(p)
    res = solve_restricted(core, core.cand, core.locked, p.es[core.locked], time_limit=10, seed=0)
    assert res.status == "optimal"
    assert key(p, res.pairs.tolist()) == best
    starts = np.array([res.starts.get(int(j), p.es[j]) for j in res.pairs])
    assert not core.violations(res.pairs, starts)


@pytest.mark.parametrize("seed", range(8))
def test_restricted_mip_with_scheduling_cuts_finds_the_brute_force_optimum(seed):
    p = random_problem(seed)
    core = build_core(p)
    best, _ = brute_force(p)
    res = solve_restricted_mip(core, core.cand, time_limit=10, start=core.locked)
    assert res.status == "optimal"
    assert key(p, res.pairs.tolist()) == best


@pytest.mark.parametrize("seed", range(4))
def test_restricted_cpsat_phase_proves_the_optimum_without_the_mip(seed):
    p = random_problem(seed)
    r = check_optimal(p, mip_pairs=0, lagrangian_share=0)
    assert [ph["phase"] for ph in r.phases][-1] in ("flow", "repair", "cpsat")  # never the MIP


def test_time_limit_too_short_returns_a_feasible_solution_with_an_honest_gap():
    rows = [pair(v, h, 1000 * (v + h + 1), cost=500) for v in range(4) for h in range(2)]
    p = make_instance(rows, capacity=[1, 1], max_visitors=[2, 2], budget=[1000], n_visitors=4)
    best, best_set = brute_force(p)
    r = solve(p, SolveConfig(time_limit=1e-9))
    assert r.status in ("feasible", "no_solution_yet")
    opt = build_core(p).value(best_set)
    assert r.objective <= opt <= r.bound
    assert r.gap == pytest.approx((r.bound - r.objective) / r.bound)


def test_same_problem_and_seed_give_the_same_proposals():
    p = random_problem(11, n_visitors=12, n_hosts=5)
    a, b = solve(p, SolveConfig(seed=3)), solve(p, SolveConfig(seed=3))
    assert a.pairs.tolist() == b.pairs.tolist() and a.starts.tolist() == b.starts.tolist()


def test_progress_reports_every_phase_with_best_bound_and_gap():
    seen = []
    p = random_problem(2)
    solve(p, progress=seen.append)
    assert seen[0]["phase"] == "locks" and seen[-1]["phase"] == "done"
    for info in seen:
        assert set(info) == {"phase", "best", "bound", "gap", "elapsed"}
        assert info["best"] <= info["bound"]


# -- input checks --------------------------------------------------------------------------

def test_problem_rejects_a_start_range_that_ends_before_it_begins():
    with pytest.raises(ValueError, match="latest start before earliest start"):
        make_instance([pair(0, 0, 100, es=5, ls=2)], capacity=[1], max_visitors=[1], budget=[0])


def test_problem_rejects_a_pair_listed_twice():
    with pytest.raises(ValueError, match="appears twice"):
        make_instance([pair(0, 0, 100), pair(0, 0, 200)], capacity=[1], max_visitors=[1], budget=[0])


def test_solve_config_rejects_a_non_positive_or_infinite_time_limit():
    for bad in (0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="time_limit must be a finite number > 0 seconds"):
            SolveConfig(time_limit=bad)
