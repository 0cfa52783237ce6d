"""The Lagrangian phases: a bound with exact partnership knapsacks, then a MIP on its master's pairs.

``lagrangian``
    When a budget can bind: the Lagrangian bound of :mod:`matchmaker.solve.lagrangian`
    (host rules priced, each partnership's budget an exact multiple-choice knapsack), at
    least as tight as the LP where the budgets' integrality matters, with a primal solution
    and reduced costs (which replace the LP's as the filter when its bound is lower).
``support-mip``
    After the Lagrangian: the restricted MIP on the few pairs its knapsack master mixes
    (plus the incumbent), for a better incumbent only; nothing is proven from it.
"""

from __future__ import annotations

from matchmaker.solve.lagrangian import Multipliers, lagrangian
from matchmaker.solve.mip import solve_restricted_mip
from matchmaker.solve.phases.state import SolveState

#: The Lagrangian runs on more candidate pairs than :data:`LAGRANGIAN_SMALL_PAIRS` only
#: with at least this much work left (work units), and on more than
#: :data:`LAGRANGIAN_MAX_PAIRS` only with :data:`LAGRANGIAN_BIG_MIN_WORK` left (its
#: knapsacks grow with the budgets; measured: 500 x 250 converges in ~7 s, 2000 x 1000 not in 15 s).
LAGRANGIAN_MIN_WORK = 15.0
LAGRANGIAN_MAX_PAIRS = 200_000
LAGRANGIAN_BIG_MIN_WORK = 120.0
#: On at most this many candidate pairs the Lagrangian runs whatever the work left, with at
#: least :data:`LAGRANGIAN_SMALL_SHARE` of it (measured: 500 x 250, 45,000 pairs, converges
#: in ~1.5 s), followed by a MIP on the pairs its master mixes (which found the best known
#: 500 x 250 solution).
LAGRANGIAN_SMALL_PAIRS = 100_000
LAGRANGIAN_SMALL_SHARE = 0.5
#: The support MIP starts only with more than this much work left (work units).
SUPPORT_MIN_WORK = 0.5


class Lagrangian:
    """The Lagrangian bound when a budget can bind and the work left allows (module docstring)."""

    name = "lagrangian"

    def run(self, state: SolveState) -> None:
        if not _worth_running(state):
            return
        core, lp, effort = state.core, state.lp, state.effort
        share = state.config.lagrangian_share
        if len(core.cand) <= LAGRANGIAN_SMALL_PAIRS:
            share = max(share, LAGRANGIAN_SMALL_SHARE)
        lr = lagrangian(core.problem, Multipliers.from_lp(lp), time_limit=effort.safety(), core=core,
                        guide=lp.x, start=state.best_pairs, max_work=effort.allot(share))
        state.lagrangian = lr
        state.spent(self.name, lr.work, lr.clock_stopped)
        state.tighten(lr.bound)
        if lr.pairs is not None:
            state.offer(lr.pairs)
        state.stats.update(lagrangian_bound=lr.bound, lagrangian_iterations=lr.iterations,
                           lagrangian_seconds=round(lr.seconds, 3))
        if lr.bound < lp.bound:
            state.filter = lr
        state.report(self.name)


def _worth_running(state: SolveState) -> bool:
    """A budget row exists, the gap is open, work is left (a clock stop here counts after
    ``repair``), and the round is small or the work left suits its size."""
    if not (state.config.lagrangian_share > 0 and len(state.lp.rows.parts) and not state.done()
            and not state.stopped("repair")):
        return False
    n, left = len(state.core.cand), state.effort.left()
    return n <= LAGRANGIAN_SMALL_PAIRS or (left >= LAGRANGIAN_MIN_WORK
                                           and (n <= LAGRANGIAN_MAX_PAIRS or left >= LAGRANGIAN_BIG_MIN_WORK))


class SupportMip:
    """The restricted MIP on the pairs the Lagrangian master mixes, for a better incumbent
    (no bound: nothing is filtered); only after the Lagrangian ran."""

    name = "support-mip"

    def run(self, state: SolveState) -> None:
        lr = state.lagrangian
        if (lr is None or lr.support is None or not len(lr.support) or state.done()
                or state.stopped(self.name, SUPPORT_MIN_WORK)):
            return
        core, effort = state.core, state.effort
        res = solve_restricted_mip(core, core.cand[lr.support], time_limit=effort.safety(), start=state.best_pairs,
                                   rows=state.lp.rows, pace=state.mip_pace, seed=state.config.seed,
                                   max_work=effort.allot(state.config.support_share))
        state.spent(self.name, res.work, res.clock_stopped)
        state.stats.update(support_pairs=res.n_pairs, support_status=res.status)
        if res.pairs is not None:
            state.offer(res.pairs)
        state.report(self.name)
