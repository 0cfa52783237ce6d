"""Explainable similarity scores of visitor-host pairs.

Every eligible pair gets a score from 0 to 100, the weighted mean of named criteria,
each in [0, 1] (docs/decisions.md, "Scoring criteria"):

``sectors``
    Jaccard similarity of the two organisations' sectors, ``|V & H| / |V | H|``; with
    ``scoring.options.cross_sector`` it is ``1 - Jaccard`` (different sectors score high).
``activities``
    Share of the activities the visitor seeks that the host offers.
``objectives``
    Jaccard similarity of the objectives.
``languages``
    1 when the two share a working language, else 0.
``description``
    Cosine similarity of the TF-IDF vectors of the free-text descriptions
    (scikit-learn's ``TfidfVectorizer``, fitted once on all descriptions of the round);
    0 when either description is empty.
``availability``
    Mean of *duration fit*, the Jaccard similarity of the two ranges of acceptable
    stay lengths ``[min_days, max_days]``, and *timing slack*, the share of the
    common availability window over which the start date can move
    (``(latest_start - earliest_start) / common window length``).
``preferences``
    Mean of the preferences the two registrations state: the counterpart's country in
    ``preferred_countries`` (1 or 0) and the distance within ``max_distance_km``
    (1, else ``max_distance_km / distance``); 1 when neither states any.

The score is ``100 * sum(w_c * crit_c) / sum(w)``, times
``scoring.options.virtual_weight`` for virtual pairs. Its explanation is the
contribution of each criterion in score points (``score_<criterion>``), which add up to
the score.

Everything is vectorised over the pairs: set-valued columns become ``uint64`` bitmasks
once per round (:class:`ScoringContext`), so shared codes are a bitwise AND and a
popcount per pair, and ratios of small counts are looked up in a table; the TF-IDF
similarities are a sparse-times-dense matrix product per chunk of visitors.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matchmaker.constraints import eligible_block
from matchmaker.criteria.context import CRITERIA, SET_COLUMNS, ScoringContext, bitmasks  # noqa: F401 (public names)

#: The columns ``score_pairs`` needs in its pairs table.
PAIR_COLUMNS = ("v", "h", "mode", "earliest_start", "latest_start", "distance_km")

#: Most visitor x host cells of TF-IDF similarities computed at once (4 bytes each).
CHUNK_CELLS = 2_000_000

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


def _set_criterion(ctx: ScoringContext, c: str, v: np.ndarray, h: np.ndarray) -> np.ndarray:
    V, H = ctx.visitors, ctx.hosts
    inter = common_codes(V.masks[c], H.masks[c], v, h)
    if c == "languages":
        return (inter > 0).astype(np.float64)
    largest = int(max(V.counts[c].max(initial=0), H.counts[c].max(initial=0)))
    if c == "activities":  # share of the visitor's sought activities
        return _ratio(inter, V.counts[c][v], largest)
    union = V.counts[c][v] + H.counts[c][h] - inter  # Jaccard
    return _ratio(inter, union, 2 * largest)


def _description(ctx: ScoringContext, v: np.ndarray, h: np.ndarray) -> np.ndarray:
    """TF-IDF cosine per pair, computed in chunks of visitors against all hosts."""
    n, n_h = len(v), ctx.hosts.country.size
    out = np.zeros(n)
    if ctx.vectorizer is None or n == 0:
        return out
    grouped = not np.any(v[1:] < v[:-1])
    order = np.arange(n) if grouped else np.argsort(v, kind="stable")
    vs = v[order]
    starts = np.flatnonzero(np.r_[True, vs[1:] != vs[:-1]])
    uv = vs[starts]
    starts = np.append(starts, n)
    step = max(1, CHUNK_CELLS // max(n_h, 1))
    Xv, XhT = ctx.visitors.tfidf, ctx.hosts_tfidf_t
    for a in range(0, len(uv), step):
        b = min(a + step, len(uv))
        sel = slice(starts[a], starts[b]) if grouped else order[starts[a]:starts[b]]
        sim = Xv[uv[a:b]] @ XhT
        sim = sim.toarray() if sp.issparse(sim) else np.asarray(sim)
        flat = np.repeat(np.arange(0, (b - a) * n_h, n_h), np.diff(starts[a:b + 1])) + h[sel]
        out[sel] = sim.ravel()[flat]
    return np.clip(out, 0.0, 1.0, out=out)


def _availability(ctx: ScoringContext, v, h, earliest, latest) -> np.ndarray:
    """Mean of the stay-length fit (Jaccard of the ranges) and the start date's slack."""
    V, H = ctx.visitors, ctx.hosts
    n_ranges = ctx.stay_fit.shape[1]
    fit = ctx.stay_fit.ravel()[V.range_id[v] * n_ranges + H.range_id[h]]
    common = np.minimum(V.last[v], H.last[h]) - np.maximum(V.first[v], H.first[h]) + 1
    timing = _day_span(earliest, latest)
    timing /= np.maximum(common, 1)
    np.clip(timing, 0.0, 1.0, out=timing)
    fit += timing
    fit *= 0.5
    return fit


