"""The LP relaxation (matchmaker.solve.lp, matchmaker.solve.lp_rows) on small instances.

Checked against brute force (tests/solve/solver_bruteforce.py): the bound is a valid upper
bound, any dual vector gives a valid bound (weak duality), the LP value never exceeds the
bound it proves, and reduced costs bound the solutions that use a pair.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from solver_bruteforce import brute_force, with_pair_locked
from solver_strategies import fixed, pair, solver_instances

from matchmaker.solve.core import build_core, lock_conflicts
from matchmaker.solve.lp import solve_relaxation
from matchmaker.solve.lp_rows import LPRows
from matchmaker.solve.problem import make_instance


def optimum(p):
    """Best objective (objective units) by brute force, or None when the locks conflict."""
    _, chosen = brute_force(p)
    return None if chosen is None else build_core(p).value(np.array(chosen, dtype=np.int64))


@fixed(80)
@given(solver_instances())
def test_bound_is_an_upper_bound_of_the_brute_force_optimum(p):
    best = optimum(p)
    if best is None:
        assert lock_conflicts(p)
        return
    core = build_core(p)
    lp = solve_relaxation(core)
    assert isinstance(lp.bound, int) and lp.bound >= best
    assert lp.bound >= np.floor(lp.bound_float)
    if len(core.cand):
        assert lp.converged
        # weak duality: the LP's value is at most the bound of its own duals
        assert lp.lp_value <= lp.bound_float + 1e-6 * max(1.0, abs(lp.bound_float))
        assert lp.x.shape == core.cand.shape and ((lp.x >= 0) & (lp.x <= 1)).all()


@fixed(60)
@given(solver_instances(), st.integers(0, 2**32 - 1))
def test_any_duals_give_a_valid_bound(p, seed):
    """UB(y) >= every feasible objective for every y >= 0, however bad (weak duality)."""
    best = optimum(p)
    if best is None:
        return
    core = build_core(p)
    if len(core.cand) == 0:
        return
    rows = LPRows(core)
    rng = np.random.default_rng(seed)
    for scale in (0.0, 1.0, 100.0, 1e4):
        y = rng.random(rows.n) * scale
        ub, ubf = rows.bound(y, rows.reduced_costs(y, core.cand))
        assert ub >= best and ub >= np.floor(ubf)


@fixed(40)
@given(solver_instances(options=False))
def test_the_lp_duals_bound_the_optimum_and_price_the_rows(p):
    """The duals returned reproduce the bound, and ``rc`` bounds every solution using a pair."""
    best = optimum(p)
    core = build_core(p)
    if best is None or len(core.cand) == 0:
        return
    lp = solve_relaxation(core)
    y = lp.duals["y"]
    assert (y >= 0).all()
    ub, _ = lp.rows.bound(y, lp.rows.reduced_costs(y, core.cand))
    assert ub == lp.bound >= best
    for i, j in enumerate(core.cand.tolist()):
        with_j = optimum(with_pair_locked(p, j))
        if with_j is not None:
            assert with_j <= lp.bound_float + lp.rc[i] + 1e-6 * max(1.0, abs(lp.bound_float))


def test_a_core_without_candidates_is_its_locks():
    p = make_instance([pair(0, 0, 900, locked=True), pair(1, 0, 800)], capacity=[1], max_visitors=[1],
                      budget=[10**6], n_visitors=2)
    core = build_core(p)
    assert len(core.cand) == 0
    lp = solve_relaxation(core)
    assert lp.bound == lp.lp_value == core.fixed_value == 900 and lp.converged and lp.rows is None


def test_budget_rows_count_in_the_lump_sums_common_unit():
    """Lump sums of EUR 600 and 550 under EUR 1,000: the budget row is in EUR 50 units,
    right-hand side rounded down, and its dual is reported per cent."""
    p = make_instance([pair(0, 0, 9000, cost=60000), pair(1, 1, 8000, cost=55000)], capacity=[1, 1],
                      max_visitors=[1, 1], budget=[100000], n_visitors=2)
    core = build_core(p)
    rows = LPRows(core)
    assert rows.unit == 5000 and rows.parts.tolist() == [0]
    assert rows.b[rows.brow[0]] == 100000 // 5000
    lp = solve_relaxation(core)
    assert lp.bound >= 9000 and lp.duals["budget"][0] > 0
