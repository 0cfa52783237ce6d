"""A Lagrangian bound of a round with exact partnership knapsacks, and a primal from it.

Each visitor belongs to one partnership and the budgets are per partnership, so the
partnerships meet only at the hosts. Price the host rules with multipliers ``mu >= 0``
(rows ``sum_j A_rj x_j <= b_r``):

* ``max_visitors``: ``sum of x at host h <= room_h`` (after the locks);
* same-day capacity through its *energy* row ``sum of duration x <= energy_h`` and, when
  given (from :mod:`matchmaker.lp`), window cuts ``sum m_j(a, b) x_j <= rhs``;
* the programme budget ``sum of cost x <= programme`` (in the lump sums' common unit);
* fairness: ``-(exchanges of p) <= -(target left)`` with a multiplier at most the
  shortfall penalty, since ``-penalty * max(0, t - n) = min over 0 <= y <= penalty of y (n - t)``.

For fixed ``mu`` the round splits into one multiple-choice knapsack per partnership
(each visitor at most one pair, value ``w_j - (A^T mu)_j``, weight its lump sum, capacity
the budget), solved exactly by :func:`matchmaker.knapsack.mckp_grouped`, and::

    L(mu) = fixed + sum over partnerships of MCKP_p(mu) + mu . b  >=  every feasible objective.

Everything is in integers: multipliers are whole multiples of ``1 / scale`` objective
units and the bound is ``fixed + floor(scale * L / scale)``, exact with no tolerance.
The knapsacks keep the budgets' integrality, so at its best ``mu`` the bound is at most
the LP bound with the same rows (:mod:`matchmaker.lp`) and lower where the budgets'
integrality matters. ``mu`` is improved by projected subgradient steps (Polyak step to the
best primal value, halved when the bound stalls).

Primal: each knapsack solution keeps the budgets and gives each visitor at most one host;
at hosts with too many visitors the pairs with the least score per euro are dropped, the
freed visitors and budgets are knapsacked again on the hosts with room (same prices), and
:func:`matchmaker.heuristics.complete` schedules the dates and fills what is left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .core import Core, build_core, energy_rows, lock_conflicts
from .heuristics import complete
from .knapsack import mckp_grouped
from .problem import SolverProblem
from .schedule import conflicting_hosts, min_overlap, schedule_stays


@dataclass
class Multipliers:
    """Prices of the priced-out rows, in objective units per unit of the row (>= 0).

    Attributes
    ----------
    host : ndarray (n_hosts) -- price of a place at the host (``max_visitors`` row).
    energy : ndarray (n_hosts) -- price of a working day of the host's capacity.
    programme : float -- price of one cent of the programme budget.
    fairness : ndarray (n_partnerships) -- price of one exchange short of the target.
    windows : list of (host, a, b, rhs) -- window cuts (:meth:`matchmaker.lp._Rows.add_window`).
    window : ndarray -- price of each window cut.
    """

    host: np.ndarray
    energy: np.ndarray
    programme: float = 0.0
    fairness: np.ndarray | None = None
    windows: list = field(default_factory=list)
    window: np.ndarray | None = None

    @classmethod
    def zeros(cls, problem: SolverProblem) -> "Multipliers":
        return cls(np.zeros(problem.n_hosts), np.zeros(problem.n_hosts), 0.0, np.zeros(problem.n_partnerships))

    @classmethod
    def from_lp(cls, lp) -> "Multipliers":
        """The LP's dual prices (:func:`matchmaker.lp.solve_relaxation`) of the same rows."""
        rows, y = lp.rows, np.asarray(lp.duals["y"], dtype=float)
        p = rows.core.problem
        mu = cls.zeros(p)
        mu.host[rows.hosts] = y[rows.hrow[rows.hosts]]
        mu.energy[rows.ehosts] = y[rows.erow[rows.ehosts]]
        mu.fairness[rows.fparts] = y[rows.frow[rows.fparts]]
        mu.programme = float(lp.duals.get("programme", 0.0))
        mu.windows = list(rows.windows)
        k = np.arange(len(rows.windows)) + rows.n_base
        mu.window = np.where(k < len(y), y[np.minimum(k, len(y) - 1)], 0.0) if len(k) else np.zeros(0)
        return mu


