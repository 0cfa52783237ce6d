"""The ``availability`` criterion: how well the two agree on the stay's length and dates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from matchmaker.criteria.context import PairBlock, ScoringContext


def _days(col: pd.Series) -> np.ndarray:
    """A date column as datetime64 (any unit; whole days are what matters)."""
    a = col.to_numpy()
    return a if np.issubdtype(a.dtype, np.datetime64) else a.astype("datetime64[D]")


def _day_span(earliest: np.ndarray, latest: np.ndarray) -> np.ndarray:
    """``latest - earliest`` in days (float), for datetime64 arrays of any unit."""
    latest = latest.astype(earliest.dtype, copy=False)
    unit, count = np.datetime_data(earliest.dtype)
    per_day = np.timedelta64(1, "D") / np.timedelta64(count, unit)
    return (latest.view(np.int64) - earliest.view(np.int64)) / per_day


def availability(ctx: ScoringContext, pairs: PairBlock) -> np.ndarray:
    """Mean of the stay-length fit (Jaccard of the ranges) and the start date's slack.

    *Duration fit* is the Jaccard similarity of the two ranges of acceptable stay
    lengths ``[min_days, max_days]``; *timing slack* is the share of the common
    availability window over which the start date can move
    (``(latest_start - earliest_start) / common window length``).
    """
    V, H = ctx.visitors, ctx.hosts
    v, h = pairs.v, pairs.h
    n_ranges = ctx.stay_fit.shape[1]
    fit = ctx.stay_fit.ravel()[V.range_id[v] * n_ranges + H.range_id[h]]
    common = np.minimum(V.last[v], H.last[h]) - np.maximum(V.first[v], H.first[h]) + 1
    timing = _day_span(_days(pairs.table["earliest_start"]), _days(pairs.table["latest_start"]))
    timing /= np.maximum(common, 1)
    np.clip(timing, 0.0, 1.0, out=timing)
    fit += timing
    fit *= 0.5
    return fit
