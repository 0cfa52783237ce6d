"""Cuts on the same-day capacity of hosts, valid for every feasible round: the cut pool of branch-and-price.

A host takes at most ``capacity`` physical visitors on one day. Three kinds of linear cuts
follow from it, each over *all* the physical pairs of one host (so a cut holds at every
node of the search, whatever is forced or forbidden there):

``window``
    energetic reasoning: every stay ``j`` spends at least ``m_j(a, b)`` working days in a
    window ``[a, b]`` wherever it starts (:func:`~matchmaker.solve.schedule.min_overlap`),
    so ``sum_j m_j(a, b) x_j <= capacity (b - a + 1)``;
``count``
    the same window counted: at most ``floor(capacity (b - a + 1) / t)`` of the stays with
    ``m_j(a, b) >= t`` fit in it (the rounding that the window cut misses);
``schedule``
    a set ``S`` of stays of which at most ``K`` can be scheduled together, ``K`` proven by
    an exact model (CP-SAT, :func:`max_schedulable`): ``sum_{j in S} x_j <= K``. Only a
    proven ``K`` makes a cut; a model that runs out of its (deterministic) limit makes none.

:func:`separate` finds the cuts that a fractional solution of the master breaks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from ortools.sat.python import cp_model

from matchmaker.solve.core import Core
from matchmaker.solve.effort import units
from matchmaker.solve.problem import SolverInstance
from matchmaker.solve.schedule import energy_windows, min_overlap

#: Deterministic time (CP-SAT's own unit, about seconds) of one :func:`max_schedulable` model.
SCHEDULE_MODEL_LIMIT = 1.0
#: Most stays a ``schedule`` cut is lifted with (the best-scoring other stays of the host).
LIFT_TRIES = 25


@dataclass(frozen=True)
class CutRow:
    """``sum(coef * x[pairs]) <= rhs`` over pair indices, locked pairs included."""

    pairs: np.ndarray
    coef: np.ndarray
    rhs: int
    kind: str
    host: int


class CutPool:
    """The cuts found so far, by key (a cut is found once and kept for every node), and the
    work spent finding them (``work``: CP-SAT's deterministic time, in work units)."""

    def __init__(self) -> None:
        self.rows: dict[tuple, CutRow] = {}
        self.work = 0.0

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, key: tuple) -> bool:
        return key in self.rows

    def add(self, key: tuple, row: CutRow) -> bool:
        """Keep ``row`` under ``key`` unless the key is known; was it new?"""
        if key in self.rows:
            return False
        self.rows[key] = row
        return True

    def counts(self) -> dict[str, int]:
        """Cuts of each kind."""
        out: dict[str, int] = {}
        for row in self.rows.values():
            out[row.kind] = out.get(row.kind, 0) + 1
        return out


def host_stays(p: SolverInstance, host: int) -> np.ndarray:
    """All physical pairs of ``host`` (pair indices, sorted)."""
    return np.flatnonzero((p.h == host) & p.physical)


def window_row(p: SolverInstance, host: int, a: int, b: int) -> tuple[tuple, CutRow] | None:
    """The ``window`` cut of ``host`` on working days ``[a, b]`` (None when no stay must use it)."""
    j = host_stays(p, host)
    m = min_overlap(p.es[j], p.ls[j], p.duration[j], a, b).astype(np.int64)
    keep = m > 0
    if not keep.any():
        return None
    row = CutRow(j[keep], m[keep], int(p.capacity[host]) * (b - a + 1), "window", int(host))
    return ("window", int(host), int(a), int(b)), row


def max_schedulable(duration: ArrayLike, es: ArrayLike, ls: ArrayLike, capacity: int,
                    limit: float = SCHEDULE_MODEL_LIMIT) -> int | None:
    """Most of these stays that fit together with at most ``capacity`` on a day, or None
    when CP-SAT (one worker, ``limit`` deterministic time) did not prove it."""
    return _max_schedulable(duration, es, ls, capacity, limit)[0]


def _max_schedulable(duration: ArrayLike, es: ArrayLike, ls: ArrayLike, capacity: int, limit: float
                     ) -> tuple[int | None, float]:
    """:func:`max_schedulable` and the deterministic time CP-SAT spent."""
    duration, es, ls = (np.asarray(a, dtype=np.int64) for a in (duration, es, ls))
    n = len(duration)
    if n <= capacity:
        return n, 0.0
    m = cp_model.CpModel()
    present = [m.NewBoolVar(f"x{i}") for i in range(n)]
    intervals = [m.NewOptionalFixedSizeIntervalVar(m.NewIntVar(int(es[i]), int(ls[i]), f"s{i}"), int(duration[i]),
                                                   present[i], f"i{i}") for i in range(n)]
    if capacity == 1:
        m.AddNoOverlap(intervals)
    else:
        m.AddCumulative(intervals, [1] * n, int(capacity))
    m.Maximize(sum(present))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = float(limit)
    status = solver.Solve(m)
    spent = float(solver.ResponseProto().deterministic_time)
    if status != cp_model.OPTIMAL:
        return None, spent
    return int(round(solver.ObjectiveValue())), spent


