"""Feasible solutions from relaxed ones: repair, then re-fill greedily.

A relaxed solution (from the min-cost flow or the LP) may break the budgets or a host's
same-day capacity. :func:`complete` makes it feasible and then adds pairs while they fit:

1. keep each visitor's first pair and each host's first ``room`` pairs (by weight);
2. budgets: an over-budget partnership drops its pairs with the lowest score per euro
   until it fits (then the programme budget, the same way);
3. capacity: a host whose physical stays cannot be scheduled drops its lowest-weight
   stay until they can (:func:`matchmaker.solve.schedule.schedule_stays`);
4. re-fill: free visitors take, in order of a priority key, their best pair whose host
   has a place, whose lump sum fits the budget and whose stay can be scheduled; the
   partnerships short of their fairness target go first.

Everything but the per-host scheduling is vectorised; the loops run over at most one
candidate per visitor per pass.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from matchmaker.solve.core import Core
from matchmaker.solve.schedule import conflicting_hosts, schedule_stays


class _State:
    def __init__(self, core: Core):
        p = core.problem
        self.core, self.p = core, p
        self.chosen = np.zeros(p.n_pairs, dtype=bool)
        self.vused = np.zeros(p.n_visitors, dtype=bool)
        self.hcount = np.zeros(p.n_hosts, dtype=np.int64)
        self.spend = np.zeros(p.n_partnerships, dtype=np.int64)
        self.prog = 0
        self.nfair = np.zeros(p.n_fair_groups, dtype=np.int64)
        allphys = np.concatenate([core.cand, core.locked])
        self.risky = np.zeros(p.n_hosts, dtype=bool)
        self.risky[conflicting_hosts(p, allphys)] = True
        self.stays: dict[int, list[int]] = {}
        for j in core.locked:
            self.add(int(j))

    def add(self, j: int) -> None:
        p = self.p
        self.chosen[j] = True
        self.vused[p.v[j]] = True
        self.hcount[p.h[j]] += 1
        self.spend[p.part[j]] += p.cost[j]
        self.prog += int(p.cost[j])
        self.nfair[p.fair[j]] += 1
        if p.physical[j] and self.risky[p.h[j]]:
            self.stays.setdefault(int(p.h[j]), []).append(j)

    def remove(self, j: int) -> None:
        p = self.p
        self.chosen[j] = False
        self.vused[p.v[j]] = False
        self.hcount[p.h[j]] -= 1
        self.spend[p.part[j]] -= p.cost[j]
        self.prog -= int(p.cost[j])
        self.nfair[p.fair[j]] -= 1
        if p.physical[j] and self.risky[p.h[j]]:
            self.stays[int(p.h[j])].remove(j)

    def fits_schedule(self, host: int, extra: list[int]) -> bool:
        p = self.p
        j = np.array(self.stays.get(host, []) + extra, dtype=np.int64)
        s, _ = schedule_stays(p.duration[j], p.es[j], p.ls[j], int(p.capacity[host]), exact_time_limit=1.0)
        return s is not None

    def budget_left(self) -> tuple[np.ndarray, float]:
        prog = np.inf if self.p.programme_budget is None else self.p.programme_budget - self.prog
        return self.p.budget - self.spend, prog


def _repair(st: _State, pairs: np.ndarray) -> None:
    p, w = st.p, st.core.w
    pairs = np.asarray(pairs, dtype=np.int64)
    pairs = pairs[~p.locked[pairs]]
    pairs = pairs[np.lexsort((pairs, -w[pairs]))]
    # 1. one pair per visitor, room per host (highest weight first)
    for j in pairs.tolist():
        if not st.vused[p.v[j]] and st.hcount[p.h[j]] < p.max_visitors[p.h[j]]:
            st.add(j)
    # 2. budgets: drop the lowest score per euro first
    ratio = w / np.maximum(p.cost, 1)
    for q in np.flatnonzero(st.spend > p.budget):
        mine = np.flatnonzero(st.chosen & (p.part == q) & ~p.locked & (p.cost > 0))
        for j in mine[np.lexsort((mine, ratio[mine]))].tolist():
            if st.spend[q] <= p.budget[q]:
                break
            st.remove(j)
    if p.programme_budget is not None and st.prog > p.programme_budget:
        mine = np.flatnonzero(st.chosen & ~p.locked & (p.cost > 0))
        for j in mine[np.lexsort((mine, ratio[mine]))].tolist():
            if st.prog <= p.programme_budget:
                break
            st.remove(j)
    # 3. capacity: drop the lowest-weight stay until the host's stays can be scheduled
    for host in sorted(st.stays):
        while not st.fits_schedule(host, []):
            free = [j for j in st.stays[host] if not p.locked[j]]
            st.remove(min(free, key=lambda j: (w[j], j)))


def _refill(st: _State, key: np.ndarray, only_parts=None) -> None:
    core, p = st.core, st.p
    cand = core.cand
    blocked = np.zeros(len(cand), dtype=bool)
    allowed = np.ones(len(cand), dtype=bool) if only_parts is None else np.isin(p.fair[cand], only_parts)
    if core.penalty == 0 or only_parts is None:
        allowed &= core.w[cand] > 0
    while True:
        left, prog = st.budget_left()
        ok = (allowed & ~blocked & ~st.vused[p.v[cand]] & (st.hcount[p.h[cand]] < p.max_visitors[p.h[cand]])
              & (p.cost[cand] <= left[p.part[cand]]) & (p.cost[cand] <= prog))
        if only_parts is not None:
            ok &= st.nfair[p.fair[cand]] < core.target[p.fair[cand]]
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            return
        # each free visitor's best remaining pair (cand is sorted by visitor)
        o = np.lexsort((idx, -key[idx], p.v[cand[idx]]))
        idx = idx[o]
        vv = p.v[cand[idx]]
        idx = idx[np.r_[True, vv[1:] != vv[:-1]]]
        idx = idx[np.lexsort((idx, -key[idx]))]
        changed = False
        for i in idx.tolist():
            j = int(cand[i])
            q, host = p.part[j], int(p.h[j])
            left, prog = st.budget_left()
            if st.vused[p.v[j]] or st.hcount[host] >= p.max_visitors[host] or p.cost[j] > left[q] or p.cost[j] > prog:
                continue
            if only_parts is not None and st.nfair[p.fair[j]] >= core.target[p.fair[j]]:
                continue
            if p.physical[j] and st.risky[host] and not st.fits_schedule(host, [j]):
                blocked[i] = True
                changed = True
                continue
            st.add(j)
            changed = True
        if not changed:
            return


def complete(core: Core, pairs: ArrayLike, key: ArrayLike | None = None) -> np.ndarray:
    """A feasible solution from any set of pairs: repair, then re-fill.

    Parameters
    ----------
    core : Core
    pairs : array of pair indices
        A relaxed solution (may break any rule but the pairs must be candidates or locks).
    key : array, optional
        Priority of each candidate pair (``core.cand`` order) when re-filling; default
        the pair's weight.

    Returns
    -------
    ndarray of int64
        Sorted pair indices of a feasible solution, locks included. The start dates are
        found afterwards by :func:`matchmaker.solve.schedule.schedule_pairs` (they exist: every
        host with possible overlaps was scheduled here).
    """
    st = _State(core)
    _repair(st, pairs)
    key = core.w[core.cand].astype(float) if key is None else np.asarray(key, dtype=float)
    if core.penalty > 0:
        short = np.flatnonzero(st.nfair < core.target)
        if len(short):
            _refill(st, key, only_parts=short)
    _refill(st, key)
    return np.flatnonzero(st.chosen)
