"""Criteria on the registrations' code sets: sectors, activities, objectives, languages.

Each set-valued column is a ``uint64`` bitmask per registration
(:class:`~matchmaker.criteria.context.ScoringContext`), so the codes two organisations
share are a bitwise AND and a popcount per pair; ratios of small counts are looked up in
a table rather than divided, so that every pair gets the exact float64 value.
"""

from __future__ import annotations

import functools

import numpy as np

from matchmaker.criteria.context import PairBlock, ScoringContext


def common_codes(a: np.ndarray, b: np.ndarray, v: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Number of codes visitor ``v[i]`` (masks ``a``) and host ``h[i]`` (masks ``b``) share."""
    out = np.bitwise_count(a[0][v] & b[0][h])
    for w in range(1, a.shape[0]):
        out = out + np.bitwise_count(a[w][v] & b[w][h]).astype(np.uint16)
    return out


@functools.lru_cache(maxsize=16)
def ratio_table(largest: int) -> np.ndarray:
    """Flat table of ``i / j`` (0 when ``j = 0``) for ``0 <= i, j <= largest``; index ``i * (largest + 1) + j``.

    Ratios of small counts are looked up rather than divided, so that every pair gets
    the exact float64 value at the cost of one cache-resident gather.
    """
    i, j = np.meshgrid(np.arange(largest + 1), np.arange(largest + 1), indexing="ij")
    table = np.divide(i, j, out=np.zeros(i.shape), where=j > 0).ravel()
    table.flags.writeable = False  # shared by the cache
    return table


def _ratio(num: np.ndarray, den: np.ndarray, largest: int) -> np.ndarray:
    return ratio_table(largest)[num.astype(np.int32) * (largest + 1) + den]


def _shared(ctx: ScoringContext, column: str, pairs: PairBlock) -> tuple[np.ndarray, int]:
    """Codes of ``column`` each pair shares, and the most codes one registration has."""
    V, H = ctx.visitors, ctx.hosts
    inter = common_codes(V.masks[column], H.masks[column], pairs.v, pairs.h)
    largest = int(max(V.counts[column].max(initial=0), H.counts[column].max(initial=0)))
    return inter, largest


def jaccard(ctx: ScoringContext, column: str, pairs: PairBlock) -> np.ndarray:
    """Jaccard similarity ``|V & H| / |V | H|`` of the two registrations' codes of ``column``."""
    inter, largest = _shared(ctx, column, pairs)
    union = ctx.visitors.counts[column][pairs.v] + ctx.hosts.counts[column][pairs.h] - inter
    return _ratio(inter, union, 2 * largest)


def sectors(ctx: ScoringContext, pairs: PairBlock) -> np.ndarray:
    """Jaccard similarity of the sectors; ``1 - Jaccard`` with ``scoring.options.cross_sector``."""
    out = jaccard(ctx, "sectors", pairs)
    if ctx.cross_sector:
        np.subtract(1.0, out, out=out)
    return out


def activities(ctx: ScoringContext, pairs: PairBlock) -> np.ndarray:
    """Share of the activities the visitor seeks that the host offers."""
    inter, largest = _shared(ctx, "activities", pairs)
    return _ratio(inter, ctx.visitors.counts["activities"][pairs.v], largest)


def objectives(ctx: ScoringContext, pairs: PairBlock) -> np.ndarray:
    """Jaccard similarity of the objectives."""
    return jaccard(ctx, "objectives", pairs)


def languages(ctx: ScoringContext, pairs: PairBlock) -> np.ndarray:
    """1 when the two share a working language, else 0."""
    inter = common_codes(ctx.visitors.masks["languages"], ctx.hosts.masks["languages"], pairs.v, pairs.h)
    return (inter > 0).astype(np.float64)
