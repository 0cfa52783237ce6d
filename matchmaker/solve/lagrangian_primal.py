"""Feasible solutions from the Lagrangian relaxation's knapsack choices.

Knapsack choices keep the budgets; where a host gets too many visitors or its stays
cannot be scheduled, the extra pairs (least valuable first) are refused and the free
visitors and budgets are knapsacked again (:class:`PartialSolution`);
:func:`matchmaker.solve.heuristics.complete` fills what is left
(:func:`primal_solution`); :func:`improve` re-chooses one partnership at a time by an
exact knapsack.
"""

from __future__ import annotations

import time

import numpy as np

from matchmaker.solve.heuristics import complete
from matchmaker.solve.lagrangian_relaxation import KnapsackRelaxation
from matchmaker.solve.schedule import schedule_stays


class PartialSolution:
    """A feasible partial solution grown pair by pair: places, budgets and schedules left."""

    def __init__(self, rel: KnapsackRelaxation, fixed: np.ndarray) -> None:
        p = rel.core.problem
        self.rel, self.p = rel, p
        fixed = np.asarray(fixed, dtype=np.int64)
        self.room = p.max_visitors - np.bincount(p.h[fixed], minlength=p.n_hosts).astype(np.int64)
        self.budget = p.budget - np.bincount(p.part[fixed], weights=p.cost[fixed],
                                             minlength=p.n_partnerships).astype(np.int64)
        self.programme = np.inf if p.programme_budget is None else p.programme_budget - int(p.cost[fixed].sum())
        self.vfree = np.ones(p.n_visitors, dtype=bool)
        self.vfree[p.v[fixed]] = False
        self.stays: dict[int, list[int]] = {}
        for j in fixed[p.physical[fixed] & rel.risky[p.h[fixed]]].tolist():
            self.stays.setdefault(int(p.h[j]), []).append(j)
        self.added: list[int] = []

    def try_add(self, j: int) -> bool:
        """Add pair ``j`` if it keeps every rule (its stays scheduled at risky hosts); did it?"""
        p, h, q = self.p, int(self.p.h[j]), int(self.p.part[j])
        if not self.vfree[p.v[j]] or self.room[h] <= 0 or p.cost[j] > min(self.budget[q], self.programme):
            return False
        if p.physical[j] and self.rel.risky[h]:
            js = np.array(self.stays.get(h, []) + [j], dtype=np.int64)
            starts, _ = schedule_stays(p.duration[js], p.es[js], p.ls[js], int(p.capacity[h]), exact_time_limit=0.2)
            if starts is None:
                return False
            self.stays.setdefault(h, []).append(j)
        self.room[h] -= 1
        self.budget[q] -= p.cost[j]
        self.programme -= p.cost[j]
        self.vfree[p.v[j]] = False
        self.added.append(j)
        return True

    def fill(self, values: np.ndarray, use: np.ndarray, x: np.ndarray | None = None, rounds: int = 30) -> None:
        """Add knapsack choices ``x`` (cand positions; solved here when ``None``), the most
        valuable first, refuse those that do not fit, and knapsack the free visitors again
        until all fit."""
        rel, p, c = self.rel, self.p, self.rel.core.cand
        refused = np.zeros(len(c), dtype=bool)
        for _ in range(rounds):
            if x is None:
                ok = (use & ~refused & self.vfree[p.v[c]] & (self.room[p.h[c]] > 0)
                      & (p.cost[c] <= np.minimum(self.budget[p.part[c]], self.programme)))
                x = rel.knapsacks(values, ok, np.maximum(self.budget, 0))[1]
            if len(x) == 0:
                return
            x = x[np.lexsort((x, -values[x]))]
            fits = np.array([self.try_add(int(j)) for j in c[x]], dtype=bool)
            if fits.all():
                return
            refused[x[~fits]] = True
            x = None


def primal_solution(rel: KnapsackRelaxation, x: np.ndarray, values: np.ndarray, dive: bool = False) -> np.ndarray:
    """A feasible solution (pair indices) from knapsack choices ``x`` (module docstring).

    With ``dive`` the pairs ``x`` are taken first and the rest is knapsacked afresh.
    """
    core = rel.core
    part = PartialSolution(rel, core.locked)
    use = np.ones(len(core.cand), dtype=bool)
    if dive:
        for j in core.cand[x[np.lexsort((x, -core.w[core.cand[x]]))]].tolist():
            part.try_add(j)
        x = None
    part.fill(values, use, x)
    return complete(core, np.concatenate([core.locked, np.asarray(part.added, dtype=np.int64)]))


def improve(rel: KnapsackRelaxation, pairs: np.ndarray, deadline: float | None = None, passes: int = 3
            ) -> tuple[np.ndarray, int]:
    """Local search: re-choose one partnership's pairs at a time by an exact knapsack.

    The other partnerships' pairs stay fixed; each change that raises the objective is
    kept. ``passes`` is the deterministic limit; ``deadline`` (``time.monotonic()``) a
    safety net. Returns the solution and the number of partnerships re-chosen (each a
    knapsack and a :func:`~matchmaker.solve.heuristics.complete` over the candidates: the
    work done).
    """
    core, p, c = rel.core, rel.core.problem, rel.core.cand
    pairs = np.asarray(pairs, dtype=np.int64)
    value = core.value(pairs)
    plain = rel.den * core.w[c]
    calls = 0
    for _ in range(passes):
        better = False
        for q in range(p.n_partnerships):
            if deadline is not None and time.monotonic() >= deadline:
                return pairs, calls
            calls += 1
            others = pairs[(p.part[pairs] != q) | p.locked[pairs]]
            part = PartialSolution(rel, others)
            part.fill(plain, p.part[c] == q)
            new = complete(core, np.concatenate([others, np.asarray(part.added, dtype=np.int64)]))
            z = core.value(new)
            if z > value:
                pairs, value, better = new, z, True
        if not better:
            break
    return pairs, calls
