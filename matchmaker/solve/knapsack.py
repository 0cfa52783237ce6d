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
2. **LP reduction** (the classic core argument). For any price ``lam >= 0`` per unit of
   weight, ``UB(lam) = lam * capacity + sum over groups of max(0, max(value - lam * weight))``
   bounds every solution. With ``lam`` the integer price that minimises it (a search
   on its slope) and ``LB`` the value of a greedy solution, a solution worth at least
   ``LB`` loses at most ``G = UB - LB`` against the bound, so an item whose *loss*
   ``max(value - lam * weight) - (value - lam * weight)`` exceeds ``G`` is in no optimal
   solution. Groups left with one choice are fixed; the rest are *free*.
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


def pareto_items(values, weights, starts, capacity: int) -> tuple[np.ndarray, np.ndarray]:
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


def _reduced(a: np.ndarray, w: np.ndarray, lam: int) -> np.ndarray:
    """``a - lam * w`` without overflow: exact when it is >= 0, otherwise some value in
    ``[a - lam * w, 0)`` (never below the true one, so losses are never overstated)."""
    if lam == 0:
        return a.copy()
    return a - lam * np.minimum(w, a // lam + 1)


def _upper(a, w, starts, capacity, lam):
    """``UB(lam)`` as a Python int and each group's best reduced value (>= 0)."""
    r = _reduced(a, w, lam)
    best = np.maximum(np.maximum.reduceat(r, starts[:-1]), 0)
    return lam * capacity + int(best.sum()), best, r


def _best_items(a, w, starts, grp, lam) -> np.ndarray:
    """Position of each group's best item at price ``lam`` (the lightest on ties; -1 when
    nothing is worth more than 0)."""
    r = _reduced(a, w, lam)
    best = np.maximum.reduceat(r, starts[:-1])
    pos = np.flatnonzero((r == best[grp]) & (r > 0))
    choice = np.full(len(starts) - 1, -1, dtype=np.int64)
    # items are sorted by weight inside a group: the first hit is the lightest
    first = np.ones(len(pos), dtype=bool)
    first[1:] = grp[pos][1:] != grp[pos][:-1]
    choice[grp[pos[first]]] = pos[first]
    return choice


def _slope_weight(a, w, starts, grp, lam) -> int:
    """Total weight of each group's best item at price ``lam`` (lightest on ties)."""
    r = _reduced(a, w, lam)
    best = np.maximum.reduceat(r, starts[:-1])
    lightest = np.minimum.reduceat(np.where((r == best[grp]) & (r > 0), w, -1).astype(np.uint64), starts[:-1])
    return int(lightest[lightest < np.uint64(2 ** 63)].sum())


def _slope_weights(a, w, starts, grp, lams: np.ndarray) -> np.ndarray:
    """:func:`_slope_weight` at several prices at once (one column per price)."""
    lams = np.asarray(lams, dtype=np.int64)
    safe = np.maximum(lams, 1)
    r = a[:, None] - lams[None, :] * np.minimum(w[:, None], a[:, None] // safe[None, :] + 1)
    best = np.maximum.reduceat(r, starts[:-1], axis=0)
    hit = (r == best[grp]) & (r > 0)
    lightest = np.minimum.reduceat(np.where(hit, w[:, None], np.iinfo(np.int64).max), starts[:-1], axis=0)
    return np.where(lightest == np.iinfo(np.int64).max, 0, lightest).sum(axis=0)


def lp_price(a, w, starts, capacity: int, hint: int | None = None, rtol: float = 0.0, ways: int = 8) -> int:
    """Integer price ``lam >= 0`` (nearly) minimising ``UB(lam)`` (module docstring, step 2).

    ``a, w`` are the Pareto items of :func:`pareto_items` and ``starts`` their group
    offsets. The slope of ``UB`` is ``capacity`` less the weight of the groups' best
    items, which falls as the price rises: a ``ways``-ary search (from a bracket around
    ``hint`` when it holds) narrows ``lo < hi`` (best items do not fit at ``lo``, fit at
    ``hi``) to ``hi - lo <= max(1, rtol * hi)``; the better of the two is returned. Any
    price gives a valid bound; precision makes the reduction stronger.
    """
    grp = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    if _slope_weight(a, w, starts, grp, 0) <= capacity:
        return 0
    lo, hi = 0, int(a.max()) + 1  # at hi every item with weight >= 1 is worth < 0
    if hint is not None and 0 < hint < hi:
        for d in (0.002, 0.03, 0.5):
            pl, ph = max(int(hint * (1 - d)), lo), min(int(hint * (1 + d)) + 1, hi)
            fit = _slope_weights(a, w, starts, grp, np.array([pl, ph])) <= capacity
            if not fit[0] and fit[1]:
                lo, hi = pl, ph
                break
            if fit[0]:
                hi = pl
            else:
                lo = ph
            if hi - lo <= 1:
                break
    while hi - lo > max(1, rtol * hi):
        probe = np.unique(np.linspace(lo, hi, ways + 1)[1:-1].astype(np.int64))
        probe = probe[(probe > lo) & (probe < hi)]
        if len(probe) == 0:
            break
        fit = _slope_weights(a, w, starts, grp, probe) <= capacity
        i = int(np.argmax(fit)) if fit.any() else len(probe)
        lo, hi = (int(probe[i - 1]) if i > 0 else lo), (int(probe[i]) if i < len(probe) else hi)
    return hi if _upper(a, w, starts, capacity, hi)[0] <= _upper(a, w, starts, capacity, lo)[0] else lo


def _greedy(a, w, starts, capacity, lam) -> np.ndarray:
    """A feasible choice (item position per group, -1 for none): the best items at a price
    where they fit, then upgrades while any fits (largest value gain first)."""
    n = len(starts) - 1
    grp = np.repeat(np.arange(n), np.diff(starts))
    choice = np.full(n, -1, dtype=np.int64)
    for price in (lam, lam + 1):
        choice = _best_items(a, w, starts, grp, price)
        if w[choice[choice >= 0]].sum() <= capacity:
            break
    else:  # cannot happen: at lam + 1 > the LP price the lightest best items fit
        choice[:] = -1
    used = int(w[choice[choice >= 0]].sum())
    cur_a = np.where(choice >= 0, a[np.maximum(choice, 0)], 0)
    cur_w = np.where(choice >= 0, w[np.maximum(choice, 0)], 0)
    for _ in range(min(n, 64)):  # upgrades, most value per extra weight first
        gain = a - cur_a[grp]
        extra = w - cur_w[grp]
        ok = np.flatnonzero((gain > 0) & (extra <= capacity - used))
        if len(ok) == 0:
            break
        j = int(ok[np.argmax(gain[ok] / np.maximum(extra[ok], 0.5))])
        g = int(grp[j])
        used += int(extra[j])
        choice[g], cur_a[g], cur_w[g] = j, a[j], w[j]
    return choice


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


def mckp(values, weights, groups, capacity, *, reduce: bool = True) -> tuple[int, np.ndarray]:
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


def mckp_grouped(values, weights, starts, capacity, *, reduce: bool = True,
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
    ub, best, r = _upper(a, w, starts, C, lam)
    if not reduce:
        value, pos = _dense(w, a, starts, C)
        return Knapsack(value, np.sort(idx[pos]), lam, ub)
    choice = _greedy(a, w, starts, C, lam)
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
