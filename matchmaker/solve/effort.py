"""A deterministic work budget for the solver, with the wall clock as a safety net.

Reproducibility needs every decision of a solve (how long the LP prices, how many
Lagrangian rounds, how many branch-and-bound nodes, when to widen a restricted model) to
depend on the input, the settings and the seed only, never on how fast the machine
happens to be. So the solver spends *work units*, counted from deterministic quantities
(candidate pairs scanned, knapsack rounds, branch-and-bound nodes, CP-SAT's deterministic
time), each converted at a fixed rate (:data:`RATES`) to about one second of the
reference machine (2 cores, x86_64, the benchmark machine of ``reports/``).

The wall-clock time limit stays a hard stop. When it interrupts a phase before its work
is spent, the result depends on the machine's speed: :attr:`Effort.clock_stops` records
which phase, and the solve is reported as not reproducible. With the default limits (the
time limit derived from the work, :func:`matchmaker.solve.config.derived_time_limit`) that
needs a machine more than three times slower than the reference.

More work never gives a worse objective: an :class:`Effort` first offers the phases only
its *base* (``min(work_limit, base)``), so they take exactly the path of a run with that
work limit; :meth:`Effort.extend` then opens the rest for the extension steps
(:mod:`matchmaker.solve.phases.extension`), which start from the incumbent.

Both limits come checked from :class:`matchmaker.solve.config.SolveConfig`
(:meth:`Effort.for_config`); an :class:`Effort` is the run-time side of them: work spent
and left, the deadline, and the phases the clock stopped.
"""

from __future__ import annotations

import math
import time

from matchmaker.solve.config import SolveConfig

#: Seconds of the reference machine per counted unit, fitted 2026-12-04 on the rounds of
#: ``benchmarks/bench_solver.py`` and the sample. They are estimates: HiGHS's time per
#: simplex iteration varies about twofold between rounds of the same size, budget-free
#: MIPs are overcharged (presolve shrinks them), and a MIP round's root is never cut, so
#: a solve can spend more or less wall time than its work (reports/solver_benchmark.md
#: prints both).
RATES = dict(
    flow_pair=5e-7,            # min-cost flow, per candidate pair
    repair_pair=6e-7,          # greedy repair and re-fill, per candidate pair
    lp_pair_iteration=1.5e-7,   # one column-generation round (pricing, cut separation), per candidate pair
    lp_simplex_row=2e-8,       # one simplex iteration of the LP master, per row
    lagrangian_pair_iteration=5e-7,  # one knapsack round of the Lagrangian, per candidate pair
    mip_simplex_iteration=1e-4,    # one simplex iteration of a restricted MIP (any node) ...
    mip_simplex_row=3e-8,          # ... plus this per row of the model ...
    mip_simplex_nonzero=1.5e-8,    # ... plus this per nonzero of its matrix, up to MIP_NONZERO_CAP
    mip_round_entry=2e-5,      # setting up and presolving a restricted MIP, per row and column
    cpsat_dtime=1.0,           # one unit of CP-SAT's deterministic time
    branch_price_round=0.01,         # one knapsack round and master LP of a branch-and-price node ...
    branch_price_pair_round=2e-6,    # ... plus this per candidate pair of the node
)

#: Nonzeros beyond this add no work per simplex iteration (HiGHS's presolve shrinks the
#: big restricted MIPs; measured 0.9 ms an iteration at 350,000 nonzeros).
MIP_NONZERO_CAP = 50_000


class Effort:
    """Work left to spend, and the wall-clock deadline behind it.

    Parameters
    ----------
    work_limit : float or None
        Work units for the whole solve (``None``: unlimited), as checked by
        :class:`~matchmaker.solve.config.SolveConfig`.
    time_limit : float or None
        Wall-clock seconds (``None``: no deadline).
    t0 : float, optional
        ``time.monotonic()`` at the start (default: now).
    base : float, optional
        Work offered until :meth:`extend` (default: all of ``work_limit``).

    Attributes
    ----------
    work_limit : float or None
        The work offered now: ``min(work_limit, base)`` until :meth:`extend`, then all of it.
    full_limit : float or None
        The solve's whole work limit.
    """

    def __init__(self, work_limit: float | None, time_limit: float | None, t0: float | None = None,
                 base: float | None = None) -> None:
        self.t0 = time.monotonic() if t0 is None else t0
        self.full_limit = None if work_limit is None else float(work_limit)
        self.work_limit = self.full_limit if base is None or work_limit is None else min(self.full_limit, base)
        self.deadline = None if time_limit is None else self.t0 + float(time_limit)
        self.spent = 0.0
        self.clock_stops: list[str] = []

    @classmethod
    def for_config(cls, config: SolveConfig, t0: float | None = None) -> Effort:
        """The budget of a solve under ``config`` (its work limit already resolved), started at ``t0``;
        its base is ``config.base_work``."""
        return cls(config.work_limit, config.time_limit, t0, base=config.base_work)

    def extend(self) -> float:
        """Offer the whole work limit (after the base); returns the work now left."""
        self.work_limit = self.full_limit
        return self.left()

    # -- work --------------------------------------------------------------------------------
    def left(self) -> float:
        """Work units left (``inf`` when unlimited)."""
        return math.inf if self.work_limit is None else max(0.0, self.work_limit - self.spent)

    def spend(self, units: float) -> None:
        """Charge ``units`` work units (negative counts as 0)."""
        self.spent += max(0.0, float(units))

    def allot(self, share: float, at_least: float = 0.0) -> float:
        """A phase's work: ``share`` of what is left, at least ``at_least`` (if left)."""
        left = self.left()
        return left if math.isinf(left) else min(left, max(at_least, share * left))

    # -- clock -------------------------------------------------------------------------------
    def clock_left(self) -> float:
        """Wall-clock seconds left (``inf`` without a deadline)."""
        return math.inf if self.deadline is None else self.deadline - time.monotonic()

    def safety(self, minimum: float = 0.05) -> float | None:
        """Time limit to hand to a solver call as its safety net (``None``: none)."""
        left = self.clock_left()
        return None if math.isinf(left) else max(minimum, left)

    def out_of_time(self) -> bool:
        return self.clock_left() <= 0

    def clock_stopped(self, phase: str) -> None:
        """Record that the wall clock, not the work limit, ended ``phase``."""
        if phase not in self.clock_stops:
            self.clock_stops.append(phase)

    @property
    def reproducible(self) -> bool:
        """True when no phase was cut by the wall clock."""
        return not self.clock_stops

    def exhausted(self) -> bool:
        return self.left() <= 0 or self.out_of_time()


def units(kind: str, count: float) -> float:
    """Work units of ``count`` counted items of ``kind`` (a key of :data:`RATES`)."""
    return RATES[kind] * float(count)
