"""Start dates of the physical stays at each host under its same-day capacity.

On the working-day axis (see :mod:`matchmaker.solve.problem`) a stay of ``d`` days started on
``s`` occupies days ``s .. s+d-1``; at most ``capacity`` stays may share a day. Finding
start dates is scheduling on ``capacity`` identical machines with release dates and
deadlines: NP-hard in general, tiny in practice (a host has a handful of stays). We try:

1. nothing to do when the stays' possible spans never overlap more than ``capacity``
   deep (any start works: the earliest is taken);
2. list scheduling, stays in a few priority orders, each placed at its earliest start
   where a place is free;
3. an exact CP-SAT interval model (``AddCumulative``) when the greedy orders fail.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from ortools.sat.python import cp_model

from matchmaker.solve.problem import SolverInstance

#: Exact per-host models larger than this are not attempted (the host is reported unschedulable).
EXACT_MAX_STAYS = 80


def max_coverage(group: ArrayLike, lo: ArrayLike, hi: ArrayLike, n_groups: int) -> np.ndarray:
    """Deepest overlap of the closed intervals ``[lo, hi]`` within each group.

    Vectorised sweep: +1 at ``lo``, -1 after ``hi``, cumulative sum in (group, time) order.

    Returns
    -------
    ndarray of int64, length ``n_groups`` (0 for empty groups).
    """
    group = np.asarray(group, dtype=np.int64)
    out = np.zeros(n_groups, dtype=np.int64)
    if len(group) == 0:
        return out
    g = np.concatenate([group, group])
    t = np.concatenate([np.asarray(lo, np.int64), np.asarray(hi, np.int64) + 1])
    delta = np.concatenate([np.ones(len(group), np.int64), -np.ones(len(group), np.int64)])
    order = np.lexsort((delta, t, g))  # ends (-1) before starts (+1) at the same time
    depth = np.cumsum(delta[order])  # each group's events sum to 0, so no reset is needed
    gs = g[order]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    out[gs[starts]] = np.maximum(np.maximum.reduceat(depth, starts), 0)
    return out


def min_overlap(es: ArrayLike, ls: ArrayLike, d: ArrayLike, a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Fewest days stays (``es, ls, d``) spend in window ``[a, b]`` wherever they start.

    Broadcasts: stays along one axis, windows along another.
    """
    def ov(s):
        return np.maximum(0, np.minimum(s + d - 1, b) - np.maximum(s, a) + 1)

    return np.minimum(ov(es), ov(ls))


