"""Pruning the catalogue per visitor: minimum score, then the best K pairs.

Both steps look at one visitor's pairs at a time, so the catalogue can prune block by
block and get the same result as on the whole round (docs/decisions.md §15). Locked
pairs are never dropped and take their visitor's first places; ties in score go to the
lower host position.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Visitor x host cells of the dense matrix used to find each visitor's best K at once.
DENSE_CELLS = 4_000_000


def effective_top_k(settings: dict, n_visitors: int, n_hosts: int) -> tuple[int, str]:
    """K of the K-best pruning and the setting it comes from (``(0, "")``: no pruning)."""
    o = settings["scoring"]["options"]
    if o["top_k"] > 0:
        return int(o["top_k"]), "top_k"
    if n_visitors * n_hosts > o["max_pairs"]:
        return max(1, o["max_pairs"] // max(n_visitors, 1)), "max_pairs"
    return 0, ""


def _best_k_mask(v: np.ndarray, h: np.ndarray, key: np.ndarray, k: int) -> np.ndarray:
    """True for each visitor's ``k`` pairs of highest ``key``; ties go to the lower host.

    Vectorised on a dense (visitors x hosts) matrix of keys, in chunks of visitors:
    ``np.partition`` finds each visitor's k-th largest key, pairs above it are kept and
    pairs equal to it are kept in host order until k are kept. Pairs must be unique.
    """
    keep = np.zeros(len(v), dtype=bool)
    if np.any(v[1:] < v[:-1]):
        by_row = np.argsort(v, kind="stable")
    else:
        by_row = np.arange(len(v))
    vs = v[by_row]
    first = np.flatnonzero(np.r_[True, vs[1:] != vs[:-1]])
    n_cols = int(h.max()) + 1
    step = max(1, DENSE_CELLS // n_cols)
    first = np.append(first, len(v))
    for a in range(0, len(first) - 1, step):
        b = min(a + step, len(first) - 1)
        sel = by_row[first[a]:first[b]]
        r = np.repeat(np.arange(b - a), np.diff(first[a:b + 1]))
        flat = r * n_cols + h[sel]
        dense = np.full((b - a) * n_cols, -np.inf)
        dense[flat] = key[sel]
        dense = dense.reshape(b - a, n_cols)
        kth = np.partition(dense, n_cols - k, axis=1)[:, n_cols - k, None]
        above = dense > kth
        tied = dense == kth
        room = k - above.sum(axis=1, keepdims=True, dtype=np.int32)
        chosen = above | (tied & (np.cumsum(tied, axis=1, dtype=np.int32) <= room))
        keep[sel] = chosen.ravel()[flat]
    return keep


def prune(pairs: pd.DataFrame, top_k: int, min_score: float) -> tuple[pd.DataFrame, int, int, int]:
    """Drop pairs below ``min_score``, then keep each visitor's best ``top_k`` (0: all).

    Locked pairs are always kept and rank first; ties in score go to the lower host
    position. Only visitors with more than ``top_k`` pairs are looked at. Returns the
    kept pairs (in their input order), the numbers dropped by each step and the number
    of visitors who lost pairs to the K-best step. Pairs must be unique (v, h).
    """
    n = len(pairs)
    locked = pairs["locked"].to_numpy(dtype=bool)
    score = pairs["score"].to_numpy()
    keep = locked | (score >= min_score) if min_score > 0 else np.ones(n, dtype=bool)
    n_min = int(n - keep.sum())
    n_top = n_vis = 0
    if top_k > 0 and n:
        v = pairs["v"].to_numpy()
        idx = np.flatnonzero(keep)
        crowded = np.bincount(v[idx]) > top_k
        if crowded.any():
            idx = idx[crowded[v[idx]]]
            key = score[idx] + np.where(locked[idx], 1000.0, 0.0)  # locked first (scores <= 100)
            best = _best_k_mask(v[idx], pairs["h"].to_numpy()[idx], key, top_k)
            drop = idx[~best & ~locked[idx]]
            keep[drop] = False
            n_top = len(drop)
            n_vis = int(np.unique(v[drop]).size)
    if n_min or n_top:
        pairs = pairs[keep]
    return pairs, n_min, n_top, n_vis
