"""A Lagrangian bound of a round with exact partnership knapsacks, and a primal from it.

Each visitor belongs to one partnership and the budgets are per partnership, so the
partnerships meet only at the hosts. Pricing the host rules (places, same-day capacity
through energy rows and window cuts), the programme budget and fairness splits the round
into one exact multiple-choice knapsack per partnership, whose optima give an exact bound
``L`` on every feasible objective (:mod:`matchmaker.solve.lagrangian_relaxation` holds
the priced rows and the exact integer arithmetic).

**Prices** by column generation on the Dantzig-Wolfe master
(:mod:`matchmaker.solve.lagrangian_master`: the knapsack solutions of each partnership,
mixed convexly, under the priced rows; solved by HiGHS), smoothed towards the best
prices so far (Wentges). The master's value is a lower estimate of the best ``L``: it
stops when the integer bound cannot drop further (or by less than ``tolerance``). At the
best prices the bound is at most the LP bound with the same rows and lower where the
budgets' integrality matters. ``rc`` gives, per pair, how much a solution using it loses
against the bound.

**Primal** (:mod:`matchmaker.solve.lagrangian_primal`). Knapsack choices keep the budgets;
where a host gets too many visitors or its stays cannot be scheduled, the extra pairs
(least valuable first) are refused and the free visitors and budgets are knapsacked
again; :func:`matchmaker.solve.heuristics.complete` fills what is left;
:func:`~matchmaker.solve.lagrangian_primal.improve` re-chooses one partnership at a time
by an exact knapsack.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from matchmaker.solve.core import Core, build_core, lock_conflicts
from matchmaker.solve.effort import units
from matchmaker.solve.lagrangian_master import DantzigWolfeMaster
from matchmaker.solve.lagrangian_primal import improve, primal_solution
from matchmaker.solve.lagrangian_relaxation import KnapsackRelaxation, Multipliers
from matchmaker.solve.problem import SolverInstance
from matchmaker.solve.schedule import schedule_pairs


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


def _start(problem: SolverInstance, mu0: Multipliers | ArrayLike | None, core: Core | None
           ) -> tuple[Core, Multipliers]:
    """The core (built after checking the locks, unless given) and the starting prices."""
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
    return core, Multipliers(host, np.zeros(p.n_hosts), 0.0, np.zeros(p.n_fair_groups))


def _check_options(time_limit: float | None, smoothing: float, max_iterations: int, max_states: int | None) -> None:
    if time_limit is not None and time_limit <= 0:
        raise ValueError(f"time_limit must be > 0 seconds, got {time_limit}")
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
    if max_iterations < 1 or (max_states is not None and max_states < 1):
        raise ValueError(f"max_iterations and max_states must be >= 1, got {max_iterations} and {max_states}")


def _checked_guide(core: Core, guide: ArrayLike | None) -> np.ndarray | None:
    if guide is None:
        return None
    guide = np.asarray(guide, dtype=float)
    if guide.shape != core.cand.shape or not np.isfinite(guide).all():
        raise ValueError(f"guide: expected one finite number per candidate pair ({len(core.cand)}), "
                         f"got shape {guide.shape}")
    return guide


def _checked_start(core: Core, start: ArrayLike | None) -> np.ndarray | None:
    if start is None:
        return None
    start = np.sort(np.asarray(start, dtype=np.int64))
    broken = core.violations(start, schedule_pairs(core.problem, start)[0])
    if broken:
        raise ValueError(f"start: the given solution is not feasible ({'; '.join(broken)})")
    return start


def _no_candidates(core: Core, t0: float) -> LagrangianResult:
    """The exact answer for a core without candidate pairs: the locks alone."""
    z = core.value(core.locked)
    return LagrangianResult(z, Multipliers.zeros(core.problem), core.locked.copy(), z, np.zeros(0),
                            np.zeros(0, np.int64), float(z), float(z), 0, time.monotonic() - t0, 1)


class _Guided:
    """Knapsack choices for a primal: near-ties (within half a price unit) go to the guide."""

    def __init__(self, rel: KnapsackRelaxation, guide: np.ndarray | None):
        self.rel = rel
        self.bonus = None if guide is None else np.rint(np.clip(guide, 0, 1) * ((rel.den - 1) // 2)).astype(np.int64)

    def __call__(self, x: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.bonus is None:
            return x, values
        return self.rel.knapsacks(values + self.bonus, None, self.rel.core.budget)[1], values + self.bonus


def _best_primal(rel: KnapsackRelaxation, master: DantzigWolfeMaster, guided: tuple[np.ndarray, np.ndarray],
                 values: np.ndarray, pairs: np.ndarray | None, z: int | None) -> tuple[np.ndarray | None, int | None]:
    """The best of ``pairs`` and the primal solutions from the best prices' (``guided``)
    knapsack choices and from the master's columns (:meth:`DantzigWolfeMaster.starts`)."""
    core = rel.core
    starts = [(*guided, False)] + [(g, values, k == 1) for k, g in enumerate(master.starts())]
    for guide_x, vals, dive in starts:
        cand_pairs = primal_solution(rel, guide_x, vals, dive)
        if z is None or core.value(cand_pairs) > z:
            pairs, z = cand_pairs, core.value(cand_pairs)
    return pairs, z


