"""Explainable similarity scores of visitor-host pairs: the face of :mod:`matchmaker.criteria`.

Every eligible pair gets a score from 0 to 100, the weighted mean of named criteria,
each in [0, 1] (docs/decisions.md, "Scoring criteria"). The criteria are the entries of
:data:`matchmaker.criteria.registry.REGISTRY` (name, function, columns it reads, plain
words), in the order of their ``score_<criterion>`` columns:

``sectors``, ``activities``, ``objectives``, ``languages``
    Shared codes of the registrations (:mod:`matchmaker.criteria.codes`).
``description``
    TF-IDF cosine of the free-text descriptions (:mod:`matchmaker.criteria.text`).
``availability``
    Stay-length fit and start-date slack (:mod:`matchmaker.criteria.stay`).
``preferences``
    Preferred countries and largest distance, where stated
    (:mod:`matchmaker.criteria.preferences`).

The score is ``100 * sum(w_c * crit_c) / sum(w)`` with the weights
``scoring.weights.<criterion>``, times ``scoring.options.virtual_weight`` for virtual
pairs. Its explanation is the contribution of each criterion in score points
(``score_<criterion>``), which add up to the score.

Everything is vectorised over the pairs: what a criterion needs to know about the
round is computed once (:class:`ScoringContext`), and each criterion is a few array
operations per block of pairs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matchmaker.criteria.codes import common_codes, ratio_table
from matchmaker.criteria.context import SET_COLUMNS, PairBlock, ScoringContext, bitmasks
from matchmaker.criteria.registry import (
    CRITERIA,
    PAIR_COLUMNS,
    REGISTRY,
    SCORE_COLUMNS,
    Criterion,
    criterion_values,
    weight_vector,
)
from matchmaker.inputs.instance import Round

__all__ = ["CRITERIA", "PAIR_COLUMNS", "REGISTRY", "SCORE_COLUMNS", "SET_COLUMNS", "Criterion", "PairBlock",
           "ScoringContext", "bitmasks", "common_codes", "criterion_values", "points_per_unit", "ratio_table",
           "score_pairs"]


def points_per_unit(ctx: ScoringContext) -> np.ndarray:
    """Score points of each criterion at value 1 for a physical pair: ``100 * w_c / sum(w)``, registry order."""
    weights = weight_vector(ctx.weights)
    return 100.0 * weights / weights.sum()


def score_pairs(rnd: Round, pairs: pd.DataFrame, context: ScoringContext | None = None) -> pd.DataFrame:
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
        Index of ``pairs``; ``score`` (0-100) and :data:`SCORE_COLUMNS`, one
        ``score_<criterion>`` per entry of :data:`REGISTRY`, in score points
        (``100 * w_c / sum(w) * criterion``, times ``virtual_weight`` for a virtual
        pair), adding up to ``score``.
    """
    ctx = context if context is not None else ScoringContext.build(rnd)
    unit = points_per_unit(ctx)
    table = np.empty((len(pairs), 1 + len(REGISTRY)), order="F")
    points = table[:, 1:]
    criterion_values(ctx, pairs, out=points)
    virtual = (pairs["mode"] == "virtual").to_numpy(dtype=bool) if len(pairs) else np.zeros(0, dtype=bool)
    factor = np.where(virtual, ctx.virtual_weight, 1.0) if virtual.any() else None
    total = table[:, 0]
    for j in range(len(REGISTRY)):
        col = points[:, j]
        col *= unit[j]
        if factor is not None:
            col *= factor
        if j == 0:
            total[:] = col
        else:
            total += col
    return pd.DataFrame(table, index=pairs.index, columns=["score", *SCORE_COLUMNS], copy=False)
