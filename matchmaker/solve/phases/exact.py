"""The ``exact`` phase of the prove mode: search until the round is proven optimal.

Runs only when :attr:`~matchmaker.solve.config.SolveConfig.prove` is set, after the other
phases (the primal heuristics and warm start, run with their usual work): it makes sure a
Lagrangian with converged prices exists, then runs :func:`matchmaker.solve.exact.solve_exact`
from the incumbent without a work limit (the time limit, if any, still stops it), and
reports ``best``, ``bound`` and the pairs still open after each step. The default mode
never runs it, so its proposals are unchanged and reproducible.
"""

from __future__ import annotations

from matchmaker.solve.exact import solve_exact
from matchmaker.solve.lagrangian import Multipliers, lagrangian
from matchmaker.solve.lp import solve_relaxation
from matchmaker.solve.phases.state import SolveState

#: Without a binding budget the knapsacks only need to be a relaxation: their budgets are
#: counted in a coarser unit beyond this many states (a valid, cheaper bound).
COARSE_STATES = 100_000


class Exact:
    """Lagrangian fixing and a MIP with knapsack cuts, until proven (prove mode only)."""

    name = "exact"

    def run(self, state: SolveState) -> None:
        if not state.config.prove or state.done() or state.effort.out_of_time():
            return
        core, effort = state.core, state.effort
        if len(core.cand) == 0:
            return
        if state.lp is None:
            state.lp = solve_relaxation(core, start_columns=state.flow_pairs, deadline=effort.deadline)
            state.tighten(state.lp.bound)
        lr = state.lagrangian
        if lr is None or lr.master < lr.bound_exact - 1e-6 * max(1.0, abs(lr.bound_exact)):
            # prices to convergence (a partial Lagrangian fixes few pairs)
            start = None if lr is None else lr.multipliers
            lr = lagrangian(core.problem, Multipliers.from_lp(state.lp) if start is None else start,
                            time_limit=effort.safety(), core=core, guide=state.lp.x, start=state.best_pairs,
                            max_states=None if len(state.lp.rows.parts) else COARSE_STATES)
            state.lagrangian = lr
            state.tighten(lr.bound)
            if lr.pairs is not None:
                state.offer(lr.pairs)
        state.report(self.name, final=False)
        res = solve_exact(core, lr, state.best_pairs, rows=state.lp.rows, time_limit=effort.safety(),
                          seed=state.config.seed, progress=lambda best, bound, kept: self._step(state, best, bound,
                                                                                                 kept))
        if res.clock_stopped:
            effort.clock_stopped(self.name)
        state.offer(res.pairs)
        state.tighten(res.bound)
        state.stats.update(exact_status=res.status, exact_pairs=res.kept, exact_steps=res.steps,
                           exact_cuts=res.cuts, exact_seconds=round(res.seconds, 3), exact_work=round(res.work, 3))
        state.report(self.name)

    def _step(self, state: SolveState, best: int, bound: int | None, kept: int) -> None:
        """One step's progress: ``best``, ``bound`` and the pairs still open."""
        state.tighten(bound)
        state.stats["exact_open_pairs"] = kept
        if state.progress is not None:
            state.report(f"{self.name} ({kept} pairs open)", final=False, best=max(best, state.best))
