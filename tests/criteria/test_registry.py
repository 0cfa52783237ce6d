"""The criteria registry: one named entry per criterion, read by the score, its breakdown
columns and the settings; nothing addresses a criterion by position."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import TYPED_DEFAULTS, typed_registrations

from matchmaker.common.schema import SCORE_PREFIX
from matchmaker.criteria.registry import (
    CRITERIA,
    PAIR_COLUMNS,
    REGISTRY,
    SCORE_COLUMNS,
    criterion_values,
    pair_block,
    weight_vector,
)
from matchmaker.inputs.instance import Round
from matchmaker.inputs.settings import load_settings
from matchmaker.scoring import ScoringContext, score_pairs


def test_each_criterion_is_one_named_entry():
    assert CRITERIA == tuple(c.name for c in REGISTRY) and len(set(CRITERIA)) == len(CRITERIA)
    assert SCORE_COLUMNS == tuple(SCORE_PREFIX + c for c in CRITERIA)
    for c in REGISTRY:
        assert c.weight_setting == f"scoring.weights.{c.name}" and c.score_column == SCORE_PREFIX + c.name
        assert c.explanation.endswith(".") and callable(c.compute)
        assert set(c.columns) <= set(PAIR_COLUMNS)
    assert PAIR_COLUMNS[:3] == ("v", "h", "mode")


def test_every_criterion_has_a_default_weight_and_every_weight_a_criterion():
    weights = load_settings()["scoring"]["weights"]
    assert tuple(weights) == CRITERIA
    assert weight_vector(weights).tolist() == [float(weights[c]) for c in CRITERIA]


@pytest.mark.parametrize("weights, message", [
    ({"sectors": 1.0}, "scoring.weights lacks activities"),
    (dict.fromkeys(CRITERIA, 0.0), "at least one > 0"),
    (dict(dict.fromkeys(CRITERIA, 1.0), sectors=-1.0), "must be >= 0"),
])
def test_weights_are_checked_by_the_registry(weights, message):
    with pytest.raises(ValueError, match=message):
        weight_vector(weights)


@pytest.fixture(scope="module")
def scored():
    """A hand-made round of 3 visitors and 2 hosts, every pair, and its scoring context."""
    base = dict(TYPED_DEFAULTS, mode="either")
    visitors = typed_registrations([{"sectors": ("textile", "water"), "description": "recycled fibres"},
                                    {"languages": ("fr",), "preferred_countries": ("PT",)}, {}], "visitor", base)
    hosts = typed_registrations([{"sectors": ("textile",), "description": "fibres and yarn"},
                                 {"max_distance_km": 50.0}], "host", base)
    empty = pd.DataFrame(columns=["visitor_id", "host_id", "decision", "comment", "source_row"])
    rnd = Round(visitors, hosts, pd.DataFrame(), pd.DataFrame(), empty, load_settings())
    v, h = np.meshgrid(np.arange(3), np.arange(2), indexing="ij")
    n = v.size
    pairs = pd.DataFrame({"v": v.ravel(), "h": h.ravel(), "mode": ["physical", "virtual"] * (n // 2),
                          "earliest_start": np.full(n, np.datetime64("2027-03-01")),
                          "latest_start": np.full(n, np.datetime64("2027-03-20")),
                          "distance_km": np.linspace(10.0, 900.0, n)})
    return rnd, pairs, ScoringContext.build(rnd)


def test_values_are_each_entry_computed_on_its_own(scored):
    rnd, pairs, ctx = scored
    values = criterion_values(ctx, pairs)
    assert values.shape == (len(pairs), len(REGISTRY))
    block = pair_block(ctx, pairs)
    for j, c in enumerate(REGISTRY):
        np.testing.assert_array_equal(values[:, j], c.compute(ctx, block))
        assert ((values[:, j] >= 0) & (values[:, j] <= 1)).all(), c.name


def test_score_and_breakdown_follow_the_registry(scored):
    rnd, pairs, ctx = scored
    s = score_pairs(rnd, pairs, ctx)
    assert list(s.columns) == ["score", *SCORE_COLUMNS]
    weights = rnd.settings["scoring"]["weights"]
    total = sum(float(weights[c.name]) for c in REGISTRY)
    factor = np.where(pairs["mode"] == "virtual", rnd.settings["scoring"]["options"]["virtual_weight"], 1.0)
    block = pair_block(ctx, pairs)
    for c in REGISTRY:
        expected = 100 * float(weights[c.name]) / total * c.compute(ctx, block) * factor
        np.testing.assert_allclose(s[c.score_column], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s["score"], s[list(SCORE_COLUMNS)].sum(axis=1), rtol=1e-12)


def test_pairs_need_the_columns_the_criteria_read(scored):
    _, pairs, ctx = scored
    for column in PAIR_COLUMNS:
        if column != "mode":  # read by the score, not by a criterion
            with pytest.raises(ValueError, match=f"missing column\\(s\\) {column}"):
                criterion_values(ctx, pairs.drop(columns=column))
    with pytest.raises(IndexError, match="visitor positions"):
        criterion_values(ctx, pairs.assign(v=pairs["v"] + 10))
