"""LP relaxation of the round by column generation, and a bound that needs no trust.

The relaxation (over the candidate pairs of a :class:`~matchmaker.solve.core.Core`) keeps
every linear rule: one exchange per visitor, ``max_visitors``, partnership and programme
budgets, fairness rows ``sum(x in p) + shortfall_p >= target_p`` and, for hosts where
it can bind, the *energy* row ``sum(duration * x) <= capacity * working days of the
host's span`` (a valid relaxation of the same-day capacity). ``0 <= x <= 1``.

**The bound.** For any dual vector ``y >= 0`` of these rows, weak duality gives, for
every feasible solution ``x`` (integer or not)::

    objective(x) <= UB(y) = fixed + y.b + sum_j max(0, rc_j) + sum_p t_p max(0, y_p - penalty)

with reduced costs ``rc_j = w_j - y.A_j``. This holds for *any* ``y``, so the bound does
not rely on the LP solver's tolerances: the solver only has to propose a good ``y``. We
compute ``UB(y)`` ourselves in float64 over all candidate pairs, add a margin larger than
the floating-point error of the sums, and round down (objectives are integers).

**Reduced-cost fixing.** The same inequality says that a solution using pair ``j``
has objective ``<= UB(y) + rc_j``; pairs with ``rc_j <= -(UB - z)`` cannot be in a
solution better than ``z`` (see :mod:`matchmaker.solver`).

Column generation: the master LP holds a subset of pairs (each visitor's best few, and
any pairs the caller passes); each round prices all candidate pairs (vectorised) and
adds each visitor's best positive-reduced-cost pair; when none prices out, the window
cuts its solution violates are added; it stops when neither adds anything. The rows are
those of :class:`~matchmaker.solve.lp_rows.LPRows`. Solved with HiGHS (SciPy's copy,
:mod:`matchmaker.solve.highs`), warm-started from the last basis as columns and cut rows
are added.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from matchmaker.solve.core import Core
from matchmaker.solve.effort import units
from matchmaker.solve.highs import Highs
from matchmaker.solve.lp_rows import LPRows


@dataclass
class LPResult:
    """Outcome of :func:`solve_relaxation`.

    Attributes
    ----------
    bound : int -- safe upper bound on every feasible solution's objective.
    bound_float : float -- ``UB(y)`` before the margin and rounding.
    lp_value : float -- objective of the last master LP (includes ``fixed_value``).
    rc : ndarray -- reduced cost of every candidate pair (``core.cand`` order) at the
        duals that gave ``bound``.
    x : ndarray -- LP value of every candidate pair (0 outside the master).
    iterations : int
    converged : bool -- no pair priced out at the end (LP optimal up to tolerance).
    duals : dict -- ``y`` (the dual of every row of ``rows``), the rows' owners
        ``visitor_rows, host_rows, energy_rows, budget_rows, programme_row, fairness_rows``,
        and the prices of a cent ``budget`` (per partnership) and ``programme``.
    columns : int -- pair columns in the last master.
    seconds : float
    rows : LPRows or None -- the rows (with the window cuts added); None without candidates.
    work : float -- work units spent (:mod:`matchmaker.solve.effort`).
    clock_stopped : bool -- the deadline, not the work limit, ended it.
    """

    bound: int
    bound_float: float
    lp_value: float
    rc: np.ndarray
    x: np.ndarray
    iterations: int
    converged: bool
    duals: dict = field(default_factory=dict)
    columns: int = 0
    seconds: float = 0.0
    rows: LPRows | None = None
    work: float = 0.0
    clock_stopped: bool = False


def _segment_best(values: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Index of the largest value in each run of equal ``seg`` (``seg`` sorted)."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    best = np.maximum.reduceat(values, starts)
    run = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(values)]))
    hit = np.flatnonzero(values == best[run])
    first = np.r_[True, run[hit][1:] != run[hit][:-1]]
    return hit[first]


def _first_columns(core: Core, per_visitor: int, start_columns: ArrayLike | None) -> np.ndarray:
    """Candidates (``core.cand`` mask) of the first master: each visitor's ``per_visitor``
    best pairs by weight, and ``start_columns``."""
    p, cand = core.problem, core.cand
    w = core.w[cand].astype(float)
    in_master = np.zeros(len(cand), dtype=bool)
    avail = np.ones(len(cand), dtype=bool)
    for _ in range(per_visitor):
        vals = np.where(avail, w, -np.inf)
        best = _segment_best(vals, p.v[cand])  # cand is sorted by visitor
        best = best[np.isfinite(vals[best])]
        in_master[best] = True
        avail[best] = False
    if start_columns is not None and len(start_columns):
        mark = np.zeros(p.n_pairs, dtype=bool)
        mark[np.asarray(start_columns, dtype=np.int64)] = True
        in_master |= mark[cand]
    return in_master


class _Master:
    """The master LP: pair columns (``colpos``: their ``core.cand`` positions), then the
    fairness shortfall columns (``colpos`` -1), under the rows of ``rows``."""

    def __init__(self, core: Core, rows: LPRows, in_master: np.ndarray):
        self.core, self.rows, self.in_master = core, rows, in_master
        self.w = core.w[core.cand].astype(float)
        order = np.flatnonzero(in_master)
        nf = len(rows.fparts)
        self.model = Highs(seed=0)
        ub = np.ones(len(order) + nf)
        ub[len(order):] = rows.ftarget
        self.model.load(np.concatenate([-self.w[order], np.full(nf, float(core.penalty))]),
                        rows.matrix(core.cand[order]), rows.b, ub)
        self.colpos = np.concatenate([order, np.full(nf, -1)])

    def x(self) -> np.ndarray:
        """LP value of every candidate pair (0 outside the master)."""
        xv = self.model.x()
        xm = np.zeros(len(self.core.cand))
        isp = self.colpos >= 0
        xm[self.colpos[isp]] = np.clip(xv[isp], 0.0, 1.0)
        return xm

    def priced_out(self, rc: np.ndarray, tol: float) -> np.ndarray:
        """Each visitor's best pair outside the master with reduced cost above ``tol``."""
        price = np.where(self.in_master, -np.inf, rc)
        add = _segment_best(price, self.core.problem.v[self.core.cand])
        return add[price[add] > tol]

    def add_columns(self, add: np.ndarray) -> None:
        """Put the candidates ``add`` (``core.cand`` positions) in the master."""
        self.model.add_cols(-self.w[add], np.ones(len(add)), self.rows.matrix(self.core.cand[add], slacks=False))
        self.in_master[add] = True
        self.colpos = np.concatenate([self.colpos, add])

    def add_violated_cuts(self, xm: np.ndarray) -> bool:
        """Add the window cuts that ``xm`` violates (:meth:`LPRows.separate`); any added?"""
        rows, first = self.rows, len(self.rows.windows)
        if rows.separate(xm) == 0:
            return False
        cols = np.where(self.colpos >= 0, self.core.cand[np.maximum(self.colpos, 0)], -1)
        # shortfall columns (cols < 0) take no part in window rows
        W = rows.window_matrix(np.where(cols >= 0, cols, 0), first, len(rows.windows))
        W = sp.csr_matrix(W.multiply((cols >= 0)[None, :].astype(float)))
        self.model.add_rows([wd[3] for wd in rows.windows[first:]], W)
        return True


