"""The exact method of the prove mode: Lagrangian fixing, then a MIP with Lagrangian knapsack cuts.

Measured on the sample (300 x 150, docs/decisions.md §35): the Lagrangian bound of
:mod:`matchmaker.solve.lagrangian` is the tightest bound the solver has, and HiGHS or
CP-SAT on the same pairs start far above it. So the exact method hands the Lagrangian's
strength to the MIP:

**Fixing.** ``pair_bound[j]`` is an exact upper bound on every solution that uses pair
``j``; pairs with ``pair_bound <= z`` (the incumbent) cannot lead to a better solution
and are left out (:func:`lagrangian_fixing`). The optimum of the pairs kept is then the
optimum of the round, or the incumbent is.

**Knapsack cuts** (:func:`knapsack_cuts`). At the Lagrangian's prices each candidate pair
has an exact integer worth ``c_j`` (in units of ``1/D``) and each partnership ``q`` a
multiple-choice knapsack optimum ``K_q`` (one pair per visitor, within its budget). Every
solution keeps the budget and the one-exchange rule of ``q``, so ``sum_{j in q} c_j x_j <=
K_q`` holds for every feasible solution: a valid cut. With the host rows in the MIP the LP
bound of the MIP is then at most the Lagrangian bound (weak duality), so branch-and-bound
starts where the Lagrangian stopped.

**Search** (:func:`solve_exact`). HiGHS on the kept pairs with these cuts and the proven
scheduling cuts of :mod:`matchmaker.solve.mip`, from the incumbent, in steps of growing
work; after each step an improved incumbent fixes more pairs. The bound returned is the
restricted MIP's dual bound (rounded down with HiGHS's tolerance), valid for the round
because every left-out pair is dominated by the incumbent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from matchmaker.solve.config import SolveConfig
from matchmaker.solve.core import Core
from matchmaker.solve.lagrangian import LagrangianResult
from matchmaker.solve.lagrangian_relaxation import KnapsackRelaxation
from matchmaker.solve.lp_rows import LPRows
from matchmaker.solve.mip import Cut, solve_restricted_mip

#: Work units of the first step of the search; each further step doubles it.
FIRST_STEP_WORK = 20.0
#: Relative slack added to a knapsack cut's right-hand side (its coefficients are floats).
CUT_SLACK = 1e-9

#: ``progress(best, bound, pairs kept)`` after each step of the search.
ExactProgress = Callable[[int, int | None, int], None]


@dataclass
class ExactResult:
    """Outcome of :func:`solve_exact` (objective and bound include the locks).

    status : {"optimal", "feasible"} -- optimal: the bound equals the objective.
    pairs : ndarray -- the best solution (pair indices, locks included, sorted).
    objective : int -- its value.
    bound : int or None -- no feasible solution is worth more (``None``: no bound proven here).
    kept : int -- candidate pairs kept by the last fixing.
    steps : int -- search steps run.
    cuts : int -- cuts in the last model (knapsack and scheduling).
    work : float -- work units spent; seconds : float.
    clock_stopped : bool -- the time limit, not the work, ended the search.
    """

    status: str
    pairs: np.ndarray
    objective: int
    bound: int | None
    kept: int
    steps: int
    cuts: int
    work: float
    seconds: float
    clock_stopped: bool = False


def prove_config(config: SolveConfig, time_limit: float | None = None) -> SolveConfig:
    """The prove mode of ``config`` (``--prove``): the phases keep its resolved work limit
    (so they run as in the default mode), the ``exact`` phase then searches until proven;
    no time limit unless ``time_limit`` is given."""
    return replace(config, prove=True, time_limit=time_limit)


def knapsack_cuts(core: Core, lagr: LagrangianResult) -> list[Cut]:
    """One valid cut per partnership with candidates, from the Lagrangian's prices (module docstring).

    ``sum_{j in q} (c_j / D) x_j <= K_q / D`` (plus a slack of :data:`CUT_SLACK` of its size
    for the floating point), where ``c_j`` and ``K_q`` are the exact integer pair worths and
    knapsack optima at the prices ``lagr.multipliers``.
    """
    mu = lagr.multipliers
    rel = KnapsackRelaxation(core, mu.windows)
    _, _, values, info = rel.evaluate(rel.to_int(mu))
    cuts = []
    for seg, _, _, ks in info:
        rhs = ks.value / rel.den
        cuts.append(Cut(core.cand[seg], values[seg] / rel.den, rhs + CUT_SLACK * max(1.0, abs(rhs)) + 1e-9,
                        "knapsack"))
    return cuts


def lagrangian_fixing(lagr: LagrangianResult, best: int) -> np.ndarray:
    """Mask (``core.cand`` order) of the pairs a solution better than ``best`` may use."""
    return np.asarray(lagr.pair_bound) > best


def solve_exact(core: Core, lagr: LagrangianResult, start: np.ndarray, *, rows: LPRows | None = None,
                max_work: float | None = None, time_limit: float | None = None, seed: int = 0,
                progress: ExactProgress | None = None, first_step: float = FIRST_STEP_WORK) -> ExactResult:
    """The optimum of the round from the incumbent ``start``, or the best found within the limits.

    Parameters
    ----------
    core : Core
    lagr : LagrangianResult
        A Lagrangian of ``core`` (its ``pair_bound`` fixes pairs, its prices give the cuts).
    start : array of pair indices
        A feasible solution (locks included).
    rows : LPRows, optional
        The LP's rows (with its window cuts); default fresh ones.
    max_work, time_limit : float, optional
        Work units and wall-clock seconds for the whole search (``None``: until proven).
    seed : int
        HiGHS's random seed.
    progress : callable, optional
        ``progress(best, bound, pairs kept)`` after each step.
    first_step : float
        Work units of the first step (each further one doubles).
    """
    t0 = time.monotonic()
    start = np.sort(np.asarray(start, dtype=np.int64))
    rows = LPRows(core) if rows is None else rows
    cuts = knapsack_cuts(core, lagr)
    best_pairs, best = start, core.value(start)
    bound: int | None = None
    step, steps, work, clock, kept = float(first_step), 0, 0.0, False, 0
    while True:
        keep = lagrangian_fixing(lagr, best)
        kept = int(keep.sum())
        if kept == 0 or (bound is not None and bound <= best):
            bound = best if kept == 0 else bound
            break
        chunk = step if max_work is None else min(step, max_work - work)
        left = None if time_limit is None else time_limit - (time.monotonic() - t0)
        if chunk <= 0 or (left is not None and left <= 0.05):
            clock = clock or left is not None and left <= 0.05
            break
        steps += 1
        res = solve_restricted_mip(core, core.cand[keep], left, start=best_pairs, rows=rows, cuts=cuts,
                                   max_rounds=1000, seed=seed, max_work=chunk)
        work += res.work
        clock = clock or res.clock_stopped
        if res.pairs is not None and res.objective > best:
            best_pairs, best = np.sort(res.pairs), res.objective
        if res.bound is not None:
            # a step that proves its restricted problem gives the round's bound: every
            # solution using a left-out pair is worth at most the incumbent
            bound = max(res.bound, best) if bound is None else min(bound, max(res.bound, best))
        if progress is not None:
            progress(best, bound, kept)
        if res.status == "optimal" or (bound is not None and bound <= best):
            bound = best if res.status == "optimal" else bound
            break
        step *= 2
    status = "optimal" if bound is not None and bound <= best else "feasible"
    return ExactResult(status, best_pairs, best, bound, kept, steps, len(cuts), work, time.monotonic() - t0, clock)
