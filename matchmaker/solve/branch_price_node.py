"""One node of branch-and-price: its core, its bound by column generation, and its cuts.

A node is the round with some pairs *forced* (proposed) and some *forbidden*. Its core
(:func:`node_core`) takes the forced pairs as locks and leaves the forbidden ones out, so
the partnerships' knapsacks keep their form (the pricing problems are unchanged).
:func:`price_node` solves the node's Dantzig-Wolfe master by column generation
(partnership knapsack columns under the priced host rules and cuts,
:class:`~matchmaker.solve.cut_relaxation.CutRelaxation`), adding the cuts its fractional
solution breaks (:func:`~matchmaker.solve.schedule_cuts.separate`) until none is found.

The bound of a node is the Lagrangian bound ``L`` at the best prices seen: exact integer
arithmetic, valid whether or not the prices converged, so a node whose ``L`` falls to the
incumbent is pruned at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from matchmaker.solve.core import Core, build_core
from matchmaker.solve.cut_relaxation import CutRelaxation
from matchmaker.solve.effort import units
from matchmaker.solve.lagrangian import smoothed_prices
from matchmaker.solve.lagrangian_master import DantzigWolfeMaster
from matchmaker.solve.problem import SolverInstance
from matchmaker.solve.schedule import schedule_pairs
from matchmaker.solve.schedule_cuts import CutPool, separate

#: Knapsack rounds of one node's column generation at most (per round of cuts).
MAX_ROUNDS = 300
#: Rounds of cuts per node at most.
CUT_ROUNDS = 5
#: Rounds without progress of the master after which its prices are taken as converged
#: (measured on the sample from the default phases' incumbent: 5 -> not proven in 37.7
#: work units, 130 nodes; 20 -> proven, 29.4 units; 40 -> proven, 28.6 units, 63 nodes).
STALL_ROUNDS = 40


@dataclass
class NodeResult:
    """Outcome of :func:`price_node`.

    bound : int -- no solution of the node is worth more (objective units).
    pruned : bool -- the bound fell to ``incumbent`` (the rest is then empty).
    xbar : ndarray -- the master's value of each pair of ``core.cand``.
    pair_bound : ndarray of int -- per ``core.cand``: no solution of the node using it is worth more.
    prices : dict -- the best prices by row key (a child's start).
    rel : CutRelaxation, values, x -- the relaxation at the best prices, for primal heuristics.
    rounds : int -- knapsack rounds; work : float -- work units spent.
    columns : list of ``(partnership, pair indices)`` -- the master's columns in use (a child's start).
    """

    bound: int
    pruned: bool
    xbar: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    pair_bound: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    prices: dict = dataclasses.field(default_factory=dict)
    rel: CutRelaxation | None = None
    values: np.ndarray | None = None
    x: np.ndarray | None = None
    rounds: int = 0
    work: float = 0.0
    columns: list = dataclasses.field(default_factory=list)


def forced_conflict(problem: SolverInstance, forced: np.ndarray) -> bool:
    """Do the locks and the forced pairs together break a rule for sure?

    A schedule that the exact check could not settle counts as no conflict: only a
    proven conflict may prune a node.
    """
    p = problem
    j = np.flatnonzero(p.locked | forced)
    if (np.bincount(p.v[j], minlength=p.n_visitors) > 1).any():
        return True
    if (np.bincount(p.h[j], minlength=p.n_hosts) > p.max_visitors).any():
        return True
    spend = np.bincount(p.part[j], weights=p.cost[j], minlength=p.n_partnerships)
    if (spend > p.budget).any() or (p.programme_budget is not None and p.cost[j].sum() > p.programme_budget):
        return True
    _, failed, unproven = schedule_pairs(p, j)
    return bool(set(failed.tolist()) - set(np.asarray(unproven).tolist()))


def node_core(problem: SolverInstance, forced: np.ndarray, forbidden: np.ndarray) -> Core | None:
    """The core of a node (forced pairs locked, forbidden ones left out), or None when the
    forced pairs cannot all be proposed together."""
    if forced.any():
        if forced_conflict(problem, forced):
            return None
        problem = dataclasses.replace(problem, locked=problem.locked | forced)
    core = build_core(problem)
    core.cand = core.cand[~forbidden[core.cand]]
    return core


def inherited(core: Core, columns: list) -> list[tuple[int, np.ndarray]]:
    """The parent's columns that are knapsack solutions of this node, in ``core.cand`` positions.

    A column loses its pairs now locked (forced here); it is dropped when another of its
    pairs is no candidate here (forbidden, or of a visitor now forced elsewhere) or when
    the rest does not fit the partnership's budget left after the locks.
    """
    p = core.problem
    pos = np.full(p.n_pairs, -1, dtype=np.int64)
    pos[core.cand] = np.arange(len(core.cand))
    locked = np.zeros(p.n_pairs, dtype=bool)
    locked[core.locked] = True
    out = []
    for q, pairs in columns:
        rest = pairs[~locked[pairs]]
        if (pos[rest] < 0).any() or p.cost[rest].sum() > core.budget[q]:
            continue
        out.append((int(q), np.sort(pos[rest])))
    return out


def _column_generation(core: Core, pool: CutPool, prices: dict, incumbent: int, smoothing: float, stall: int,
                       columns: list) -> tuple[NodeResult, DantzigWolfeMaster | None]:
    """The node's master with the pool's cuts (from ``columns``), to convergence or until pruned."""
    rel = CutRelaxation(core, pool)
    master = DantzigWolfeMaster(rel)
    master.add_columns(inherited(core, columns))
    D, fixed = rel.den, core.fixed_value
    M = rel.prices_to_int(prices)
    round_work = units("branch_price_pair_round", len(core.cand)) + units("branch_price_round", 1)
    best, rounds, still, mval = None, 0, 0, -np.inf
    while rounds < MAX_ROUNDS:
        rounds += 1
        L, x, values, info = rel.evaluate(M)
        if best is None or L < best[0]:
            best = (L, M, x, values, info)
        bound = fixed + best[0] // D
        if bound <= incumbent:
            return NodeResult(bound, True, rounds=rounds, work=rounds * round_work), None
        master.add(x)
        value, y = master.solve(None)
        if value is None:
            break
        old, mval = mval, value
        if bound <= np.floor(fixed + mval + 1e-9 * abs(fixed + mval)):
            break
        still = still + 1 if mval <= old + 1e-9 * abs(mval) else 0
        if still >= stall:
            break
        M = smoothed_prices(rel, y, best[1], 0.0 if still else smoothing)
    L, M, x, values, info = best
    rc = rel.reduced_costs(values, info)
    res = NodeResult(fixed + L // D, False, pair_bound=fixed + (L + rc) // D, prices=rel.prices_of(M), rel=rel,
                     values=values, x=x, rounds=rounds, work=rounds * round_work)
    return res, master


def _mixed(core: Core, master: DantzigWolfeMaster) -> np.ndarray:
    """The master's value of each candidate pair: its columns' weights added up."""
    xbar = np.zeros(len(core.cand))
    lam = master.model.x()[-len(master.columns):] if master.columns else []
    for (_, xq), v in zip(master.columns, lam):
        xbar[xq] += v
    return np.clip(xbar, 0.0, 1.0)


def price_node(core: Core, pool: CutPool, prices: dict, incumbent: int, smoothing: float = 0.5,
               stall: int = STALL_ROUNDS, columns: list | None = None) -> NodeResult:
    """Bound, master solution and reduced costs of a node, with its violated cuts added to ``pool``.

    Parameters
    ----------
    core : Core
        The node's core (:func:`node_core`).
    pool : CutPool
        Cuts valid for the whole round; new ones are added (and kept for other nodes).
    prices : dict
        Starting prices by row key (the parent's; empty at the root).
    incumbent : int
        The best objective known: the node is pruned as soon as its bound is not above it.
    smoothing : float in [0, 1)
        Weight of the best prices so far in the next prices (Wentges).
    stall : int
        Rounds without progress of the master after which its prices count as converged.
    columns : list of ``(partnership, pair indices)``, optional
        Columns to start the master with (the parent's, :func:`inherited` keeps those that fit).
    """
    if len(core.cand) == 0:
        z = core.value(core.locked)
        return NodeResult(z, z <= incumbent, prices=prices)
    work, rounds, found = 0.0, 0, pool.work
    for _ in range(CUT_ROUNDS):
        res, master = _column_generation(core, pool, prices, incumbent, smoothing, stall, columns or [])
        work, rounds = work + res.work, rounds + res.rounds
        if res.pruned or master is None:
            break
        res.xbar = _mixed(core, master)
        columns = res.columns = [(q, core.cand[xq]) for q, xq in master.used()]
        if not separate(core, res.xbar, pool):
            break
        prices = res.prices
    res.work, res.rounds = work + (pool.work - found), rounds
    return res
