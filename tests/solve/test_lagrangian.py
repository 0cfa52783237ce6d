"""The Lagrangian bound with exact partnership knapsacks (matchmaker.solve.lagrangian).

Tiny problems are checked against brute force (tests/solve/solver_bruteforce.py): the bound is
never below the optimum, equals it when the hosts never bind, each pair's ``rc`` bounds
the solutions that use it, and every primal solution keeps every rule. On the committed
sample round the bound is checked against the LP bound.
"""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from solver_bruteforce import brute_force, with_pair_locked
from solver_strategies import fixed, pair, solver_instances

import matchmaker.solve.lagrangian as lagrangian_module
from matchmaker.solve.core import build_core
from matchmaker.solve.lagrangian import Multipliers, lagrangian, lagrangian_bound
from matchmaker.solve.lp import solve_relaxation
from matchmaker.solve.problem import make_instance
from matchmaker.solve.schedule import schedule_pairs

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def optimum(p):
    """Best objective (objective units) by brute force, or None when the locks conflict."""
    _, chosen = brute_force(p)
    return None if chosen is None else build_core(p).value(np.array(chosen, dtype=np.int64))


def assert_feasible(p, pairs):
    core = build_core(p)
    assert not core.violations(pairs, schedule_pairs(p, pairs)[0])


@fixed(100)
@given(solver_instances())
def test_bound_is_never_below_the_brute_force_optimum(p):
    best = optimum(p)
    if best is None:
        with pytest.raises(ValueError, match="locked pairs cannot all be honoured"):
            lagrangian(p, time_limit=None)
        return
    r = lagrangian(p, time_limit=None)
    assert isinstance(r.bound, int) and r.bound >= best
    assert r.bound == np.floor(r.bound_exact) and r.master <= r.bound_exact + 1e-6
    assert_feasible(p, r.pairs)
    assert r.objective == build_core(p).value(r.pairs) <= best


@fixed(80)
@given(solver_instances(hosts_bind=False, options=False))
def test_bound_equals_the_optimum_when_hosts_never_bind(p):
    """Places and same-day capacity for everyone: the round is one exact knapsack per partnership."""
    r = lagrangian(p, time_limit=None)
    assert r.bound == optimum(p) == r.objective
    assert r.iterations <= 1  # nothing to price (no candidate pair: none at all)


@fixed(40)
@given(solver_instances(options=False))
def test_rc_bounds_every_solution_that_uses_the_pair(p):
    core = build_core(p)
    r = lagrangian(p, time_limit=None, primal=False)
    for i, j in enumerate(core.cand.tolist()):
        with_j = optimum(with_pair_locked(p, j))
        if with_j is not None:
            assert with_j <= r.pair_bound[i] <= r.bound


def test_budget_integrality_makes_the_bound_exact_where_the_lp_is_not():
    """Stays of EUR 600 and 550, a budget of EUR 1,000: the LP funds 1 8/11 stays, the
    knapsack only one (the better)."""
    p = make_instance([pair(0, 0, 9000, cost=60000), pair(1, 1, 8000, cost=55000)], capacity=[1, 1],
                     max_visitors=[1, 1], budget=[100000])
    core = build_core(p)
    lp = solve_relaxation(core)
    r = lagrangian(p, Multipliers.from_lp(lp), core=core)
    assert lp.bound == 9000 + 8000 * 8 // 11
    assert r.bound == r.objective == 9000


def test_a_contested_host_needs_a_price():
    """Both visitors prefer host 0 (one place) and the budget funds both: without a price on
    host 0 the knapsack sends both there (1,700); priced, the bound is the optimum 1,500."""
    p = make_instance([pair(0, 0, 900, cost=50000), pair(0, 1, 700, cost=50000), pair(1, 0, 800, cost=50000)],
                     capacity=[1, 1], max_visitors=[1, 1], budget=[100000])
    r = lagrangian(p, time_limit=None)
    assert r.history[0][1] == 1700
    assert r.bound == r.objective == 1500 and r.pairs.tolist() == [1, 2]
    assert 200 <= r.multipliers.host[0] <= 800 and r.multipliers.host[1] == 0  # the prices giving 1,500