def _distance_ok(max_km: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """1 within ``max_km``, else ``max_km / distance`` (``max_km`` stated)."""
    return np.where(dist <= max_km, 1.0, max_km / np.maximum(dist, 1e-9))


def _country_ok(mask: np.ndarray, who: np.ndarray, country: np.ndarray) -> np.ndarray:
    """1.0 where ``country`` is among the preferred countries of ``who`` (masks ``mask``)."""
    word = mask[country // 64, who]
    return ((word >> (country % 64).astype(np.uint64)) & np.uint64(1)).astype(np.float64)


def _preferences(ctx: ScoringContext, v, h, dist) -> np.ndarray:
    """Mean of the stated preferences' checks; 1 where none is stated."""
    V, H = ctx.visitors, ctx.hosts
    out = np.ones(len(v))
    idx = np.flatnonzero(V.any_pref[v] | H.any_pref[h])
    if len(idx) == 0:
        return out
    v, h, dist = v[idx], h[idx], dist[idx]
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


def criteria(ctx: ScoringContext, pairs: pd.DataFrame, out: np.ndarray | None = None) -> np.ndarray:
    """Values in [0, 1] of every criterion for every pair.

    Parameters
    ----------
    ctx : ScoringContext
    pairs : DataFrame
        Columns :data:`PAIR_COLUMNS` (``v``, ``h`` positions; dates as datetime64).
    out : ndarray, optional
        ``(len(pairs), len(CRITERIA))`` float64 array to fill.

    Returns
    -------
    numpy.ndarray
        ``(len(pairs), len(CRITERIA))`` float64, one column per criterion.
    """
    missing = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if missing:
        raise ValueError(f"pairs: missing column(s) {', '.join(missing)} (needed: {', '.join(PAIR_COLUMNS)})")
    v = pairs["v"].to_numpy().astype(np.intp, copy=False)
    h = pairs["h"].to_numpy().astype(np.intp, copy=False)
    n_v, n_h = ctx.visitors.country.size, ctx.hosts.country.size
    if len(v) and (v.min() < 0 or v.max() >= n_v or h.min() < 0 or h.max() >= n_h):
        raise IndexError(f"pairs: visitor positions must be in [0, {n_v}) and host positions in [0, {n_h})")
    if out is None:
        out = np.empty((len(v), len(CRITERIA)), order="F")
    for c in SET_COLUMNS:
        out[:, CRITERIA.index(c)] = _set_criterion(ctx, c, v, h)
    if ctx.cross_sector:
        np.subtract(1.0, out[:, 0], out=out[:, 0])
    out[:, 4] = _description(ctx, v, h)
    out[:, 5] = _availability(ctx, v, h, _days(pairs["earliest_start"]), _days(pairs["latest_start"]))
    out[:, 6] = _preferences(ctx, v, h, pairs["distance_km"].to_numpy(dtype=float))
    return out


def points_per_unit(ctx: ScoringContext) -> np.ndarray:
    """Score points of each criterion at value 1 for a physical pair: ``100 * w_c / sum(w)``."""
    return 100.0 * ctx.weights / ctx.weights.sum()


def score_pairs(rnd, pairs: pd.DataFrame, context: ScoringContext | None = None) -> pd.DataFrame:
    """Score and explanation of every pair.

    Parameters
    ----------
    rnd : Round
        The round (used to build the context when ``context`` is None).
    pairs : DataFrame
        Eligible pairs with at least :data:`PAIR_COLUMNS` (as returned by
        ``constraints.eligible_block``).
    context : ScoringContext, optional
        Reuse one context for all blocks of a round.

    Returns
    -------
    DataFrame
        Index of ``pairs``; ``score`` (0-100) and ``score_<criterion>`` for each of
        :data:`CRITERIA`, in score points (``100 * w_c / sum(w) * criterion``, times
        ``virtual_weight`` for a virtual pair), adding up to ``score``.
    """
    ctx = context if context is not None else ScoringContext.build(rnd)
    table = np.empty((len(pairs), 1 + len(CRITERIA)), order="F")
    points = table[:, 1:]
    criteria(ctx, pairs, out=points)
    unit = points_per_unit(ctx)
    virtual = (pairs["mode"] == "virtual").to_numpy(dtype=bool) if len(pairs) else np.zeros(0, dtype=bool)
    factor = np.where(virtual, ctx.virtual_weight, 1.0) if virtual.any() else None
    total = table[:, 0]
    for j in range(len(CRITERIA)):
        col = points[:, j]
        col *= unit[j]
        if factor is not None:
            col *= factor
        if j == 0:
            total[:] = col
        else:
            total += col
    return pd.DataFrame(table, index=pairs.index, columns=["score"] + [f"score_{c}" for c in CRITERIA], copy=False)


def _set_detail(a: tuple, b: tuple, only_a: str = "visitor only", only_b: str = "host only") -> str:
    """Plain-words comparison of two code sets: common codes, then each side's own."""
    common = [x for x in a if x in b]
    parts = [f"common: {', '.join(common) or '-'}"]
    for label, own in ((only_a, [x for x in a if x not in b]), (only_b, [x for x in b if x not in a])):
        if own:
            parts.append(f"{label}: {', '.join(own)}")
    return "; ".join(parts)


def explain_pair(rnd, v: int, h: int, context: ScoringContext | None = None,
                 pair: pd.Series | None = None) -> pd.DataFrame:
    """Table explaining one pair's score, one row per criterion.

    Parameters
    ----------
    rnd : Round
    v, h : int
        Positions of the visitor and the host.
    context : ScoringContext, optional
    pair : Series, optional
        The pair's row from the catalogue; computed with ``constraints.eligible_block``
        when omitted.

    Returns
    -------
    DataFrame
        Columns ``criterion``, ``value`` (0-1), ``weight``, ``points`` (score points,
        summing to the score) and ``detail`` (plain words); a last row ``total``.

    Raises
    ------
    ValueError
        When the pair is not eligible (no stay satisfies the scheme's rules).
    """
    ctx = context if context is not None else ScoringContext.build(rnd)
    if pair is None:

        block = eligible_block(rnd, np.array([v]))
        match = block[block["h"].to_numpy() == h]
        if match.empty:
            raise ValueError(
                f"visitor {rnd.visitors['org_id'].iloc[v]!r} and host {rnd.hosts['org_id'].iloc[h]!r} "
                "are not an eligible pair, so they have no score (see `matchmaker validate`)")
        pair = match.iloc[0]
    frame = pd.DataFrame([pair])
    crit = criteria(ctx, frame)
    virtual = np.array([pair["mode"] == "virtual"])
    pts = score_pairs(rnd, frame, ctx).iloc[0, 1:].to_numpy()
    vr, hr = rnd.visitors.iloc[v], rnd.hosts.iloc[h]
    t = lambda row, c: tuple(row[c]) if isinstance(row.get(c), (tuple, list)) else ()  # noqa: E731
    sec = _set_detail(t(vr, "sectors"), t(hr, "sectors"))
    if ctx.cross_sector:
        sec = "cross-sector option: different sectors score high; " + sec
    pref_bits = []
    for who, row, other in (("visitor", vr, hr), ("host", hr, vr)):
        pc = t(row, "preferred_countries")
        if pc:
            pref_bits.append(f"{who} prefers {', '.join(pc)}: counterpart in {other['country']}")
        mk = row.get("max_distance_km")
        if mk is not None and not pd.isna(mk):
            pref_bits.append(f"{who} max {float(mk):.0f} km: distance {float(pair['distance_km']):.0f} km")
    details = [
        sec,
        _set_detail(t(vr, "activities"), t(hr, "activities"), "sought, not offered", "offered, not sought"),
        _set_detail(t(vr, "objectives"), t(hr, "objectives")),
        _set_detail(t(vr, "languages"), t(hr, "languages")),
        "TF-IDF cosine of the descriptions" + ("" if ctx.vectorizer is not None else " (no descriptions in the round)"),
        f"stay {int(pair.get('working_days', 0))} working days; visitor accepts {vr['min_days']}-{vr['max_days']}, "
        f"host {hr['min_days']}-{hr['max_days']}; start between {pd.Timestamp(pair['earliest_start']).date()} "
        f"and {pd.Timestamp(pair['latest_start']).date()}",
        "; ".join(pref_bits) or "no preferences stated (neutral 1)",
    ]
    table = pd.DataFrame({
        "criterion": list(CRITERIA),
        "value": crit[0],
        "weight": ctx.weights,
        "points": pts,
        "detail": details,
    })
    note = f"virtual pair: x {ctx.virtual_weight:g}" if virtual[0] else "physical pair"
    total = pd.DataFrame({"criterion": ["total"], "value": [np.nan], "weight": [ctx.weights.sum()],
                          "points": [pts.sum()], "detail": [note]})
    return pd.concat([table, total], ignore_index=True)
