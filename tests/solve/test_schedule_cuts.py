"""The cut pool of branch-and-price (matchmaker.solve.schedule_cuts, cut_relaxation).

Every cut must hold for every feasible solution of the round, whatever a node forces or
forbids: checked on tiny rounds by enumerating all their feasible solutions
(tests/solve/solver_bruteforce.py). :func:`max_schedulable` is checked against a brute-force
count, and only a proven count makes a ``schedule`` cut (issue 12: a host of more than 80
stays, a check that runs out of its limit).
"""

from __future__ import annotations

import itertools

import numpy as np
from branch_price_rounds import tiny_round
from hypothesis import given
from solver_bruteforce import feasible_solutions, schedulable
from solver_strategies import fixed, pair, solver_instances, stays

import matchmaker.solve.branch_price as branch_price_module
import matchmaker.solve.schedule_cuts as schedule_cuts_module
from matchmaker.solve.branch_price import branch_and_price
from matchmaker.solve.core import build_core, lock_conflicts
from matchmaker.solve.cut_relaxation import CutRelaxation
from matchmaker.solve.problem import make_instance
from matchmaker.solve.schedule import energy_windows
from matchmaker.solve.schedule_cuts import CutPool, CutRow, max_schedulable, separate, window_row


def brute_force_most(d, es, ls, capacity) -> int:
    """The largest number of the stays that :func:`schedulable` says fit together."""
    n = len(d)
    for k in range(n, 0, -1):
        for s in itertools.combinations(range(n), k):
            if schedulable([d[i] for i in s], [es[i] for i in s], [ls[i] for i in s], capacity):
                return k
    return 0


@fixed(150)
@given(stays(max_stays=6))
def test_max_schedulable_equals_a_brute_force_count(case):
    d, es, ls, capacity = case
    assert max_schedulable(d, es, ls, capacity) == brute_force_most(d, es, ls, capacity)


def test_max_schedulable_proves_a_host_of_more_than_80_stays():
    """90 one-day stays, two on each of 45 days, one a day: 45 fit (issue 12's EXACT_MAX_STAYS case)."""
    es = np.repeat(np.arange(45), 2)
    assert max_schedulable(np.ones(90, dtype=np.int64), es, es, 1) == 45
    assert max_schedulable(np.ones(90, dtype=np.int64), es, es, 2) == 90


