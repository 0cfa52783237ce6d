"""The globally optimal assignment of a round, with a proof or a certified gap.

:func:`solve` maximises the objective of :func:`matchmaker.problem.objective_weights`
under every rule (docs/decisions.md) in phases, each giving a feasible solution (a lower
bound ``z``) and/or a safe upper bound ``UB``:

``locks``
    The locked pairs alone; if they break a rule the round is *infeasible* and the
    conflicts are named (:func:`matchmaker.core.lock_conflicts`). Otherwise they are a
    feasible solution; ``UB`` = each visitor's best weight.
``flow``
    Min-cost flow without budgets, fairness or same-day capacity
    (:mod:`matchmaker.flow`): its value is an upper bound. If its assignment keeps the
    budgets and fairness and every host's stays can be scheduled, it is optimal: done.
``lp``
    The LP relaxation with budget, fairness and energy rows by column generation
    (:mod:`matchmaker.lp`): a bound computed from the duals ourselves, and reduced costs.
``repair``
    A feasible solution from the LP's integral part, repaired and re-filled in order of
    reduced cost (:mod:`matchmaker.heuristics`).
``cpsat``
    Reduced-cost fixing: a solution using a pair ``j`` is worth at most ``UB + rc_j``,
    so with ``G = UB - z`` only pairs with ``rc_j > -G`` can improve on ``z``. CP-SAT
    solves the model restricted to them (:mod:`matchmaker.cpsat_model`), hinted with the
    incumbent. If it proves its optimum ``z*`` and ``z* >= UB - G``, ``z*`` is the
    global optimum. Otherwise the certified bound is
    ``min(UB, max(restricted bound, UB + largest rc left out))``.

Status: ``optimal`` (bound = objective), ``feasible`` (with its certified gap),
``infeasible`` (locks only), ``no_solution_yet`` (only if the locks could not be
scheduled in time). The gap is ``(bound - objective) / max(1, |bound|)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .core import Core, build_core, lock_conflicts
from .cpsat_model import solve_restricted
from .flow import max_weight_assignment
from .heuristics import complete
from .lp import solve_relaxation
from .mip import solve_restricted_mip
from .problem import SolverProblem
from .schedule import schedule_pairs

#: Largest restricted CP-SAT model (pairs); the filter threshold is tightened to fit.
MAX_RESTRICTED_PAIRS = 3_000


@dataclass
class SolverResult:
    """The solver's answer.

    Attributes
    ----------
    status : {"optimal", "feasible", "infeasible", "no_solution_yet"}
    objective, bound : int or None -- in objective units (hundredths of a score point,
        plus the option weights of :func:`~matchmaker.problem.objective_weights`).
    gap : float or None -- ``(bound - objective) / max(1, |bound|)``.
    pairs : ndarray -- chosen pair indices (sorted), locks included.
    starts : ndarray -- start index of each chosen pair (working days for physical
        pairs, calendar days from ``base_date`` for virtual ones).
    phases : list of dict -- ``phase, seconds, best, bound`` for each phase run.
    conflicts : list of dict -- lock conflicts when infeasible.
    stats : dict -- sizes and counters (flow value, LP iterations, restricted model, ...).
    """

    status: str
    objective: int | None
    bound: int | None
    gap: float | None
    pairs: np.ndarray
    starts: np.ndarray
    phases: list = field(default_factory=list)
    conflicts: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    message: str = ""
    lp: object = None
    core: object = None


def relative_gap(objective, bound) -> float | None:
    if objective is None or bound is None:
        return None
    return max(0.0, (bound - objective) / max(1.0, abs(bound)))


class _Run:
    """Book-keeping of one solve: incumbent, bound, phases, progress, deadline."""

    def __init__(self, core: Core | None, time_limit: float | None, progress, t0: float):
        self.core, self.progress, self.t0 = core, progress, t0
        self.deadline = None if time_limit is None else t0 + float(time_limit)
        self.best_pairs = None
        self.best = None
        self.bound = None
        self.phases: list[dict] = []
        self.phase_t = t0
        self.stats: dict = {}
        self.cp_starts: dict = {}

    def remaining(self) -> float:
        return np.inf if self.deadline is None else self.deadline - time.monotonic()

    def offer(self, pairs) -> None:
        pairs = np.asarray(pairs, dtype=np.int64)
        val = self.core.value(pairs)
        if self.best is None or val > self.best:
            self.best, self.best_pairs = val, np.sort(pairs)

    def tighten(self, bound) -> None:
        if bound is not None and (self.bound is None or bound < self.bound):
            self.bound = int(bound)

    def report(self, phase: str, final: bool = True, best=None) -> None:
        now = time.monotonic()
        best = self.best if best is None else best
        info = dict(phase=phase, best=best, bound=self.bound, gap=relative_gap(best, self.bound),
                    elapsed=round(now - self.t0, 3))
        if final:
            self.phases.append(dict(phase=phase, seconds=round(now - self.phase_t, 3), best=self.best,
                                    bound=self.bound))
            self.phase_t = now
        if self.progress is not None:
            self.progress(info)

    def done(self, target_gap: float) -> bool:
        g = relative_gap(self.best, self.bound)
        return g is not None and g <= target_gap


def _budget_ok(core: Core, pairs: np.ndarray) -> bool:
    p = core.problem
    spend = np.bincount(p.part[pairs], weights=p.cost[pairs], minlength=p.n_partnerships)
    if (spend > p.budget).any():
        return False
    return p.programme_budget is None or p.cost[pairs].sum() <= p.programme_budget


def _fair_ok(core: Core, pairs: np.ndarray) -> bool:
    n = np.bincount(core.problem.part[pairs], minlength=core.problem.n_partnerships)
    return core.penalty == 0 or bool((n >= core.target).all())


def solve(problem: SolverProblem, time_limit: float | None = None, seed: int = 0, target_gap: float = 0.0,
          progress=None, workers: int = 2, max_restricted_pairs: int = MAX_RESTRICTED_PAIRS,
          mip_pairs: int | None = None, mip_share: float = 0.6) -> SolverResult:
    """Solve a round to proven optimality, or to the best certified gap within the time.

    Parameters
    ----------
    problem : SolverProblem
    time_limit : float, optional
        Seconds for the whole solve (``None``: until proven). The best solution found
        is always returned with its certified gap.
    seed : int
        CP-SAT random seed; the same problem, settings and seed give the same proposals
        whenever the solve finishes before the time limit.
    target_gap : float
        Stop as soon as the certified relative gap is at most this (0: prove optimality).
    progress : callable, optional
        Called with ``dict(phase, best, bound, gap, elapsed)`` after each phase and at
        each improving CP-SAT solution.
    workers : int
        CP-SAT workers (2 on this machine).
    max_restricted_pairs : int
        Largest restricted CP-SAT model.
    """
    if time_limit is not None and time_limit <= 0:
        raise ValueError(f"time_limit must be > 0 seconds, got {time_limit}")
    if not 0 <= target_gap < 1:
        raise ValueError(f"target_gap must be in [0, 1), got {target_gap}")
    t0 = time.monotonic()
    p = problem
    conflicts = lock_conflicts(p, exact_time_limit=10.0 if time_limit is None else max(0.5, time_limit / 4))
    if conflicts:
        unproven = any("within the time limit" in c["message"] for c in conflicts)
        status = "no_solution_yet" if unproven and all(c["rule"] == "capacity" for c in conflicts) else "infeasible"
        msg = "the locked pairs cannot all be honoured: " + "; ".join(c["message"] for c in conflicts)
        return SolverResult(status, None, None, None, np.zeros(0, np.int64), np.zeros(0, np.int64),
                            [dict(phase="locks", seconds=round(time.monotonic() - t0, 3), best=None, bound=None)],
                            conflicts, message=msg)
    core = build_core(p)
    if mip_pairs is None:
        mip_pairs = int(max(2000, 2.5 * len(np.unique(p.v[core.cand]))))
    run = _Run(core, time_limit, progress, t0)
    run.stats.update(pairs=p.n_pairs, candidates=len(core.cand), locked=len(core.locked))

    # -- locks: a feasible solution and the trivial bound ------------------------------------
    run.offer(core.locked)
    best_w = np.zeros(p.n_visitors, dtype=np.int64)
    np.maximum.at(best_w, p.v[core.cand], np.maximum(core.w[core.cand], 0))
    run.tighten(core.fixed_value + int(best_w.sum()))
    run.report("locks")

    def result(lp=None):
        return _finish(run, p, target_gap, lp)

    if run.done(target_gap) or run.remaining() <= 0:
        return result()

    # -- flow: optimum without budgets, fairness and same-day capacity ------------------------
    cand = core.cand
    chosen = max_weight_assignment(p.v[cand], p.h[cand], core.w[cand], core.room, p.n_visitors)
    flow_pairs = np.sort(np.concatenate([cand[chosen], core.locked]))
    flow_value = int(core.w[flow_pairs].sum())
    run.stats["flow_value"] = flow_value
    run.tighten(flow_value)
    if _budget_ok(core, flow_pairs) and _fair_ok(core, flow_pairs):
        _, failed, _ = schedule_pairs(p, flow_pairs)
        if len(failed) == 0:
            run.offer(flow_pairs)
            run.report("flow")
            return result()
    run.report("flow")
    if run.remaining() <= 0:
        run.offer(complete(core, flow_pairs))
        run.report("repair")
        return result()

    # -- LP bound and duals -----------------------------------------------------------------
    lp_deadline = None if run.deadline is None else time.monotonic() + 0.4 * run.remaining()
    lp = solve_relaxation(core, start_columns=flow_pairs, deadline=lp_deadline)
    run.tighten(lp.bound)
    run.stats.update(lp_iterations=lp.iterations, lp_columns=lp.columns, lp_converged=lp.converged,
                     lp_value=lp.lp_value, lp_bound=lp.bound)
    run.report("lp")

    # -- primal heuristics ------------------------------------------------------------------
    rc_key = lp.rc
    xint = cand[lp.x > 1 - 1e-6]
    run.offer(complete(core, np.concatenate([xint, core.locked]), key=rc_key))
    run.report("repair")
    if run.done(target_gap) or run.remaining() <= 0:
        return result(lp)

    # -- restricted MIPs: the pairs the LP prices best, from the incumbent (HiGHS) -------------
    size, rounds = mip_pairs, 0
    while not run.done(target_gap) and run.remaining() > 0.5:
        if rounds and run.remaining() < 2.0 + 2e-4 * size:
            break  # HiGHS's presolve and root LP ignore the time limit: no round without time for them
        rounds += 1
        keep_mask, z_filter = _restrict(lp, run.best, size)

        def mip_progress(obj, bnd, _run=run):
            _run.report("mip", final=False, best=max(obj if obj is not None else _run.best, _run.best))

        share = mip_share if rounds == 1 else 1.0
        mres = solve_restricted_mip(core, cand[keep_mask], time_limit=share * run.remaining(), start=run.best_pairs,
                                    rows=lp.rows, seed=seed, progress=mip_progress if progress is not None else None)
        run.stats.update(mip_pairs=mres.n_pairs, mip_status=mres.status, mip_rounds=rounds,
                         mip_cuts=len(mres.cuts), mip_seconds=round(run.stats.get("mip_seconds", 0) + mres.seconds, 3))
        if mres.pairs is not None:
            run.offer(mres.pairs)
        if mres.bound is not None:
            run.tighten(max(mres.bound, z_filter) if z_filter is not None else mres.bound)
        run.report("mip")
        if z_filter is None or run.done(target_gap) or keep_mask.all():
            break
        # the restricted optimum is below the filter, or time ran out: widen the restricted
        # set and continue from the new incumbent
        size = min(2 * size, 4 * mip_pairs)

    # -- restricted CP-SAT (exact same-day capacity) when the filtered model is small -----------
    keep_mask, z_filter = _restrict(lp, run.best, max_restricted_pairs)
    if not run.done(target_gap) and run.remaining() > 1.0 and keep_mask.sum() <= max_restricted_pairs:
        starts, _, _ = schedule_pairs(p, run.best_pairs)

        def cp_progress(obj, bnd, _run=run):
            _run.report("cpsat", final=False, best=max(obj, _run.best))

        res = solve_restricted(core, cand[keep_mask], run.best_pairs, starts,
                               time_limit=0.9 * run.remaining() - 0.1, seed=seed, workers=workers,
                               absolute_gap=target_gap * max(1.0, abs(run.bound or 0)),
                               progress=cp_progress if progress is not None else None)
        run.stats.update(restricted_pairs=res.n_pairs, restricted_intervals=res.n_intervals,
                         restricted_status=res.status, restricted_seconds=round(res.seconds, 3))
        if res.pairs is not None:
            run.offer(res.pairs)
            run.cp_starts = res.starts
        if res.bound is not None:
            run.tighten(max(res.bound, z_filter) if z_filter is not None else res.bound)
        run.report("cpsat")
    return result(lp)


def _restrict(lp, best: int, limit: int):
    """Candidates that may beat ``best`` by reduced cost, at most ``limit`` of them.

    Returns the mask (``core.cand`` order) and ``z_filter``: no solution using a
    left-out pair is worth more (``None`` when nothing is left out).
    """
    gap_abs = lp.bound - best
    keep = lp.rc > -gap_abs - 1e-9
    if keep.sum() > limit:
        thr = -np.partition(lp.rc, len(lp.rc) - limit)[len(lp.rc) - limit]
        keep = lp.rc > -thr
    excluded = lp.rc[~keep]
    if len(excluded) == 0:
        return keep, None
    # a solution using a left-out pair j is worth at most UB + rc_j (rounded down, with slack)
    return keep, int(np.floor(lp.bound + excluded.max() + 1e-9 * abs(lp.bound) + 1e-6))


def _finish(run: _Run, p: SolverProblem, target_gap: float, lp=None) -> SolverResult:
    pairs = run.best_pairs
    starts, failed, _ = schedule_pairs(p, pairs)
    cp_starts = run.cp_starts
    if len(failed):
        for i, j in enumerate(pairs.tolist()):
            if p.h[j] in failed and j in cp_starts:
                starts[i] = cp_starts[j]
        if (starts < 0).any():
            raise RuntimeError("internal error: a solution's stays could not be scheduled; please report")
    problems = run.core.violations(pairs, starts)
    if problems:
        raise RuntimeError(f"internal error: the solution breaks rules: {problems}; please report")
    best = run.core.value(pairs)
    bound = run.bound if run.bound is not None else None
    if bound is not None and bound < best:
        raise RuntimeError(f"internal error: bound {bound} below a feasible objective {best}; please report")
    status = "optimal" if bound == best else "feasible"
    run.best = best
    run.report("done", final=False)
    p_ = p
    chosen_w = run.core.w[pairs]
    stats = dict(run.stats, exchanges=int(len(pairs)), score=int(p_.score[pairs].sum()),
                 shortfall=int(np.maximum(run.core.target - np.bincount(p_.part[pairs], minlength=p_.n_partnerships),
                                          0).sum()),
                 weight=int(chosen_w.sum()))
    return SolverResult(status, best, bound, relative_gap(best, bound), pairs, starts, run.phases, [], stats,
                        lp=lp, core=run.core)
