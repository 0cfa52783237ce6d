"""A Lagrangian bound of a round with exact partnership knapsacks, and a primal from it.

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

**Prices** by column generation on the Dantzig-Wolfe master (the knapsack solutions of each
partnership, mixed convexly, under the priced rows; solved by HiGHS), smoothed towards
the best prices so far (Wentges). The master's value is a lower estimate of the best
``L``: it stops when the integer bound cannot drop further (or by less than ``tolerance``). At the best prices the bound
is at most the LP bound with the same rows and lower where the budgets' integrality
matters. ``rc`` gives, per pair, how much a solution using it loses against the bound.

**Primal.** Knapsack choices keep the budgets; where a host gets too many visitors or its
stays cannot be scheduled, the extra pairs (least valuable first) are refused and the free
visitors and budgets are knapsacked again; :func:`matchmaker.solve.heuristics.complete` fills
what is left; :func:`improve` re-chooses one partnership at a time by an exact knapsack.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from matchmaker.solve.core import Core, build_core, energy_rows, lock_conflicts
from matchmaker.solve.effort import units
from matchmaker.solve.heuristics import complete
from matchmaker.solve.highs import Highs
from matchmaker.solve.knapsack import mckp_grouped
from matchmaker.solve.problem import SolverProblem
from matchmaker.solve.schedule import conflicting_hosts, min_overlap, schedule_pairs, schedule_stays


@dataclass
class Multipliers:
    """Prices of the priced rows, in objective units per unit of the row (>= 0).

    host, energy : ndarray (n_hosts) -- a place at the host; a working day of its capacity.
    programme : float -- one cent of the programme budget.
    fairness : ndarray (n_partnerships) -- one exchange short of the fairness target.
    windows : list of (host, a, b, rhs) -- window cuts, as ``matchmaker.solve.lp._Rows.windows``.
    window : ndarray -- one day of each window cut.
    """

    host: np.ndarray
    energy: np.ndarray
    programme: float = 0.0
    fairness: np.ndarray | None = None
    windows: list = field(default_factory=list)
    window: np.ndarray | None = None

    @classmethod
    def zeros(cls, problem: SolverProblem) -> Multipliers:
        return cls(np.zeros(problem.n_hosts), np.zeros(problem.n_hosts), 0.0, np.zeros(problem.n_partnerships))

    @classmethod
    def from_lp(cls, lp) -> Multipliers:
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


@dataclass
class LagrangianResult:
    """Outcome of :func:`lagrangian`.

    bound : int -- no feasible solution is worth more (objective units).
    multipliers : Multipliers -- the prices that gave ``bound``.
    pairs : ndarray or None -- best feasible solution found (pair indices, locks included).
    objective : int or None -- its value.
    rc : ndarray -- per candidate pair (``core.cand`` order), ``<= 0``: a solution using
        the pair is worth at most ``bound_exact + rc`` (as :class:`matchmaker.solve.lp.LPResult`'s
        ``rc`` against its bound): pairs with ``rc <= -(bound_exact - z)`` cannot improve
        on a solution worth ``z``.
    pair_bound : ndarray of int -- the same exactly: no solution using the pair is worth more.
    bound_exact : float -- ``L`` at ``multipliers`` (``bound = floor(bound_exact)``).
    master : float -- value of the last master LP: no prices give ``L`` below it (up to
        the LP's tolerance; ``-inf`` when no master was solved).
    iterations : int; seconds : float; scale : int (``D``).
    history : list of ``(iteration, L, best objective, seconds)``.
    support : ndarray -- candidate pairs (``core.cand`` positions) used by a column with
        a positive weight in the last master: a small set that good solutions draw from.
    work : float -- work units spent (:mod:`matchmaker.solve.effort`).
    clock_stopped : bool -- the time limit, not the work limit, ended it.
    """

    bound: int
    multipliers: Multipliers
    pairs: np.ndarray | None
    objective: int | None
    rc: np.ndarray
    pair_bound: np.ndarray
    bound_exact: float
    master: float
    iterations: int
    seconds: float
    scale: int
    history: list = field(default_factory=list)
    work: float = 0.0
    clock_stopped: bool = False
    support: np.ndarray | None = None


class _Relaxation:
    """The priced rows (``At``: pairs x rows, ``b``, caps) and the knapsacks of a core."""

    def __init__(self, core: Core, windows: list, max_states: int | None = None):
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
        blocks.append((index(p.n_partnerships, self.fparts)[p.part[c]], -np.ones(n), -resid[self.fparts], 3))
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
        # a fairness price is at most the shortfall penalty (else L is no bound); any other
        # price is valid, but one above a pair's best priced worth only removes pairs
        top = max(int(np.abs(self.w).max()) if n else 1, 1) + core.penalty
        self.cap = np.where(self.kind == 3, (core.penalty * self.den) // self.k, (top * self.den) // self.k + 1)

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

    def knapsacks(self, values, use, budget) -> tuple[int, np.ndarray, list]:
        """Each partnership's knapsack over the pairs ``use`` (cand mask, or None for all):
        the sum of the optima, the chosen cand positions and, per partnership, ``(items,
        unit, capacity, Knapsack)``."""
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
        return self.den * self.w - self.k * (self.At @ M)

    def evaluate(self, M: np.ndarray):
        """``D (L - fixed)`` (int), the chosen cand positions, the values and knapsack info."""
        values = self.values(M)
        total, x, info = self.knapsacks(values, None, self.core.budget)
        return total + self.k * int(np.dot(M, self.b)), x, values, info

    def reduced_costs(self, values, info) -> np.ndarray:
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
        parts = [mu.host[self.hosts], mu.energy[self.ehosts]]
        if self.programme:
            parts.append([mu.programme * self.unit])
        parts.append(np.zeros(len(self.fparts)) if mu.fairness is None else mu.fairness[self.fparts])
        win = {tuple(wd[:3]): float(y) for wd, y in zip(mu.windows, [] if mu.window is None else mu.window)}
        parts.append([win.get(tuple(wd[:3]), 0.0) for wd in self.windows])
        m = np.rint(np.concatenate([np.asarray(x, float) for x in parts]) * (self.den / self.k))
        return np.clip(np.nan_to_num(m), 0, self.cap).astype(np.int64)

    def to_multipliers(self, M: np.ndarray) -> Multipliers:
        mu, x, o = Multipliers.zeros(self.core.problem), M * (self.k / self.den), self.offs
        mu.host[self.hosts] = x[o[0]:o[1]]
        mu.energy[self.ehosts] = x[o[1]:o[2]]
        k = 3 if self.programme else 2
        if self.programme:
            mu.programme = float(x[o[2]]) / self.unit
        mu.fairness[self.fparts] = x[o[k]:o[k + 1]]
        mu.windows, mu.window = list(self.windows), x[o[k + 1]:]
        return mu


class _Master:
    """The Dantzig-Wolfe master: knapsack solutions mixed convexly under the priced rows."""

    def __init__(self, rel: _Relaxation):
        self.rel, core = rel, rel.core
        p = core.problem
        self.R, self.Q = len(rel.b), p.n_partnerships
        fr = np.flatnonzero(rel.kind == 3)  # shortfall columns: a missing fair exchange costs the penalty
        S = sp.csc_matrix((-np.ones(len(fr)), (fr, np.arange(len(fr)))), shape=(self.R + self.Q, len(fr)))
        self.model = Highs(seed=0)
        self.model.load(np.full(len(fr), float(core.penalty)), S, np.concatenate([rel.b, np.ones(self.Q)]),
                        -rel.b[fr].astype(float))
        self.columns: list[tuple[int, np.ndarray]] = []

    def add(self, x: np.ndarray) -> None:
        """One column per partnership from knapsack choices ``x`` (cand positions)."""
        p, c, core = self.rel.core.problem, self.rel.core.cand, self.rel.core
        parts = p.part[c[x]]
        coef = np.zeros((self.R + self.Q, self.Q))
        cost = np.zeros(self.Q)
        for q in range(self.Q):
            xq = x[parts == q]
            coef[:self.R, q] = np.asarray(self.rel.At[xq].sum(axis=0)).ravel()
            coef[self.R + q, q] = 1.0
            cost[q] = -float(core.w[c[xq]].sum())
            self.columns.append((q, xq))
        self.model.add_cols(cost, np.ones(self.Q), sp.csc_matrix(coef))

    def solve(self, time_limit: float | None):
        """Master value (objective units, without ``fixed``) and the row prices, or None."""
        if self.model.solve(time_limit) != "optimal":
            return None, None
        y = np.maximum(-self.model.row_duals(), 0.0)
        return -self.model.objective(), y[:self.R]

    def support(self, tol: float = 1e-9) -> np.ndarray:
        """Cand positions used by a column with a positive weight in the last master."""
        if not self.columns or not self.model.n_cols:
            return np.zeros(0, np.int64)
        lam = self.model.x()[-len(self.columns):]
        used = [xq for (_, xq), v in zip(self.columns, lam) if v > tol]
        return np.unique(np.concatenate(used)).astype(np.int64) if used else np.zeros(0, np.int64)

    def starts(self) -> list[np.ndarray]:
        """Guides for primal solutions (cand positions): each partnership's column with the
        largest weight in the master, and the pairs that every weighted column uses."""
        if not self.columns:
            return []
        lam = self.model.x()[-len(self.columns):]
        best, use = {}, np.zeros(len(self.rel.core.cand))
        for (q, xq), v in zip(self.columns, lam):
            use[xq] += v
            if v > best.get(q, (1e-9, None))[0]:
                best[q] = (v, xq)
        picked = [xq for _, xq in best.values()]
        return [np.sort(np.concatenate(picked)) if picked else np.zeros(0, np.int64),
                np.flatnonzero(use > 1 - 1e-6)]


class _Partial:
    """A feasible partial solution grown pair by pair: places, budgets and schedules left."""

    def __init__(self, rel: _Relaxation, fixed: np.ndarray):
        p = rel.core.problem
        self.rel, self.p = rel, p
        fixed = np.asarray(fixed, dtype=np.int64)
        self.room = p.max_visitors - np.bincount(p.h[fixed], minlength=p.n_hosts).astype(np.int64)
        self.budget = p.budget - np.bincount(p.part[fixed], weights=p.cost[fixed],
                                             minlength=p.n_partnerships).astype(np.int64)
        self.programme = np.inf if p.programme_budget is None else p.programme_budget - int(p.cost[fixed].sum())
        self.vfree = np.ones(p.n_visitors, dtype=bool)
        self.vfree[p.v[fixed]] = False
        self.stays: dict[int, list[int]] = {}
        for j in fixed[p.physical[fixed] & rel.risky[p.h[fixed]]].tolist():
            self.stays.setdefault(int(p.h[j]), []).append(j)
        self.added: list[int] = []

    def try_add(self, j: int) -> bool:
        p, h, q = self.p, int(self.p.h[j]), int(self.p.part[j])
        if not self.vfree[p.v[j]] or self.room[h] <= 0 or p.cost[j] > min(self.budget[q], self.programme):
            return False
        if p.physical[j] and self.rel.risky[h]:
            js = np.array(self.stays.get(h, []) + [j], dtype=np.int64)
            starts, _ = schedule_stays(p.duration[js], p.es[js], p.ls[js], int(p.capacity[h]), exact_time_limit=0.2)
            if starts is None:
                return False
            self.stays.setdefault(h, []).append(j)
        self.room[h] -= 1
        self.budget[q] -= p.cost[j]
        self.programme -= p.cost[j]
        self.vfree[p.v[j]] = False
        self.added.append(j)
        return True

    def fill(self, values: np.ndarray, use: np.ndarray, x: np.ndarray | None = None, rounds: int = 30) -> None:
        """Add knapsack choices ``x`` (cand positions; solved here when ``None``), the most
        valuable first, refuse those that do not fit, and knapsack the free visitors again
        until all fit."""
        rel, p, c = self.rel, self.p, self.rel.core.cand
        refused = np.zeros(len(c), dtype=bool)
        for _ in range(rounds):
            if x is None:
                ok = (use & ~refused & self.vfree[p.v[c]] & (self.room[p.h[c]] > 0)
                      & (p.cost[c] <= np.minimum(self.budget[p.part[c]], self.programme)))
                x = rel.knapsacks(values, ok, np.maximum(self.budget, 0))[1]
            if len(x) == 0:
                return
            x = x[np.lexsort((x, -values[x]))]
            fits = np.array([self.try_add(int(j)) for j in c[x]], dtype=bool)
            if fits.all():
                return
            refused[x[~fits]] = True
            x = None


def _primal(rel: _Relaxation, x: np.ndarray, values: np.ndarray, dive: bool = False) -> np.ndarray:
    """A feasible solution (pair indices) from knapsack choices ``x`` (module docstring);
    with ``dive`` the pairs ``x`` are taken first and the rest is knapsacked afresh."""
    core = rel.core
    part = _Partial(rel, core.locked)
    use = np.ones(len(core.cand), dtype=bool)
    if dive:
        for j in core.cand[x[np.lexsort((x, -core.w[core.cand[x]]))]].tolist():
            part.try_add(j)
        x = None
    part.fill(values, use, x)
    return complete(core, np.concatenate([core.locked, np.asarray(part.added, dtype=np.int64)]))


def improve(rel: _Relaxation, pairs: np.ndarray, deadline: float | None = None, passes: int = 3
            ) -> tuple[np.ndarray, int]:
    """Local search: re-choose one partnership's pairs at a time by an exact knapsack (the
    other partnerships' pairs fixed), keeping each change that raises the objective.

    ``passes`` is the deterministic limit; ``deadline`` (``time.monotonic()``) a safety net.
    Returns the solution and the number of partnerships re-chosen (each a knapsack and a
    :func:`~matchmaker.solve.heuristics.complete` over the candidates: the work done)."""
    core, p, c = rel.core, rel.core.problem, rel.core.cand
    pairs = np.asarray(pairs, dtype=np.int64)
    value = core.value(pairs)
    plain = rel.den * core.w[c]
    calls = 0
    for _ in range(passes):
        better = False
        for q in range(p.n_partnerships):
            if deadline is not None and time.monotonic() >= deadline:
                return pairs, calls
            calls += 1
            others = pairs[(p.part[pairs] != q) | p.locked[pairs]]
            part = _Partial(rel, others)
            part.fill(plain, p.part[c] == q)
            new = complete(core, np.concatenate([others, np.asarray(part.added, dtype=np.int64)]))
            z = core.value(new)
            if z > value:
                pairs, value, better = new, z, True
        if not better:
            break
    return pairs, calls


def _start(problem, mu0, core):
    if core is None:
        conflicts = lock_conflicts(problem)
        if conflicts:
            raise ValueError("the locked pairs cannot all be honoured, so the round has no solution: "
                             + "; ".join(c["message"] for c in conflicts))
        core = build_core(problem)
    p = core.problem
    if mu0 is None:
        return core, Multipliers.zeros(p)
    if isinstance(mu0, Multipliers):
        if len(mu0.host) != p.n_hosts or len(mu0.energy) != p.n_hosts:
            raise ValueError(f"mu0: one host and one energy price per host ({p.n_hosts}), got "
                             f"{len(mu0.host)} and {len(mu0.energy)}")
        return core, mu0
    host = np.asarray(mu0, dtype=float)
    if host.shape != (p.n_hosts,) or not np.isfinite(host).all() or (host < 0).any():
        raise ValueError(f"mu0: expected Multipliers or {p.n_hosts} finite host prices >= 0, "
                         f"got an array of shape {host.shape}")
    return core, Multipliers(host, np.zeros(p.n_hosts), 0.0, np.zeros(p.n_partnerships))


def lagrangian(problem: SolverProblem, mu0=None, time_limit: float | None = 10.0, *, core: Core | None = None,
               max_iterations: int = 500, smoothing: float = 0.5, tolerance: float = 1e-5,
               max_states: int | None = None, primal: bool = True, guide=None, start=None,
               progress=None, max_work: float | None = None) -> LagrangianResult:
    """Lagrangian bound, prices, reduced costs and primal of a round (module docstring).

    Parameters
    ----------
    problem : SolverProblem
    mu0 : Multipliers or array of host prices, optional
        Starting prices; ``Multipliers.from_lp(lp)`` also brings the LP's window cuts.
    time_limit : float or None
        Seconds, checked after each knapsack round (``None``: until converged); a safety
        net: when it ends the run, the result depends on the machine's speed.
    core : Core, optional
        A core already built for ``problem`` (its locks are then taken as checked).
    max_iterations : int
        Most knapsack rounds.
    smoothing : float in [0, 1)
        Weight of the best prices so far in the next prices (0: the master's prices).
    tolerance : float
        Stop when ``L`` is within this share of the master's value (the best ``L`` any
        prices can reach is in between), or when the integer bound cannot drop further.
    max_states : int, optional
        Largest knapsack capacity in budget units: a bigger budget is counted in a coarser
        unit with lump sums rounded down (faster, a weaker but still valid bound).
    primal : bool
        Build feasible solutions (at the start and at the end, then :func:`improve`).
    guide : array, optional
        Per candidate pair (``core.cand`` order), in [0, 1]: the knapsacks of the primal
        break near-ties (within half a price unit) towards it, e.g. the LP solution ``lp.x``.
    start : array of pair indices, optional
        A feasible solution (locks included), e.g. the solver's incumbent: the best of it
        and the primal found here is improved and returned.
    progress : callable, optional
        Called as ``progress(iteration, bound, master, best_objective)``.
    max_work : float, optional
        Work units (:mod:`matchmaker.solve.effort`; a knapsack round costs one
        ``lagrangian_pair_iteration`` per candidate pair, the final primal four rounds):
        the deterministic limit.
    """
    if time_limit is not None and time_limit <= 0:
        raise ValueError(f"time_limit must be > 0 seconds, got {time_limit}")
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
    if max_iterations < 1 or (max_states is not None and max_states < 1):
        raise ValueError(f"max_iterations and max_states must be >= 1, got {max_iterations} and {max_states}")
    t0 = time.monotonic()
    deadline = None if time_limit is None else t0 + float(time_limit)
    core, mu0 = _start(problem, mu0, core)
    fixed = core.fixed_value
    if len(core.cand) == 0:
        z = core.value(core.locked)
        return LagrangianResult(z, Multipliers.zeros(core.problem), core.locked.copy(), z, np.zeros(0),
                                np.zeros(0, np.int64), float(z), float(z), 0, time.monotonic() - t0, 1)
    if guide is not None:
        guide = np.asarray(guide, dtype=float)
        if guide.shape != core.cand.shape or not np.isfinite(guide).all():
            raise ValueError(f"guide: expected one finite number per candidate pair ({len(core.cand)}), "
                             f"got shape {guide.shape}")
    if start is not None:
        start = np.sort(np.asarray(start, dtype=np.int64))
        broken = core.violations(start, schedule_pairs(core.problem, start)[0])
        if broken:
            raise ValueError(f"start: the given solution is not feasible ({'; '.join(broken)})")
    rel = _Relaxation(core, mu0.windows, max_states)
    bonus = None if guide is None else np.rint(np.clip(guide, 0, 1) * ((rel.den - 1) // 2)).astype(np.int64)

    def guided(x, values):
        """Knapsack choices for a primal: near-ties (within half a price unit) go to the guide."""
        if bonus is None:
            return x, values
        return rel.knapsacks(values + bonus, None, core.budget)[1], values + bonus

    master = _Master(rel)
    D = rel.den
    M = rel.to_int(mu0)
    best = None  # (L, M, x, values, info) at the lowest L
    pairs, z, mval, still, history, it = None, None, -np.inf, 0, [], 0
    round_work = units("lagrangian_pair_iteration", len(core.cand))
    primal_work = 4 * round_work if primal else 0.0
    work, clock_stopped = 0.0, False
    while it < max_iterations:
        if it and max_work is not None and work + round_work + primal_work > max_work:
            break
        it += 1
        work += round_work
        L, x, values, info = rel.evaluate(M)
        if best is None or L < best[0]:
            best = (L, M, x, values, info)
        if primal and it == 1:
            pairs = _primal(rel, *guided(x, values))
            z = core.value(pairs)
        master.add(x)
        bound = fixed + best[0] // D
        history.append((it, fixed + L / D, z, round(time.monotonic() - t0, 3)))
        if z is not None and z >= bound:
            break
        if deadline is not None and time.monotonic() >= deadline:
            clock_stopped = True
            break
        left = None if deadline is None else max(0.05, deadline - time.monotonic())
        value, y = master.solve(left)
        if value is None:
            clock_stopped = deadline is not None and time.monotonic() >= deadline
            break
        if progress is not None:
            progress(it, bound, fixed + value, z)
        old_m, mval = mval, value
        low = fixed + mval  # no prices give L below it
        if bound <= np.floor(low + 1e-9 * abs(low)) or fixed + best[0] / D - low <= tolerance * max(1.0, abs(low)):
            break  # no prices give a (much) lower bound
        # smoothed prices; when the last ones did not move the master (mispricing), the master's
        still = still + 1 if mval <= old_m + 1e-9 * abs(mval) else 0
        if still >= 5:
            break  # the master no longer moves: these prices are as good as it gets
        alpha = 0.0 if still else smoothing
        Mm = np.clip(np.rint(y * (D / rel.k)), 0, rel.cap)
        M = np.rint(alpha * best[1] + (1 - alpha) * Mm).astype(np.int64)
    L, M, x, values, info = best
    if start is not None and (z is None or core.value(start) > z):
        pairs, z = start, core.value(start)
    if primal and deadline is not None and time.monotonic() >= deadline:
        clock_stopped = True
    elif primal:
        work += primal_work
        starts = [(*guided(x, values), False)] + [(g, values, k == 1) for k, g in enumerate(master.starts())]
        for guide_x, vals, dive in starts:
            cand_pairs = _primal(rel, guide_x, vals, dive)
            if z is None or core.value(cand_pairs) > z:
                pairs, z = cand_pairs, core.value(cand_pairs)
        if max_work is None or work < max_work:
            pairs, calls = improve(rel, pairs, deadline)
            work += calls * units("repair_pair", len(core.cand))
        z = core.value(pairs)
        clock_stopped = clock_stopped or (deadline is not None and time.monotonic() >= deadline)
    rc = rel.reduced_costs(values, info)
    return LagrangianResult(bound=fixed + L // D, multipliers=rel.to_multipliers(M), pairs=pairs, objective=z,
                            rc=rc / D, pair_bound=fixed + (L + rc) // D, bound_exact=fixed + L / D,
                            master=fixed + mval, iterations=it,
                            seconds=time.monotonic() - t0, scale=D, history=history, work=work,
                            clock_stopped=clock_stopped, support=master.support())


def lagrangian_bound(problem: SolverProblem, mu0=None, time_limit: float | None = 10.0, **options):
    """Upper bound on every feasible solution of a round, from exact partnership knapsacks.

    Parameters
    ----------
    problem : SolverProblem
    mu0 : Multipliers or array of host prices, optional
        Starting prices (objective units); ``Multipliers.from_lp(lp)`` starts from the LP's
        duals, ``None`` from zero.
    time_limit : float or None
        Seconds (checked after each knapsack round).
    **options
        Passed to :func:`lagrangian` (``core``, ``max_iterations``, ``smoothing``, ``primal``, ...).

    Returns
    -------
    bound : int
        In objective units (:func:`matchmaker.solve.problem.objective_weights`), exact: no
        feasible solution is worth more.
    mu : Multipliers
        The prices that gave ``bound``.
    primal_pairs : ndarray or None
        Pair indices of the best feasible solution found (locks included; dates by
        :func:`matchmaker.solve.schedule.schedule_pairs`); ``None`` with ``primal=False``.

    Raises
    ------
    ValueError
        When the locked pairs alone break a rule (the round has no solution), on
        mis-sized or negative prices, or a time limit <= 0.

    Examples
    --------
    >>> from matchmaker.solve.problem import make_problem
    >>> pairs = dict(v=[0, 0, 1], h=[0, 1, 0], score=[900, 500, 800], cost=[60000, 40000, 60000],
    ...              physical=[True] * 3, duration=[5] * 3, es=[0] * 3, ls=[10] * 3)
    >>> p = make_problem(pairs, capacity=[1, 1], max_visitors=[1, 1], budget=[100000])
    >>> bound, mu, chosen = lagrangian_bound(p)
    >>> bound, chosen.tolist()   # visitor 0 at host 1 and visitor 1 at host 0: 500 + 800
    (1300, [1, 2])
    """
    r = lagrangian(problem, mu0, time_limit, **options)
    return r.bound, r.multipliers, r.pairs
