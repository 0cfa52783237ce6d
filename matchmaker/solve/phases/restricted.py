"""The restricted-model phases: MIP rounds (HiGHS) and a CP-SAT model, filtered by reduced cost.

Reduced-cost fixing (:func:`restrict`): a solution using candidate ``j`` is worth at most
``UB + rc_j``, so the pairs with the best reduced costs form a restricted problem and every
solution using another pair is worth at most ``z_filter = UB + max(rc of the others)``.
A restricted optimum ``z*`` is the global one when ``z* >= z_filter``; in any case
``min(UB, max(restricted bound, z_filter))`` is a certified bound.

``mip``
    HiGHS solves the restricted problem from the incumbent (MIP start), with the same-day
    capacity added lazily as valid cuts (:mod:`matchmaker.solve.mip`); the restricted set
    doubles while work remains and the restricted optimum is below the filter.
``cpsat``
    When work remains and every pair that could beat the incumbent fits in a small model:
    the same restricted problem in CP-SAT with exact intervals for the same-day capacity and
    a complete hint (:mod:`matchmaker.solve.cpsat_model`), with the same proof rule.
"""

from __future__ import annotations

import numpy as np

from matchmaker.solve.core import Core
from matchmaker.solve.cpsat_model import solve_restricted
from matchmaker.solve.effort import units
from matchmaker.solve.lagrangian import LagrangianResult
from matchmaker.solve.lp import LPResult
from matchmaker.solve.mip import ITERATIONS_PER_NODE, MipResult, solve_restricted_mip
from matchmaker.solve.phases.state import SolveState
from matchmaker.solve.schedule import schedule_pairs

#: A restricted MIP round starts only with more than this much work left (work units) ...
MIP_MIN_WORK = 0.5
#: ... and a later (bigger) round only with enough besides for a few branch-and-bound nodes.
MIP_LATER_ROUND_NODES = 10
#: The restricted CP-SAT model starts only with more than this much work left (work units).
CPSAT_MIN_WORK = 1.0


def restrict(filt: LPResult | LagrangianResult, best: int, limit: int) -> tuple[np.ndarray, int | None]:
    """Candidates that may beat ``best`` by reduced cost, at most ``limit`` of them.

    ``filt`` is an LP result or a Lagrangian one: a solution using candidate ``j`` is worth
    at most ``filt.bound + filt.rc[j]`` (the Lagrangian also gives it exactly, as
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


def first_mip_pairs(core: Core) -> int:
    """Pairs of the first restricted MIP by default: ``max(2000, 2.5 x visitors with candidates)``."""
    return int(max(2000, 2.5 * len(np.unique(core.problem.v[core.cand]))))


class MipRounds:
    """Restricted MIPs on the pairs priced best, from the incumbent, growing until proven or out of work."""

    name = "mip"

    def run(self, state: SolveState) -> None:
        cand = state.core.cand
        size = first_mip_pairs(state.core) if state.config.mip_pairs is None else state.config.mip_pairs
        rounds, last = 0, None
        while size > 0 and not state.done() and not state.stopped(self.name, MIP_MIN_WORK):
            if rounds and state.effort.left() < MIP_MIN_WORK + MIP_LATER_ROUND_NODES * ITERATIONS_PER_NODE * units(
                    "mip_simplex_iteration", 1):
                break  # not enough work left for a few nodes of a bigger model
            rounds += 1
            keep_mask, z_filter = restrict(state.filter, state.best, size)
            if last == (int(keep_mask.sum()), state.best):
                break  # the same restricted problem from the same incumbent: nothing new to learn
            last = (int(keep_mask.sum()), state.best)
            share = state.config.mip_share if rounds == 1 else 1.0
            res = solve_restricted_mip(state.core, cand[keep_mask], time_limit=state.effort.safety(),
                                       start=state.best_pairs, rows=state.lp.rows, pace=state.mip_pace,
                                       seed=state.config.seed, progress=state.live(self.name),
                                       max_work=state.effort.allot(share))
            self._record(state, res, rounds, z_filter)
            if z_filter is None or state.done() or keep_mask.all():
                break
            # the restricted optimum is below the filter, or the work ran out: widen the
            # restricted set and continue from the new incumbent
            size = min(2 * size, len(cand))

    def _record(self, state: SolveState, res: MipResult, rounds: int, z_filter: int | None) -> None:
        state.spent(self.name, res.work, res.clock_stopped)
        state.stats.update(mip_pairs=res.n_pairs, mip_status=res.status, mip_rounds=rounds, mip_cuts=len(res.cuts),
                           mip_seconds=round(state.stats.get("mip_seconds", 0) + res.seconds, 3))
        if res.pairs is not None:
            state.offer(res.pairs)
        if res.bound is not None:
            state.tighten(max(res.bound, z_filter) if z_filter is not None else res.bound)
        state.report(self.name)


class CpSat:
    """The restricted problem in CP-SAT with exact same-day capacity, only when every pair
    that could improve on the incumbent fits (then it can prove)."""

    name = "cpsat"

    def run(self, state: SolveState) -> None:
        core, config, effort = state.core, state.config, state.effort
        keep_mask, z_filter = restrict(state.filter, state.best, config.max_restricted_pairs)
        provable = z_filter is None or z_filter <= state.best
        if state.done() or not provable or state.stopped(self.name, CPSAT_MIN_WORK):
            return
        starts, _, _ = schedule_pairs(core.problem, state.best_pairs)
        res = solve_restricted(core, core.cand[keep_mask], state.best_pairs, starts, time_limit=effort.safety(),
                               max_work=effort.allot(config.cpsat_share), seed=config.seed, workers=config.workers,
                               absolute_gap=config.target_gap * max(1.0, abs(state.bound or 0)),
                               progress=state.live(self.name))
        state.spent(self.name, res.work, res.clock_stopped)
        state.stats.update(restricted_pairs=res.n_pairs, restricted_intervals=res.n_intervals,
                           restricted_status=res.status, restricted_seconds=round(res.seconds, 3))
        if res.pairs is not None:
            state.offer(res.pairs)
            state.cp_starts = res.starts
        if res.bound is not None:
            state.tighten(max(res.bound, z_filter) if z_filter is not None else res.bound)
        state.report(self.name)
