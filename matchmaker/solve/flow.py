"""Maximum-weight assignment of visitors to hosts as a min-cost flow.

The network: source -> visitor (capacity 1), visitor -> host (one arc per pair,
capacity 1, cost ``-weight``), host -> sink (capacity = the host's free places), and a
bypass source -> sink so that nobody has to be matched. Its optimum is the best
assignment under "one exchange per visitor" and ``max_visitors`` alone; the network
matrix is totally unimodular, so this is also the optimum of the LP relaxation of that
problem. OR-Tools' ``SimpleMinCostFlow`` solves it exactly in integers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from ortools.graph.python import min_cost_flow


def max_weight_assignment(v: ArrayLike, h: ArrayLike, weight: ArrayLike, host_room: ArrayLike,
                          n_visitors: int | None = None) -> np.ndarray:
    """Pairs of a maximum-weight assignment (each visitor once, each host ``host_room`` times).

    Parameters
    ----------
    v, h : array_like of int
        Visitor and host positions of the candidate pairs.
    weight : array_like of int
        Integer weight of each pair; pairs with weight <= 0 are never chosen.
    host_room : array_like of int
        Places of each host (length ``n_hosts``).
    n_visitors : int, optional
        Number of visitor positions (default ``max(v) + 1``).

    Returns
    -------
    ndarray of bool
        ``True`` for the chosen pairs. Deterministic for a given input order.

    Raises
    ------
    RuntimeError
        If OR-Tools reports anything but an optimal flow (never expected: the bypass arc
        makes every instance feasible).
    """
    v = np.asarray(v, dtype=np.int64)
    h = np.asarray(h, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.int64)
    host_room = np.asarray(host_room, dtype=np.int64)
    chosen = np.zeros(len(v), dtype=bool)
    use = np.flatnonzero((weight > 0) & (host_room[h] > 0))
    if len(use) == 0:
        return chosen
    nv = int(n_visitors if n_visitors is not None else v.max() + 1)
    nh = len(host_room)
    vis = np.flatnonzero(np.bincount(v[use], minlength=nv))
    hos = np.flatnonzero(np.bincount(h[use], minlength=nh))
    # compact node numbering: 0 source, 1..len(vis) visitors, then hosts, then sink
    vnode = np.zeros(nv, dtype=np.int64)
    vnode[vis] = 1 + np.arange(len(vis))
    hnode = np.zeros(nh, dtype=np.int64)
    hnode[hos] = 1 + len(vis) + np.arange(len(hos))
    sink = 1 + len(vis) + len(hos)
    supply = len(vis)

    f = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([np.zeros(len(vis), np.int64), vnode[v[use]], hnode[hos], [0]])
    heads = np.concatenate([vnode[vis], hnode[h[use]], np.full(len(hos), sink), [sink]])
    caps = np.concatenate([np.ones(len(vis), np.int64), np.ones(len(use), np.int64),
                           np.minimum(host_room[hos], supply), [supply]])
    costs = np.concatenate([np.zeros(len(vis), np.int64), -weight[use], np.zeros(len(hos), np.int64), [0]])
    arcs = f.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    f.set_node_supply(0, supply)
    f.set_node_supply(sink, -supply)
    status = f.solve()
    if status != f.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}; expected OPTIMAL")
    pair_arcs = arcs[len(vis):len(vis) + len(use)]
    chosen[use] = f.flows(pair_arcs) > 0
    return chosen
