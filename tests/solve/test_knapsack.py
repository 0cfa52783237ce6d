"""The exact multiple-choice knapsack (matchmaker.solve.knapsack) against brute force."""

from __future__ import annotations

import doctest
import itertools

import numpy as np
import pytest

import matchmaker.solve.knapsack as knapsack
from matchmaker.solve.knapsack import mckp, mckp_grouped, pareto_items
from matchmaker.solve.knapsack_bound import greedy_choice, lp_price, lp_upper_bound


def brute(values, weights, groups, capacity, forced=None):
    """Best value by enumerating every choice (at most one item per group); ``forced``: an
    item that must be chosen (None when no choice with it fits)."""
    opts = [[None] + [i for i in range(len(values)) if groups[i] == g] for g in sorted(set(groups))]
    best = None
    for combo in itertools.product(*opts):
        items = [i for i in combo if i is not None]
        if forced is not None and forced not in items:
            continue
        if sum(weights[i] for i in items) <= capacity:
            v = sum(values[i] for i in items)
            best = v if best is None else max(best, v)
    return best


def random_instance(rng, n_max=9, groups_max=4):
    n = int(rng.integers(0, n_max))
    return (rng.integers(-3, 20, n), rng.integers(0, 8, n), rng.integers(0, groups_max, n),
            int(rng.integers(0, 15)))


@pytest.mark.parametrize("reduce", [True, False])
def test_mckp_matches_brute_force_on_tiny_instances(reduce):
    rng = np.random.default_rng(7)
    for _ in range(1500):
        a, w, g, cap = random_instance(rng)
        value, chosen = mckp(a, w, g, cap, reduce=reduce)
        assert value == brute(a, w, g, cap)
        assert a[chosen].sum() == value and w[chosen].sum() <= cap
        assert len(set(g[chosen].tolist())) == len(chosen)  # at most one item per group


def test_lp_bound_and_forced_item_bound_hold():
    """``upper`` bounds the optimum, and upper - loss_j bounds every solution using item j."""
    rng = np.random.default_rng(11)
    for _ in range(400):
        a, w, g, cap = random_instance(rng, n_max=8, groups_max=3)
        order = np.lexsort((w, g))
        a, w, g = a[order], w[order], g[order]
        starts = np.r_[np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else [], len(g)].astype(int)
        k = mckp_grouped(a, w, starts, cap)
        assert k.upper >= k.value == brute(a, w, g, cap)
        r = a - k.price * w
        best = {grp: max([0] + r[(g == grp) & (w <= cap)].tolist()) for grp in set(g.tolist())}
        for j in range(len(a)):
            with_j = brute(a, w, g, cap, forced=j)
            if with_j is not None:
                assert with_j <= k.upper - (best[g[j]] - r[j])


def test_reduction_and_plain_dp_agree_on_a_partnership_sized_instance():
    rng = np.random.default_rng(3)
    n_groups, per = 150, 12
    g = np.repeat(np.arange(n_groups), per)
    w = rng.choice([53, 56, 61, 67, 72, 78, 83, 90, 95, 110, 0], size=len(g))
    a = rng.integers(1000, 9000, len(g)) * 1024 + rng.integers(0, 1000, len(g))
    cap = int(0.5 * n_groups * 80)
    v1, c1 = mckp(a, w, g, cap)
    v2, c2 = mckp(a, w, g, cap, reduce=False)
    assert v1 == v2 and w[c1].sum() <= cap and a[c1].sum() == v1


def test_pareto_items_drop_dominated_and_worthless_items():
    # group 0: weights 1, 2, 2, 3 (values 5, 4, 7, 7): keep (1, 5) and (2, 7); (2, 4) is not the
    # best at its weight, (3, 7) is no better than a lighter item; group 1: only worthless items
    a = np.array([5, 4, 7, 7, 0, -2])
    w = np.array([1, 2, 2, 3, 1, 2])
    idx, starts = pareto_items(a, w, np.array([0, 4, 6]), 10)
    assert idx.tolist() == [0, 2] and starts.tolist() == [0, 2]


def test_equal_items_keep_the_first():
    idx, _ = pareto_items(np.array([5, 5]), np.array([2, 2]), np.array([0, 2]), 10)
    assert idx.tolist() == [0]


def test_edges_nothing_to_choose_zero_capacity_and_all_fit():
    assert mckp([], [], [], 5)[0] == 0
    assert mckp([3, 4], [0, 1], [0, 1], 0) == (3, [0])  # only the free item fits
    value, chosen = mckp([3, 4, 9], [1, 1, 2], [0, 1, 1], 100)
    assert value == 12 and chosen.tolist() == [0, 2]


@pytest.mark.parametrize("args, message", [
    (([1, 2], [1], [0, 0], 3), "one length"),
    (([1.5], [1], [0], 3), "values must be integers"),
    (([1], [-1], [0], 3), "weights must be >= 0"),
    (([1], [1], [0], -1), "capacity must be a whole number >= 0"),
    (([1], [1], [0, 1], 3), "one entry per item"),
])
def test_bad_input_is_refused_with_the_rule(args, message):
    with pytest.raises(ValueError, match=message):
        mckp(*args)


def test_grouped_input_must_be_sorted_by_weight_within_a_group():
    with pytest.raises(ValueError, match="sorted by weight within a group; item 1"):
        mckp_grouped([1, 2], [3, 1], [0, 2], 5)
    with pytest.raises(ValueError, match="starts must run from 0 to 2"):
        mckp_grouped([1, 2], [1, 3], [0, 1], 5)


def test_values_that_could_overflow_are_refused():
    with pytest.raises(ValueError, match="values too large"):
        mckp([2 ** 60, 2 ** 60], [1, 1], [0, 1], 1)


def test_docstring_example_holds():
    assert doctest.testmod(knapsack).failed == 0


def test_lp_price_minimises_the_lp_bound_and_the_greedy_choice_fits():
    """knapsack_bound: the integer price of ``lp_price`` gives the least ``UB`` of all
    integer prices (``UB`` is convex in the price), and the greedy choice at it fits."""
    rng = np.random.default_rng(5)
    for _ in range(300):
        a, w, g, cap = random_instance(rng, n_max=10, groups_max=4)
        order = np.lexsort((w, g))
        a, w, g = a[order], w[order], g[order]
        starts = np.r_[np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else [], len(g)].astype(np.int64)
        idx, ps = pareto_items(a.astype(np.int64), w.astype(np.int64), starts, cap)
        if len(idx) == 0:
            continue
        pa, pw = a[idx].astype(np.int64), w[idx].astype(np.int64)
        lam = lp_price(pa, pw, ps, cap)
        ub = lp_upper_bound(pa, pw, ps, cap, lam)[0]
        assert ub == min(lp_upper_bound(pa, pw, ps, cap, x)[0] for x in range(int(pa.max()) + 2))
        assert ub >= brute(a, w, g, cap)
        choice = greedy_choice(pa, pw, ps, cap, lam)
        picked = choice[choice >= 0]
        assert pw[picked].sum() <= cap
        assert (np.repeat(np.arange(len(ps) - 1), np.diff(ps))[picked] == np.flatnonzero(choice >= 0)).all()
