"""The globally optimal assignment of a round, with a proof or a certified gap.

:func:`solve` maximises the objective of :func:`matchmaker.solve.problem.objective_weights`
under every rule (docs/decisions.md). It first checks the locked pairs: if they break a
rule the round is *infeasible* and the conflicts are named
(:func:`matchmaker.solve.core.lock_conflicts`). Otherwise it runs the phases of
:data:`matchmaker.solve.phases.PHASES` in order, each giving a feasible solution
(objective ``z``) and/or a safe upper bound ``UB`` that ``progress`` hears of:

``locks``
    The locked pairs alone (a feasible solution); each visitor's best weight summed is a
    first bound.
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
``lagrangian``, ``support-mip``
    When a budget binds and the work left allows: the Lagrangian bound with exact
    partnership knapsacks, then a MIP on the pairs its master mixes for a better incumbent
    (:mod:`matchmaker.solve.phases.lagrangian`).
``branch-and-price``
    The exact search (:mod:`matchmaker.solve.branch_price`): partnership knapsack columns
    under the host rules and cuts on the same-day capacity, branching on pairs; in the
    default mode with a share of the work where a budget binds, in prove mode until the
    round is proven optimal (:mod:`matchmaker.solve.phases.branch_price`).
``mip``, ``cpsat``
    Restricted models by reduced-cost fixing, HiGHS rounds then CP-SAT with exact
    same-day capacity, which prove the optimum when nothing left out can beat it
    (:mod:`matchmaker.solve.phases.restricted`).

The limits and tunables come in one checked :class:`~matchmaker.solve.config.SolveConfig`.

Status (:func:`status_of`): ``optimal`` when the certified gap
``(bound - objective) / max(1, |bound|)`` against the best bound is at most
:data:`OPTIMAL_GAP` (1e-6), else ``feasible`` (with that gap); ``infeasible`` (only
through locks), or ``no_solution_yet`` (only when the locks could not be scheduled in
time). A time limit returns the best solution with its certified gap. Whether the gap is
within the usual MIP tolerance of 0.01 % (:data:`MIP_TOLERANCE`) is reported separately
(:func:`within_mip_tolerance`); it never makes a solution "optimal".

Determinism: every phase is deterministic (HiGHS, CP-SAT with ``interleave_search`` and
a fixed seed, stable tie-breaks), and every phase is limited by *work* counted from
deterministic quantities (:mod:`matchmaker.solve.effort`: pairs scanned, knapsack rounds,
branch-and-bound and branch-and-price nodes, CP-SAT's deterministic time), never by the clock. So the same
problem, settings, seed and work limit give the same proposals on any machine. The
time limit is a safety net: when the clock stops a phase before its work is spent, the
result depends on the machine's speed, and ``stats["reproducible"]`` is ``False`` with
``stats["clock_stops"]`` naming the phases.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from matchmaker.solve.config import SolveConfig
from matchmaker.solve.core import Core, build_core, lock_conflicts
from matchmaker.solve.effort import Effort
from matchmaker.solve.lp import LPResult
from matchmaker.solve.phases import EXTENSION, PHASES, Progress, SolveState
from matchmaker.solve.phases.state import relative_gap
from matchmaker.solve.problem import SolverInstance
from matchmaker.solve.schedule import clock_stops as schedule_clock_stop_count
from matchmaker.solve.schedule import schedule_pairs

__all__ = ["MIP_TOLERANCE", "OPTIMAL_GAP", "Progress", "SolveConfig", "SolverResult", "relative_gap", "solve",
           "status_of", "within_mip_tolerance"]

#: The largest certified relative gap (against the best bound) called ``optimal``.
OPTIMAL_GAP = 1e-6
#: The usual relative gap tolerance of MIP solvers (0.01 %), reported beside the status.
MIP_TOLERANCE = 1e-4


def status_of(objective: int | None, bound: int | None) -> str:
    """``"optimal"`` when the certified relative gap is at most :data:`OPTIMAL_GAP`, else ``"feasible"``.

    Parameters
    ----------
    objective : int or None
        The solution's objective (``None``: no solution, which is not handled here).
    bound : int or None
        The best valid upper bound (``None``: none, so not optimal).
    """
    gap = relative_gap(objective, bound)
    return "optimal" if gap is not None and gap <= OPTIMAL_GAP else "feasible"


def within_mip_tolerance(gap: float | None) -> bool | None:
    """Whether a certified gap is within the usual MIP tolerance of 0.01 % (``None`` without a gap)."""
    return None if gap is None else bool(gap <= MIP_TOLERANCE)


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
    phases : list of dict -- ``phase, seconds, best, bound, work`` for each phase run.
    conflicts : list of dict -- lock conflicts when infeasible.
    stats : dict -- sizes and counters (flow value, LP iterations, restricted model, ...).
    message : str -- why there is no solution (infeasible or unproven locks).
    budget_duals : ndarray -- per partnership, the LP relaxation's dual price of its budget
        (objective units per cent; zeros when the LP did not run or the budget cannot bind).
    lp : LPResult or None -- the LP relaxation, when it ran.
    core : Core or None -- the problem after the locks (``None`` when the locks conflict).
    """

    status: str
    objective: int | None
    bound: int | None
    gap: float | None
    pairs: np.ndarray
    starts: np.ndarray
    phases: list[dict] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    message: str = ""
    budget_duals: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lp: LPResult | None = None
    core: Core | None = None


