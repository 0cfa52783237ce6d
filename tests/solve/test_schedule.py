"""Start dates under the same-day capacity (matchmaker.solve.schedule) against brute force.

Every schedule found keeps each stay in its start range and at most ``capacity`` stays on
any day; a set of stays is reported unschedulable (with proof) exactly when brute force
(tests/solve/solver_bruteforce.py) finds no schedule; the energy windows never ask a stay
for more days than it spends in them.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from solver_bruteforce import schedulable
from solver_strategies import fixed, pair, solver_instances, stays

from matchmaker.solve.problem import make_instance
from matchmaker.solve.schedule import (
    conflicting_hosts,
    energy_windows,
    max_coverage,
    min_overlap,
    schedule_pairs,
    schedule_stays,
)


def deepest_day(starts, durations) -> int:
    days = [s + k for s, d in zip(starts, durations) for k in range(d)]
    return max(np.bincount(days)) if days else 0


@fixed(300)
@given(stays())
def test_schedule_respects_capacity_and_start_ranges_or_proves_there_is_none(case):
    d, es, ls, capacity = case
    starts, proven = schedule_stays(d, es, ls, capacity)
    assert proven  # small sets: the exact model always decides
    if starts is None:
        assert not schedulable(d, es, ls, capacity)
        return
    assert schedulable(d, es, ls, capacity)
    assert all(lo <= s <= hi for s, lo, hi in zip(starts.tolist(), es, ls))
    assert deepest_day(starts.tolist(), d) <= capacity


def test_an_unschedulable_set_is_detected():
    # three stays of 3 days that must all start on day 0..1 at an individual host
    starts, proven = schedule_stays([3, 3, 3], [0, 0, 0], [1, 1, 1], 1)
    assert starts is None and proven
    # the same at a host taking three at once fits
    starts, proven = schedule_stays([3, 3, 3], [0, 0, 0], [1, 1, 1], 3)
    assert starts is not None and proven


@fixed(150)
@given(solver_instances(options=False))
def test_schedule_pairs_fails_exactly_the_hosts_brute_force_cannot_schedule(p):
    idx = np.arange(p.n_pairs)
    starts, failed, unproven = schedule_pairs(p, idx)
    assert len(unproven) == 0
    for host in range(p.n_hosts):
        mine = np.flatnonzero((p.h == host) & p.physical)
        ok = schedulable(p.duration[mine].tolist(), p.es[mine].tolist(), p.ls[mine].tolist(), int(p.capacity[host]))
        assert (host in failed.tolist()) == (not ok)
        if ok and len(mine):
            s = starts[mine]
            assert ((s >= p.es[mine]) & (s <= p.ls[mine])).all()
            assert deepest_day(s.tolist(), p.duration[mine].tolist()) <= p.capacity[host]
    # hosts left out of the check are those whose stays can never overlap beyond capacity
    assert set(failed.tolist()) <= set(conflicting_hosts(p, idx).tolist())


@fixed(150)
@given(stays(max_stays=4))
def test_energy_windows_never_overstate_a_stays_load(case):
    d, es, ls, _ = case
    if not d:
        return
    d, es, ls = np.array(d), np.array(es), np.array(ls)
    a, b, load = energy_windows(es, ls, d)
    assert load.shape == (len(d), len(a)) and (a <= b).all()
    for i in range(len(d)):
        for s in range(es[i], ls[i] + 1):  # wherever the stay starts, it spends >= load days in the window
            days = np.maximum(0, np.minimum(s + d[i] - 1, b) - np.maximum(s, a) + 1)
            assert (days >= load[i]).all()
    assert (load == min_overlap(es[:, None], ls[:, None], d[:, None], a[None, :], b[None, :])).all()


def test_max_coverage_is_the_deepest_overlap_per_group():
    deep = max_coverage([0, 0, 0, 1], [0, 2, 5, 0], [3, 4, 6, 9], 3)
    assert deep.tolist() == [2, 1, 0]


def test_virtual_pairs_and_roomy_hosts_keep_their_earliest_start():
    p = make_instance([pair(0, 0, 100, es=2, ls=6), pair(1, 0, 100, es=3, ls=6, physical=False)],
                      capacity=[2], max_visitors=[2], budget=[0], n_visitors=2)
    starts, failed, _ = schedule_pairs(p, [0, 1])
    assert starts.tolist() == [2, 3] and len(failed) == 0