def smoothed_prices(rel: KnapsackRelaxation, y: np.ndarray, best_m: np.ndarray, alpha: float) -> np.ndarray:
    """The next integer prices: the master's duals ``y``, moved towards ``best_m`` by ``alpha``."""
    master_m = np.clip(np.rint(y * (rel.den / rel.k)), 0, rel.cap)
    return np.rint(alpha * best_m + (1 - alpha) * master_m).astype(np.int64)


def lagrangian(problem: SolverInstance, mu0: Multipliers | ArrayLike | None = None, time_limit: float | None = 10.0,
               *, core: Core | None = None, max_iterations: int = 500, smoothing: float = 0.5,
               tolerance: float = 1e-5, max_states: int | None = None, primal: bool = True,
               guide: ArrayLike | None = None, start: ArrayLike | None = None,
               progress: Callable[[int, int, float, int | None], None] | None = None,
               max_work: float | None = None) -> LagrangianResult:
    """Lagrangian bound, prices, reduced costs and primal of a round (module docstring).

    Parameters
    ----------
    problem : SolverInstance
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
    _check_options(time_limit, smoothing, max_iterations, max_states)
    t0 = time.monotonic()
    deadline = None if time_limit is None else t0 + float(time_limit)
    core, mu0 = _start(problem, mu0, core)
    fixed = core.fixed_value
    if len(core.cand) == 0:
        return _no_candidates(core, t0)
    guide = _checked_guide(core, guide)
    start = _checked_start(core, start)
    rel = KnapsackRelaxation(core, mu0.windows, max_states)
    guided = _Guided(rel, guide)
    master = DantzigWolfeMaster(rel)
    D, M = rel.den, rel.to_int(mu0)
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
            pairs = primal_solution(rel, *guided(x, values))
            z = core.value(pairs)
        master.add(x)
        bound = fixed + best[0] // D
        history.append((it, fixed + L / D, z, round(time.monotonic() - t0, 3)))
        if z is not None and z >= bound:
            break
        if deadline is not None and time.monotonic() >= deadline:
            clock_stopped = True
            break
        value, y = master.solve(None if deadline is None else max(0.05, deadline - time.monotonic()))
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
        M = smoothed_prices(rel, y, best[1], 0.0 if still else smoothing)
    L, M, x, values, info = best
    if start is not None and (z is None or core.value(start) > z):
        pairs, z = start, core.value(start)
    if primal and deadline is not None and time.monotonic() >= deadline:
        clock_stopped = True
    elif primal:
        work += primal_work
        pairs, z = _best_primal(rel, master, guided(x, values), values, pairs, z)
        if max_work is None or work < max_work:
            pairs, calls = improve(rel, pairs, deadline)
            work += calls * units("repair_pair", len(core.cand))
        z = core.value(pairs)
        clock_stopped = clock_stopped or (deadline is not None and time.monotonic() >= deadline)
    rc = rel.reduced_costs(values, info)
    return LagrangianResult(bound=fixed + L // D, multipliers=rel.to_multipliers(M), pairs=pairs, objective=z,
                            rc=rc / D, pair_bound=fixed + (L + rc) // D, bound_exact=fixed + L / D,
                            master=fixed + mval, iterations=it, seconds=time.monotonic() - t0, scale=D,
                            history=history, work=work, clock_stopped=clock_stopped, support=master.support())


def lagrangian_bound(problem: SolverInstance, mu0: Multipliers | ArrayLike | None = None,
                     time_limit: float | None = 10.0, **options: object
                     ) -> tuple[int, Multipliers, np.ndarray | None]:
    """Upper bound on every feasible solution of a round, from exact partnership knapsacks.

    Parameters
    ----------
    problem : SolverInstance
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
    >>> from matchmaker.solve.problem import make_instance
    >>> pairs = dict(v=[0, 0, 1], h=[0, 1, 0], score=[900, 500, 800], cost=[60000, 40000, 60000],
    ...              physical=[True] * 3, duration=[5] * 3, es=[0] * 3, ls=[10] * 3)
    >>> p = make_instance(pairs, capacity=[1, 1], max_visitors=[1, 1], budget=[100000])
    >>> bound, mu, chosen = lagrangian_bound(p)
    >>> bound, chosen.tolist()   # visitor 0 at host 1 and visitor 1 at host 0: 500 + 800
    (1300, [1, 2])
    """
    r = lagrangian(problem, mu0, time_limit, **options)
    return r.bound, r.multipliers, r.pairs