def test_locked_pairs_are_kept_and_counted():
    p = make_instance([pair(0, 0, 100, cost=50000, locked=True), pair(1, 0, 900, cost=10000),
                      pair(1, 1, 700, cost=60000), pair(2, 1, 600, cost=40000)],
                     capacity=[1, 1], max_visitors=[1, 1], budget=[100000])
    r = lagrangian(p)
    assert 0 in r.pairs.tolist()
    assert r.bound == r.objective == optimum(p) == 100 + 600  # host 0 is full, EUR 500 left


def test_conflicting_locks_are_refused_with_the_reason():
    p = make_instance([pair(0, 0, 100, locked=True), pair(0, 1, 100, locked=True)], capacity=[1, 1],
                     max_visitors=[1, 1], budget=[0])
    with pytest.raises(ValueError, match="visitor 0 is locked to 2 hosts"):
        lagrangian_bound(p)


def test_a_feasible_start_is_kept_and_a_broken_one_refused():
    p = make_instance([pair(0, 0, 900, cost=60000), pair(0, 1, 500, cost=40000), pair(1, 0, 800, cost=60000)],
                     capacity=[1, 1], max_visitors=[1, 1], budget=[100000])
    r = lagrangian(p, start=np.array([0]), primal=False)
    assert r.pairs.tolist() == [0] and r.objective == 900
    with pytest.raises(ValueError, match="start: the given solution is not feasible"):
        lagrangian(p, start=np.array([0, 2]))


def test_coarse_budget_units_still_bound_the_optimum():
    rows = [pair(v, h, 1000 + 97 * v + 13 * h, cost=500 * (50 + 7 * h + 3 * v)) for v in range(5) for h in range(3)]
    p = make_instance(rows, capacity=[5] * 3, max_visitors=[2, 2, 1], budget=[150000])
    exact = lagrangian(p, time_limit=None)
    coarse = lagrangian(p, time_limit=None, max_states=10)
    assert coarse.bound >= exact.bound >= optimum(p)
    assert_feasible(p, coarse.pairs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(mu0=np.ones(3)), "2 finite host prices >= 0"),
    (dict(mu0=np.array([-1.0, 0.0])), "2 finite host prices >= 0"),
    (dict(time_limit=0), "time_limit must be > 0"),
    (dict(smoothing=1.0), r"smoothing must be in \[0, 1\)"),
    (dict(max_states=0), "max_states must be >= 1"),
    (dict(guide=np.ones(5)), "one finite number per candidate pair"),
])
def test_bad_arguments_are_refused(kwargs, message):
    p = make_instance([pair(0, 0, 900, cost=60000), pair(1, 1, 800, cost=60000)], capacity=[1, 1],
                     max_visitors=[1, 1], budget=[100000])
    with pytest.raises(ValueError, match=message):
        lagrangian(p, **kwargs)


@pytest.fixture(scope="module")
def sample():
    from matchmaker.inputs.loading import load_round
    from matchmaker.pairs.catalogue import build_catalogue
    from matchmaker.solve.problem import build_instance

    rnd = load_round(SAMPLE)
    p = build_instance(rnd, build_catalogue(rnd))
    core = build_core(p)
    return p, core, solve_relaxation(core)


def test_sample_round_bound_is_below_the_lp_bound(sample):
    """The sample's 13 budgets fund about half the visitors: knapsack integrality matters."""
    p, core, lp = sample
    r = lagrangian(p, Multipliers.from_lp(lp), core=core, max_iterations=3, primal=False)
    assert r.history[0][1] <= lp.bound  # the LP's own prices already give a lower L
    assert r.bound <= lp.bound - 2000  # more than 20 score points lower
    assert r.pairs is None and r.objective is None


def test_same_input_same_answer():
    p = make_instance([pair(v, h, 500 + 37 * v + 11 * h, cost=500 * (60 + 10 * h)) for v in range(4) for h in range(2)],
                     capacity=[1, 2], max_visitors=[1, 2], budget=[130000])
    a, b = lagrangian(p, time_limit=None), lagrangian(p, time_limit=None)
    assert (a.bound, a.objective, a.pairs.tolist()) == (b.bound, b.objective, b.pairs.tolist())
    assert np.array_equal(a.multipliers.host, b.multipliers.host)


def test_docstring_example_holds():
    assert doctest.testmod(lagrangian_module).failed == 0