def overloaded_host_round(n_stays: int = 90):
    """One individual host with ``n_stays`` one-day stays, two on each day: half fit."""
    days = np.repeat(np.arange(n_stays // 2), 2)
    rows = [pair(v, 0, 500 + v % 7, duration=1, es=int(days[v]), ls=int(days[v])) for v in range(n_stays)]
    return make_instance(rows, capacity=[1], max_visitors=[n_stays], budget=[0])


def test_a_host_of_more_than_80_stays_gets_a_proven_schedule_cut():
    p = overloaded_host_round(90)
    core = build_core(p)
    pool = CutPool()
    separate(core, np.ones(len(core.cand)), pool)
    rows = [row for row in pool.rows.values() if row.kind == "schedule"]
    assert rows and all(row.rhs == max_schedulable(p.duration[row.pairs], p.es[row.pairs], p.ls[row.pairs], 1)
                        for row in rows)


def crowded_host_round(n_stays: int = 120):
    """One host taking three a day, with ``n_stays`` stays of 2-8 days in 75 days."""
    rng = np.random.default_rng(0)
    d, es = rng.integers(2, 9, n_stays), rng.integers(0, 60, n_stays)
    ls = es + rng.integers(0, 15, n_stays)
    rows = [pair(v, 0, 500 + v % 7, duration=int(d[v]), es=int(es[v]), ls=int(ls[v])) for v in range(n_stays)]
    return make_instance(rows, capacity=[3], max_visitors=[n_stays], budget=[0])


def test_an_unproven_count_makes_no_schedule_cut(monkeypatch):
    """The exact check runs out of its limit (almost none, on a host of 120 stays): window and
    count cuts only, no ``schedule`` cut."""
    real = schedule_cuts_module.max_schedulable
    monkeypatch.setattr(schedule_cuts_module, "SCHEDULE_MODEL_LIMIT", 1e-9)
    monkeypatch.setattr(schedule_cuts_module, "max_schedulable",
                        lambda d, es, ls, capacity, limit=1e-9: real(d, es, ls, capacity, limit=1e-9))
    p = crowded_host_round()
    assert real(p.duration, p.es, p.ls, 3, limit=1e-9) is None
    core = build_core(p)
    pool = CutPool()
    assert separate(core, np.ones(len(core.cand)), pool) > 0
    assert "schedule" not in pool.counts() and set(pool.counts()) <= {"window", "count"}


def round_cuts(p, seed: int = 0) -> list[CutRow]:
    """Cuts of the round: every window row, and what :func:`separate` finds for all pairs
    taken, for half of each, and for random values."""
    core = build_core(p)
    pool = CutPool()
    for host in range(p.n_hosts):
        j = np.flatnonzero((p.h == host) & p.physical)
        if len(j):
            a, b, _ = energy_windows(p.es[j], p.ls[j], p.duration[j])
            for row in (window_row(p, host, int(x), int(y)) for x, y in zip(a.tolist(), b.tolist())):
                if row is not None:
                    pool.add(*row)
    rng = np.random.default_rng(seed)
    n = len(core.cand)
    for xbar in (np.ones(n), np.full(n, 0.5), rng.random(n), rng.random(n)):
        separate(core, xbar, pool)
    return list(pool.rows.values())


def assert_cuts_hold(p, cuts):
    for chosen in feasible_solutions(p):
        x = np.zeros(p.n_pairs)
        x[chosen] = 1
        for row in cuts:
            assert float(row.coef @ x[row.pairs]) <= row.rhs, (row, chosen)


@fixed(150)
@given(solver_instances())
def test_every_cut_holds_for_every_feasible_solution(p):
    if lock_conflicts(p):
        return
    assert_cuts_hold(p, round_cuts(p))


def test_every_cut_of_the_pool_of_a_search_holds_for_every_feasible_solution(monkeypatch):
    """The pools that :func:`branch_and_price` built on tiny rounds (with locks): no cut
    removes a feasible solution."""
    pools = []

    class Spy(CutPool):
        def __init__(self) -> None:
            super().__init__()
            pools.append(self)

    monkeypatch.setattr(branch_price_module, "CutPool", Spy)
    checked = 0
    for seed in range(12):
        p = tiny_round(seed, 6, locks=seed % 2 == 1)
        if lock_conflicts(p):
            continue
        core = build_core(p)
        branch_and_price(core, core.locked)
        cuts = list(pools[-1].rows.values()) + round_cuts(p, seed)
        assert_cuts_hold(p, cuts)
        checked += len(cuts)
    assert checked >= 100


def test_window_row_is_none_when_no_stay_must_use_the_window():
    p = make_instance([pair(0, 0, 500, duration=2, es=0, ls=10)], capacity=[1], max_visitors=[1], budget=[0])
    assert window_row(p, 0, 3, 4) is None
    key, row = window_row(p, 0, 0, 11)
    assert key == ("window", 0, 0, 11) and row.rhs == 12 and row.coef.tolist() == [2]


def test_separate_gives_the_same_cuts_for_the_same_values():
    p = tiny_round(4, 7)
    core = build_core(p)
    xbar = np.random.default_rng(1).random(len(core.cand))
    first, second = CutPool(), CutPool()
    assert separate(core, xbar, first) == separate(core, xbar, second) > 0
    assert list(first.rows) == list(second.rows)
    assert separate(core, xbar, first) == 0  # known cuts are not added twice


def test_a_cut_prices_its_locked_pairs_into_its_right_hand_side():
    rows = [pair(0, 0, 500, duration=3, es=0, ls=0, locked=True), pair(1, 0, 400, duration=3, es=1, ls=2),
            pair(2, 0, 300, duration=3, es=1, ls=2)]
    p = make_instance(rows, capacity=[2], max_visitors=[3], budget=[0])
    core = build_core(p)
    pool = CutPool()
    pool.add(("count", 0, 0, 4, 2), CutRow(np.array([0, 1, 2]), np.ones(3, np.int64), 2, "count", 0))
    rel = CutRelaxation(core, pool)
    assert rel.keys()[-1] == ("count", 0, 0, 4, 2) and int(rel.b[-1]) == 1
    assert rel.At[:, -1].toarray().ravel().tolist() == [1, 1]
