"""Regression (issue 12): a host whose stays were not *proven* unschedulable is never cut.

A no-good cut on stays that only *could not be decided* (more than
``schedule.EXACT_MAX_STAYS`` stays, or the exact check ran out of its limit) can remove a
feasible assignment, and the MIP's bound is then no bound. Both cases are built here on
a set of stays that the greedy orders of :mod:`matchmaker.solve.schedule` cannot place
but that can be scheduled (CP-SAT finds the start days; found by a random search), and
each test checks that no no-good cut is added and that the bound stays at or above the
optimum (by construction, or by brute force).
"""

from __future__ import annotations

from functools import partial

import numpy as np
from solver_bruteforce import brute_force
from solver_strategies import pair

import matchmaker.solve.mip as mip
from matchmaker.solve.core import build_core
from matchmaker.solve.mip import scheduling_cuts, solve_restricted_mip
from matchmaker.solve.problem import make_instance
from matchmaker.solve.schedule import EXACT_MAX_STAYS, schedule_pairs, schedule_stays

# five stays at an individual host: every greedy order fails, the starts 2, 8, 5, 1, 6 fit
DAYS, EARLIEST, LATEST = [3, 3, 1, 1, 2], [2, 5, 4, 1, 3], [5, 8, 6, 1, 6]
BLOCK = 12  # days between copies of the block (its stays end by day 10)


def blocks(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``k`` copies of the five stays, each ``BLOCK`` days after the one before."""
    shift = np.repeat(BLOCK * np.arange(k), len(DAYS))
    return np.tile(DAYS, k), np.tile(EARLIEST, k) + shift, np.tile(LATEST, k) + shift


def one_host_round(k: int, score: int = 100) -> object:
    """Visitors each with one pair at host 0 (capacity 1), the stays of :func:`blocks`."""
    d, es, ls = blocks(k)
    n = len(d)
    rows = [pair(v, 0, score, duration=int(d[v]), es=int(es[v]), ls=int(ls[v])) for v in range(n)]
    return make_instance(rows, capacity=[1], max_visitors=[n], budget=[10**9], visitor_part=np.zeros(n, int),
                         n_visitors=n)


def test_the_stays_fit_but_the_greedy_orders_do_not_find_it():
    d, es, ls = blocks(1)
    assert schedule_stays(d, es, ls, 1, exact_time_limit=5.0)[1]  # decided (by the exact model) ...
    assert schedule_stays(d, es, ls, 1)[0] is not None  # ... and it fits
    d, es, ls = blocks(17)
    assert len(d) > EXACT_MAX_STAYS
    starts, proven = schedule_stays(d, es, ls, 1)
    assert starts is None and not proven  # too many stays for the exact model: not decided


def test_host_with_more_than_80_stays_gets_no_no_good_cut_and_a_valid_bound():
    p = one_host_round(17)  # 85 stays, all of them fit: the optimum takes every pair
    optimum = 100 * p.n_pairs
    core = build_core(p)
    every = np.sort(core.cand)
    _, failed, unproven = schedule_pairs(p, every)
    assert failed.tolist() == unproven.tolist() == [0]
    cuts = scheduling_cuts(core, every, failed, core.cand, set(), unproven=unproven)
    assert not [c for c in cuts if c.kind == "no-good"]
    for cut in cuts:  # the window cuts hold for the optimum
        assert float(cut.coef.sum()) <= cut.rhs + 1e-9
    r = solve_restricted_mip(core, core.cand, time_limit=None)
    assert not [c for c in r.cuts if c.kind == "no-good"]
    assert r.bound is not None and r.bound >= optimum
    assert r.status != "optimal"  # the MIP's answer could not be scheduled, so it is not accepted as such
    assert r.objective is not None and r.objective <= optimum
    assert not core.violations(r.pairs, schedule_pairs(p, r.pairs)[0])


def test_timed_out_check_gets_no_no_good_cut_and_the_bound_stays_above_brute_force(monkeypatch):
    """The exact check is given a tiny limit (it then decides nothing): no cut, a valid bound."""
    d, es, ls = blocks(1)
    rows = [pair(v, 0, 100 + v, duration=int(d[v]), es=int(es[v]), ls=int(ls[v])) for v in range(5)]
    rows += [pair(v, 1, 60, duration=2, es=0, ls=8) for v in range(3)]  # a second, smaller host
    p = make_instance(rows, capacity=[1, 1], max_visitors=[5, 2], budget=[10**9], visitor_part=np.zeros(5, int),
                      n_visitors=5)
    monkeypatch.setattr(mip, "schedule_pairs", partial(schedule_pairs, exact_time_limit=1e-9))
    core = build_core(p)
    optimum = core.value(np.array(brute_force(p)[1], dtype=np.int64))
    every = np.sort(core.cand[p.h[core.cand] == 0])
    _, failed, unproven = mip.schedule_pairs(p, every)
    assert 0 in unproven.tolist()  # the check timed out
    assert not [c for c in scheduling_cuts(core, every, failed, core.cand, set(), unproven=unproven)
                if c.kind == "no-good"]
    r = solve_restricted_mip(core, core.cand, time_limit=None)
    assert not [c for c in r.cuts if c.kind == "no-good" and (p.h[c.pairs] == 0).any()]
    assert r.bound is not None and r.bound >= optimum
    assert r.objective is None or r.objective <= optimum


def test_proven_unschedulable_stays_still_get_their_no_good_cut():
    """The valid cut is kept: three 3-day stays that must start on day 0 or 1 at one place."""
    rows = [pair(v, 0, 100, duration=3, es=0, ls=1) for v in range(3)]
    p = make_instance(rows, capacity=[1], max_visitors=[3], budget=[10**9], visitor_part=np.zeros(3, int),
                      n_visitors=3)
    core = build_core(p)
    every = np.sort(core.cand)
    _, failed, unproven = schedule_pairs(p, every)
    assert failed.tolist() == [0] and len(unproven) == 0
    r = solve_restricted_mip(core, core.cand, time_limit=None)
    assert r.status == "optimal" and r.objective == r.bound == 100  # only one of the three fits