def solve(problem: SolverInstance, config: SolveConfig | None = None,
          progress: Progress | None = None) -> SolverResult:
    """Solve a round to proven optimality, or to the best certified gap within the limits.

    Parameters
    ----------
    problem : SolverInstance
    config : SolveConfig, optional
        Time and work limits, seed, target gap and phase tunables (default: no limits,
        seed 0, prove optimality).
    progress : callable, optional
        Called with ``dict(phase, best, bound, gap, elapsed)`` (objective units) after
        each phase, each restricted-MIP round and each improving CP-SAT solution.

    Returns
    -------
    SolverResult
    """
    config = SolveConfig() if config is None else config
    t0 = time.monotonic()
    effort = Effort.for_config(config, t0)
    schedule_clock_stops = schedule_clock_stop_count()
    conflicts = lock_conflicts(problem, exact_time_limit=config.lock_check_dtime)
    if conflicts:
        return _conflicting_locks(problem, conflicts, t0, schedule_clock_stops)
    core = build_core(problem)
    state = SolveState(core, config, effort, progress, t0, schedule_clock_stops)
    state.stats.update(pairs=problem.n_pairs, candidates=len(core.cand), locked=len(core.locked),
                       work_limit=None if effort.full_limit is None else round(effort.full_limit, 3))
    for phase in PHASES:
        phase.run(state)
        if state.ended:
            break
    EXTENSION.run(state)  # the work beyond the base, if any (more work is never worse)
    return _result(state)


def _conflicting_locks(problem: SolverInstance, conflicts: list[dict], t0: float,
                       schedule_clock_stops: int) -> SolverResult:
    """The answer when the locks alone break a rule (or could not be scheduled in time)."""
    unproven = any("within the time limit" in c["message"] for c in conflicts)
    status = "no_solution_yet" if unproven and all(c["rule"] == "capacity" for c in conflicts) else "infeasible"
    cut = schedule_clock_stop_count() > schedule_clock_stops
    empty = np.zeros(0, np.int64)
    return SolverResult(
        status, None, None, None, empty, empty.copy(),
        phases=[dict(phase="locks", seconds=round(time.monotonic() - t0, 3), best=None, bound=None)],
        conflicts=conflicts, budget_duals=np.zeros(problem.n_partnerships),
        message="the locked pairs cannot all be honoured: " + "; ".join(c["message"] for c in conflicts),
        stats=dict(reproducible=not cut, clock_stops=["schedule"] if cut else [], work_spent=0.0))


def _starts(state: SolveState) -> np.ndarray:
    """Start days of the incumbent: scheduled afresh, or from CP-SAT for the hosts that fail."""
    p, pairs = state.core.problem, state.best_pairs
    starts, failed, _ = schedule_pairs(p, pairs)
    if len(failed):
        for i, j in enumerate(pairs.tolist()):
            if p.h[j] in failed and j in state.cp_starts:
                starts[i] = state.cp_starts[j]
        if (starts < 0).any():
            raise RuntimeError("internal error: a solution's stays could not be scheduled; please report")
    return starts


def _result(state: SolveState) -> SolverResult:
    """The incumbent, checked against every rule, with its certified bound and the run's stats."""
    core, p, pairs = state.core, state.core.problem, state.best_pairs
    starts = _starts(state)
    problems = core.violations(pairs, starts)
    if problems:
        raise RuntimeError(f"internal error: the solution breaks rules: {problems}; please report")
    best = core.value(pairs)
    bound = state.bound
    if bound is not None and bound < best:
        # only a restricted model's bound (HiGHS's MIP dual bound, within its feasibility
        # tolerance) can do this; our own bounds cannot. Say so rather than fail.
        state.stats["bound_warning"] = (f"a restricted model's bound was {best - bound} below a feasible "
                                        "solution (solver tolerance); the bound is raised to that solution")
        bound = state.bound = best
    status = status_of(best, bound)
    state.best = best
    state.report("done", final=False)
    eff = state.effort
    if schedule_clock_stop_count() > state.schedule_clock_stops:
        eff.clock_stopped("schedule")
    shortfall = np.maximum(core.target - np.bincount(p.fair[pairs], minlength=p.n_fair_groups), 0).sum()
    stats = dict(state.stats, exchanges=int(len(pairs)), score=int(p.score[pairs].sum()),
                 work_spent=round(eff.spent, 3), reproducible=eff.reproducible, clock_stops=list(eff.clock_stops),
                 shortfall=int(shortfall), weight=int(core.w[pairs].sum()))
    no_duals = np.zeros(p.n_partnerships)
    duals = no_duals if state.lp is None else state.lp.duals.get("budget", no_duals)
    return SolverResult(status, best, bound, relative_gap(best, bound), pairs, starts, phases=state.phases,
                        stats=stats, budget_duals=duals, lp=state.lp, core=core)
