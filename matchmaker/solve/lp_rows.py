"""The linear rows of a round over its candidate pairs: the LP relaxation's and the MIP's.

:class:`LPRows` decides which rows a :class:`~matchmaker.solve.core.Core` needs and
holds their right-hand sides; it builds the constraint matrix of any set of pair columns,
prices pairs (reduced costs), adds the *window cuts* of the same-day capacity that an LP
solution violates, and turns any dual vector into a safe integer bound. The rows, in
order (a row exists only where it can bind):

* one exchange per visitor (``<= 1``), one row per visitor with a candidate pair;
* ``max_visitors``: pairs at a host ``<=`` its free places;
* the host's *energy*: working days of its physical stays ``<=`` capacity x span;
* partnership budgets and the programme budget, in units of the lump sums' greatest
  common divisor (right-hand sides rounded down);
* fairness: ``-(exchanges of the partnership) - shortfall <= -(target left)``;
* then the window cuts, ``sum_j m_j(a, b) x_j <= rhs`` (:func:`~matchmaker.solve.schedule.energy_windows`).

:mod:`matchmaker.solve.lp` solves the relaxation over these rows by column generation;
:mod:`matchmaker.solve.mip` reuses them (with their cuts) for its restricted MIPs.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from matchmaker.solve.core import Core, energy_rows
from matchmaker.solve.problem import group_reduce
from matchmaker.solve.schedule import energy_windows, max_coverage, min_overlap


class LPRows:
    """Row layout of the LP relaxation of a core: which rows exist, their right-hand sides.

    Attributes
    ----------
    core : Core
    vis, vrow : visitors with a row, and the row of each visitor (-1: none).
    hosts, hrow : hosts with a ``max_visitors`` row, and the row of each host.
    ehosts, erow : hosts with an energy row, and the row of each host.
    parts, brow : partnerships with a budget row, and the row of each partnership.
    prow : int -- the programme budget's row (-1: none).
    fparts, ftarget, frow : partnerships short of their fairness target, the exchanges
        they still need, and the row of each partnership.
    unit : int -- the budget rows' unit of money (cents).
    n_base : int -- rows before the window cuts; ``n`` all rows.
    b_base : ndarray -- right-hand sides of the first ``n_base`` rows (``b``: all rows).
    windows : list of ``(host, a, b, rhs)`` -- the window cuts, in row order.
    """

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
        self.frow = np.full(p.n_fair_groups, -1, dtype=np.int64)
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
        """Right-hand sides of all rows, window cuts included."""
        return np.concatenate([self.b_base, [w[3] for w in self.windows]])

    def add_window(self, host: int, a: int, b: int, rhs: float) -> None:
        """Add the window cut ``sum_j m_j(a, b) x_j <= rhs`` of ``host`` (module docstring)."""
        self.windows.append((int(host), int(a), int(b), float(rhs)))
        self.n += 1

    def _window_coef(self, idx: np.ndarray, a: int, b: int) -> np.ndarray:
        p = self.core.problem
        m = min_overlap(p.es[idx], p.ls[idx], p.duration[idx], a, b).astype(float)
        return np.where(p.physical[idx], m, 0.0)

    def hosts_rows(self) -> np.ndarray:
        """Rows of the ``max_visitors`` rows, in ``hosts`` order."""
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
        add(self.frow[p.fair[cols]], -np.ones(k))
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
        yf = np.zeros(p.n_fair_groups)
        yf[self.fparts] = y[self.frow[self.fparts]]
        yh = np.zeros(p.n_hosts)
        yh[self.hosts] = y[self.hrow[self.hosts]]
        ye = np.zeros(p.n_hosts)
        ye[self.ehosts] = y[self.erow[self.ehosts]]
        hh, pp = p.h[idx], p.part[idx]
        rc = core.w[idx] - y[self.vrow[p.v[idx]]] - yh[hh] - (yp[pp] * (p.cost[idx] // self.unit) - yf[p.fair[idx]])
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
            a, b, m = energy_windows(es, ls, d)
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
