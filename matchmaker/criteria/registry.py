"""The scoring criteria, one named entry each: :data:`REGISTRY`.

A :class:`Criterion` has a name (which is also its weight's setting,
``scoring.weights.<name>``, and its breakdown column, ``score_<name>``), the function
that computes its values in [0, 1] for a block of pairs, the catalogue columns that
function reads, and the criterion in plain words. The score, its breakdown columns and
the settings' check all iterate :data:`REGISTRY`; nothing addresses a criterion by
position.

Adding a criterion: write its function (in the module of its family, or a new one),
add one :class:`Criterion` to :data:`REGISTRY`, and give it a default weight in
``matchmaker/defaults/settings.toml``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from matchmaker.common.schema import SCORE_PREFIX
from matchmaker.criteria import codes, preferences, stay, text
from matchmaker.criteria.context import PairBlock, ScoringContext


@dataclass(frozen=True)
class Criterion:
    """One scoring criterion.

    Parameters
    ----------
    name : str
        Name in the scheme's words.
    compute : callable
        ``compute(ctx, pairs) -> ndarray``: the criterion's value in [0, 1] for every
        pair of a :class:`~matchmaker.criteria.context.PairBlock`, vectorised.
    explanation : str
        The criterion in plain words.
    columns : tuple of str
        Catalogue columns ``compute`` reads from ``pairs.table`` (besides ``v``, ``h``).
    """

    name: str
    compute: Callable[[ScoringContext, PairBlock], np.ndarray]
    explanation: str
    columns: tuple[str, ...] = ()

    @property
    def weight_setting(self) -> str:
        """The setting holding the criterion's weight."""
        return f"scoring.weights.{self.name}"

    @property
    def score_column(self) -> str:
        """The column of its score points in the pairs and ``proposals.csv``."""
        return SCORE_PREFIX + self.name


#: The criteria, in the order of their ``score_<criterion>`` columns.
REGISTRY: tuple[Criterion, ...] = (
    Criterion("sectors", codes.sectors, "Jaccard similarity of the two organisations' sectors "
              "(1 - Jaccard with scoring.options.cross_sector: different sectors score high)."),
    Criterion("activities", codes.activities, "Share of the activities the visitor seeks that the host offers."),
    Criterion("objectives", codes.objectives, "Jaccard similarity of the objectives."),
    Criterion("languages", codes.languages, "1 when the two share a working language, else 0."),
    Criterion("description", text.description, "Cosine similarity of the TF-IDF vectors of the descriptions "
              "(0 when either is empty)."),
    Criterion("availability", stay.availability, "Mean of the stay-length fit (Jaccard of the ranges "
              "[min_days, max_days]) and the share of the common window over which the start can move.",
              ("earliest_start", "latest_start")),
    Criterion("preferences", preferences.preferences, "Mean of the stated preferences: the counterpart's "
              "country in preferred_countries, the distance within max_distance_km (1 when none is stated).",
              ("distance_km",)),
)

#: Names of the criteria, in registry order.
CRITERIA: tuple[str, ...] = tuple(c.name for c in REGISTRY)
#: Their breakdown columns, ``score_<criterion>``, in registry order.
SCORE_COLUMNS: tuple[str, ...] = tuple(c.score_column for c in REGISTRY)
#: The columns ``score_pairs`` needs in its pairs table.
PAIR_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(("v", "h", "mode", *(x for c in REGISTRY for x in c.columns))))


def weight_vector(weights: Mapping[str, float]) -> np.ndarray:
    """The weights of :data:`REGISTRY`'s criteria, in registry order (``weights``: ``scoring.weights``).

    Raises
    ------
    ValueError
        When a criterion has no weight, a weight is negative, or all are 0.
    """
    missing = [c for c in CRITERIA if c not in weights]
    if missing:
        raise ValueError(f"settings: scoring.weights lacks {', '.join(missing)} (criteria: {', '.join(CRITERIA)})")
    out = np.array([float(weights[c]) for c in CRITERIA])
    if (out < 0).any() or out.sum() <= 0:
        raise ValueError(f"settings: scoring.weights {dict(weights)}: must be >= 0 with at least one > 0")
    return out


def pair_block(ctx: ScoringContext, pairs: pd.DataFrame) -> PairBlock:
    """The pairs of a catalogue table as a :class:`PairBlock`, with their columns and positions checked."""
    missing = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if missing:
        raise ValueError(f"pairs: missing column(s) {', '.join(missing)} (needed: {', '.join(PAIR_COLUMNS)})")
    v = pairs["v"].to_numpy().astype(np.intp, copy=False)
    h = pairs["h"].to_numpy().astype(np.intp, copy=False)
    n_v, n_h = ctx.visitors.country.size, ctx.hosts.country.size
    if len(v) and (v.min() < 0 or v.max() >= n_v or h.min() < 0 or h.max() >= n_h):
        raise IndexError(f"pairs: visitor positions must be in [0, {n_v}) and host positions in [0, {n_h})")
    return PairBlock(v, h, pairs)


def criterion_values(ctx: ScoringContext, pairs: pd.DataFrame, out: np.ndarray | None = None) -> np.ndarray:
    """Values in [0, 1] of every criterion for every pair.

    Parameters
    ----------
    ctx : ScoringContext
    pairs : DataFrame
        Columns :data:`PAIR_COLUMNS` (``v``, ``h`` positions; dates as datetime64).
    out : ndarray, optional
        ``(len(pairs), len(REGISTRY))`` float64 array to fill.

    Returns
    -------
    numpy.ndarray
        ``(len(pairs), len(REGISTRY))`` float64, one column per criterion in registry order.
    """
    block = pair_block(ctx, pairs)
    if out is None:
        out = np.empty((len(block.v), len(REGISTRY)), order="F")
    for j, criterion in enumerate(REGISTRY):
        out[:, j] = criterion.compute(ctx, block)
    return out
