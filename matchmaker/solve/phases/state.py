"""What the solver's phases share: the :class:`Phase` interface and the run's :class:`SolveState`.

A phase reads the state (the core, the configuration, the incumbent, the bound, the
results of earlier phases), runs one algorithm, and writes back through the state's few
verbs: :meth:`SolveState.offer` a solution, :meth:`SolveState.tighten` the bound,
:meth:`SolveState.spent` work, :meth:`SolveState.report` progress, and
:meth:`SolveState.end` the solve when nothing more is to be gained.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Protocol

import numpy as np

from matchmaker.solve.config import SolveConfig
from matchmaker.solve.core import Core
from matchmaker.solve.effort import Effort
from matchmaker.solve.lagrangian import LagrangianResult
from matchmaker.solve.lp import LPResult

#: The solver's progress callback: ``dict(phase, best, bound, gap, elapsed)`` in objective units.
Progress = Callable[[dict], None]


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """``(bound - objective) / max(1, |bound|)``, at least 0 (``None`` when either is missing)."""
    if objective is None or bound is None:
        return None
    return max(0.0, (bound - objective) / max(1.0, abs(bound)))


class Phase(Protocol):
    """One step of the solver (:data:`matchmaker.solve.phases.PHASES`)."""

    #: The phase's name in progress reports, ``SolverResult.phases`` and clock stops.
    name: str

    def run(self, state: SolveState) -> None:
        """Run the phase, or skip it when its conditions do not hold; may end the solve."""


class SolveState:
    """Book-keeping of one solve: incumbent, bound, work, phases run, progress reports.

    Parameters
    ----------
    core : Core
        The problem after the locks (:func:`matchmaker.solve.core.build_core`).
    config : SolveConfig
    effort : Effort
        The solve's work and clock budget.
    progress : callable or None
        Hears of each phase (see :data:`Progress`).
    t0 : float
        ``time.monotonic()`` at the start of the solve.
    schedule_clock_stops : int
        :func:`matchmaker.solve.schedule.clock_stops` at the start: exact scheduling cut by
        the clock before the solve, not counted against it.

    Attributes
    ----------
    best, best_pairs : int or None, ndarray or None
        The incumbent's objective and pairs (sorted).
    bound : int or None
        The best proven upper bound.
    phases : list of dict
        ``phase, seconds, best, bound, work`` of each phase run.
    stats : dict
        Sizes and counters, in the order the phases wrote them.
    flow_pairs, lp, lagrangian, filter
        What earlier phases found for later ones: the flow's assignment, the LP result,
        the Lagrangian result (``None`` unless it ran), and the result whose bound and
        reduced costs fix pairs (the LP's, or the Lagrangian's when tighter).
    mip_pace : dict
        Simplex iterations per node of the restricted MIPs so far (shared by them).
    cp_starts : dict
        Pair -> start day from the restricted CP-SAT model.
    ended : bool
        A phase ended the solve.
    """

    def __init__(self, core: Core, config: SolveConfig, effort: Effort, progress: Progress | None, t0: float,
                 schedule_clock_stops: int = 0) -> None:
        self.core, self.config, self.effort, self.progress, self.t0 = core, config, effort, progress, t0
        self.schedule_clock_stops = schedule_clock_stops
        self.best: int | None = None
        self.best_pairs: np.ndarray | None = None
        self.bound: int | None = None
        self.phases: list[dict] = []
        self.stats: dict = {}
        self.flow_pairs: np.ndarray | None = None
        self.lp: LPResult | None = None
        self.lagrangian: LagrangianResult | None = None
        self.filter: LPResult | LagrangianResult | None = None
        self.mip_pace: dict = {}
        self.cp_starts: dict = {}
        self.ended = False
        self._phase_work = 0.0
        self._phase_t = t0

    # -- limits ------------------------------------------------------------------------------
    def stopped(self, phase: str, work: float = 0.0) -> bool:
        """True when at most ``work`` work units are left, or the clock ran out (which is
        recorded as a stop by the clock, after ``phase``)."""
        if self.effort.left() <= work:
            return True
        if self.effort.out_of_time():
            self.effort.clock_stopped(phase)
            return True
        return False

    def spent(self, phase: str, work: float, clock_stopped: bool = False) -> None:
        """Charge ``work`` units to the solve; ``clock_stopped``: the clock ended ``phase``."""
        self.effort.spend(work)
        if clock_stopped:
            self.effort.clock_stopped(phase)

    def done(self) -> bool:
        """The certified gap is at most the configuration's target gap."""
        g = relative_gap(self.best, self.bound)
        return g is not None and g <= self.config.target_gap

    def end(self) -> None:
        """No later phase runs."""
        self.ended = True

    # -- incumbent and bound -----------------------------------------------------------------
    def offer(self, pairs: np.ndarray) -> None:
        """Keep ``pairs`` (a feasible solution) if it beats the incumbent."""
        pairs = np.asarray(pairs, dtype=np.int64)
        val = self.core.value(pairs)
        if self.best is None or val > self.best:
            self.best, self.best_pairs = val, np.sort(pairs)

    def tighten(self, bound: float | None) -> None:
        """Keep ``bound`` if it is a better (lower) upper bound."""
        if bound is not None and (self.bound is None or bound < self.bound):
            self.bound = int(bound)

    # -- progress ----------------------------------------------------------------------------
    def report(self, phase: str, final: bool = True, best: int | None = None) -> None:
        """Tell ``progress`` where the solve is; ``final``: ``phase`` is over (recorded in :attr:`phases`)."""
        now = time.monotonic()
        best = self.best if best is None else best
        info = dict(phase=phase, best=best, bound=self.bound, gap=relative_gap(best, self.bound),
                    elapsed=round(now - self.t0, 3))
        if final:
            self.phases.append(dict(phase=phase, seconds=round(now - self._phase_t, 3), best=self.best,
                                    bound=self.bound, work=round(self.effort.spent - self._phase_work, 3)))
            self._phase_work = self.effort.spent
            self._phase_t = now
        if self.progress is not None:
            self.progress(info)

    def live(self, phase: str) -> Callable[[int | None, int | None], None] | None:
        """A callback ``(objective, bound)`` for a solver inside ``phase`` that reports each
        improving solution (``None`` without a progress callback)."""
        return None if self.progress is None else partial(self._live_report, phase)

    def _live_report(self, phase: str, objective: int | None, bound: int | None) -> None:
        self.report(phase, final=False, best=max(self.best if objective is None else objective, self.best))
