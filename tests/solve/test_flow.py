"""The maximum-weight assignment (matchmaker.solve.flow) against SciPy and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from matchmaker.solve.flow import max_weight_assignment


def random_pairs(rng, n_visitors, n_hosts, density=0.7):
    v, h = np.nonzero(rng.random((n_visitors, n_hosts)) < density)
    weight = rng.integers(-5, 50, len(v))
    return v, h, weight


def scipy_optimum(v, h, weight, room, n_visitors):
    """Best total weight by linear_sum_assignment: each host repeated ``room`` times, a
    missing or worthless pair worth 0 (taking it is the same as leaving the visitor out)."""
    slots = np.repeat(np.arange(len(room)), room)
    if len(slots) == 0:
        return 0
    gain = np.zeros((n_visitors, len(slots)))
    for vv, hh, ww in zip(v, h, weight):
        gain[vv, slots == hh] = max(ww, 0)
    r, c = linear_sum_assignment(gain, maximize=True)
    return int(gain[r, c].sum())


def check(chosen, v, h, room, n_visitors):
    assert (np.bincount(v[chosen], minlength=n_visitors) <= 1).all()
    assert (np.bincount(h[chosen], minlength=len(room)) <= room).all()


@pytest.mark.parametrize("seed", range(40))
def test_assignment_weight_equals_scipy_linear_sum_assignment(seed):
    rng = np.random.default_rng(seed)
    nv, nh = int(rng.integers(1, 9)), int(rng.integers(1, 6))
    v, h, weight = random_pairs(rng, nv, nh)
    room = rng.integers(0, 3, nh)
    chosen = max_weight_assignment(v, h, weight, room, nv)
    check(chosen, v, h, room, nv)
    assert (weight[chosen] > 0).all()
    assert int(weight[chosen].sum()) == scipy_optimum(v, h, weight, room, nv)


@pytest.mark.parametrize("seed", range(20))
def test_assignment_weight_equals_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    nv, nh = int(rng.integers(1, 5)), int(rng.integers(1, 4))
    v, h, weight = random_pairs(rng, nv, nh)
    room = rng.integers(0, 3, nh)
    best = 0
    options = [[None] + [j for j in range(len(v)) if v[j] == x] for x in range(nv)]
    for combo in itertools.product(*options):
        js = [j for j in combo if j is not None]
        if (np.bincount(h[js], minlength=nh) <= room).all():
            best = max(best, int(weight[js].sum()))
    chosen = max_weight_assignment(v, h, weight, room, nv)
    assert int(weight[chosen].sum()) == best


def test_no_pair_worth_taking_gives_an_empty_assignment():
    chosen = max_weight_assignment([0, 1], [0, 0], [0, -3], [2])
    assert chosen.tolist() == [False, False]
    assert max_weight_assignment([], [], [], [1], 0).tolist() == []