def energy_windows(es: np.ndarray, ls: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The windows of working days worth checking for one host's stays, and their loads.

    Energetic reasoning: a window ``[a, b]`` can only be overloaded if it starts where a
    stay can start (``a`` in ``es``) and ends where a stay can end (``b`` in ``es + d - 1``
    or ``ls + d - 1``); every stay spends at least :func:`min_overlap` days in it.

    Parameters
    ----------
    es, ls, d : ndarray of int
        Earliest start, latest start and length of each stay (working-day indices).

    Returns
    -------
    a, b : ndarray of int
        First and last day of each window (``a <= b``), ordered by ``a`` then ``b``.
    load : ndarray of int
        Stays x windows: the fewest days each stay spends in each window.
    """
    starts = np.unique(es)
    ends = np.unique(np.concatenate([ls + d - 1, es + d - 1]))
    a, b = np.meshgrid(starts, ends, indexing="ij")
    ok = a <= b
    a, b = a[ok], b[ok]
    return a, b, min_overlap(es[:, None], ls[:, None], d[:, None], a[None, :], b[None, :])


def _greedy(duration, es, ls, capacity, order) -> np.ndarray | None:
    t0 = int(es.min())
    horizon = int((ls + duration).max()) - t0 + 1
    occ = np.zeros(horizon + 1, dtype=np.int64)
    starts = np.empty(len(duration), dtype=np.int64)
    for j in order:
        d, lo, hi = int(duration[j]), int(es[j]) - t0, int(ls[j]) - t0
        full = np.concatenate([[0], np.cumsum(occ >= capacity)])
        cand = np.arange(lo, hi + 1)
        ok = full[cand + d] - full[cand] == 0
        if not ok.any():
            return None
        s = int(cand[np.argmax(ok)])
        occ[s:s + d] += 1
        starts[j] = s + t0
    return starts


def _exact(duration, es, ls, capacity, time_limit: float) -> tuple[np.ndarray | None, bool]:
    m = cp_model.CpModel()
    starts, intervals = [], []
    for d, lo, hi in zip(duration.tolist(), es.tolist(), ls.tolist()):
        s = m.NewIntVar(lo, hi, "")
        starts.append(s)
        intervals.append(m.NewFixedSizeIntervalVar(s, d, ""))
    if capacity == 1:
        m.AddNoOverlap(intervals)
    else:
        m.AddCumulative(intervals, [1] * len(intervals), capacity)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    # deterministic limit; the wall clock only as a (generous) safety net
    solver.parameters.max_deterministic_time = time_limit
    solver.parameters.max_time_in_seconds = 4 * time_limit
    st = solver.Solve(m)
    if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return np.array([solver.Value(s) for s in starts], dtype=np.int64), True
    if st != cp_model.INFEASIBLE and float(solver.ResponseProto().deterministic_time) < 0.999 * time_limit:
        global _clock_stops
        _clock_stops += 1  # the wall clock, not the deterministic time, ended the search
    return None, st == cp_model.INFEASIBLE


#: How many exact scheduling searches the wall clock (not their deterministic time)
#: ended, in this process; the solver compares it before and after a solve.
_clock_stops = 0


def clock_stops() -> int:
    """Exact scheduling searches ended by the wall-clock safety net so far (this process)."""
    return _clock_stops


def schedule_stays(duration: ArrayLike, es: ArrayLike, ls: ArrayLike, capacity: int, exact_time_limit: float = 5.0
                   ) -> tuple[np.ndarray | None, bool]:
    """Start days for stays at one host, or ``None`` when none were found.

    Parameters
    ----------
    duration, es, ls : array_like of int
        Length, earliest and latest start of each stay (working-day indices).
    capacity : int
        Stays allowed on the same day (>= 1).
    exact_time_limit : float
        CP-SAT deterministic time (about seconds) for the exact model when the greedy
        orders fail; a deterministic limit (the wall clock stops it at four times that).

    Returns
    -------
    starts : ndarray of int64 or None
    proven : bool
        ``True`` when the answer is certain: a schedule, or a proof that none exists.
        ``False`` when the exact model ran out of time or the host has more than
        :data:`EXACT_MAX_STAYS` stays.
    """
    d = np.asarray(duration, np.int64)
    es = np.asarray(es, np.int64)
    ls = np.asarray(ls, np.int64)
    if capacity < 1:
        raise ValueError(f"capacity must be >= 1, got {capacity}")
    if len(d) == 0:
        return np.zeros(0, np.int64), True
    if len(d) <= capacity or max_coverage(np.zeros(len(d)), es, ls + d - 1, 1)[0] <= capacity:
        return es.copy(), True
    idx = np.arange(len(d))
    for key in ((ls, es, -d), (ls + d, es), (es, ls), (ls - es, ls)):
        s = _greedy(d, es, ls, capacity, np.lexsort((idx,) + key[::-1]))
        if s is not None:
            return s, True
    if len(d) > EXACT_MAX_STAYS:
        return None, False
    return _exact(d, es, ls, capacity, exact_time_limit)


def conflicting_hosts(problem: SolverInstance, idx: ArrayLike) -> np.ndarray:
    """Hosts where the physical stays of pairs ``idx`` might not all fit.

    A host is safe when it has no more physical pairs than its capacity, or when the
    possible spans ``[es, ls + duration - 1]`` never overlap more than capacity deep.
    """
    p = problem
    idx = np.asarray(idx, dtype=np.int64)
    idx = idx[p.physical[idx]]
    deep = max_coverage(p.h[idx], p.es[idx], p.ls[idx] + p.duration[idx] - 1, p.n_hosts)
    return np.flatnonzero(deep > p.capacity)


def schedule_pairs(problem: SolverInstance, idx: ArrayLike, exact_time_limit: float = 5.0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start days for the chosen pairs ``idx`` (all hosts at once).

    Returns
    -------
    starts : ndarray of int64
        Start index of each pair of ``idx`` (``es`` for virtual pairs and unconstrained
        hosts); undefined (``-1``) at hosts that failed.
    failed : ndarray of int
        Hosts whose stays could not be scheduled.
    unproven : ndarray of int
        The failed hosts for which infeasibility is not proven (exact model timed out).
    """
    p = problem
    idx = np.asarray(idx, dtype=np.int64)
    starts = p.es[idx].astype(np.int64)
    failed, unproven = [], []
    for host in conflicting_hosts(p, idx):
        sel = np.flatnonzero((p.h[idx] == host) & p.physical[idx])
        j = idx[sel]
        s, proven = schedule_stays(p.duration[j], p.es[j], p.ls[j], int(p.capacity[host]), exact_time_limit)
        if s is None:
            failed.append(host)
            if not proven:
                unproven.append(host)
            starts[sel] = -1
        else:
            starts[sel] = s
    return starts, np.array(failed, dtype=np.int64), np.array(unproven, dtype=np.int64)
