"""The ``description`` criterion: TF-IDF cosine similarity of the free-text descriptions.

The TF-IDF vectors come from :class:`~matchmaker.criteria.context.ScoringContext`
(scikit-learn's ``TfidfVectorizer``, fitted once on all descriptions of the round);
the similarities are a sparse-times-dense matrix product per chunk of visitors.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from matchmaker.criteria.context import PairBlock, ScoringContext

#: Most visitor x host cells of TF-IDF similarities computed at once (4 bytes each).
CHUNK_CELLS = 2_000_000


def description(ctx: ScoringContext, pairs: PairBlock) -> np.ndarray:
    """TF-IDF cosine per pair (0 when either description is empty), in chunks of visitors against all hosts."""
    v, h = pairs.v, pairs.h
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