def _support(core: Core, xbar: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per host: the physical pairs with a positive value (locks at 1) and their values."""
    p, c = core.problem, core.cand
    sup = np.flatnonzero((xbar > 1e-9) & p.physical[c])
    lk = core.locked[p.physical[core.locked]]
    pairs = np.concatenate([c[sup], lk])
    values = np.concatenate([xbar[sup], np.ones(len(lk))])
    out = {}
    order = np.argsort(p.h[pairs], kind="stable")
    hs = p.h[pairs][order]
    for host in np.unique(hs).tolist():
        at = order[np.searchsorted(hs, host):np.searchsorted(hs, host, side="right")]
        out[host] = (pairs[at], values[at])
    return out


def _energetic(p: SolverInstance, host: int, pairs: np.ndarray, values: np.ndarray, most: int,
               tol: float) -> list[tuple[tuple, CutRow]]:
    """The ``window`` and ``count`` cuts of ``host`` that ``values`` break most."""
    j = host_stays(p, host)
    x = np.zeros(len(j))
    x[np.searchsorted(j, pairs)] = values
    act = x > 1e-9
    a, b, _ = energy_windows(p.es[j[act]], p.ls[j[act]], p.duration[j[act]])
    m = min_overlap(p.es[j][:, None], p.ls[j][:, None], p.duration[j][:, None], a[None, :], b[None, :])
    room = int(p.capacity[host]) * (b - a + 1)
    found = []  # (violation per unit, key, row)
    for w in range(len(a)):
        mw = m[:, w]
        over = float((mw * x).sum()) - room[w]
        if over > tol:
            keep = mw > 0
            found.append((over / max(1, int(mw.max())), ("window", host, int(a[w]), int(b[w])),
                          CutRow(j[keep], mw[keep].astype(np.int64), int(room[w]), "window", host)))
        for t in np.unique(mw[act & (mw > 0)]).tolist():
            big = mw >= t
            k = int(room[w] // t)
            if big.sum() > k and float(x[big].sum()) - k > tol:
                found.append((float(x[big].sum()) - k, ("count", host, int(a[w]), int(b[w]), int(t)),
                              CutRow(j[big], np.ones(int(big.sum()), np.int64), k, "count", host)))
    found.sort(key=lambda f: (-f[0], f[1]))
    return [(key, row) for _, key, row in found[:most]]


def _schedule_cut(p: SolverInstance, host: int, pairs: np.ndarray, values: np.ndarray, tol: float,
                  pool: CutPool) -> tuple[tuple, CutRow] | None:
    """A ``schedule`` cut over the host's used stays when they hold more than fit, lifted
    with other stays that keep the same most (best score first)."""
    if float(values.sum()) <= min(len(pairs), int(p.capacity[host])) + tol:
        return None
    cap = int(p.capacity[host])

    def most(s: np.ndarray) -> int | None:
        k, spent = _max_schedulable(p.duration[s], p.es[s], p.ls[s], cap, SCHEDULE_MODEL_LIMIT)
        pool.work += units("cpsat_dtime", spent)
        return k

    k = most(pairs)
    if k is None:
        return None
    k = min(k, int(p.max_visitors[host]))
    if float(values.sum()) <= k + tol:
        return None
    s = np.sort(pairs)
    others = np.setdiff1d(host_stays(p, host), s)
    for o in others[np.lexsort((others, -p.score[others]))][:LIFT_TRIES].tolist():
        t = np.append(s, o)
        if most(t) == k:
            s = np.sort(t)
    return ("schedule", host, tuple(s.tolist())), CutRow(s, np.ones(len(s), np.int64), k, "schedule", host)


def separate(core: Core, xbar: np.ndarray, pool: CutPool, most_per_host: int = 10, tol: float = 1e-6) -> int:
    """Add to ``pool`` the cuts that ``xbar`` (a value per ``core.cand``) breaks; return how many.

    Hosts are visited in order and cuts sorted by violation then key, so the same
    ``xbar`` always gives the same cuts.
    """
    p = core.problem
    added = 0
    for host, (pairs, values) in _support(core, xbar).items():
        if float(values.sum()) <= 1 + tol and int(p.capacity[host]) >= 1 and len(pairs) <= 1:
            continue
        for key, row in _energetic(p, host, pairs, values, most_per_host, tol):
            added += pool.add(key, row)
        cut = _schedule_cut(p, host, pairs, values, tol, pool)
        if cut is not None:
            added += pool.add(*cut)
    return added
