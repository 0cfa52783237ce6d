"""Scoring criteria pinned on hand-made pairs; weights, options and the score breakdown."""

import numpy as np
import pandas as pd
import pytest
from helpers import TYPED_DEFAULTS, typed_registrations

from matchmaker.criteria import text
from matchmaker.inputs.instance import Round
from matchmaker.inputs.settings import load_settings
from matchmaker.scoring import CRITERIA, ScoringContext, bitmasks, common_codes, criterion_values, score_pairs

BASE = dict(TYPED_DEFAULTS, mode="either")


def regs(rows, role):
    return typed_registrations(rows, role, BASE)


def make_round(visitors, hosts, **scoring):
    settings = load_settings(overrides={"scoring": scoring} if scoring else None)
    empty = pd.DataFrame(columns=["visitor_id", "host_id", "decision", "comment", "source_row"])
    return Round(regs(visitors, "visitor"), regs(hosts, "host"), pd.DataFrame(), pd.DataFrame(), empty, settings)


def pairs_of(v, h, mode="physical", earliest="2027-03-01", latest="2027-03-01", distance=1000.0, days=5):
    n = len(v)
    return pd.DataFrame({
        "v": np.asarray(v, dtype=np.int32), "h": np.asarray(h, dtype=np.int32),
        "mode": [mode] * n if isinstance(mode, str) else mode, "working_days": np.full(n, days, dtype=np.int16),
        "earliest_start": np.full(n, np.datetime64(earliest, "D")),
        "latest_start": np.full(n, np.datetime64(latest, "D")),
        "distance_km": np.full(n, distance) if np.isscalar(distance) else np.asarray(distance, float),
    })


def crit_of(rnd, pairs):
    c = criterion_values(ScoringContext.build(rnd), pairs)
    return pd.DataFrame(c, columns=CRITERIA)


# --- each criterion: identical, disjoint, partial ------------------------------------------

def test_sectors_jaccard_identical_disjoint_partial():
    rnd = make_round(
        [{"sectors": ("textile", "automotive")}],
        [{"sectors": ("textile", "automotive")}, {"sectors": ("water",)}, {"sectors": ("textile", "plastics")}],
    )
    c = crit_of(rnd, pairs_of([0, 0, 0], [0, 1, 2]))["sectors"]
    np.testing.assert_allclose(c, [1.0, 0.0, 1 / 3], rtol=1e-6)


def test_cross_sector_option_rewards_different_sectors():
    rows = ([{"sectors": ("textile", "automotive")}],
            [{"sectors": ("textile", "automotive")}, {"sectors": ("water",)}, {"sectors": ("textile", "plastics")}])
    rnd = make_round(*rows, options={"cross_sector": True})
    c = crit_of(rnd, pairs_of([0, 0, 0], [0, 1, 2]))["sectors"]
    np.testing.assert_allclose(c, [0.0, 1.0, 2 / 3], rtol=1e-6)
    s = score_pairs(rnd, pairs_of([0, 0], [0, 1]))
    assert s["score"].iloc[1] > s["score"].iloc[0]


def test_activities_share_of_sought_that_host_offers():
    rnd = make_round(
        [{"activities": ("networking", "market_research")}],
        [{"activities": ("networking", "market_research", "capacity_building")},
         {"activities": ("capacity_building",)},
         {"activities": ("market_research",)}],
    )
    c = crit_of(rnd, pairs_of([0, 0, 0], [0, 1, 2]))["activities"]
    np.testing.assert_allclose(c, [1.0, 0.0, 0.5])


def test_objectives_jaccard():
    rnd = make_round(
        [{"objectives": ("new_markets", "green_transition")}],
        [{"objectives": ("green_transition", "new_markets")}, {"objectives": ("digital",)},
         {"objectives": ("new_markets",)}],
    )
    c = crit_of(rnd, pairs_of([0, 0, 0], [0, 1, 2]))["objectives"]
    np.testing.assert_allclose(c, [1.0, 0.0, 0.5])


def test_languages_one_common_language_is_enough():
    rnd = make_round(
        [{"languages": ("es", "en")}],
        [{"languages": ("en", "es")}, {"languages": ("fr",)}, {"languages": ("fr", "en")}],
    )
    c = crit_of(rnd, pairs_of([0, 0, 0], [0, 1, 2]))["languages"]
    np.testing.assert_allclose(c, [1.0, 0.0, 1.0])


