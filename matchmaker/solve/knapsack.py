"""Exact multiple-choice knapsack (MCKP) by dynamic programming, in integers.

The problem: items in *groups* (in the solver a group is a visitor, an item one of its
pairs); pick at most one item per group so that the weights (lump sums in budget units)
add up to at most ``capacity`` and the values add up to the most. It is the subproblem
of a partnership once the host rules are priced out (:mod:`matchmaker.solve.lagrangian`).

How :func:`mckp` solves it exactly and fast:

1. **Dominance.** Items with value <= 0 or weight > capacity are never needed; of a
   group's items with the same weight only the most valuable; of the rest only the
   *Pareto* ones, each worth more than every lighter item of its group (so a group's
   items are sorted by weight and by value at once).
2. **LP reduction** (the classic core argument, :mod:`matchmaker.solve.knapsack_bound`).
   For any price ``lam >= 0`` per unit of weight, ``UB(lam) = lam * capacity + sum over
   groups of max(0, max(value - lam * weight))`` bounds every solution. With ``lam`` the
   integer price that minimises it (a search on its slope) and ``LB`` the value of a
   greedy solution, a solution worth at least ``LB`` loses at most ``G = UB - LB``
   against the bound, so an item whose *loss* ``max(value - lam * weight) - (value - lam
   * weight)`` exceeds ``G`` is in no optimal solution. Groups left with one choice are
   fixed; the rest are *free*.
3. **Dense DP** over the free groups: ``best[c]`` = best value with weight at most ``c``,
   updated group by group with one vectorised NumPy step per item
   (``new[w:] = max(new[w:], old[:-w] + value)``). Only states that can still matter are
   computed: after group ``i`` a state ``c`` below ``capacity - (sum of the later groups'
   largest weights)`` is dominated by that state, and states above the sum of the
   earlier groups' largest weights equal it. The choice of each group is kept
   (``uint8``) and read back from ``capacity``.

Everything is in ``int64``; the answer is exact (no tolerance anywhere).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from matchmaker.solve.knapsack_bound import greedy_choice, lp_price, lp_upper_bound

#: Largest total value (sum of each group's best value) accepted, so that no sum overflows.
MAX_TOTAL_VALUE = 2 ** 60


def _as_int(name, x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"mckp: {name} must be a 1-D array, got shape {x.shape}")
    if len(x) and not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"mckp: {name} must be integers (got dtype {x.dtype}); scale them first")
    return x.astype(np.int64, copy=False)


def _check(values, weights, capacity):
    a, w = _as_int("values", values), _as_int("weights", weights)
    if w.shape != a.shape:
        raise ValueError(f"mckp: values and weights must have one length, got {len(a)} and {len(w)}")
    if int(capacity) != capacity or capacity < 0:
        raise ValueError(f"mckp: capacity must be a whole number >= 0, got {capacity!r}")
    if len(w) and w.min() < 0:
        i = int(np.argmin(w))
        raise ValueError(f"mckp: weights must be >= 0, item {i} has weight {w[i]}")
    return a, w, int(capacity)


def pareto_items(values: np.ndarray, weights: np.ndarray, starts: np.ndarray, capacity: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The items a solution ever needs (step 1 of the module docstring), in O(items).

    Parameters
    ----------
    values, weights : ndarray of int64
    starts : ndarray of int64
        Group offsets: group ``i`` is items ``starts[i]:starts[i+1]``, sorted by weight.
    capacity : int

    Returns
    -------
    idx : ndarray of int64
        Item positions, by group then weight; within a group both weight and value
        strictly increase. Of items with equal group, weight and value the first is kept.
    starts : ndarray of int64
        Offsets of the non-empty groups in ``idx``.
    """
    a, w = values, weights
    n = len(a)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
    gfirst = np.zeros(n, dtype=bool)
    gfirst[starts[:-1][starts[:-1] < n]] = True
    # best item per run of equal (group, weight), among those worth > 0 that fit
    run_first = gfirst | np.r_[True, w[1:] != w[:-1]]
    rs = np.flatnonzero(run_first)
    av = np.where((a > 0) & (w <= capacity), a, 0)
    run_best = np.maximum.reduceat(av, rs)
    run_id = np.cumsum(run_first) - 1
    hit = np.flatnonzero((av == run_best[run_id]) & (av > 0))
    idx = hit[np.r_[True, run_id[hit][1:] != run_id[hit][:-1]]] if len(hit) else hit
    if len(idx) == 0:
        return idx.astype(np.int64), np.zeros(1, dtype=np.int64)
    grp = np.cumsum(gfirst) - 1
    gg = grp[idx]
    first = np.r_[True, gg[1:] != gg[:-1]]
    # keep an item only when it is worth more than every lighter item of its group
    run = _segment_cummax(a[idx], first)
    keep = first | (a[idx] > np.r_[0, run[:-1]])
    idx = idx[keep]
    gg = gg[keep]
    gs = np.flatnonzero(np.r_[True, gg[1:] != gg[:-1]])
    return idx.astype(np.int64), np.r_[gs, len(idx)].astype(np.int64)


