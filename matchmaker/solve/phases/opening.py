"""The opening phases: the locks, the flow, the LP relaxation and the repair.

Fast and run on every round (unless an earlier one proves the optimum or the work runs
out), they give the first incumbents, the first bounds, and the LP's duals and reduced
costs that the later phases (:mod:`matchmaker.solve.phases.lagrangian`,
:mod:`matchmaker.solve.phases.restricted`) start from.
"""

from __future__ import annotations

import numpy as np

from matchmaker.solve.core import Core
from matchmaker.solve.effort import units
from matchmaker.solve.flow import max_weight_assignment
from matchmaker.solve.heuristics import complete
from matchmaker.solve.lp import solve_relaxation
from matchmaker.solve.phases.state import SolveState
from matchmaker.solve.problem import group_reduce
from matchmaker.solve.schedule import schedule_pairs


class Locks:
    """The locked pairs alone: a feasible solution, and each visitor's best weight summed as a first bound.

    (:func:`matchmaker.solver.solve` has checked that the locks keep every rule.)
    """

    name = "locks"

    def run(self, state: SolveState) -> None:
        core, p = state.core, state.core.problem
        state.offer(core.locked)
        best_w = group_reduce(np.maximum, p.v[core.cand], np.maximum(core.w[core.cand], 0), p.n_visitors, 0)
        state.tighten(core.fixed_value + int(best_w.sum()))
        state.report(self.name)
        if state.done() or state.stopped(self.name):
            state.end()


class Flow:
    """The optimum without budgets, fairness and same-day capacity (a min-cost flow): an upper bound.

    If it keeps the budgets and fairness and every host's stays can be scheduled, it is
    optimal and the solve ends. If the work runs out here, the flow's pairs are repaired
    into a feasible solution (reported as ``repair``) and the solve ends.
    """

    name = "flow"

    def run(self, state: SolveState) -> None:
        core, p = state.core, state.core.problem
        cand = core.cand
        chosen = max_weight_assignment(p.v[cand], p.h[cand], core.w[cand], core.room, p.n_visitors)
        flow_pairs = np.sort(np.concatenate([cand[chosen], core.locked]))
        state.flow_pairs = flow_pairs
        state.stats["flow_value"] = int(core.w[flow_pairs].sum())
        state.spent(self.name, units("flow_pair", len(cand)))
        state.tighten(state.stats["flow_value"])
        if _keeps_every_rule(core, flow_pairs):
            state.offer(flow_pairs)
            state.report(self.name)
            state.end()
            return
        state.report(self.name)
        if state.stopped(self.name):
            state.offer(complete(core, flow_pairs))
            state.report("repair")
            state.end()


def _keeps_every_rule(core: Core, pairs: np.ndarray) -> bool:
    """``pairs`` (an assignment that keeps the visitor and host rules) also keeps the budgets,
    the fairness target and the same-day capacity (checked in this order)."""
    p = core.problem
    spend = np.bincount(p.part[pairs], weights=p.cost[pairs], minlength=p.n_partnerships)
    if (spend > p.budget).any():
        return False
    if p.programme_budget is not None and p.cost[pairs].sum() > p.programme_budget:
        return False
    n = np.bincount(p.fair[pairs], minlength=p.n_fair_groups)
    if not (core.penalty == 0 or bool((n >= core.target).all())):
        return False
    _, failed, _ = schedule_pairs(p, pairs)
    return len(failed) == 0


class Relaxation:
    """The LP relaxation by column generation (:mod:`matchmaker.solve.lp`): a safe bound from its duals.

    Its reduced costs are the first filter of the restricted models.
    """

    name = "lp"

    def run(self, state: SolveState) -> None:
        effort = state.effort
        lp = solve_relaxation(state.core, start_columns=state.flow_pairs, deadline=effort.deadline,
                              max_work=effort.allot(state.config.lp_share))
        state.lp = state.filter = lp
        state.spent(self.name, lp.work, lp.clock_stopped)
        state.tighten(lp.bound)
        state.stats.update(lp_iterations=lp.iterations, lp_columns=lp.columns, lp_converged=lp.converged,
                           lp_value=lp.lp_value, lp_bound=lp.bound)
        state.report(self.name)


class Repair:
    """A feasible solution from the LP's integral part, repaired and re-filled in order of
    reduced cost (:mod:`matchmaker.solve.heuristics`); the solve ends here when the gap is
    reached or the work is spent."""

    name = "repair"

    def run(self, state: SolveState) -> None:
        core, lp = state.core, state.lp
        xint = core.cand[lp.x > 1 - 1e-6]
        state.offer(complete(core, np.concatenate([xint, core.locked]), key=lp.rc))
        state.spent(self.name, units("repair_pair", len(core.cand)))
        state.report(self.name)
        if state.done() or state.stopped(self.name):
            state.end()
