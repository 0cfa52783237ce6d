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
from dataclasses import dataclass

import numpy as np
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
    def __init__(self, callback, fixed: int, t0: float):
        super().__init__()
        self.callback, self.fixed, self.t0 = callback, fixed, t0

    def on_solution_callback(self) -> None:
        self.callback(int(round(self.ObjectiveValue())) + self.fixed,
                      int(np.floor(self.BestObjectiveBound() + 1e-6)) + self.fixed)


def solve_restricted(core: Core, keep, hint_pairs, hint_starts, time_limit: float | None, seed: int = 0,
                     workers: int = 2, absolute_gap: float = 0.0, progress=None,
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
    p, w = core.problem, core.w
    hint_pairs = np.asarray(hint_pairs, dtype=np.int64)
    free = np.union1d(np.asarray(keep, dtype=np.int64), hint_pairs[~p.locked[hint_pairs]])
    lk = core.locked
    m = cp_model.CpModel()
    x = [m.NewBoolVar(f"x{j}") for j in free.tolist()]
    fv, fh, fp, fc = p.v[free], p.h[free], p.part[free], p.cost[free]

    def groups(keys):
        order = np.argsort(keys, kind="stable")
        k = keys[order]
        cuts = np.flatnonzero(np.r_[True, k[1:] != k[:-1], True])
        return [(int(k[a]), order[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]

    for _, g in groups(fv):
        if len(g) > 1:
            m.AddAtMostOne([x[i] for i in g])
    for host, g in groups(fh):
        if len(g) > core.room[host]:
            m.Add(sum(x[i] for i in g) <= int(core.room[host]))
    for q, g in groups(fp):
        # most expensive choice per visitor bounds the spend
        top = group_reduce(np.maximum, fv[g], fc[g], p.n_visitors, 0)
        if top.sum() > core.budget[q]:
            m.Add(cp_model.LinearExpr.WeightedSum([x[i] for i in g], fc[g].tolist()) <= int(core.budget[q]))
    if core.programme is not None and fc.sum() > core.programme:
        m.Add(cp_model.LinearExpr.WeightedSum(x, fc.tolist()) <= int(core.programme))
    short = {}
    resid = np.maximum(core.target - core.locked_count, 0)
    for q in np.flatnonzero(resid > 0):
        s = m.NewIntVar(0, int(resid[q]), f"short{q}")
        short[int(q)] = s
        mine = [x[i] for i in np.flatnonzero(fp == q)]
        m.Add(sum(mine) + s >= int(resid[q]))

    # intervals for hosts where stays may overlap beyond capacity
    allj = np.concatenate([free, lk])
    ph = allj[p.physical[allj]]
    hosts = conflicting_hosts(p, ph)
    start_vars: dict[int, cp_model.IntVar] = {}
    pos_of = {int(j): i for i, j in enumerate(free.tolist())}
    n_int = 0
    for host in hosts.tolist():
        js = ph[p.h[ph] == host]
        ivs = []
        for j in js.tolist():
            s = m.NewIntVar(int(p.es[j]), int(p.ls[j]), f"s{j}")
            start_vars[j] = s
            if p.locked[j]:
                ivs.append(m.NewFixedSizeIntervalVar(s, int(p.duration[j]), f"i{j}"))
            else:
                ivs.append(m.NewOptionalFixedSizeIntervalVar(s, int(p.duration[j]), x[pos_of[j]], f"i{j}"))
        n_int += len(ivs)
        if p.capacity[host] == 1:
            m.AddNoOverlap(ivs)
        else:
            m.AddCumulative(ivs, [1] * len(ivs), int(p.capacity[host]))

    obj = cp_model.LinearExpr.WeightedSum(x, w[free].tolist())
    if short:
        obj = obj - core.penalty * sum(short.values())
    m.Maximize(obj)

    # complete hint
    in_hint = np.isin(free, hint_pairs)
    for xi, hv in zip(x, in_hint.tolist()):
        m.AddHint(xi, int(hv))
    hs = dict(zip(hint_pairs.tolist(), np.asarray(hint_starts, dtype=np.int64).tolist()))
    for j, s in start_vars.items():
        m.AddHint(s, int(hs.get(j, p.es[j])))
    nq = np.bincount(p.part[hint_pairs[~p.locked[hint_pairs]]], minlength=p.n_partnerships)
    for q, s in short.items():
        m.AddHint(s, int(max(0, resid[q] - nq[q])))

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
    cb = _Progress(progress, core.fixed_value, t0) if progress is not None else None
    st = solver.Solve(m, cb)
    secs = time.monotonic() - t0
    dtime = float(solver.ResponseProto().deterministic_time)
    work = dtime * RATES["cpsat_dtime"]
    done = st in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
    clock = (not done and time_limit is not None and secs >= 0.98 * float(time_limit)
             and (max_work is None or dtime < 0.999 * prm.max_deterministic_time))
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        name = "infeasible" if st == cp_model.INFEASIBLE else "unknown"
        return RestrictedResult(name, None, {}, None, None, secs, len(free), n_int, work, clock)
    vals = np.array([solver.BooleanValue(xi) for xi in x], dtype=bool)
    pairs = np.sort(np.concatenate([free[vals], lk]))
    starts = {j: int(solver.Value(s)) for j, s in start_vars.items() if p.locked[j] or vals[pos_of[j]]}
    objective = int(round(solver.ObjectiveValue())) + core.fixed_value
    bound = int(np.floor(solver.BestObjectiveBound() + 1e-6)) + core.fixed_value
    status = "optimal" if st == cp_model.OPTIMAL else "feasible"
    if status == "optimal" and absolute_gap == 0:
        bound = objective
    return RestrictedResult(status, pairs, starts, objective, bound, secs, len(free), n_int, work, clock)
