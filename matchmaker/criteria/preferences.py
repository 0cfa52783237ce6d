"""The ``preferences`` criterion: the counterpart's country and distance, where stated."""

from __future__ import annotations

import numpy as np

from matchmaker.criteria.context import PairBlock, ScoringContext


def _distance_ok(max_km: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """1 within ``max_km``, else ``max_km / distance`` (``max_km`` stated)."""
    return np.where(dist <= max_km, 1.0, max_km / np.maximum(dist, 1e-9))


def _country_ok(mask: np.ndarray, who: np.ndarray, country: np.ndarray) -> np.ndarray:
    """1.0 where ``country`` is among the preferred countries of ``who`` (masks ``mask``)."""
    word = mask[country // 64, who]
    return ((word >> (country % 64).astype(np.uint64)) & np.uint64(1)).astype(np.float64)


def preferences(ctx: ScoringContext, pairs: PairBlock) -> np.ndarray:
    """Mean of the preferences the two registrations state; 1 where neither states any.

    A stated ``preferred_countries`` gives 1 when the counterpart's country is in it,
    else 0; a stated ``max_distance_km`` gives 1 within it, else
    ``max_distance_km / distance``.
    """
    V, H = ctx.visitors, ctx.hosts
    v, h = pairs.v, pairs.h
    out = np.ones(len(v))
    idx = np.flatnonzero(V.any_pref[v] | H.any_pref[h])
    if len(idx) == 0:
        return out
    v, h = v[idx], h[idx]
    dist = pairs.table["distance_km"].to_numpy(dtype=float)[idx]
    total = np.zeros(len(idx))
    stated = np.zeros(len(idx), dtype=np.int8)
    for side, me, other_country in ((V, v, H.country[h]), (H, h, V.country[v])):
        sub = np.flatnonzero(side.has_pref[me])
        total[sub] += _country_ok(side.pref_mask, me[sub], other_country[sub])
        stated[sub] += 1
        sub = np.flatnonzero(~np.isnan(side.max_km[me]))
        total[sub] += _distance_ok(side.max_km[me[sub]], dist[sub])
        stated[sub] += 1
    out[idx] = total / np.maximum(stated, 1)
    return out
