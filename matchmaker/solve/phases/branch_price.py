"""The ``branch-and-price`` phase: the exact search (:mod:`matchmaker.solve.branch_price`).

In the default mode it runs when a budget can bind (the Lagrangian ran) on rounds of at
most :data:`MAX_PAIRS` candidate pairs, with :attr:`~matchmaker.solve.config.SolveConfig.branch_price_share`
of the work left, so it stops at the same node on any machine. In prove mode
(:attr:`~matchmaker.solve.config.SolveConfig.prove`) it runs on every round not yet proven,
without a work limit: it stops when the round is proven optimal (or at a time limit, if
one is set), showing the best, the bound and the open nodes as it goes.
"""

from __future__ import annotations

from matchmaker.solve.branch_price import branch_and_price
from matchmaker.solve.lp import solve_relaxation
from matchmaker.solve.phases.state import SolveState

#: In the default mode the search runs on at most this many candidate pairs (a node of a
#: bigger round takes too long to be worth its share of the default work).
MAX_PAIRS = 100_000
#: ... and only with at least this much work left (work units).
MIN_WORK = 1.0


class BranchPrice:
    """Branch-and-price from the incumbent (module docstring)."""

    name = "branch-and-price"

    def run(self, state: SolveState) -> None:
        if not self._worth_running(state):
            return
        core, effort, prove = state.core, state.effort, state.config.prove
        if state.lp is None:
            state.lp = solve_relaxation(core, start_columns=state.flow_pairs, deadline=effort.deadline)
            state.tighten(state.lp.bound)
        lr = state.lagrangian
        prices = {}
        if lr is not None:
            mu = lr.multipliers
            prices = {("host", h): float(v) for h, v in enumerate(mu.host) if v > 0}
            prices.update({("energy", h): float(v) for h, v in enumerate(mu.energy) if v > 0})
        res = branch_and_price(core, state.best_pairs, windows=state.lp.rows.windows, prices=prices,
                               time_limit=effort.safety(),
                               max_work=None if prove else effort.allot(state.config.branch_price_share),
                               progress=None if state.progress is None else
                               lambda best, bound, open_nodes: self._live(state, best, bound, open_nodes))
        state.spent(self.name, res.work, res.clock_stopped)
        state.offer(res.pairs)
        state.tighten(res.bound)
        state.stats.update(branch_price_status=res.status, branch_price_nodes=res.nodes,
                           branch_price_open_nodes=res.open, branch_price_cuts=res.cuts,
                           branch_price_seconds=round(res.seconds, 3), branch_price_work=round(res.work, 3))
        state.report(self.name)

    def _worth_running(self, state: SolveState) -> bool:
        if state.best_pairs is None or state.done() or len(state.core.cand) == 0:
            return False
        if state.config.prove:
            return not state.effort.out_of_time()
        return (state.config.branch_price_share > 0 and state.lagrangian is not None
                and len(state.core.cand) <= MAX_PAIRS and not state.stopped(self.name, MIN_WORK))

    def _live(self, state: SolveState, best: int, bound: int, open_nodes: int) -> None:
        """Progress after each node: best, bound and the open nodes."""
        state.tighten(bound)
        state.stats["branch_price_open_nodes"] = open_nodes
        state.report(f"{self.name} ({open_nodes} nodes open)", final=False, best=max(best, state.best))
