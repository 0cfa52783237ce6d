"""What scoring needs to know about a round, computed once: :class:`ScoringContext`.

Set-valued columns (sectors, activities, objectives, languages, preferred countries)
become ``uint64`` bitmasks (64 codes a word), descriptions become L2-normalised TF-IDF
rows (scikit-learn's ``TfidfVectorizer`` fitted on all descriptions of the round), and
the other registration columns become small NumPy arrays indexed by position.
:mod:`matchmaker.scoring` scores pairs from these arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from matchmaker.inputs.instance import Round

#: Set-valued registration columns held as bitmasks (each is also the name of its criterion).
SET_COLUMNS = ("sectors", "activities", "objectives", "languages")

#: Hosts' TF-IDF matrix is held dense (4 bytes a cell) when terms x hosts is at most this.
DENSE_TFIDF_CELLS = 25_000_000


def _tuples(col: pd.Series) -> list[tuple]:
    """List-column cells as tuples; empty/None/NaN cells as ``()``."""
    out = []
    for x in col:
        if isinstance(x, (tuple, list, set, frozenset, np.ndarray)):
            out.append(tuple(x))
        else:
            out.append(())
    return out


def bitmasks(values: list[tuple], classes: list[str]) -> np.ndarray:
    """``(words, n)`` uint64 bitmasks of each row's codes among ``classes`` (64 codes a word)."""
    col = {c: j for j, c in enumerate(classes)}
    words = max(1, -(-len(classes) // 64))
    out = np.zeros((words, len(values)), dtype=np.uint64)
    rows = np.repeat(np.arange(len(values)), [len(t) for t in values])
    idx = np.fromiter((col[c] for t in values for c in t), dtype=np.int64, count=len(rows))
    np.bitwise_or.at(out, (idx // 64, rows), np.left_shift(np.uint64(1), (idx % 64).astype(np.uint64)))
    return out


def _optional_float(col: pd.Series | None, n: int) -> np.ndarray:
    if col is None:
        return np.full(n, np.nan)
    return pd.to_numeric(col, errors="raise").to_numpy(dtype=float, na_value=np.nan)


@dataclass
class _Side:
    """Precomputed arrays of one role (visitors or hosts), indexed by position."""

    masks: dict            # set column -> (words, n) uint64
    counts: dict           # set column -> (n,) int16 number of codes
    tfidf: sp.csr_matrix   # (n, terms) L2-normalised rows (zero rows for empty text)
    country: np.ndarray    # (n,) index into ScoringContext.countries
    pref_mask: np.ndarray  # (words, n) preferred countries
    has_pref: np.ndarray   # (n,) bool: preferred_countries stated
    max_km: np.ndarray     # (n,) float, NaN when not stated
    any_pref: np.ndarray   # (n,) bool: some preference stated
    first: np.ndarray      # available_from, days since 1970-01-01 (int32)
    last: np.ndarray       # available_to, idem
    min_days: np.ndarray   # int16
    max_days: np.ndarray   # int16
    range_id: np.ndarray   # (n,) int32 row of (min_days, max_days) in ScoringContext.stay_fit


@dataclass(frozen=True)
class PairBlock:
    """A block of visitor-host pairs to score.

    Attributes
    ----------
    v, h : ndarray of intp
        Positions of each pair's visitor and host in the round.
    table : DataFrame
        The pairs' catalogue columns (dates as datetime64), which a criterion reads
        by name (:attr:`matchmaker.criteria.registry.Criterion.columns`).
    """

    v: np.ndarray
    h: np.ndarray
    table: pd.DataFrame


@dataclass
class ScoringContext:
    """Everything about a round that scoring needs, computed once.

    Build it with :meth:`build`; then :func:`matchmaker.scoring.score_pairs` scores any
    block of pairs.
    """

    weights: dict[str, float]    # scoring.weights as given; read in the registry's order
    cross_sector: bool
    virtual_weight: float
    classes: dict                # set column -> list of codes
    countries: list
    visitors: _Side
    hosts: _Side
    vectorizer: TfidfVectorizer | None
    hosts_tfidf_t: np.ndarray | sp.csr_matrix  # (terms, n_hosts), dense when small enough
    stay_fit: np.ndarray         # (ranges, ranges) Jaccard of the distinct [min_days, max_days]

    @classmethod
    def build(cls, rnd: Round) -> ScoringContext:
        """Bitmasks, TF-IDF matrices and arrays of a round (``rnd``: a :class:`~matchmaker.inputs.instance.Round`)."""
        s = rnd.settings["scoring"]
        V, H = rnd.visitors, rnd.hosts
        classes = {c: sorted({x for df in (V, H) for t in _tuples(df[c]) for x in t}) for c in SET_COLUMNS}
        pref = [_tuples(df["preferred_countries"]) if "preferred_countries" in df else [()] * len(df) for df in (V, H)]
        countries = sorted(set(V["country"]) | set(H["country"]) | {x for p in pref for t in p for x in t})

        texts = [df["description"].fillna("").astype(str).tolist() if "description" in df else [""] * len(df)
                 for df in (V, H)]
        vectorizer = None
        tf = [sp.csr_matrix((len(V), 0), dtype=np.float32), sp.csr_matrix((len(H), 0), dtype=np.float32)]
        if any(t.strip() for side in texts for t in side):
            vectorizer = TfidfVectorizer(strip_accents="unicode", stop_words="english", sublinear_tf=True,
                                         dtype=np.float32)
            try:
                X = vectorizer.fit_transform(texts[0] + texts[1]).tocsr()
                tf = [X[: len(V)], X[len(V):]]
            except ValueError:  # only stop words / punctuation: no vocabulary
                vectorizer = None
        hosts_t = tf[1].T.tocsr()
        if hosts_t.shape[0] * hosts_t.shape[1] <= DENSE_TFIDF_CELLS:
            hosts_t = hosts_t.toarray()  # sparse visitors x dense hosts: cost nnz(visitors) x hosts

        cidx = {c: i for i, c in enumerate(countries)}
        days = [np.column_stack([df["min_days"].to_numpy(dtype=np.int64), df["max_days"].to_numpy(dtype=np.int64)])
                for df in (V, H)]
        ranges, range_ids = np.unique(np.concatenate(days).reshape(-1, 2), axis=0, return_inverse=True)
        range_ids = range_ids.ravel().astype(np.int32)

        def side(df, tfidf, pref_t, range_id) -> _Side:
            sets = {c: _tuples(df[c]) for c in SET_COLUMNS}
            has_pref = np.array([len(t) > 0 for t in pref_t], dtype=bool)
            max_km = _optional_float(df.get("max_distance_km"), len(df))
            return _Side(
                masks={c: bitmasks(sets[c], classes[c]) for c in SET_COLUMNS},
                counts={c: np.array([len(t) for t in sets[c]], dtype=np.int16) for c in SET_COLUMNS},
                tfidf=tfidf,
                country=np.array([cidx[c] for c in df["country"]], dtype=np.int64),
                pref_mask=bitmasks(pref_t, countries),
                has_pref=has_pref,
                max_km=max_km,
                any_pref=has_pref | ~np.isnan(max_km),
                first=df["available_from"].to_numpy(dtype="datetime64[D]").astype(np.int32),
                last=df["available_to"].to_numpy(dtype="datetime64[D]").astype(np.int32),
                min_days=df["min_days"].to_numpy(dtype=np.int16),
                max_days=df["max_days"].to_numpy(dtype=np.int16),
                range_id=range_id,
            )

        return cls(
            weights=dict(s["weights"]),
            cross_sector=bool(s["options"]["cross_sector"]),
            virtual_weight=float(s["options"]["virtual_weight"]),
            classes=classes,
            countries=countries,
            visitors=side(V, tf[0], pref[0], range_ids[: len(V)]),
            hosts=side(H, tf[1], pref[1], range_ids[len(V):]),
            vectorizer=vectorizer,
            hosts_tfidf_t=hosts_t,
            stay_fit=stay_fit_table(ranges),
        )


def stay_fit_table(ranges: np.ndarray) -> np.ndarray:
    """Jaccard similarity of every two integer ranges ``[min_days, max_days]`` (rows of ``ranges``)."""
    lo, hi = ranges[:, 0].astype(np.int64), ranges[:, 1].astype(np.int64)
    both = np.maximum(np.minimum(hi[:, None], hi[None, :]) - np.maximum(lo[:, None], lo[None, :]) + 1, 0)
    span = np.maximum(hi[:, None], hi[None, :]) - np.minimum(lo[:, None], lo[None, :]) + 1
    return both / span