def test_description_tfidf_cosine_and_empty_descriptions_score_zero():
    text = "recycled fibres for technical textiles and circular fashion"
    rnd = make_round(
        [{"description": text}, {"description": ""}],
        [{"description": text}, {"description": "railway signalling maintenance software"},
         {"description": "technical textiles testing laboratory"}, {"description": ""}],
    )
    c = crit_of(rnd, pairs_of([0, 0, 0, 0, 1], [0, 1, 2, 3, 0]))["description"]
    assert c[0] == pytest.approx(1.0, abs=1e-6)
    assert c[1] == 0.0
    assert 0.1 < c[2] < 0.9
    assert c[3] == 0.0 and c[4] == 0.0


def test_no_descriptions_at_all_score_zero():
    rnd = make_round([{}], [{}])
    assert crit_of(rnd, pairs_of([0], [0]))["description"].iloc[0] == 0.0


def test_availability_duration_fit_and_timing_slack():
    # Visitor 5-10 days, Mar 1-31. Host 0: same range and window; host 1: 8-10 days.
    rnd = make_round([{}], [{}, {"min_days": 8, "max_days": 10}])
    # Identical ranges, start may move over 15 of the 31 common days.
    p = pairs_of([0], [0], earliest="2027-03-01", latest="2027-03-16")
    assert crit_of(rnd, p)["availability"].iloc[0] == pytest.approx(0.5 * 1.0 + 0.5 * 15 / 31)
    # One possible start date: no slack; stay ranges 5-10 vs 8-10 share 3 of 6 lengths.
    p = pairs_of([0], [1], earliest="2027-03-08", latest="2027-03-08")
    assert crit_of(rnd, p)["availability"].iloc[0] == pytest.approx(0.5 * 3 / 6)


def test_preferences_stated_met_unmet_and_neutral():
    rnd = make_round(
        [{}, {"preferred_countries": ("FR",)}, {"preferred_countries": ("PT",)}, {"max_distance_km": 500.0}],
        [{}, {"preferred_countries": ("PT",)}],
    )
    p = pairs_of([0, 1, 2, 3, 3, 1], [0, 0, 0, 0, 0, 1], distance=[1000, 1000, 1000, 400, 1000, 1000])
    c = crit_of(rnd, p)["preferences"]
    # none stated -> neutral 1; met -> 1; unmet -> 0; distance within -> 1, beyond -> max/distance;
    # visitor prefers FR (met) but host prefers PT for an ES visitor (unmet) -> mean 0.5.
    np.testing.assert_allclose(c, [1.0, 1.0, 0.0, 1.0, 0.5, 0.5])


# --- score, weights, virtual weight, breakdown ------------------------------------------------

def test_identical_profiles_score_100_and_disjoint_profiles_score_low():
    same = {"sectors": ("textile",), "activities": ("networking",), "objectives": ("new_markets",),
            "languages": ("en",), "description": "smart textiles"}
    other = {"sectors": ("water",), "activities": ("market_research",), "objectives": ("digital",),
             "languages": ("fr",), "description": "drinking water"}
    rnd = make_round([same], [same, other])
    # The start may move over 30 of the 31 common days: availability = 0.5 + 0.5 * 30/31,
    # every other criterion is 1.
    s = score_pairs(rnd, pairs_of([0, 0], [0, 1], earliest="2027-03-01", latest="2027-03-31"))
    w = rnd.settings["scoring"]["weights"]
    lost = (1 - (0.5 + 0.5 * 30 / 31)) * w["availability"] / sum(w.values())
    assert s["score"].iloc[0] == pytest.approx(100 * (1 - lost))
    assert s["score_sectors"].iloc[1] == 0 and s["score_languages"].iloc[1] == 0
    assert s["score"].iloc[1] < 20


def test_breakdown_adds_up_to_score_and_has_one_column_per_criterion():
    rng = np.random.default_rng(0)
    secs = ["textile", "water", "energy", "ict", "health"]
    vis = [{"sectors": tuple(rng.choice(secs, 2, replace=False)), "description": f"word{i} textile"} for i in range(20)]
    hos = [{"sectors": tuple(rng.choice(secs, 3, replace=False)), "description": f"word{i} water"} for i in range(15)]
    rnd = make_round(vis, hos)
    v, h = np.meshgrid(np.arange(20), np.arange(15), indexing="ij")
    modes = np.where(rng.random(v.size) < 0.3, "virtual", "physical")
    s = score_pairs(rnd, pairs_of(v.ravel(), h.ravel(), mode=list(modes), latest="2027-03-10"))
    assert list(s.columns) == ["score"] + [f"score_{c}" for c in CRITERIA]
    np.testing.assert_allclose(s.filter(like="score_").sum(axis=1), s["score"], atol=1e-9)
    assert s["score"].between(0, 100).all()


