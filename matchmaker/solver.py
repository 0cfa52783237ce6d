"""The globally optimal assignment of a round, with a proof or a certified gap.

:func:`solve` maximises the objective of :func:`matchmaker.solve.problem.objective_weights`
under every rule (docs/decisions.md) in phases. Each phase gives a feasible solution
(objective ``z``) and/or a safe upper bound ``UB``; ``progress`` hears of each:

``locks``
    The locked pairs alone. If they break a rule the round is *infeasible* and the
    conflicts are named (:func:`matchmaker.solve.core.lock_conflicts`); otherwise they are a
    feasible solution, and each visitor's best weight summed is a first bound.
``flow``
    The optimum without budgets, fairness and same-day capacity, a min-cost flow
    (:mod:`matchmaker.solve.flow`): an upper bound. If it keeps the budgets and fairness and
    every host's stays can be scheduled (:mod:`matchmaker.solve.schedule`), it is optimal.
``lp``
    The LP relaxation with budget, fairness, energy and window-cut rows by column
    generation (:mod:`matchmaker.solve.lp`); the bound is computed from its duals by weak
    duality, with a floating-point margin, so it does not depend on solver tolerances.
``repair``
    A feasible solution from the LP's integral part, repaired and re-filled in order of
    reduced cost (:mod:`matchmaker.solve.heuristics`).
``lagrangian``
    When a budget binds and time allows: the Lagrangian bound of
    :mod:`matchmaker.solve.lagrangian` (host rules priced, each partnership's budget an exact
    multiple-choice knapsack), at least as tight as the LP where budgets' integrality
    matters, with its primal solution and reduced costs (used for the filter below).
``support-mip``
    After the Lagrangian: the restricted MIP on the few pairs its knapsack master mixes
    (plus the incumbent), for a better incumbent only (nothing is proven from it).
``mip``
    Reduced-cost fixing: a solution using pair ``j`` is worth at most ``UB + rc_j``, so
    the pairs with the best reduced costs form a restricted problem and every solution
    using another pair is worth at most ``z_filter = UB + max(rc of the others)``.
    HiGHS solves the restricted problem from the incumbent (MIP start), with the
    same-day capacity added lazily as valid cuts (:mod:`matchmaker.solve.mip`); the restricted
    set grows while time remains. Its optimum ``z*`` is the global one when
    ``z* >= z_filter``; in any case ``min(UB, max(restricted bound, z_filter))`` is a
    certified bound.
``cpsat``
    When time remains and the filtered model is small: the same restricted problem in
    CP-SAT with exact intervals for the same-day capacity and a complete hint
    (:mod:`matchmaker.solve.cpsat_model`), with the same proof rule.

Status: ``optimal`` (bound = objective), ``feasible`` (with its certified gap
``(bound - objective) / max(1, |bound|)``), ``infeasible`` (only through locks), or
``no_solution_yet`` (only when the locks could not be scheduled in time). A time limit
returns the best solution with its certified gap.

Determinism: every phase is deterministic (HiGHS, CP-SAT with ``interleave_search`` and
a fixed seed, stable tie-breaks), and every phase is limited by *work* counted from
deterministic quantities (:mod:`matchmaker.solve.effort`: pairs scanned, knapsack rounds,
branch-and-bound nodes, CP-SAT's deterministic time), never by the clock. So the same
problem, settings, seed and work limit give the same proposals on any machine. The
time limit is a safety net: when the clock stops a phase before its work is spent, the
result depends on the machine's speed, and ``stats["reproducible"]`` is ``False`` with
``stats["clock_stops"]`` naming the phases.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from matchmaker.solve.core import Core, build_core, lock_conflicts
from matchmaker.solve.cpsat_model import solve_restricted
from matchmaker.solve.effort import Effort, units
from matchmaker.solve.flow import max_weight_assignment
from matchmaker.solve.heuristics import complete
from matchmaker.solve.lagrangian import Multipliers, lagrangian
from matchmaker.solve.lp import solve_relaxation
from matchmaker.solve.mip import ITERATIONS_PER_NODE, solve_restricted_mip
from matchmaker.solve.problem import SolverProblem, group_reduce
from matchmaker.solve.schedule import clock_stops as schedule_clock_stop_count
from matchmaker.solve.schedule import schedule_pairs

#: Largest restricted CP-SAT model (pairs); the filter threshold is tightened to fit.
MAX_RESTRICTED_PAIRS = 3_000
#: The Lagrangian phase runs only with at least this much work left (work units, about
#: seconds), and on more candidate pairs than LAGRANGIAN_MAX_PAIRS only with 120 left
#: (its knapsacks grow with the budgets; measured: 500 x 250 converges in ~7 s,
#: 2000 x 1000 not in 15 s).
LAGRANGIAN_MIN_SECONDS = 15.0
LAGRANGIAN_MAX_PAIRS = 200_000
#: On at most this many candidate pairs the Lagrangian runs whatever the work left, with at
#: least half of it (measured: 500 x 250, 45,000 pairs, converges in ~1.5 s), followed by
#: a MIP on the pairs its master mixes (which found the best known 500 x 250 solution).
LAGRANGIAN_SMALL_PAIRS = 100_000


@dataclass
class SolverResult:
    """The solver's answer.

    Attributes
    ----------
    status : {"optimal", "feasible", "infeasible", "no_solution_yet"}
    objective, bound : int or None -- in objective units (hundredths of a score point,
        plus the option weights of :func:`~matchmaker.solve.problem.objective_weights`).
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

    def __init__(self, core: Core | None, effort: Effort, progress, t0: float, schedule_clock_stops: int = 0):
        self.core, self.progress, self.t0 = core, progress, t0
        self.effort = effort
        self.schedule_clock_stops = schedule_clock_stops  # exact scheduling cut by the clock before the solve
        self.phase_w = 0.0
        self.best_pairs = None
        self.best = None
        self.bound = None
        self.phases: list[dict] = []
        self.phase_t = t0
        self.stats: dict = {}
        self.cp_starts: dict = {}

    def stopped(self, phase: str, work: float = 0.0) -> bool:
        """True when less than ``work`` work units are left, or the clock ran out (which
        is recorded as a stop by the clock, after ``phase``)."""
        if self.effort.left() <= work:
            return True
        if self.effort.out_of_time():
            self.effort.clock_stopped(phase)
            return True
        return False

    def spent(self, phase: str, work: float, clock_stopped: bool = False) -> None:
        self.effort.spend(work)
        if clock_stopped:
            self.effort.clock_stopped(phase)

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
                                    bound=self.bound, work=round(self.effort.spent - self.phase_w, 3)))
            self.phase_w = self.effort.spent
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
          mip_pairs: int | None = None, mip_share: float = 0.6, lagrangian_share: float = 0.3,
          work_limit: float | None = None, support_share: float = 0.4) -> SolverResult:
    """Solve a round to proven optimality, or to the best certified gap within the time.

    Parameters
    ----------
    problem : SolverProblem
    time_limit : float, optional
        Seconds for the whole solve (``None``: until proven), a hard stop. The best
        solution found is always returned with its certified gap.
    work_limit : float, optional
        Work units for the whole solve (:mod:`matchmaker.solve.effort`; one is about a second
        of the reference machine), the deterministic limit that the phases share.
        Default: :data:`matchmaker.solve.effort.DEFAULT_WORK_SHARE` of ``time_limit``
        (unlimited without one).
    seed : int
        HiGHS and CP-SAT random seed; the same problem, settings, seed and work limit
        give the same proposals unless the time limit stops a phase first.
    target_gap : float
        Stop as soon as the certified relative gap is at most this (0: prove optimality).
    progress : callable, optional
        Called with ``dict(phase, best, bound, gap, elapsed)`` (objective units) after
        each phase, each restricted-MIP round and each improving CP-SAT solution.
    workers : int
        CP-SAT workers (2 on this machine).
    max_restricted_pairs : int
        Largest restricted CP-SAT model (pairs).
    mip_pairs : int, optional
        Pairs of the first restricted MIP (default ``max(2000, 2.5 x visitors)``); later
        rounds double it until every candidate is in. 0 skips the MIP phase (CP-SAT then proves).
    mip_share : float
        Share of the remaining work the first restricted MIP may use.
    lagrangian_share : float
        Share of the remaining work the Lagrangian phase may use (0: skip it); it runs
        only when a budget can bind and :data:`LAGRANGIAN_MIN_SECONDS` are left, or on at
        most :data:`LAGRANGIAN_SMALL_PAIRS` candidates (then with at least half).
    support_share : float
        Share of the remaining work for the MIP on the Lagrangian master's pairs.

    Returns
    -------
    SolverResult
    """
    if time_limit is not None and time_limit <= 0:
        raise ValueError(f"time_limit must be > 0 seconds, got {time_limit}")
    if not 0 <= target_gap < 1:
        raise ValueError(f"target_gap must be in [0, 1), got {target_gap}")
    if work_limit is not None and not work_limit > 0:
        raise ValueError(f"work_limit must be > 0 work units, got {work_limit}")
    t0 = time.monotonic()
    effort = Effort.from_limits(time_limit, work_limit, t0)
    schedule_clock_stops = schedule_clock_stop_count()
    p = problem
    # deterministic time of the exact scheduling of each host's locks (from the work limit)
    lock_dtime = 10.0 if effort.work_limit is None else min(10.0, max(0.5, effort.work_limit / 4))
    conflicts = lock_conflicts(p, exact_time_limit=lock_dtime)
    if conflicts:
        unproven = any("within the time limit" in c["message"] for c in conflicts)
        status = "no_solution_yet" if unproven and all(c["rule"] == "capacity" for c in conflicts) else "infeasible"
        msg = "the locked pairs cannot all be honoured: " + "; ".join(c["message"] for c in conflicts)
        return SolverResult(status, None, None, None, np.zeros(0, np.int64), np.zeros(0, np.int64),
                            [dict(phase="locks", seconds=round(time.monotonic() - t0, 3), best=None, bound=None)],
                            conflicts, message=msg, stats=_lock_stats(schedule_clock_stops))
    core = build_core(p)
    if mip_pairs is None:
        mip_pairs = int(max(2000, 2.5 * len(np.unique(p.v[core.cand]))))
    run = _Run(core, effort, progress, t0, schedule_clock_stops)
    run.stats.update(pairs=p.n_pairs, candidates=len(core.cand), locked=len(core.locked),
                     work_limit=None if effort.work_limit is None else round(effort.work_limit, 3))

    # -- locks: a feasible solution and the trivial bound ------------------------------------
    run.offer(core.locked)
    best_w = group_reduce(np.maximum, p.v[core.cand], np.maximum(core.w[core.cand], 0), p.n_visitors, 0)
    run.tighten(core.fixed_value + int(best_w.sum()))
    run.report("locks")

    def result(lp=None):
        return _finish(run, p, target_gap, lp)

    if run.done(target_gap) or run.stopped("locks"):
        return result()

    # -- flow: optimum without budgets, fairness and same-day capacity ------------------------
    cand = core.cand
    chosen = max_weight_assignment(p.v[cand], p.h[cand], core.w[cand], core.room, p.n_visitors)
    flow_pairs = np.sort(np.concatenate([cand[chosen], core.locked]))
    flow_value = int(core.w[flow_pairs].sum())
    run.stats["flow_value"] = flow_value
    run.spent("flow", units("flow_pair", len(cand)))
    run.tighten(flow_value)
    if _budget_ok(core, flow_pairs) and _fair_ok(core, flow_pairs):
        _, failed, _ = schedule_pairs(p, flow_pairs)
        if len(failed) == 0:
            run.offer(flow_pairs)
            run.report("flow")
            return result()
    run.report("flow")
    if run.stopped("flow"):
        run.offer(complete(core, flow_pairs))
        run.report("repair")
        return result()

    # -- LP bound and duals -----------------------------------------------------------------
    lp = solve_relaxation(core, start_columns=flow_pairs, deadline=effort.deadline, max_work=effort.allot(0.4))
    run.spent("lp", lp.work, lp.clock_stopped)
    run.tighten(lp.bound)
    run.stats.update(lp_iterations=lp.iterations, lp_columns=lp.columns, lp_converged=lp.converged,
                     lp_value=lp.lp_value, lp_bound=lp.bound)
    run.report("lp")

    # -- primal heuristics ------------------------------------------------------------------
    rc_key = lp.rc
    xint = cand[lp.x > 1 - 1e-6]
    run.offer(complete(core, np.concatenate([xint, core.locked]), key=rc_key))
    run.spent("repair", units("repair_pair", len(cand)))
    run.report("repair")
    if run.done(target_gap) or run.stopped("repair"):
        return result(lp)

    # -- Lagrangian bound with exact partnership knapsacks (when budgets bind) -----------------
    filt = lp  # the bound and reduced costs used for reduced-cost fixing
    mip_pace: dict = {}  # simplex iterations per node of the restricted MIPs so far
    small = len(cand) <= LAGRANGIAN_SMALL_PAIRS
    if (lagrangian_share > 0 and len(lp.rows.parts) and not run.done(target_gap) and not run.stopped("repair")
            and (small or (effort.left() >= LAGRANGIAN_MIN_SECONDS
                           and (len(cand) <= LAGRANGIAN_MAX_PAIRS or effort.left() >= 120.0)))):
        share = max(lagrangian_share, 0.5) if small else lagrangian_share
        lr = lagrangian(p, Multipliers.from_lp(lp), time_limit=effort.safety(), core=core,
                        guide=lp.x, start=run.best_pairs, max_work=effort.allot(share))
        run.spent("lagrangian", lr.work, lr.clock_stopped)
        run.tighten(lr.bound)
        if lr.pairs is not None:
            run.offer(lr.pairs)
        run.stats.update(lagrangian_bound=lr.bound, lagrangian_iterations=lr.iterations,
                         lagrangian_seconds=round(lr.seconds, 3))
        if lr.bound < lp.bound:
            filt = lr
        run.report("lagrangian")
        # the pairs the knapsack master mixes are where good solutions are: a small MIP on
        # them (and the incumbent) for a better incumbent (no bound: nothing is filtered)
        if (lr.support is not None and len(lr.support) and not run.done(target_gap)
                and not run.stopped("support-mip", 0.5)):
            sres = solve_restricted_mip(core, cand[lr.support], time_limit=effort.safety(), start=run.best_pairs,
                                        rows=lp.rows, pace=mip_pace, seed=seed, max_work=effort.allot(support_share))
            run.spent("support-mip", sres.work, sres.clock_stopped)
            run.stats.update(support_pairs=sres.n_pairs, support_status=sres.status)
            if sres.pairs is not None:
                run.offer(sres.pairs)
            run.report("support-mip")

    # -- restricted MIPs: the pairs priced best, from the incumbent (HiGHS) ---------------------
    size, rounds, last = mip_pairs, 0, None
    while size > 0 and not run.done(target_gap) and not run.stopped("mip", 0.5):
        if rounds and effort.left() < 0.5 + 10 * ITERATIONS_PER_NODE * units("mip_simplex_iteration", 1):
            break  # not enough work left for a few nodes of a bigger model
        rounds += 1
        keep_mask, z_filter = _restrict(filt, run.best, size)
        if last == (int(keep_mask.sum()), run.best):
            break  # the same restricted problem from the same incumbent: nothing new to learn
        last = (int(keep_mask.sum()), run.best)

        def mip_progress(obj, bnd, _run=run):
            _run.report("mip", final=False, best=max(obj if obj is not None else _run.best, _run.best))

        share = mip_share if rounds == 1 else 1.0
        mres = solve_restricted_mip(core, cand[keep_mask], time_limit=effort.safety(), start=run.best_pairs,
                                    rows=lp.rows, pace=mip_pace, seed=seed, progress=mip_progress if progress is not None else None,
                                    max_work=effort.allot(share))
        run.spent("mip", mres.work, mres.clock_stopped)
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
        size = min(2 * size, len(cand))

    # -- restricted CP-SAT (exact same-day capacity) when the filtered model is small -----------
    # (only when every pair that could improve on the incumbent fits: then it can prove)
    keep_mask, z_filter = _restrict(filt, run.best, max_restricted_pairs)
    provable = z_filter is None or z_filter <= run.best
    if not run.done(target_gap) and provable and not run.stopped("cpsat", 1.0):
        starts, _, _ = schedule_pairs(p, run.best_pairs)

        def cp_progress(obj, bnd, _run=run):
            _run.report("cpsat", final=False, best=max(obj, _run.best))

        res = solve_restricted(core, cand[keep_mask], run.best_pairs, starts,
                               time_limit=effort.safety(), max_work=0.9 * effort.left(), seed=seed, workers=workers,
                               absolute_gap=target_gap * max(1.0, abs(run.bound or 0)),
                               progress=cp_progress if progress is not None else None)
        run.spent("cpsat", res.work, res.clock_stopped)
        run.stats.update(restricted_pairs=res.n_pairs, restricted_intervals=res.n_intervals,
                         restricted_status=res.status, restricted_seconds=round(res.seconds, 3))
        if res.pairs is not None:
            run.offer(res.pairs)
            run.cp_starts = res.starts
        if res.bound is not None:
            run.tighten(max(res.bound, z_filter) if z_filter is not None else res.bound)
        run.report("cpsat")
    return result(lp)


