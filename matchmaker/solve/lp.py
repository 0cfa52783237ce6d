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
adds each visitor's best positive-reduced-cost pair; it stops when no pair prices out.
Solved with HiGHS (SciPy's copy, :mod:`matchmaker.solve.highs`), warm-started from the
last basis as columns and cut rows are added.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from matchmaker.solve.core import Core, energy_rows
from matchmaker.solve.effort import units
from matchmaker.solve.highs import Highs
from matchmaker.solve.problem import group_reduce
from matchmaker.solve.schedule import max_coverage, min_overlap


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
    duals : dict of arrays -- ``visitor, host, energy, budget, programme, fairness``.
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
    rows: object = None
    work: float = 0.0  # work units spent (matchmaker.solve.effort)
    clock_stopped: bool = False  # the deadline, not the work limit, ended it


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


class _Rows:
    """Row layout of the master LP for a core (which rows exist, and their right-hand sides)."""

    def __init__(self, core: Core):
        p, c = core.problem, core.cand
        self.core = core
        self.vis = np.unique(p.v[c])
        self.vrow = np.full(p.n_visitors, -1, dtype=np.int64)
        self.vrow[self.vis] = np.arange(len(self.vis))
        n = len(self.vis)
        per_host = np.bincount(p.h[c], minlength=p.n_hosts)
        self.hosts = np.flatnonzero(per_host > core.room)
        self.hrow = np.full(p.n_hosts, -1, dtype=np.int64)
        self.hrow[self.hosts] = n + np.arange(len(self.hosts))
        n += len(self.hosts)
        self.ehosts = energy_rows(core)
        self.erow = np.full(p.n_hosts, -1, dtype=np.int64)
        self.erow[self.ehosts] = n + np.arange(len(self.ehosts))
        n += len(self.ehosts)
        # budget rows only where the candidates' most expensive choice per visitor can exceed it
        best_cost = group_reduce(np.maximum, p.v[c], p.cost[c], p.n_visitors, 0)
        vp = p.visitor_part[self.vis]
        need = np.bincount(vp[vp >= 0], weights=best_cost[self.vis][vp >= 0], minlength=p.n_partnerships)
        self.parts = np.flatnonzero(need > core.budget)
        self.brow = np.full(p.n_partnerships, -1, dtype=np.int64)
        self.brow[self.parts] = n + np.arange(len(self.parts))
        n += len(self.parts)
        self.prow = -1
        if core.programme is not None and best_cost.sum() > core.programme:
            self.prow = n
            n += 1
        resid = np.maximum(core.target - core.locked_count, 0)
        self.fparts = np.flatnonzero(resid > 0)
        self.ftarget = resid[self.fparts]
        self.frow = np.full(p.n_partnerships, -1, dtype=np.int64)
        self.frow[self.fparts] = n + np.arange(len(self.fparts))
        n += len(self.fparts)
        self.n_base = n
        self.n = n
        self.windows: list[tuple[int, int, int, float]] = []  # (host, a, b, rhs) cut rows
        b = np.zeros(n)
        b[:len(self.vis)] = 1.0
        b[self.hosts_rows()] = core.room[self.hosts]
        b[self.erow[self.ehosts]] = core.energy[self.ehosts]
        # budget rows in units of the lump sums' greatest common divisor (often EUR 5), with
        # the right-hand side rounded down: equivalent for integer solutions, tighter for the LP
        self.unit = int(np.gcd.reduce(p.cost[c])) if len(c) and p.cost[c].any() else 1
        self.unit = max(self.unit, 1)
        b[self.brow[self.parts]] = core.budget[self.parts] // self.unit
        if self.prow >= 0:
            b[self.prow] = core.programme // self.unit
        b[self.frow[self.fparts]] = -self.ftarget
        self.b_base = b
        h_sorted = np.argsort(p.h[c], kind="stable")
        self._cand_by_host = h_sorted
        self._cand_host_start = np.searchsorted(p.h[c][h_sorted], np.arange(p.n_hosts + 1))

    @property
    def b(self) -> np.ndarray:
        return np.concatenate([self.b_base, [w[3] for w in self.windows]])

    def add_window(self, host: int, a: int, b: int, rhs: float) -> None:
        """Add the window cut ``sum_j m_j(a, b) x_j <= rhs`` of ``host`` (see :mod:`matchmaker.solve.mip`)."""
        self.windows.append((int(host), int(a), int(b), float(rhs)))
        self.n += 1

    def _window_coef(self, idx: np.ndarray, a: int, b: int) -> np.ndarray:
        p = self.core.problem
        m = min_overlap(p.es[idx], p.ls[idx], p.duration[idx], a, b).astype(float)
        return np.where(p.physical[idx], m, 0.0)

    def hosts_rows(self):
        return self.hrow[self.hosts]

    def matrix(self, cols: np.ndarray, slacks: bool = True) -> sp.csc_matrix:
        """Rows x columns for the pair columns ``cols`` (pair indices), then (if ``slacks``)
        the fairness shortfall columns."""
        p = self.core.problem
        k = len(cols)
        r, cc, val = [self.vrow[p.v[cols]]], [np.arange(k)], [np.ones(k)]

        def add(rows, weights):
            m = rows >= 0
            r.append(rows[m])
            cc.append(np.arange(k)[m])
            val.append(np.asarray(weights, float)[m])

        add(self.hrow[p.h[cols]], np.ones(k))
        add(np.where(p.physical[cols], self.erow[p.h[cols]], -1), p.duration[cols])
        add(self.brow[p.part[cols]], p.cost[cols] // self.unit)
        if self.prow >= 0:
            add(np.full(k, self.prow), p.cost[cols] // self.unit)
        add(self.frow[p.part[cols]], -np.ones(k))
        W = self.window_matrix(cols, 0, len(self.windows)).tocoo()
        r.append(self.n_base + W.row)
        cc.append(W.col)
        val.append(W.data)
        nf = len(self.fparts) if slacks else 0
        if nf:
            r.append(self.frow[self.fparts])
            cc.append(k + np.arange(nf))
            val.append(-np.ones(nf))
        return sp.csc_matrix((np.concatenate(val), (np.concatenate(r), np.concatenate(cc))), shape=(self.n, k + nf))

    def window_matrix(self, cols: np.ndarray, first: int, last: int) -> sp.csr_matrix:
        """Window-cut rows ``first..last-1`` over the pair columns ``cols``."""
        p = self.core.problem
        order = np.argsort(p.h[cols], kind="stable")
        hs = p.h[cols][order]
        r, cc, val = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
        for i in range(first, last):
            host, a, b, _ = self.windows[i]
            at = order[np.searchsorted(hs, host):np.searchsorted(hs, host, side="right")]
            coef = self._window_coef(cols[at], a, b)
            nz = coef > 0
            r.append(np.full(int(nz.sum()), i - first))
            cc.append(at[nz])
            val.append(coef[nz])
        return sp.csr_matrix((np.concatenate(val), (np.concatenate(r), np.concatenate(cc))),
                             shape=(last - first, len(cols)))

    def reduced_costs(self, y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """``rc_j = w_j - y.A_j`` for pair indices ``idx`` (vectorised)."""
        core, p = self.core, self.core.problem
        yp = np.zeros(p.n_partnerships)
        yp[self.parts] = y[self.brow[self.parts]]
        if self.prow >= 0:
            yp = yp + y[self.prow]
        yf = np.zeros(p.n_partnerships)
        yf[self.fparts] = y[self.frow[self.fparts]]
        yh = np.zeros(p.n_hosts)
        yh[self.hosts] = y[self.hrow[self.hosts]]
        ye = np.zeros(p.n_hosts)
        ye[self.ehosts] = y[self.erow[self.ehosts]]
        hh, pp = p.h[idx], p.part[idx]
        rc = core.w[idx] - y[self.vrow[p.v[idx]]] - yh[hh] - (yp[pp] * (p.cost[idx] // self.unit) - yf[pp])
        if len(self.ehosts):
            rc -= ye[hh] * p.duration[idx] * p.physical[idx]
        if self.windows:
            if idx is not core.cand:
                raise ValueError("reduced costs with window cuts are computed for core.cand only")
            for i, (host, a, b, _) in enumerate(self.windows):
                yc = y[self.n_base + i]
                if yc <= 0:
                    continue
                at = self._cand_by_host[self._cand_host_start[host]:self._cand_host_start[host + 1]]
                rc[at] -= yc * self._window_coef(idx[at], a, b)
        return rc

    def separate(self, x: np.ndarray, max_per_host: int = 3) -> int:
        """Add window cuts violated by the LP solution ``x`` (``core.cand`` order); return how many."""
        core, p = self.core, self.core.problem
        sup = np.flatnonzero(x > 1e-9)
        sup = sup[p.physical[core.cand[sup]]]
        if len(sup) == 0:
            return 0
        j = core.cand[sup]
        lk = core.locked[p.physical[core.locked]]
        hosts = np.unique(p.h[j])
        deep = max_coverage(p.h[np.concatenate([j, lk])], p.es[np.concatenate([j, lk])],
                            (p.ls + p.duration - 1)[np.concatenate([j, lk])], p.n_hosts)
        hosts = hosts[deep[hosts] > p.capacity[hosts]]
        have = {(w[0], w[1], w[2]) for w in self.windows}
        added = 0
        order = np.argsort(p.h[j], kind="stable")
        hs = p.h[j][order]
        for host in hosts.tolist():
            at = order[np.searchsorted(hs, host):np.searchsorted(hs, host, side="right")]
            jj, xx = j[at], x[sup[at]]
            kk = lk[p.h[lk] == host]
            es = np.concatenate([p.es[jj], p.es[kk]])
            ls = np.concatenate([p.ls[jj], p.ls[kk]])
            d = np.concatenate([p.duration[jj], p.duration[kk]])
            A = np.unique(es)
            B = np.unique(np.concatenate([ls + d - 1, es + d - 1]))
            a, b = np.meshgrid(A, B, indexing="ij")
            ok = a <= b
            a, b = a[ok], b[ok]
            m = min_overlap(es[:, None], ls[:, None], d[:, None], a[None, :], b[None, :])
            load_free = (m[:len(jj)] * xx[:, None]).sum(axis=0)
            load_locked = m[len(jj):].sum(axis=0)
            cap = p.capacity[host] * (b - a + 1)
            viol = load_free + load_locked - cap
            best = np.argsort(-viol, kind="stable")[:max_per_host]
            for k in best[viol[best] > 1e-6].tolist():
                key = (host, int(a[k]), int(b[k]))
                if key in have:
                    continue
                self.add_window(host, int(a[k]), int(b[k]), float(cap[k] - load_locked[k]))
                added += 1
        return added

    def bound(self, y: np.ndarray, rc: np.ndarray) -> tuple[int, float]:
        """Safe integer upper bound ``floor(UB(y) + margin)`` (see module docstring)."""
        core = self.core
        pos = np.maximum(rc, 0.0)
        yf = y[self.frow[self.fparts]]
        slack = self.ftarget * np.maximum(yf - core.penalty, 0.0)
        terms = np.concatenate([y * self.b, pos, slack])
        ub = core.fixed_value + float(np.sum(terms))
        # Rounding error: each rc_j is off by at most ~8 eps (|w_j| + |y.A_j|), with
        # |y.A_j| <= |w_j| + |rc_j| + max fairness dual; the sum by log2(n) eps sum|terms|.
        # The margin below is 1000 times larger than both together.
        yfmax = float(yf.max()) if len(yf) else 0.0
        err = (float(np.abs(terms).sum()) + 2.0 * float(np.abs(core.w[core.cand]).sum())
               + float(np.abs(rc).sum()) + len(rc) * yfmax + abs(core.fixed_value))
        margin = 1e-12 * err + 1e-6
        return int(np.floor(ub + margin)), ub


def solve_relaxation(core: Core, start_columns=None, deadline: float | None = None,
                     per_visitor: int = 3, max_iterations: int = 200, progress=None, tolerance: float = 1e-6,
                     max_cut_rounds: int = 20, rows: _Rows | None = None, max_work: float | None = None) -> LPResult:
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
    """
    t0 = time.monotonic()
    p, cand = core.problem, core.cand
    rows = _Rows(core) if rows is None else rows
    ncand = len(cand)
    cut_rounds = 0
    if ncand == 0:
        b = core.fixed_value - core.penalty * int(np.maximum(core.target - core.locked_count, 0).sum())
        return LPResult(b, float(b), float(b), np.zeros(0), np.zeros(0), 0, True, columns=0)
    # each visitor's best few pairs by weight (cand is sorted by visitor)
    w = core.w[cand].astype(float)
    in_master = np.zeros(ncand, dtype=bool)
    avail = np.ones(ncand, dtype=bool)
    for _ in range(per_visitor):
        vals = np.where(avail, w, -np.inf)
        best = _segment_best(vals, p.v[cand])
        best = best[np.isfinite(vals[best])]
        in_master[best] = True
        avail[best] = False
    if start_columns is not None and len(start_columns):
        mark = np.zeros(p.n_pairs, dtype=bool)
        mark[np.asarray(start_columns, dtype=np.int64)] = True
        in_master |= mark[cand]
    best_ub, best = None, None
    it, converged, lp_value, xm = 0, False, float("nan"), np.zeros(ncand)
    tol = 1e-7 * max(1.0, float(np.abs(w).max()))
    # the master: pair columns in 'order' (positions in cand), then the shortfall columns
    order = np.flatnonzero(in_master)
    nf = len(rows.fparts)
    model = Highs(seed=0)
    A = rows.matrix(cand[order])
    ub = np.ones(len(order) + nf)
    ub[len(order):] = rows.ftarget
    model.load(np.concatenate([-w[order], np.full(nf, float(core.penalty))]), A, rows.b, ub)
    colpos = np.concatenate([order, np.full(nf, -1)])  # cand position of each model column
    work, clock_stopped = 0.0, False
    round_work = units("lp_pair_iteration", ncand)
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
        xv = model.x()
        xm = np.zeros(ncand)
        isp = colpos >= 0
        xm[colpos[isp]] = np.clip(xv[isp], 0.0, 1.0)
        if progress is not None:
            progress(it, best_ub, lp_value)
        if deadline is not None and time.monotonic() >= deadline:
            clock_stopped = True
            break
        price = np.where(in_master, -np.inf, rc)
        add = _segment_best(price, p.v[cand])
        add = add[price[add] > tol]
        close = best_ub - lp_value <= tolerance * max(1.0, abs(best_ub))
        if len(add) and not close:
            model.add_cols(-w[add], np.ones(len(add)), rows.matrix(cand[add], slacks=False))
            in_master[add] = True
            colpos = np.concatenate([colpos, add])
            continue
        first = len(rows.windows)
        if cut_rounds < max_cut_rounds and rows.separate(xm) > 0:
            cut_rounds += 1
            cols = np.where(colpos >= 0, cand[np.maximum(colpos, 0)], -1)
            # shortfall columns (cols < 0) take no part in window rows
            W = rows.window_matrix(np.where(cols >= 0, cols, 0), first, len(rows.windows))
            W = sp.csr_matrix(W.multiply((cols >= 0)[None, :].astype(float)))
            model.add_rows([wd[3] for wd in rows.windows[first:]], W)
            continue
        converged = len(add) == 0
        break
    if best is None:  # the LP failed outright: fall back to y = 0, still a valid bound
        y = np.zeros(rows.n)
        rc = rows.reduced_costs(y, cand)
        ub, ubf = rows.bound(y, rc)
        best_ub, best = ub, (ubf, rc, y)
    ubf, rc, y = best
    duals = dict(y=y, visitor_rows=rows.vis, host_rows=rows.hosts, energy_rows=rows.ehosts,
                 budget_rows=rows.parts, programme_row=rows.prow, fairness_rows=rows.fparts)
    budget_dual = np.zeros(p.n_partnerships)
    budget_dual[rows.parts] = y[rows.brow[rows.parts]] / rows.unit
    duals["budget"] = budget_dual
    duals["programme"] = float(y[rows.prow]) / rows.unit if rows.prow >= 0 else 0.0
    return LPResult(bound=best_ub, bound_float=ubf, lp_value=lp_value, rc=rc, x=xm, iterations=it,
                    converged=converged, duals=duals, columns=int(in_master.sum()),
                    seconds=time.monotonic() - t0, rows=rows, work=work, clock_stopped=clock_stopped)