def _segment_cummax(x: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Running maximum of ``x`` restarted where ``first`` is True (vectorised)."""
    seg = np.cumsum(first) - 1
    lo = x.min() if len(x) else 0
    shifted = x - lo  # >= 0
    span = int(shifted.max()) + 1 if len(x) else 1
    if span * (int(seg[-1]) + 1 if len(seg) else 1) < 2 ** 62:
        key = shifted + seg.astype(np.int64) * span
        return np.maximum.accumulate(key) - seg.astype(np.int64) * span + lo
    out = x.copy()  # values too large for the vectorised key: one pass per segment
    bounds = np.r_[np.flatnonzero(first), len(x)]
    for s, e in zip(bounds[:-1], bounds[1:]):
        out[s:e] = np.maximum.accumulate(x[s:e])
    return out


def _dense(w, a, starts, capacity: int) -> tuple[int, np.ndarray]:
    """Exact DP over groups (module docstring, step 3): value and chosen item positions."""
    n = len(starts) - 1
    C = int(capacity)
    if n == 0:
        return 0, np.zeros(0, dtype=np.int64)
    gmax = np.minimum(w[starts[1:] - 1], C)
    C = min(C, int(gmax.sum()))  # more room than all groups can use changes nothing
    pre = np.cumsum(gmax)
    suf = int(pre[-1]) - pre  # largest weights of the later groups
    dp = np.zeros(C + 1, dtype=np.int64)
    buf = np.empty(C + 1, dtype=np.int64)
    mask = np.empty(C + 1, dtype=bool)
    kmax = int(np.diff(starts).max())
    ctype = np.uint8 if kmax < 255 else np.int32
    windows = []
    hi_prev = 0
    for i in range(n):
        lo, hi = max(0, C - int(suf[i])), min(C, int(pre[i]))
        if hi > hi_prev:
            dp[hi_prev + 1:hi + 1] = dp[hi_prev]  # more room than the earlier groups can use
        new = dp[lo:hi + 1].copy()
        ch = np.zeros(hi - lo + 1, dtype=ctype)
        for k in range(starts[i], starts[i + 1]):
            wk = int(w[k])
            s0 = max(lo, wk)
            m = hi + 1 - s0
            if m <= 0:
                continue
            b = buf[:m]
            np.add(dp[s0 - wk:hi + 1 - wk], a[k], out=b)
            mk = mask[:m]
            np.greater(b, new[s0 - lo:], out=mk)
            np.copyto(new[s0 - lo:], b, where=mk)
            np.copyto(ch[s0 - lo:], ctype(k - starts[i] + 1), where=mk)
        dp[lo:hi + 1] = new
        windows.append((lo, hi, ch))
        hi_prev = hi
    s = windows[-1][1]
    value = int(dp[s])
    chosen = []
    for i in range(n - 1, -1, -1):
        lo, hi, ch = windows[i]
        s = min(s, hi)
        k = int(ch[s - lo])
        if k:
            j = int(starts[i]) + k - 1
            chosen.append(j)
            s -= int(w[j])
    return value, np.array(chosen[::-1], dtype=np.int64)


def mckp(values: ArrayLike, weights: ArrayLike, groups: ArrayLike, capacity: int, *, reduce: bool = True
         ) -> tuple[int, np.ndarray]:
    """Exact optimum of a multiple-choice knapsack.

    Maximise the sum of ``values`` of the chosen items, at most one item per group, with
    the sum of their ``weights`` at most ``capacity``.

    Parameters
    ----------
    values : array_like of int
        Value of each item (items worth <= 0 are never chosen).
    weights : array_like of int
        Weight of each item, >= 0 (for lump sums: cents divided by a common unit).
    groups : array_like of int
        Group of each item (a visitor); at most one item per group is chosen.
    capacity : int
        Largest total weight, >= 0.
    reduce : bool, default True
        Fix groups by the LP argument (module docstring, step 2) before the DP; ``False``
        runs the DP over every group (for checks).

    Returns
    -------
    value : int
        The optimum (0 when nothing is worth taking).
    chosen : ndarray of int64
        Indices of the chosen items, sorted; their weights add up to at most
        ``capacity`` and their values to ``value``.

    Raises
    ------
    ValueError
        On arrays of different lengths, non-integer data, negative weights or capacity,
        or values so large that their sum could overflow 64-bit integers.

    Examples
    --------
    Two visitors, two pairs each (values, lump sums in EUR 100), a budget of 4:

    >>> mckp([6, 10, 12, 7], [1, 2, 3, 2], [0, 0, 1, 1], 4)
    (18, array([0, 2]))
    """
    a, w, C = _check(values, weights, capacity)
    g = _as_int("groups", groups)
    if g.shape != a.shape:
        raise ValueError(f"mckp: groups must have one entry per item, got {len(g)} for {len(a)} items")
    order = np.lexsort((w, g))
    gs = g[order]
    starts = np.r_[np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]]) if len(gs) else [], len(gs)].astype(np.int64)
    k = mckp_grouped(a[order], w[order], starts, C, reduce=reduce)
    return k.value, np.sort(order[k.chosen])


class Knapsack(NamedTuple):
    """Outcome of :func:`mckp_grouped`.

    value : int -- the optimum.
    chosen : ndarray of int64 -- positions of the chosen items, sorted.
    price : int -- the LP price ``lam`` of one unit of weight (0 when everything fits).
    upper : int -- ``UB(price) >= value``, the LP bound: a solution that uses item ``j``
        of group ``g`` is worth at most ``upper - (b_g - (a_j - price w_j))`` where ``b_g``
        is ``max(0, a - price w)`` over the items of ``g`` that fit (``w <= capacity``).
    """

    value: int
    chosen: np.ndarray
    price: int
    upper: int


def mckp_grouped(values: ArrayLike, weights: ArrayLike, starts: ArrayLike, capacity: int, *, reduce: bool = True,
                 price_hint: int | None = None) -> Knapsack:
    """:func:`mckp` for items already sorted by group and, within a group, by weight.

    Parameters
    ----------
    values, weights : array_like of int
    starts : array_like of int
        Group offsets: group ``i`` is items ``starts[i]:starts[i+1]`` (``starts[0] = 0``,
        ``starts[-1]`` = number of items, non-decreasing).
    capacity : int
    reduce : bool, default True
    price_hint : int, optional
        A price near the LP price (e.g. the last one of a similar knapsack): it speeds up
        :func:`lp_price`.

    Returns
    -------
    Knapsack
        ``value``, ``chosen`` (positions), the LP ``price`` and bound ``upper``.

    Raises
    ------
    ValueError
        As :func:`mckp`, and when ``starts`` or the weight order is wrong.
    """
    a_all, w_all, C = _check(values, weights, capacity)
    starts = _as_int("starts", starts)
    n = len(a_all)
    if len(starts) < 1 or starts[0] != 0 or starts[-1] != n or (np.diff(starts) < 0).any():
        raise ValueError(f"mckp_grouped: starts must run from 0 to {n} (the number of items) without "
                         f"decreasing, got {starts[:5].tolist()}...{starts[-2:].tolist()}")
    if n > 1:
        inside = np.ones(n - 1, dtype=bool)
        inside[starts[1:-1][(starts[1:-1] > 0) & (starts[1:-1] < n)] - 1] = False
        bad = inside & (w_all[1:] < w_all[:-1])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"mckp_grouped: items must be sorted by weight within a group; item {i + 1} "
                             f"(weight {w_all[i + 1]}) follows item {i} (weight {w_all[i]})")
    idx, starts = pareto_items(a_all, w_all, starts, C)
    if len(idx) == 0:
        return Knapsack(0, idx, 0, 0)
    a, w = a_all[idx], w_all[idx]
    top = a[starts[1:] - 1]  # the most valuable item of each group is its last
    if int(top.sum()) > MAX_TOTAL_VALUE:
        raise ValueError(f"mckp: values too large (sum of the groups' best values {int(top.sum())}); "
                         f"scale them down below {MAX_TOTAL_VALUE}")
    if int(w[starts[1:] - 1].sum()) <= C:  # every group's best item fits together
        return Knapsack(int(top.sum()), np.sort(idx[starts[1:] - 1]), 0, int(top.sum()))
    lam = lp_price(a, w, starts, C, hint=price_hint)
    ub, best, r = lp_upper_bound(a, w, starts, C, lam)
    if not reduce:
        value, pos = _dense(w, a, starts, C)
        return Knapsack(value, np.sort(idx[pos]), lam, ub)
    choice = greedy_choice(a, w, starts, C, lam)
    lb = int(a[choice[choice >= 0]].sum())
    gap = ub - lb
    ng = len(starts) - 1
    grp = np.repeat(np.arange(ng), np.diff(starts))
    allowed = (best[grp] - r) <= gap  # items that an optimal solution may use
    none_ok = best <= gap  # a group may take nothing
    n_allowed = np.bincount(grp[allowed], minlength=ng)
    fixed = ~none_ok & (n_allowed == 1)
    fixed_pos = np.flatnonzero(allowed & fixed[grp])
    free = (n_allowed >= 1) & ~fixed
    cap_left = C - int(w[fixed_pos].sum())
    sel = np.flatnonzero(allowed & free[grp])
    fstarts = np.concatenate([[0], np.cumsum(np.bincount(grp[sel], minlength=ng)[free])]).astype(np.int64)
    value, pos = _dense(w[sel], a[sel], fstarts, cap_left)
    value += int(a[fixed_pos].sum())
    if value < lb:  # cannot happen (the greedy solution is in the reduced problem)
        raise RuntimeError(f"internal error: MCKP optimum {value} below a feasible value {lb}; please report")
    return Knapsack(value, np.sort(idx[np.concatenate([fixed_pos, sel[pos]])]), lam, ub)
