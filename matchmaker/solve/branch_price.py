"""Branch-and-price: the exact method that proves a round's proposals optimal (decisions §43).

**Master.** Each partnership's knapsack solutions (its visitors' pairs within its budget)
mixed convexly under the host rules: places, the energy rows of the same-day capacity, and
a pool of cuts on it (:mod:`matchmaker.solve.schedule_cuts`: window, count and proven
schedule cuts), found where the master's solution breaks them and kept for every node.

**Pricing.** The exact multiple-choice knapsack of each partnership
(:mod:`matchmaker.solve.knapsack`), priced by the master's duals
(:mod:`matchmaker.solve.branch_price_node`).

**Branching.** On one pair: in one child it is proposed (locked), in the other it is left
out. Both keep the pricing problems' form. The pair branched on is the most fractional
one, weighted by its score. Nodes are taken best bound first (ties: the older node).

**Around it.** The incumbent comes from the solver's phases; every node whose master
solution is whole, with its stays scheduled, is a solution; the knapsack choices of every
:data:`PRIMAL_EVERY`-th node are made feasible and improved
(:mod:`matchmaker.solve.lagrangian_primal`). In each node the pairs whose reduced cost
shows they cannot beat the incumbent are left out of its subtree.

Deterministic: the same round and incumbent give the same nodes in the same order, so a
work limit (``max_work``) stops the search at the same point on any machine; the
``time_limit`` is a safety net.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from matchmaker.solve.branch_price_node import STALL_ROUNDS, NodeResult, node_core, price_node
from matchmaker.solve.core import Core
from matchmaker.solve.lagrangian_primal import improve, primal_solution
from matchmaker.solve.schedule import schedule_pairs
from matchmaker.solve.schedule_cuts import CutPool, window_row

#: Rounds without progress of the master before a node given a second chance (a whole master
#: solution below the node's bound) takes its prices as converged.
PATIENT_STALL = 100
#: Every this many nodes (and at the root) the node's knapsack choices are made a solution.
PRIMAL_EVERY = 10


@dataclass
class BranchPriceResult:
    """Outcome of :func:`branch_and_price` (objective and bound include the locks).

    status : "optimal" (the tree is closed) or "stopped" (a limit ended it).
    pairs, objective : the best solution (the start if nothing better was found).
    bound : no solution is worth more (the best open node's bound, or ``objective``).
    nodes : nodes solved; open : nodes left; cuts : cuts of each kind in the pool.
    seconds, work : time and work units spent; clock_stopped : the time limit ended it.
    """

    status: str
    pairs: np.ndarray
    objective: int
    bound: int
    nodes: int = 0
    open: int = 0
    cuts: dict = field(default_factory=dict)
    seconds: float = 0.0
    work: float = 0.0
    clock_stopped: bool = False


@dataclass(order=True)
class _Node:
    key: tuple  # (-parent bound, creation number): best bound first, then the older node
    forced: np.ndarray = field(compare=False)
    forbidden: np.ndarray = field(compare=False)
    prices: dict = field(compare=False)
    patient: bool = field(default=False, compare=False)  # its master gets PATIENT_STALL rounds
    columns: list = field(default_factory=list, compare=False)  # the parent's master columns in use


def _first_bound(core: Core) -> int:
    """The root's bound before it is solved: the locks and each visitor's best candidate pair."""
    best = np.zeros(core.problem.n_visitors, dtype=np.int64)
    np.maximum.at(best, core.problem.v[core.cand], core.w[core.cand])
    return core.fixed_value + int(best.sum())


class _Search:
    """The open nodes, the incumbent and the pool shared by all nodes."""

    def __init__(self, core: Core, start: np.ndarray, windows: list, prices: dict) -> None:
        self.core, self.p = core, core.problem
        self.pairs, self.best = np.sort(start), core.value(start)
        self.pool = CutPool()
        for host, a, b, _ in windows:
            row = window_row(self.p, int(host), int(a), int(b))
            if row is not None:
                self.pool.add(*row)
        n = self.p.n_pairs
        self.heap: list[_Node] = []
        self.created = 0
        self.push(_first_bound(core), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), prices)
        self.nodes, self.work = 0, 0.0
        self.unsettled = -np.inf  # bound of nodes whose forced stays could not be settled

    def push(self, bound: float, forced: np.ndarray, forbidden: np.ndarray, prices: dict,
             patient: bool = False, columns: list | None = None) -> None:
        self.created += 1
        heapq.heappush(self.heap, _Node((-bound, self.created), forced, forbidden, prices, patient, columns or []))

    def bound(self) -> int:
        """No solution is worth more: the best open node's parent bound, or the incumbent."""
        top = max(max((-node.key[0] for node in self.heap), default=-np.inf), self.unsettled)
        return int(self.best if top == -np.inf or top <= self.best else top)

    def offer(self, pairs: np.ndarray) -> None:
        z = self.core.value(pairs)
        if z > self.best:
            self.pairs, self.best = np.sort(pairs), z

    def step(self) -> None:
        """Solve the best open node: prune it, take its solution, or branch."""
        node = heapq.heappop(self.heap)
        if -node.key[0] <= self.best:
            return
        self.nodes += 1
        core = node_core(self.p, node.forced, node.forbidden)
        if core is None:
            return
        res = price_node(core, self.pool, node.prices, self.best,
                         stall=PATIENT_STALL if node.patient else STALL_ROUNDS, columns=node.columns)
        self.work += res.work
        if res.pruned:
            return
        if self.nodes == 1 or self.nodes % PRIMAL_EVERY == 0:
            self._primal(res)
        if res.bound <= self.best:
            return
        forbidden = node.forbidden.copy()
        forbidden[core.cand[res.pair_bound <= self.best]] = True
        frac = np.minimum(res.xbar, 1.0 - res.xbar)
        if frac.max(initial=0.0) < 1e-6:
            self._whole(core, node, res, forbidden)
            return
        k = int(np.argmax(frac * core.w[core.cand]))
        self._branch(int(core.cand[k]), node.forced, forbidden, res)

    def _branch(self, j: int, forced: np.ndarray, forbidden: np.ndarray, res: NodeResult) -> None:
        """Two children: pair ``j`` proposed, and pair ``j`` left out."""
        up = forced.copy()
        up[j] = True
        down = forbidden.copy()
        down[j] = True
        self.push(res.bound, up, forbidden, res.prices, columns=res.columns)
        self.push(res.bound, forced, down, res.prices, columns=res.columns)

    def _whole(self, core: Core, node: _Node, res: NodeResult, forbidden: np.ndarray) -> None:
        """A whole master solution: a solution if its stays fit, else branch on a stay that does not."""
        chosen = np.concatenate([core.locked, core.cand[res.xbar > 0.5]])
        _, failed, _ = schedule_pairs(self.p, chosen)
        if len(failed) == 0:
            self.offer(chosen)
            if res.bound > self.best and not node.patient:
                # the master stalled short of the node's bound (often a degenerate master):
                # the same node again, from its best prices, with more patience
                self.push(res.bound, node.forced, forbidden, res.prices, patient=True, columns=res.columns)
            elif res.bound > self.best:  # still short of the node's bound: not closed
                self._branch_unreached(core, node, res, forbidden)
            return
        host = int(np.min(failed))
        stays = core.cand[(res.xbar > 0.5) & (self.p.h[core.cand] == host) & self.p.physical[core.cand]]
        if len(stays) == 0:  # only forced stays, not proven unschedulable: neither a solution nor prunable
            self.unsettled = max(self.unsettled, res.bound)
            return
        self._branch(int(stays[np.argmin(core.w[stays])]), node.forced, forbidden, res)

    def _branch_unreached(self, core: Core, node: _Node, res: NodeResult, forbidden: np.ndarray) -> None:
        """A whole master solution below the node's bound (its column generation stopped before
        it converged): a better solution would use a pair left out of it, so branch on the one
        with the highest bound; with none above the incumbent the node is closed."""
        out = (res.xbar < 0.5) & ~forbidden[core.cand] & (res.pair_bound > self.best)
        if not out.any():
            return
        k = np.flatnonzero(out)[np.argmax(res.pair_bound[out])]
        self._branch(int(core.cand[k]), node.forced, forbidden, res)

    def _primal(self, res: NodeResult) -> None:
        """The node's knapsack choices made feasible and improved."""
        if res.rel is None or res.x is None:
            return
        pairs = primal_solution(res.rel, res.x, res.values)
        pairs, _ = improve(res.rel, pairs, None)
        self.offer(pairs)


def branch_and_price(core: Core, start: ArrayLike, *, windows: list | None = None, prices: dict | None = None,
                     time_limit: float | None = None, max_work: float | None = None,
                     progress: Callable[[int, int, int], None] | None = None) -> BranchPriceResult:
    """Search the round of ``core`` until its best solution is proven optimal or a limit ends it.

    Parameters
    ----------
    core : Core
        The round after its locks (:func:`matchmaker.solve.core.build_core`).
    start : array of pair indices
        A feasible solution, locks included (the incumbent).
    windows : list of ``(host, a, b, rhs)``, optional
        Window cuts known already (e.g. the LP's, :attr:`matchmaker.solve.lp_rows.LPRows.windows`),
        put into the pool at the start.
    prices : dict, optional
        Starting prices by row key (:meth:`~matchmaker.solve.cut_relaxation.CutRelaxation.keys`).
    time_limit : float, optional
        Seconds (a safety net: a run it stops depends on the machine's speed).
    max_work : float, optional
        Work units (:mod:`matchmaker.solve.effort`): the deterministic limit, checked before each node.
    progress : callable, optional
        Called as ``progress(best, bound, open_nodes)`` after each node.

    Returns
    -------
    BranchPriceResult
    """
    t0 = time.monotonic()
    start = np.asarray(start, dtype=np.int64)
    search = _Search(core, start, list(windows or []), dict(prices or {}))
    clock = False
    while search.heap:
        if max_work is not None and search.work >= max_work:
            break
        if time_limit is not None and time.monotonic() - t0 >= time_limit:
            clock = True
            break
        search.step()
        if progress is not None:
            progress(search.best, search.bound(), len(search.heap))
    done = search.bound() <= search.best
    return BranchPriceResult("optimal" if done else "stopped", search.pairs, search.best, search.bound(),
                             nodes=search.nodes, open=len(search.heap), cuts=search.pool.counts(),
                             seconds=time.monotonic() - t0, work=search.work, clock_stopped=clock)