def test_virtual_weight_scales_score_and_every_contribution():
    rnd = make_round([{}], [{}], options={"virtual_weight": 0.6})
    s = score_pairs(rnd, pairs_of([0, 0], [0, 0], mode=["physical", "virtual"]))
    np.testing.assert_allclose(s.iloc[1].to_numpy(), 0.6 * s.iloc[0].to_numpy())


def test_zero_weight_removes_a_criterion():
    rnd = make_round([{"sectors": ("water",)}], [{"sectors": ("textile",)}],
                     weights={"sectors": 0.0})
    s = score_pairs(rnd, pairs_of([0], [0]))
    assert s["score_sectors"].iloc[0] == 0.0
    # Disjoint sectors no longer lower the score: identical profiles otherwise.
    rnd_same = make_round([{"sectors": ("textile",)}], [{"sectors": ("textile",)}], weights={"sectors": 0.0})
    assert score_pairs(rnd_same, pairs_of([0], [0]))["score"].iloc[0] == pytest.approx(s["score"].iloc[0])


def test_doubling_a_weight_doubles_its_share():
    rnd1 = make_round([{"sectors": ("textile", "water")}], [{"sectors": ("textile",)}])
    rnd2 = make_round([{"sectors": ("textile", "water")}], [{"sectors": ("textile",)}], weights={"sectors": 6.0})
    s1 = score_pairs(rnd1, pairs_of([0], [0])).iloc[0]
    s2 = score_pairs(rnd2, pairs_of([0], [0])).iloc[0]
    w = rnd1.settings["scoring"]["weights"]
    total1 = sum(w.values())
    total2 = total1 + 3.0
    assert s2["score_sectors"] == pytest.approx(s1["score_sectors"] * 2 * total1 / total2)
    assert s2["score_languages"] == pytest.approx(s1["score_languages"] * total1 / total2)
    assert s2["score"] < s1["score"]  # the weak criterion (sectors 0.5) now weighs more


def test_pairs_in_any_order_score_the_same_as_sorted():
    rnd = make_round([{"sectors": ("textile",)}, {"sectors": ("water",)}, {}],
                     [{"sectors": ("water",)}, {"sectors": ("textile", "water")}])
    v = np.array([2, 0, 1, 0, 2, 1])
    h = np.array([1, 0, 1, 1, 0, 0])
    s = score_pairs(rnd, pairs_of(v, h))
    order = np.lexsort((h, v))
    s_sorted = score_pairs(rnd, pairs_of(v[order], h[order]))
    np.testing.assert_allclose(s["score"].to_numpy()[order], s_sorted["score"].to_numpy())


def test_chunked_scoring_matches_unchunked(monkeypatch):
    rng = np.random.default_rng(1)
    secs = ["textile", "water", "energy", "ict"]
    vis = [{"sectors": tuple(rng.choice(secs, 2, replace=False)), "description": f"a{i % 3} b{i % 5}"}
           for i in range(30)]
    hos = [{"sectors": tuple(rng.choice(secs, 2, replace=False)), "description": f"a{i % 4} b{i % 2}"}
           for i in range(7)]
    rnd = make_round(vis, hos)
    v, h = np.meshgrid(np.arange(30), np.arange(7), indexing="ij")
    p = pairs_of(v.ravel(), h.ravel())
    whole = score_pairs(rnd, p)
    monkeypatch.setattr(text, "CHUNK_CELLS", 10)  # one visitor per chunk
    np.testing.assert_array_equal(score_pairs(rnd, p).to_numpy(), whole.to_numpy())


def test_bitmasks_more_than_64_codes():
    classes = [f"c{i:03d}" for i in range(130)]
    m = bitmasks([("c000", "c064", "c129"), ()], classes)
    assert m.shape == (3, 2)  # (words, rows)
    assert int(m[0, 0]) == 1 and int(m[1, 0]) == 1 and int(m[2, 0]) == 1 << 1
    assert not m[:, 1].any()
    b = bitmasks([("c064", "c129", "c001")], classes)
    np.testing.assert_array_equal(common_codes(m, b, np.array([0, 1]), np.array([0, 0])), [2, 0])


def test_sectors_jaccard_with_more_than_64_sector_codes():
    many = tuple(f"s{i:03d}" for i in range(100))
    rnd = make_round([{"sectors": many}], [{"sectors": many[50:]}, {"sectors": many[99:] + ("other",)}])
    c = crit_of(rnd, pairs_of([0, 0], [0, 1]))["sectors"]
    np.testing.assert_allclose(c, [50 / 100, 1 / 101])


def test_missing_pair_column_is_reported():
    rnd = make_round([{}], [{}])
    with pytest.raises(ValueError, match="distance_km"):
        score_pairs(rnd, pairs_of([0], [0]).drop(columns="distance_km"))