@dataclass
class LagrangianResult:
    """Outcome of :func:`lagrangian`: ``bound`` (int, objective units) and the
    ``multipliers`` that gave it; ``pairs`` the best feasible solution found (locks
    included; ``None`` without a primal) and its ``objective``; ``history`` one
    ``(iteration, L(mu), best objective)`` per evaluation."""

    bound: int
    multipliers: Multipliers
    pairs: np.ndarray | None
    objective: int | None
    iterations: int
    seconds: float
    scale: int
    history: list = field(default_factory=list)


class _Relaxation:
    """The priced-out rows (sparse ``A``, ``b``, caps) and the knapsacks of a core."""

    def __init__(self, core: Core, windows: list):
        p, c = core.problem, core.cand
        self.core, self.windows = core, list(windows)
        n = len(c)
        cols = np.arange(n)
        per_host = np.bincount(p.h[c], minlength=p.n_hosts)
        self.hosts = np.flatnonzero(per_host > core.room)
        self.ehosts = energy_rows(core)
        blocks, rhs, kind = [], [], []

        def add(row_of_col, coef, b, k):
            m = row_of_col >= 0
            blocks.append((row_of_col[m], cols[m], np.asarray(coef, np.int64)[m]))
            rhs.append(np.asarray(b, np.int64))
            kind.append(np.full(len(b), k))

        hrow = np.full(p.n_hosts, -1)
        hrow[self.hosts] = np.arange(len(self.hosts))
        add(hrow[p.h[c]], np.ones(n), core.room[self.hosts], 0)
        erow = np.full(p.n_hosts, -1)
        erow[self.ehosts] = np.arange(len(self.ehosts))
        add(np.where(p.physical[c], erow[p.h[c]], -1), p.duration[c], core.energy[self.ehosts], 1)
        self.unit = max(1, int(np.gcd.reduce(p.cost[c]))) if n else 1
        self.programme = core.programme is not None and n and p.cost[c].sum() > core.programme
        if self.programme:
            add(np.zeros(n, np.int64), p.cost[c] // self.unit, [core.programme // self.unit], 2)
        resid = np.maximum(core.target - core.locked_count, 0)
        self.fparts = np.flatnonzero(resid > 0) if core.penalty > 0 else np.zeros(0, np.int64)
        frow = np.full(p.n_partnerships, -1)
        frow[self.fparts] = np.arange(len(self.fparts))
        add(frow[p.part[c]], -np.ones(n), -resid[self.fparts], 3)
        for host, a, b, r in self.windows:
            m = min_overlap(p.es[c], p.ls[c], p.duration[c], a, b) * (p.physical[c] & (p.h[c] == host))
            add(np.where(m > 0, 0, -1), m, [int(round(r))], 4)
        offs = np.cumsum([0] + [len(r) for r in rhs])
        r_, c_, v_ = (np.concatenate([blk[i] + (offs[k] if i == 0 else 0) for k, blk in enumerate(blocks)])
                      for i in range(3))
        self.b = np.concatenate(rhs)
        self.kind = np.concatenate(kind)
        self.offs = offs
        self.At = sp.csr_matrix((v_, (c_, r_)), shape=(n, len(self.b)), dtype=np.int64)
        # the knapsacks: pairs by partnership, visitor, lump sum
        self.order = np.lexsort((p.cost[c], p.v[c], p.part[c]))
        self.w = core.w[c]
        self.den, self.k = self._scale()
        self.risky = np.zeros(p.n_hosts, dtype=bool)
        self.risky[conflicting_hosts(p, np.concatenate([c, core.locked]))] = True
        # a price above the best weight only removes pairs: cap the multipliers there
        wmax = max(int(np.abs(self.w).max()) if n else 1, 1)
        top = np.where(self.kind == 3, core.penalty, wmax)
        self.cap = (top * self.den) // self.k + 1

    def _scale(self) -> tuple[int, int]:
        """Denominator ``D = k * s + 1`` of the values and the multipliers' factor ``k``.

        A price is ``k * M / D`` objective units for an integer ``M``, close to ``M / s``;
        a pair is worth ``D * w - k * (A^T M)``, which is ``k * s`` times its priced weight
        plus ``w``: of equally priced choices the knapsacks take the higher weight. ``s``
        and ``k`` are the largest powers of two up to 256 and 1024 that keep every sum
        below 2**58.
        """
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

    def knapsacks(self, values: np.ndarray, use: np.ndarray, budget: np.ndarray) -> tuple[int, np.ndarray]:
        """Sum of the partnerships' knapsack optima over the pairs ``use`` (cand mask) and
        the chosen cand positions."""
        p, c = self.core.problem, self.core.cand
        o = self.order[use[self.order]]
        parts, vis = p.part[c][o], p.v[c][o]
        pstarts = np.r_[np.flatnonzero(np.r_[True, parts[1:] != parts[:-1]]), len(o)] if len(o) else [0]
        total, chosen = 0, []
        for s, e in zip(pstarts[:-1], pstarts[1:]):
            q = int(parts[s])
            seg = o[s:e]
            unit = max(1, int(np.gcd.reduce(p.cost[c][seg])))
            vs = vis[s:e]
            gst = np.r_[np.flatnonzero(np.r_[True, vs[1:] != vs[:-1]]), e - s]
            val, pos = mckp_grouped(values[seg], p.cost[c][seg] // unit, gst, int(budget[q] // unit))
            total += val
            chosen.append(seg[pos])
        return total, (np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64))

    def evaluate(self, M: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
        """``D * (L(mu) - fixed)`` as an int (``mu = k M / D``), the chosen cand positions
        and the priced values."""
        values = self.den * self.w - self.k * (self.At @ M)
        total, x = self.knapsacks(values, np.ones(len(values), bool), self.core.budget)
        return total + self.k * int(np.dot(M, self.b)), x, values

    def subgradient(self, x: np.ndarray) -> np.ndarray:
        """``b - A x`` (the slope of L in each multiplier)."""
        return self.b - np.asarray(self.At[x].sum(axis=0)).ravel().astype(np.int64)

    def to_int(self, mu: Multipliers) -> np.ndarray:
        p = self.core.problem
        parts = [mu.host[self.hosts], mu.energy[self.ehosts]]
        if self.programme:
            parts.append([mu.programme * self.unit])
        parts.append(np.zeros(len(self.fparts)) if mu.fairness is None else mu.fairness[self.fparts])
        win = {tuple(w[:3]): float(x) for w, x in zip(mu.windows, mu.window if mu.window is not None else [])}
        parts.append([win.get(tuple(w[:3]), 0.0) for w in self.windows])
        m = np.rint(np.concatenate([np.asarray(x, float) for x in parts]) * (self.den / self.k))
        if len(m) != len(self.b) or p.n_hosts != len(mu.host):
            raise ValueError("multipliers do not match the round (one host price per host)")
        return np.clip(np.nan_to_num(m), 0, self.cap).astype(np.int64)

    def to_multipliers(self, M: np.ndarray) -> Multipliers:
        p = self.core.problem
        mu = Multipliers.zeros(p)
        x = M * (self.k / self.den)
        o = self.offs
        mu.host[self.hosts] = x[o[0]:o[1]]
        mu.energy[self.ehosts] = x[o[1]:o[2]]
        k = 3 if self.programme else 2
        if self.programme:
            mu.programme = float(x[o[2]]) / self.unit
        mu.fairness[self.fparts] = x[o[k]:o[k + 1]]
        mu.windows, mu.window = list(self.windows), x[o[k + 1]:]
        return mu


class _Partial:
    """A feasible partial solution grown pair by pair: places, budgets and schedules left."""

    def __init__(self, rel: _Relaxation, fixed: np.ndarray):
        core, p = rel.core, rel.core.problem
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
        if not self.vfree[p.v[j]] or self.room[h] <= 0 or p.cost[j] > self.budget[q] or p.cost[j] > self.programme:
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
        """Add knapsack choices (``x``, cand positions; solved here when ``None``) by score,
        block those that do not fit, and knapsack the free visitors again until all fit."""
        rel, p, c = self.rel, self.p, self.rel.core.cand
        blocked = np.zeros(len(c), dtype=bool)
        for _ in range(rounds):
            if x is None:
                ok = (use & ~blocked & self.vfree[p.v[c]] & (self.room[p.h[c]] > 0)
                      & (p.cost[c] <= np.minimum(self.budget[p.part[c]], self.programme)))
                _, x = rel.knapsacks(values, ok, np.maximum(self.budget, 0))
            if len(x) == 0:
                return
            x = x[np.lexsort((x, -rel.core.w[c[x]]))]
            fits = np.array([self.try_add(int(j)) for j in c[x]], dtype=bool)
            if fits.all():
                return
            blocked[x[~fits]] = True
            x = None


def _primal(rel: _Relaxation, x: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A feasible solution from knapsack choices ``x`` (see module docstring)."""
    core = rel.core
    part = _Partial(rel, core.locked)
    part.fill(values, np.ones(len(core.cand), dtype=bool), x)
    return complete(core, np.concatenate([core.locked, np.asarray(part.added, dtype=np.int64)]))


def improve(rel: _Relaxation, pairs: np.ndarray, deadline: float | None = None, passes: int = 3) -> np.ndarray:
    """Local search: re-choose one partnership's pairs at a time by an exact knapsack
    (the other partnerships' pairs fixed), keeping a change when the objective rises."""
    core, p, c = rel.core, rel.core.problem, rel.core.cand
    pairs = np.asarray(pairs, dtype=np.int64)
    value = core.value(pairs)
    plain = rel.den * core.w[c]
    for _ in range(passes):
        better = False
        for q in range(p.n_partnerships):
            if deadline is not None and time.monotonic() >= deadline:
                return pairs
            others = pairs[(p.part[pairs] != q) | p.locked[pairs]]
            part = _Partial(rel, others)
            part.fill(plain, p.part[c] == q)
            new = complete(core, np.concatenate([others, np.asarray(part.added, dtype=np.int64)]))
            z = core.value(new)
            if z > value:
                pairs, value, better = new, z, True
        if not better:
            break
    return pairs


def lagrangian(problem: SolverProblem, mu0=None, time_limit: float = 10.0, *, core: Core | None = None,
               max_iterations: int = 200, primal: bool = True, primal_every: int = 5,
               progress=None) -> LagrangianResult:
    """Lagrangian bound and primal of a round (module docstring); see :func:`lagrangian_bound`.

    Parameters
    ----------
    core : Core, optional
        A core already built for ``problem`` (then the locks are assumed checked).
    max_iterations : int
        Most subgradient steps.
    primal_every : int
        Build a primal solution every this many iterations (and whenever the bound improves).
    progress : callable, optional
        Called as ``progress(iteration, bound, best_objective)``.
    """
    if time_limit is not None and time_limit <= 0:
        raise ValueError(f"time_limit must be > 0 seconds, got {time_limit}")
    t0 = time.monotonic()
    deadline = None if time_limit is None else t0 + float(time_limit)
    if core is None:
        conflicts = lock_conflicts(problem)
        if conflicts:
            raise ValueError("the locked pairs cannot all be honoured, so the round has no solution: "
                             + "; ".join(c["message"] for c in conflicts))
        core = build_core(problem)
    p = core.problem
    if mu0 is None:
        mu0 = Multipliers.zeros(p)
    elif not isinstance(mu0, Multipliers):
        host = np.asarray(mu0, dtype=float)
        if host.shape != (p.n_hosts,) or (host < 0).any() or not np.isfinite(host).all():
            raise ValueError(f"mu0: expected Multipliers or {p.n_hosts} host prices >= 0, got shape {host.shape}")
        mu0 = Multipliers(host, np.zeros(p.n_hosts), 0.0, np.zeros(p.n_partnerships))
    rel = _Relaxation(core, mu0.windows)
    D = rel.den
    M = rel.to_int(mu0)
    best = None  # (L, M, x) at the lowest bound so far; L = D * (bound - fixed)
    best_pairs, best_z = None, None
    theta, stall, history, it = 1.0, 0, [], 0
    while it < max_iterations:
        it += 1
        L, x, values = rel.evaluate(M)
        improved = best is None or L < best[0]
        if improved:
            best, stall = (L, M, x), 0
        else:
            stall += 1
        if primal and (improved or it % primal_every == 1):
            pairs = _primal(rel, x, values)
            z = core.value(pairs)
            if best_z is None or z > best_z:
                best_z, best_pairs = z, pairs
        bound = core.fixed_value + best[0] // D
        history.append((it, core.fixed_value + L / D, best_z))
        if progress is not None:
            progress(it, bound, best_z)
        if (best_z is not None and best_z >= bound) or (deadline is not None and time.monotonic() >= deadline):
            break
        if stall >= 3:  # the bound stalls: smaller steps from the best prices
            theta, stall = theta / 2, 0
            L, M, x = best
            if theta < 1e-3:
                break
        g = rel.subgradient(x)
        g[((M <= 0) & (g > 0)) | ((M >= rel.cap) & (g < 0))] = 0
        norm = float(np.dot(g.astype(float), g))
        if norm == 0:
            break  # the knapsacks keep every priced row: no subgradient step improves
        # Polyak step towards the best objective (prices in objective units, M = price * D / k)
        gap = (L / D + core.fixed_value - best_z) if best_z is not None else 0.01 * abs(best[0] / D)
        M = np.clip(np.rint(M - theta * gap / norm * (D / rel.k) * g), 0, rel.cap).astype(np.int64)
    if primal and best_pairs is not None and (deadline is None or time.monotonic() < deadline):
        best_pairs = improve(rel, best_pairs, deadline)
        best_z = core.value(best_pairs)
    return LagrangianResult(bound=core.fixed_value + best[0] // D, multipliers=rel.to_multipliers(best[1]),
                            pairs=best_pairs, objective=best_z, iterations=it,
                            seconds=time.monotonic() - t0, scale=D, history=history)


def lagrangian_bound(problem: SolverProblem, mu0=None, time_limit: float = 10.0, **options):
    """Upper bound on every feasible solution of a round, from exact partnership knapsacks.

    Parameters
    ----------
    problem : SolverProblem
    mu0 : Multipliers or array of host prices, optional
        Starting prices (objective units); ``Multipliers.from_lp(lp)`` starts from the LP's
        duals, ``None`` from zero.
    time_limit : float
        Seconds (checked after each knapsack round).
    **options
        Passed to :func:`lagrangian` (``core``, ``max_iterations``, ``primal``, ...).

    Returns
    -------
    bound : int
        In objective units (:func:`matchmaker.problem.objective_weights`), exact: no
        feasible solution is worth more.
    mu : Multipliers
        The prices that gave ``bound``.
    primal_pairs : ndarray or None
        Pair indices of the best feasible solution found (locks included; dates by
        :func:`matchmaker.schedule.schedule_pairs`), ``None`` with ``primal=False``.

    Raises
    ------
    ValueError
        When the locked pairs alone break a rule (the round has no solution), on
        negative or mis-sized prices, or a time limit <= 0.
    """
    r = lagrangian(problem, mu0, time_limit, **options)
    return r.bound, r.multipliers, r.pairs