def _lock_stats(schedule_clock_stops: int) -> dict:
    """Stats of a solve that ended at the lock check (reproducible unless the clock cut it)."""
    cut = schedule_clock_stop_count() > schedule_clock_stops
    return dict(reproducible=not cut, clock_stops=["schedule"] if cut else [], work_spent=0.0)


def _restrict(filt, best: int, limit: int):
    """Candidates that may beat ``best`` by reduced cost, at most ``limit`` of them.

    ``filt`` is an LP result (:class:`matchmaker.solve.lp.LPResult`) or a Lagrangian one
    (:class:`matchmaker.solve.lagrangian.LagrangianResult`): a solution using candidate ``j`` is
    worth at most ``filt.bound + filt.rc[j]`` (the Lagrangian also gives it exactly, as
    ``pair_bound``). Returns the mask (``core.cand`` order) and ``z_filter``: no solution
    using a left-out pair is worth more (``None`` when nothing is left out).
    """
    rc = filt.rc
    gap_abs = filt.bound - best
    keep = rc > -gap_abs - 1e-9
    if keep.sum() > limit:
        thr = -np.partition(rc, len(rc) - limit)[len(rc) - limit]
        keep = rc > -thr
    if keep.all():
        return keep, None
    if getattr(filt, "pair_bound", None) is not None:
        return keep, int(filt.pair_bound[~keep].max())
    # a solution using a left-out pair j is worth at most UB + rc_j (rounded down, with slack)
    return keep, int(np.floor(filt.bound + rc[~keep].max() + 1e-9 * abs(filt.bound) + 1e-6))


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
    bound = run.bound
    if bound is not None and bound < best:
        # only a restricted model's bound (HiGHS's MIP dual bound, within its feasibility
        # tolerance) can do this; our own bounds cannot. Say so rather than fail.
        run.stats["bound_warning"] = (f"a restricted model's bound was {best - bound} below a feasible "
                                      "solution (solver tolerance); the bound is raised to that solution")
        bound = run.bound = best
    status = "optimal" if bound == best else "feasible"
    run.best = best
    run.report("done", final=False)
    eff = run.effort
    if schedule_clock_stop_count() > run.schedule_clock_stops:
        eff.clock_stopped("schedule")
    stats = dict(run.stats, exchanges=int(len(pairs)), score=int(p.score[pairs].sum()),
                 work_spent=round(eff.spent, 3), reproducible=eff.reproducible, clock_stops=list(eff.clock_stops),
                 shortfall=int(np.maximum(run.core.target - np.bincount(p.part[pairs], minlength=p.n_partnerships),
                                          0).sum()),
                 weight=int(run.core.w[pairs].sum()))
    return SolverResult(status, best, bound, relative_gap(best, bound), pairs, starts, run.phases, [], stats,
                        lp=lp, core=run.core)
