"""The LP bound of a multiple-choice knapsack, and a good solution at its price.

Step 2 of :mod:`matchmaker.solve.knapsack` (the classic core argument). For any price
``lam >= 0`` per unit of weight::

    UB(lam) = lam * capacity + sum over groups of max(0, max over the group's items of (value - lam * weight))

bounds every solution (:func:`lp_upper_bound`). Its slope is ``capacity`` less the weight
of the groups' best items, which falls as the price rises, so :func:`lp_price` finds the
integer price that (nearly) minimises it by a search on the slope; :func:`greedy_choice`
builds a feasible solution at that price, whose value is the lower bound of the reduction.
Items are the Pareto items of :func:`matchmaker.solve.knapsack.pareto_items`: grouped,
within a group sorted by weight and value at once. Everything is in ``int64``.
"""

from __future__ import annotations

import numpy as np


def _reduced(a: np.ndarray, w: np.ndarray, lam: int) -> np.ndarray:
    """``a - lam * w`` without overflow: exact when it is >= 0, otherwise some value in
    ``[a - lam * w, 0)`` (never below the true one, so losses are never overstated)."""
    if lam == 0:
        return a.copy()
    return a - lam * np.minimum(w, a // lam + 1)


def lp_upper_bound(a: np.ndarray, w: np.ndarray, starts: np.ndarray, capacity: int, lam: int
                   ) -> tuple[int, np.ndarray, np.ndarray]:
    """``UB(lam)`` as a Python int, each group's best reduced value (>= 0) and the reduced
    values ``a - lam * w`` (:func:`_reduced`)."""
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


def lp_price(a: np.ndarray, w: np.ndarray, starts: np.ndarray, capacity: int, hint: int | None = None,
             rtol: float = 0.0, ways: int = 8) -> int:
    """Integer price ``lam >= 0`` (nearly) minimising ``UB(lam)`` (module docstring).

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
    return hi if lp_upper_bound(a, w, starts, capacity, hi)[0] <= lp_upper_bound(a, w, starts, capacity, lo)[0] else lo


def greedy_choice(a: np.ndarray, w: np.ndarray, starts: np.ndarray, capacity: int, lam: int) -> np.ndarray:
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
