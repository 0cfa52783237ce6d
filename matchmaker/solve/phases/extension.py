"""The extension: the work beyond the base, in whole steps from the incumbent (more work is never worse).

The phases of :data:`matchmaker.solve.phases.PHASES` share the *base* of the work limit
(``min(work_limit, base_work)``, :class:`~matchmaker.solve.effort.Effort`) by shares, so with
any work limit at or above the base they take exactly the path of a run whose limit is the
base. What is left beyond it goes here, in steps of a fixed size
(:attr:`~matchmaker.solve.config.SolveConfig.extension_step` work units), each starting
from the incumbent:

* when every pair that could beat the incumbent fits in the restricted CP-SAT model (the
  same rule as the ``cpsat`` phase), CP-SAT on it, which can prove the optimum;
* otherwise a restricted MIP (HiGHS) on twice as many pairs as the last one, priced best by
  reduced cost (:func:`matchmaker.solve.phases.restricted.restrict`).

A step runs only when its whole work fits in what is left. A step that would solve the same
restricted problem from the same incumbent as the one before gets twice its work (a
deterministic solver given the same problem and no more work would find nothing new). No
step's size depends on the work limit, so a run with a larger limit takes every step a smaller one took,
with the same results, and then perhaps more: its objective is never lower. The work left
over (less than the next step, which may be a doubled one) is not spent.
"""

from __future__ import annotations

import numpy as np

from matchmaker.solve.cpsat_model import solve_restricted
from matchmaker.solve.mip import solve_restricted_mip
from matchmaker.solve.phases.restricted import first_mip_pairs, restrict
from matchmaker.solve.phases.state import SolveState
from matchmaker.solve.schedule import schedule_pairs


class Extension:
    """Whole steps of :attr:`~matchmaker.solve.config.SolveConfig.extension_step` work beyond the base
    (module docstring); nothing when the work limit is at most the base."""

    name = "more-work"

    def run(self, state: SolveState) -> None:
        effort, step = state.effort, state.config.extension_step
        if state.filter is None or state.best_pairs is None or effort.full_limit == effort.work_limit:
            return
        effort.extend()
        n = len(state.core.cand)
        size = min(2 * int(state.stats.get("mip_pairs") or first_mip_pairs(state.core)), n)
        steps, work, last = 0, step, None
        while not state.done() and effort.left() >= work and not state.stopped(self.name):
            keep_mask, z_filter = restrict(state.filter, state.best, state.config.max_restricted_pairs)
            provable = z_filter is None or z_filter <= state.best
            if not provable:
                keep_mask, z_filter = restrict(state.filter, state.best, size)
            seen = (provable, int(keep_mask.sum()), state.best)
            # the same restricted problem from the same incumbent: only more work can find more
            work = 2 * work if seen == last else step
            if effort.left() < work:
                break
            last, steps = seen, steps + 1
            if provable:
                self._cpsat(state, keep_mask, z_filter, work)
            else:
                self._mip(state, keep_mask, z_filter, work)
                size = min(2 * size, n)
        state.stats["extension_steps"] = steps
        if steps:
            state.report(self.name)

    @staticmethod
    def _mip(state: SolveState, keep_mask: np.ndarray, z_filter: int | None, work: float) -> None:
        """One step: the restricted MIP from the incumbent, with ``work`` work units."""
        core = state.core
        res = solve_restricted_mip(core, core.cand[keep_mask], time_limit=state.effort.safety(),
                                   start=state.best_pairs, rows=state.lp.rows, pace=state.mip_pace,
                                   seed=state.config.seed, progress=state.live("more-work"),
                                   max_work=work)
        state.spent("more-work", res.work, res.clock_stopped)
        if res.pairs is not None:
            state.offer(res.pairs)
        if res.bound is not None:
            state.tighten(max(res.bound, z_filter) if z_filter is not None else res.bound)

    @staticmethod
    def _cpsat(state: SolveState, keep_mask: np.ndarray, z_filter: int | None, work: float) -> None:
        """One step: the restricted CP-SAT model from the incumbent, with ``work`` work units."""
        core, config = state.core, state.config
        starts, _, _ = schedule_pairs(core.problem, state.best_pairs)
        res = solve_restricted(core, core.cand[keep_mask], state.best_pairs, starts,
                               time_limit=state.effort.safety(), max_work=work, seed=config.seed,
                               workers=config.workers,
                               absolute_gap=config.target_gap * max(1.0, abs(state.bound or 0)),
                               progress=state.live("more-work"))
        state.spent("more-work", res.work, res.clock_stopped)
        if res.pairs is not None and core.value(res.pairs) > state.best:
            state.offer(res.pairs)
            state.cp_starts = res.starts
        if res.bound is not None:
            state.tighten(max(res.bound, z_filter) if z_filter is not None else res.bound)
