"""The exact model on a restricted set of pairs, solved by CP-SAT with a complete hint.

One Boolean per kept pair; at most one per visitor; ``room`` per host; the budgets;
fairness shortfall variables; and, for each host where stays might overlap more than
its capacity, optional fixed-size intervals with a start variable in ``[es, ls]`` under
``AddNoOverlap`` (capacity 1) or ``AddCumulative``. Locked pairs are constants (their
intervals are always present, their start still free). The objective is that of
:func:`matchmaker.solve.problem.objective_weights`.

The hint is a complete feasible solution (every pair literal, every start and every
shortfall), because on 2 cores CP-SAT runs no first-solution workers. The search is
deterministic (``interleave_search``, limited by CP-SAT's deterministic time) for a
given seed, unless the wall-clock safety net stops it first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from ortools.sat.python import cp_model

from matchmaker.solve.core import Core
from matchmaker.solve.effort import RATES
from matchmaker.solve.problem import group_reduce
from matchmaker.solve.schedule import conflicting_hosts


@dataclass
class RestrictedResult:
    """Outcome of :func:`solve_restricted` (objective and bound include the locks)."""

    status: str  # "optimal", "feasible", "unknown" (no solution), "infeasible"
    pairs: np.ndarray | None
    starts: dict  # pair index -> start, for the pairs that had an interval
    objective: int | None
    bound: int | None
    seconds: float
    n_pairs: int
    n_intervals: int
    work: float = 0.0  # work units spent (matchmaker.solve.effort)
    clock_stopped: bool = False  # the time limit, not the work limit, ended the search


class _Progress(cp_model.CpSolverSolutionCallback):
    """Reports ``(objective, bound)``, locks included, at each improving solution."""

    def __init__(self, callback: Callable[[int, int], None], fixed: int, t0: float):
        super().__init__()
        self.callback, self.fixed, self.t0 = callback, fixed, t0

    def on_solution_callback(self) -> None:
        self.callback(int(round(self.ObjectiveValue())) + self.fixed,
                      int(np.floor(self.BestObjectiveBound() + 1e-6)) + self.fixed)


def _groups(keys: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``(key, positions)`` for each distinct key, in key order."""
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    cuts = np.flatnonzero(np.r_[True, k[1:] != k[:-1], True])
    return [(int(k[a]), order[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]


class _ExactModel:
    """The CP-SAT model over the free pairs ``free`` (and the locks of ``core``).

    Attributes: ``model``, ``x`` (one Boolean per free pair), ``short`` (the fairness
    shortfall variable of each partnership short of its target), ``resid`` (exchanges
    each partnership still needs), ``starts`` (the start variable of each stay with an
    interval, by pair index), ``pos_of`` (position of each free pair), ``n_intervals``.
    """

    def __init__(self, core: Core, free: np.ndarray):
        self.core, self.free = core, free
        self.model = cp_model.CpModel()
        self.x = [self.model.NewBoolVar(f"x{j}") for j in free.tolist()]
        self.pos_of = {int(j): i for i, j in enumerate(free.tolist())}
        self._add_linear_rules()
        self._add_fairness()
        self._add_intervals()
        obj = cp_model.LinearExpr.WeightedSum(self.x, core.w[free].tolist())
        if self.short:
            obj = obj - core.penalty * sum(self.short.values())
        self.model.Maximize(obj)

    def _add_linear_rules(self) -> None:
        """One exchange per visitor, ``room`` per host, the budgets (where they can bind)."""
        core, p, m, x = self.core, self.core.problem, self.model, self.x
        fv, fh, fp, fc = p.v[self.free], p.h[self.free], p.part[self.free], p.cost[self.free]
        for _, g in _groups(fv):
            if len(g) > 1:
                m.AddAtMostOne([x[i] for i in g])
        for host, g in _groups(fh):
            if len(g) > core.room[host]:
                m.Add(sum(x[i] for i in g) <= int(core.room[host]))
        for q, g in _groups(fp):
            # most expensive choice per visitor bounds the spend
            top = group_reduce(np.maximum, fv[g], fc[g], p.n_visitors, 0)
            if top.sum() > core.budget[q]:
                m.Add(cp_model.LinearExpr.WeightedSum([x[i] for i in g], fc[g].tolist()) <= int(core.budget[q]))
        if core.programme is not None and fc.sum() > core.programme:
            m.Add(cp_model.LinearExpr.WeightedSum(x, fc.tolist()) <= int(core.programme))

    def _add_fairness(self) -> None:
        """A shortfall variable per fairness group short of its target."""
        core, p, m = self.core, self.core.problem, self.model
        fp = p.fair[self.free]
        self.short: dict[int, cp_model.IntVar] = {}
        self.resid = np.maximum(core.target - core.locked_count, 0)
        for q in np.flatnonzero(self.resid > 0):
            s = m.NewIntVar(0, int(self.resid[q]), f"short{q}")
            self.short[int(q)] = s
            mine = [self.x[i] for i in np.flatnonzero(fp == q)]
            m.Add(sum(mine) + s >= int(self.resid[q]))

    def _add_intervals(self) -> None:
        """Intervals for the hosts where stays may overlap beyond capacity."""
        core, p, m = self.core, self.core.problem, self.model
        allj = np.concatenate([self.free, core.locked])
        ph = allj[p.physical[allj]]
        self.starts: dict[int, cp_model.IntVar] = {}
        self.n_intervals = 0
        for host in conflicting_hosts(p, ph).tolist():
            ivs = []
            for j in ph[p.h[ph] == host].tolist():
                s = m.NewIntVar(int(p.es[j]), int(p.ls[j]), f"s{j}")
                self.starts[j] = s
                if p.locked[j]:
                    ivs.append(m.NewFixedSizeIntervalVar(s, int(p.duration[j]), f"i{j}"))
                else:
                    ivs.append(m.NewOptionalFixedSizeIntervalVar(s, int(p.duration[j]), self.x[self.pos_of[j]],
                                                                 f"i{j}"))
            self.n_intervals += len(ivs)
            if p.capacity[host] == 1:
                m.AddNoOverlap(ivs)
            else:
                m.AddCumulative(ivs, [1] * len(ivs), int(p.capacity[host]))

    def add_hint(self, hint_pairs: np.ndarray, hint_starts: ArrayLike) -> None:
        """A complete hint: every pair literal, every start and every shortfall."""
        p, m = self.core.problem, self.model
        in_hint = np.isin(self.free, hint_pairs)
        for xi, hv in zip(self.x, in_hint.tolist()):
            m.AddHint(xi, int(hv))
        hs = dict(zip(hint_pairs.tolist(), np.asarray(hint_starts, dtype=np.int64).tolist()))
        for j, s in self.starts.items():
            m.AddHint(s, int(hs.get(j, p.es[j])))
        nq = np.bincount(p.fair[hint_pairs[~p.locked[hint_pairs]]], minlength=p.n_fair_groups)
        for q, s in self.short.items():
            m.AddHint(s, int(max(0, self.resid[q] - nq[q])))


def _cp_solver(seed: int, workers: int, time_limit: float | None, max_work: float | None,
               absolute_gap: float) -> cp_model.CpSolver:
    """A CP-SAT solver with the search parameters and limits of :func:`solve_restricted`."""
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = max(1, int(workers))
    prm.random_seed = int(seed)
    prm.interleave_search = True
    if time_limit is not None:
        prm.max_time_in_seconds = max(0.01, float(time_limit))
    if max_work is not None:
        prm.max_deterministic_time = max(0.01, float(max_work) / RATES["cpsat_dtime"])
    if absolute_gap > 0:
        prm.absolute_gap_limit = float(absolute_gap)
    return solver


def solve_restricted(core: Core, keep: ArrayLike, hint_pairs: ArrayLike, hint_starts: ArrayLike,
                     time_limit: float | None, seed: int = 0, workers: int = 2, absolute_gap: float = 0.0,
                     progress: Callable[[int, int], None] | None = None,
                     max_work: float | None = None) -> RestrictedResult:
    """Solve the exact model over the candidate pairs ``keep`` (plus the hint's pairs).

    Parameters
    ----------
    core : Core
    keep : array of candidate pair indices
    hint_pairs : array of pair indices of a feasible solution (locks included)
    hint_starts : array, start index of each hint pair
    time_limit : float or None
        Seconds (``None``: no limit): a safety net (when it ends the search, the result depends on the
        machine's speed).
    max_work : float, optional
        Work units (:mod:`matchmaker.solve.effort`), given to CP-SAT as deterministic time:
        the deterministic limit.
    seed, workers : int
        CP-SAT ``random_seed`` and ``num_workers``.
    absolute_gap : float
        Stop when the restricted model's gap is at most this (0: prove optimality).
    progress : callable, optional
        ``progress(objective, bound)`` at each improving solution.
    """
    t0 = time.monotonic()
    p = core.problem
    hint_pairs = np.asarray(hint_pairs, dtype=np.int64)
    free = np.union1d(np.asarray(keep, dtype=np.int64), hint_pairs[~p.locked[hint_pairs]])
    exact = _ExactModel(core, free)
    exact.add_hint(hint_pairs, hint_starts)
    solver = _cp_solver(seed, workers, time_limit, max_work, absolute_gap)
    cb = _Progress(progress, core.fixed_value, t0) if progress is not None else None
    st = solver.Solve(exact.model, cb)
    secs = time.monotonic() - t0
    dtime = float(solver.ResponseProto().deterministic_time)
    work = dtime * RATES["cpsat_dtime"]
    done = st in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
    clock = (not done and time_limit is not None and secs >= 0.98 * float(time_limit)
             and (max_work is None or dtime < 0.999 * solver.parameters.max_deterministic_time))
    n_int = exact.n_intervals
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        name = "infeasible" if st == cp_model.INFEASIBLE else "unknown"
        return RestrictedResult(name, None, {}, None, None, secs, len(free), n_int, work, clock)
    vals = np.array([solver.BooleanValue(xi) for xi in exact.x], dtype=bool)
    pairs = np.sort(np.concatenate([free[vals], core.locked]))
    starts = {j: int(solver.Value(s)) for j, s in exact.starts.items() if p.locked[j] or vals[exact.pos_of[j]]}
    objective = int(round(solver.ObjectiveValue())) + core.fixed_value
    bound = int(np.floor(solver.BestObjectiveBound() + 1e-6)) + core.fixed_value
    status = "optimal" if st == cp_model.OPTIMAL else "feasible"
    if status == "optimal" and absolute_gap == 0:
        bound = objective
    return RestrictedResult(status, pairs, starts, objective, bound, secs, len(free), n_int, work, clock)