def _duals(rows: LPRows, y: np.ndarray) -> dict:
    """The duals ``y`` with the rows they price (:attr:`LPResult.duals`)."""
    p = rows.core.problem
    duals = dict(y=y, visitor_rows=rows.vis, host_rows=rows.hosts, energy_rows=rows.ehosts,
                 budget_rows=rows.parts, programme_row=rows.prow, fairness_rows=rows.fparts)
    budget_dual = np.zeros(p.n_partnerships)
    budget_dual[rows.parts] = y[rows.brow[rows.parts]] / rows.unit
    duals["budget"] = budget_dual
    duals["programme"] = float(y[rows.prow]) / rows.unit if rows.prow >= 0 else 0.0
    return duals


def _no_candidates(core: Core) -> LPResult:
    """The exact value of a core without candidate pairs: the locks and their shortfall."""
    b = core.fixed_value - core.penalty * int(np.maximum(core.target - core.locked_count, 0).sum())
    return LPResult(b, float(b), float(b), np.zeros(0), np.zeros(0), 0, True, columns=0)


def solve_relaxation(core: Core, start_columns: ArrayLike | None = None, deadline: float | None = None,
                     per_visitor: int = 3, max_iterations: int = 200,
                     progress: Callable[[int, int, float], None] | None = None, tolerance: float = 1e-6,
                     max_cut_rounds: int = 20, rows: LPRows | None = None, max_work: float | None = None) -> LPResult:
    """LP bound, duals and reduced costs of a core (see module docstring).

    Parameters
    ----------
    core : Core
    start_columns : array of pair indices, optional
        Pairs put in the first master (e.g. a good assignment) besides each visitor's
        ``per_visitor`` best pairs.
    deadline : float, optional
        ``time.monotonic()`` value after which no new master is solved; the bound from
        the duals so far is returned (a safety net: the result then depends on the
        machine's speed).
    max_work : float, optional
        Work units (:mod:`matchmaker.solve.effort`) after which no new master is solved: a
        deterministic limit.
    progress : callable, optional
        Called as ``progress(iteration, bound, lp_value)`` after each master.
    rows : LPRows, optional
        Rows to start from (default: fresh ones for ``core``); the window cuts found are added to them.
    """
    t0 = time.monotonic()
    cand = core.cand
    rows = LPRows(core) if rows is None else rows
    if len(cand) == 0:
        return _no_candidates(core)
    master = _Master(core, rows, _first_columns(core, per_visitor, start_columns))
    model = master.model
    best_ub, best = None, None
    it, cut_rounds, converged, lp_value, xm = 0, 0, False, float("nan"), np.zeros(len(cand))
    tol = 1e-7 * max(1.0, float(np.abs(master.w).max()))
    work, clock_stopped = 0.0, False
    round_work = units("lp_pair_iteration", len(cand))
    while it < max_iterations:
        if max_work is not None and it and work + round_work > max_work:
            break
        it += 1
        left = None if deadline is None else max(0.05, deadline - time.monotonic())
        status = model.solve(left)
        work += round_work + units("lp_simplex_row", model.simplex_iterations() * model.n_rows)
        if status != "optimal":
            clock_stopped = status == "time_limit"
            break
        y = np.maximum(-model.row_duals(), 0.0)
        rc = rows.reduced_costs(y, cand)
        ub_int, ubf = rows.bound(y, rc)
        if best_ub is None or ub_int < best_ub:
            best_ub, best = ub_int, (ubf, rc, y)
        lp_value = core.fixed_value - model.objective()
        xm = master.x()
        if progress is not None:
            progress(it, best_ub, lp_value)
        if deadline is not None and time.monotonic() >= deadline:
            clock_stopped = True
            break
        add = master.priced_out(rc, tol)
        close = best_ub - lp_value <= tolerance * max(1.0, abs(best_ub))
        if len(add) and not close:
            master.add_columns(add)
            continue
        if cut_rounds < max_cut_rounds and master.add_violated_cuts(xm):
            cut_rounds += 1
            continue
        converged = len(add) == 0
        break
    if best is None:  # the LP failed outright: fall back to y = 0, still a valid bound
        y = np.zeros(rows.n)
        rc = rows.reduced_costs(y, cand)
        ub, ubf = rows.bound(y, rc)
        best_ub, best = ub, (ubf, rc, y)
    ubf, rc, y = best
    return LPResult(bound=best_ub, bound_float=ubf, lp_value=lp_value, rc=rc, x=xm, iterations=it,
                    converged=converged, duals=_duals(rows, y), columns=int(master.in_master.sum()),
                    seconds=time.monotonic() - t0, rows=rows, work=work, clock_stopped=clock_stopped)
