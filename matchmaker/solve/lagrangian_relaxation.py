"""The Lagrangian relaxation of a round: prices on the host rules, one exact knapsack per partnership.

Each visitor belongs to one partnership and the budgets are per partnership, so the
partnerships meet only at the hosts. Price the host rules with multipliers ``mu >= 0``
(rows ``sum_j A_rj x_j <= b_r`` over the candidate pairs of a :class:`~matchmaker.solve.core.Core`):

* ``max_visitors``: pairs at host ``h`` <= its free places;
* same-day capacity through its *energy* row (working days of stays <= capacity x span)
  and, when given (from :mod:`matchmaker.solve.lp`), window cuts ``sum m_j(a, b) x_j <= rhs``;
* the programme budget (lump sums in their common unit);
* fairness: ``-(exchanges of p) <= -(target left)`` with a price at most the shortfall
  penalty, since ``-penalty * max(0, t - n) = min over 0 <= y <= penalty of y (n - t)``.

For fixed prices the round splits into one multiple-choice knapsack per partnership (each
visitor at most one pair, worth ``w_j - (A^T mu)_j``, weighing its lump sum, within the
budget), solved exactly by :func:`matchmaker.solve.knapsack.mckp_grouped`, and::

    L(mu) = fixed + sum over partnerships of MCKP_p(mu) + mu . b  >=  every feasible objective.

**Exact.** A price is ``k M / D`` for an integer ``M``; a pair is worth ``D w - k (A^T M)``
in units of ``1 / D``, so the knapsacks and ``D L`` are integers and the bound
``fixed + floor(D L / D)`` is exact (no tolerance). ``D = k s + 1`` makes a pair's value ``k s`` times its priced
weight plus ``w``, so of equally priced choices the knapsacks take the higher score.

:class:`Multipliers` are the prices in objective units; :class:`KnapsackRelaxation` holds the
priced rows, evaluates ``L`` and gives each pair's reduced cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from matchmaker.solve.core import Core, energy_rows
from matchmaker.solve.knapsack import mckp_grouped
from matchmaker.solve.lp import LPResult
from matchmaker.solve.problem import SolverInstance
from matchmaker.solve.schedule import conflicting_hosts, min_overlap


@dataclass
class Multipliers:
    """Prices of the priced rows, in objective units per unit of the row (>= 0).

    host, energy : ndarray (n_hosts) -- a place at the host; a working day of its capacity.
    programme : float -- one cent of the programme budget.
    fairness : ndarray (n_fair_groups) -- one exchange short of the fairness target.
    windows : list of (host, a, b, rhs) -- window cuts, as
        :attr:`matchmaker.solve.lp_rows.LPRows.windows`.
    window : ndarray -- one day of each window cut.
    """

    host: np.ndarray
    energy: np.ndarray
    programme: float = 0.0
    fairness: np.ndarray | None = None
    windows: list = field(default_factory=list)
    window: np.ndarray | None = None

    @classmethod
    def zeros(cls, problem: SolverInstance) -> Multipliers:
        """No price on any row."""
        return cls(np.zeros(problem.n_hosts), np.zeros(problem.n_hosts), 0.0, np.zeros(problem.n_fair_groups))

    @classmethod
    def from_lp(cls, lp: LPResult) -> Multipliers:
        """The dual prices of :func:`matchmaker.solve.lp.solve_relaxation` for the same rows."""
        rows, y = lp.rows, np.asarray(lp.duals.get("y", []), dtype=float)
        if rows is None:
            raise ValueError("Multipliers.from_lp: this LP has no rows (the round had no candidate pair); "
                             "start from mu0=None")
        mu = cls.zeros(rows.core.problem)
        mu.host[rows.hosts] = y[rows.hrow[rows.hosts]]
        mu.energy[rows.ehosts] = y[rows.erow[rows.ehosts]]
        mu.fairness[rows.fparts] = y[rows.frow[rows.fparts]]
        mu.programme = float(lp.duals.get("programme", 0.0))
        mu.windows = list(rows.windows)
        k = rows.n_base + np.arange(len(rows.windows))
        mu.window = np.where(k < len(y), y[np.minimum(k, max(len(y) - 1, 0))], 0.0) if len(k) else np.zeros(0)
        return mu


class KnapsackRelaxation:
    """The Lagrangian relaxation of a core: its priced rows and its partnership knapsacks.

    Attributes
    ----------
    core : Core
    windows : list of ``(host, a, b, rhs)`` -- the window cuts priced.
    hosts, ehosts : hosts with a priced ``max_visitors`` row, and with a priced energy row.
    programme : bool -- the programme budget is priced.
    fparts : fairness groups with a priced fairness row.
    At : sparse int64 -- candidate pairs x priced rows; ``b`` the right-hand sides,
        ``kind`` each row's kind (0 host, 1 energy, 2 programme, 3 fairness, 4 window),
        ``offs`` where each block of rows starts.
    den, k : int -- prices are ``k M / den`` for integer ``M`` (module docstring).
    cap : ndarray of int -- the largest ``M`` of each row.
    risky : ndarray of bool -- hosts whose candidate stays might not all fit.
    """

    def __init__(self, core: Core, windows: list, max_states: int | None = None) -> None:
        p, c = core.problem, core.cand
        self.core, self.windows, self.max_states = core, [tuple(wd) for wd in windows], max_states
        n = len(c)
        self.hosts = np.flatnonzero(np.bincount(p.h[c], minlength=p.n_hosts) > core.room)
        self.ehosts = energy_rows(core)
        self.unit = max(1, int(np.gcd.reduce(p.cost[c]))) if n else 1
        self.programme = bool(core.programme is not None and n and p.cost[c].sum() > core.programme)
        resid = np.maximum(core.target - core.locked_count, 0)
        self.fparts = np.flatnonzero(resid > 0) if core.penalty > 0 else np.zeros(0, np.int64)
        blocks = []  # (row of each pair or -1, coefficient, right-hand sides, kind)

        def index(n_items, items):
            out = np.full(n_items, -1)
            out[items] = np.arange(len(items))
            return out

        blocks.append((index(p.n_hosts, self.hosts)[p.h[c]], np.ones(n), core.room[self.hosts], 0))
        erow = index(p.n_hosts, self.ehosts)[p.h[c]]
        blocks.append((np.where(p.physical[c], erow, -1), p.duration[c], core.energy[self.ehosts], 1))
        if self.programme:
            blocks.append((np.zeros(n, np.int64), p.cost[c] // self.unit, [core.programme // self.unit], 2))
        blocks.append((index(p.n_fair_groups, self.fparts)[p.fair[c]], -np.ones(n), -resid[self.fparts], 3))
        by_host = np.argsort(p.h[c], kind="stable")
        host_start = np.searchsorted(p.h[c][by_host], np.arange(p.n_hosts + 1))
        for host, a, b, r in self.windows:
            at = by_host[host_start[host]:host_start[host + 1]]
            row = np.full(n, -1)
            m = np.zeros(n, np.int64)
            m[at] = min_overlap(p.es[c[at]], p.ls[c[at]], p.duration[c[at]], a, b) * p.physical[c[at]]
            row[at[m[at] > 0]] = 0
            blocks.append((row, m, [int(round(r))], 4))
        self.offs = np.cumsum([0] + [len(blk[2]) for blk in blocks])
        rows, cols, vals = [], [], []
        for (row, coef, _, _), off in zip(blocks, self.offs):
            m = row >= 0
            rows.append(row[m] + off)
            cols.append(np.flatnonzero(m))
            vals.append(np.asarray(coef, np.int64)[m])
        self.b = np.concatenate([np.asarray(blk[2], np.int64) for blk in blocks])
        self.kind = np.concatenate([np.full(len(blk[2]), blk[3]) for blk in blocks])
        self.At = sp.csr_matrix((np.concatenate(vals), (np.concatenate(cols), np.concatenate(rows))),
                                shape=(n, len(self.b)), dtype=np.int64)
        self._part, self._v, self._cost = p.part[c], p.v[c], p.cost[c]
        # knapsack items by partnership, visitor, lump sum (one sort key)
        key = (self._part.astype(np.int64) * p.n_visitors + self._v) * (int(self._cost.max(initial=0)) + 1) + self._cost
        self.order = np.argsort(key, kind="stable")
        # lump sums in each partnership's common unit (often EUR 5): exact, and fewer DP states
        self.part_unit = np.ones(p.n_partnerships, dtype=np.int64)
        if n:
            po = self._part[self.order]
            first = np.flatnonzero(np.r_[True, po[1:] != po[:-1]])
            self.part_unit[po[first]] = np.maximum(np.gcd.reduceat(self._cost[self.order], first), 1)
        self.prices: dict[int, int] = {}  # last LP price of each partnership's knapsack (a search hint)
        self.w = core.w[c]
        self.den, self.k = self._scale()
        self.risky = np.zeros(p.n_hosts, dtype=bool)
        self.risky[conflicting_hosts(p, np.concatenate([c, core.locked]))] = True
        self.cap = self._caps()

    def _caps(self) -> np.ndarray:
        """The largest integer price ``M`` of each row: a fairness price is at most the
        shortfall penalty (else ``L`` is no bound); any other price is valid, but one above a
        pair's best priced worth only removes pairs."""
        penalty = self.core.penalty
        top = max(int(np.abs(self.w).max()) if len(self.w) else 1, 1) + penalty
        return np.where(self.kind == 3, (penalty * self.den) // self.k, (top * self.den) // self.k + 1)

    def _scale(self) -> tuple[int, int]:
        """``D = k s + 1`` and ``k``: the largest powers of two ``s <= 256``, ``k <= 1024``
        that keep every sum of values below 2**58."""
        core, p = self.core, self.core.problem
        wpos = np.maximum(self.w, 0)
        best = np.zeros(p.n_visitors, np.int64)
        np.maximum.at(best, p.v[core.cand], wpos + core.penalty)
        colsum = np.asarray(abs(self.At).sum(axis=1)).ravel() if self.At.nnz else np.zeros(1)
        top = (int(wpos.max()) if len(wpos) else 0) + core.penalty + 1
        size = max(1, int(best.sum()), top * int(max(colsum.max(), 1)))
        s, k = 256, 1024
        while k * s * size > 2 ** 58 and k > 1:
            k //= 2
        while k * s * size > 2 ** 58 and s > 1:
            s //= 2
        if (k * s + 1) * size > 2 ** 58:
            raise ValueError(f"objective weights too large for exact 64-bit knapsacks (size {size}); "
                             "use objective = 'score' or a smaller fairness penalty")
        return k * s + 1, k

    def knapsacks(self, values: np.ndarray, use: np.ndarray | None, budget: np.ndarray
                  ) -> tuple[int, np.ndarray, list]:
        """Each partnership's knapsack over the pairs ``use`` (cand mask, or None for all).

        Returns the sum of the optima, the chosen cand positions and, per partnership,
        ``(items, unit, capacity, Knapsack)``.
        """
        o = self.order if use is None else self.order[use[self.order]]
        total, chosen, info = 0, [], []
        if len(o) == 0:
            return 0, np.zeros(0, np.int64), info
        po, vo, co = self._part[o], self._v[o], self._cost[o]
        cut = np.flatnonzero(po[1:] != po[:-1]) + 1
        for s, e in zip(np.concatenate([[0], cut]), np.concatenate([cut, [len(o)]])):
            seg, cost, vs = o[s:e], co[s:e], vo[s:e]
            unit = self.part_unit[po[s]]
            if self.max_states and budget[po[s]] // unit > self.max_states:
                # a coarser unit, lump sums rounded down: a relaxation (weaker, still valid)
                unit = unit * -(-int(budget[po[s]] // unit) // self.max_states)
            gst = np.concatenate([[0], np.flatnonzero(vs[1:] != vs[:-1]) + 1, [e - s]])
            q = int(po[s])
            cap = int(budget[q] // unit)
            ks = mckp_grouped(values[seg], cost // unit, gst, cap, price_hint=self.prices.get(q))
            if use is None and ks.price > 0:
                self.prices[q] = ks.price
            total += ks.value
            chosen.append(seg[ks.chosen])
            info.append((seg, unit, cap, ks))
        return total, np.sort(np.concatenate(chosen)), info

    def values(self, M: np.ndarray) -> np.ndarray:
        """``D`` times each candidate pair's priced worth at the integer prices ``M``."""
        return self.den * self.w - self.k * (self.At @ M)

    def evaluate(self, M: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, list]:
        """``D (L - fixed)`` (int), the chosen cand positions, the values and knapsack info."""
        values = self.values(M)
        total, x, info = self.knapsacks(values, None, self.core.budget)
        return total + self.k * int(np.dot(M, self.b)), x, values, info

    def reduced_costs(self, values: np.ndarray, info: list) -> np.ndarray:
        """``D`` times the loss of each pair against ``L`` (see :class:`LagrangianResult`)."""
        p, c = self.core.problem, self.core.cand
        rc = np.full(len(c), np.iinfo(np.int64).min // 4, dtype=np.int64)
        for seg, unit, cap, ks in info:
            wt = p.cost[c][seg] // unit
            r = values[seg] - ks.price * np.minimum(wt, cap + 1)
            vs = p.v[c][seg]
            gst = np.concatenate([[0], np.flatnonzero(vs[1:] != vs[:-1]) + 1])
            best = np.maximum(np.maximum.reduceat(np.where(wt <= cap, r, 0), gst), 0)
            rc[seg] = (ks.upper - ks.value) - (np.repeat(best, np.diff(np.r_[gst, len(seg)])) - r)
        return np.minimum(rc, 0)

    def to_int(self, mu: Multipliers) -> np.ndarray:
        """The integer prices ``M`` nearest to ``mu`` (within each row's cap)."""
        parts = [mu.host[self.hosts], mu.energy[self.ehosts]]
        if self.programme:
            parts.append([mu.programme * self.unit])
        parts.append(np.zeros(len(self.fparts)) if mu.fairness is None else mu.fairness[self.fparts])
        win = {tuple(wd[:3]): float(y) for wd, y in zip(mu.windows, [] if mu.window is None else mu.window)}
        parts.append([win.get(tuple(wd[:3]), 0.0) for wd in self.windows])
        m = np.rint(np.concatenate([np.asarray(x, float) for x in parts]) * (self.den / self.k))
        return np.clip(np.nan_to_num(m), 0, self.cap).astype(np.int64)

    def to_multipliers(self, M: np.ndarray) -> Multipliers:
        """The prices ``M`` in objective units."""
        mu, x, o = Multipliers.zeros(self.core.problem), M * (self.k / self.den), self.offs
        mu.host[self.hosts] = x[o[0]:o[1]]
        mu.energy[self.ehosts] = x[o[1]:o[2]]
        k = 3 if self.programme else 2
        if self.programme:
            mu.programme = float(x[o[2]]) / self.unit
        mu.fairness[self.fparts] = x[o[k]:o[k + 1]]
        mu.windows, mu.window = list(self.windows), x[o[k + 1]:]
        return mu
