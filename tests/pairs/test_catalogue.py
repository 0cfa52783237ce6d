"""The pair catalogue: pruning (min score, K best, locked pairs), summary, CSV, ranked lists.

The catalogue's own logic is tested against a small stand-in for the rules (every
visitor-host pair from different countries is allowed) so that the expected pairs are
known by hand; one test at the end runs the real rules.
"""

import numpy as np
import pandas as pd
import pytest
from helpers import TYPED_DEFAULTS, typed_registrations

import matchmaker.pairs.catalogue as catalogue
import matchmaker.pairs.pruning as pruning
from matchmaker.cli import main
from matchmaker.common.errors import SettingsError
from matchmaker.common.geo import great_circle_km
from matchmaker.constraints import eligible_block
from matchmaker.generator.generate import generate_round
from matchmaker.inputs.instance import Round
from matchmaker.inputs.loading import load_round
from matchmaker.inputs.settings import load_settings
from matchmaker.pairs.catalogue import COLUMNS, build_catalogue, prune, ranked_counterparts, write_catalogue
from matchmaker.scoring import CRITERIA

BASE = dict(TYPED_DEFAULTS, capacity=1, max_visitors=3, grouped=False, already_visited=False)


def regs(rows, role):
    return typed_registrations(rows, role, BASE)


def make_round(visitors, hosts, decisions=(), **options):
    settings = load_settings(overrides={"scoring": {"options": options}} if options else None)
    dec = pd.DataFrame(list(decisions), columns=["visitor_id", "host_id", "decision"])
    dec["comment"], dec["source_row"] = "", np.arange(len(dec)) + 2
    return Round(regs(visitors, "visitor"), regs(hosts, "host"), pd.DataFrame(), pd.DataFrame(), dec, settings)


def standin_eligible_block(rnd, v_positions):
    """All pairs in different countries; fixed stay and dates; locks from decisions."""
    V, H = rnd.visitors, rnd.hosts
    v, h = np.meshgrid(np.asarray(v_positions, dtype=np.int64), np.arange(len(H)), indexing="ij")
    v, h = v.ravel(), h.ravel()
    ok = V["country"].to_numpy()[v] != H["country"].to_numpy()[h]
    v, h = v[ok], h[ok]
    lock_v, lock_h = rnd.pair_decisions("lock")
    locked = np.isin(v * len(H) + h, lock_v * len(H) + lock_h)
    n = len(v)
    return pd.DataFrame({
        "v": v.astype(np.int32), "h": h.astype(np.int32),
        "mode": pd.Categorical(["physical"] * n, categories=["physical", "virtual"]),
        "working_days": np.full(n, 5, dtype=np.int16),
        "earliest_start": np.full(n, np.datetime64("2027-03-01")),
        "latest_start": np.full(n, np.datetime64("2027-03-15")),
        "distance_km": great_circle_km(V["latitude"].to_numpy()[v], V["longitude"].to_numpy()[v],
                                       H["latitude"].to_numpy()[h], H["longitude"].to_numpy()[h]),
        "lump_sum_eur": np.full(n, 900.0),
        "partnership": V["partnership"].to_numpy()[v],
        "locked": locked,
    })


@pytest.fixture
def standin(monkeypatch):
    monkeypatch.setattr(catalogue, "_rules", lambda rnd: lambda pos: standin_eligible_block(rnd, pos))


SECTORS = [("textile",), ("textile", "water"), ("water",), ("textile", "plastics", "water"), ("energy",)]


def five_hosts():
    return [{"sectors": s} for s in SECTORS]


def test_catalogue_keeps_every_eligible_pair_by_default(standin):
    rnd = make_round([{}, {}, {"country": "FR"}], five_hosts())
    cat = build_catalogue(rnd)
    assert list(cat.pairs.columns) == list(COLUMNS)
    assert cat.n_eligible == 10 and cat.n_kept == 10  # the FR visitor has no host in another country
    assert list(cat.visitors_without_eligible) == [2]
    assert cat.pairs["v"].dtype == np.int32 and cat.pairs["working_days"].dtype == np.int16
    np.testing.assert_allclose(cat.pairs.filter(like="score_").sum(axis=1), cat.pairs["score"], atol=1e-9)
    assert "no K-best pruning" in cat.describe()


def test_top_k_keeps_each_visitors_best_k_with_ties_to_lower_host(standin):
    # Hosts 0 and 5 are identical (a tie); visitor sectors textile: best hosts 0 and 5 (1.0), then 1 (0.5).
    rnd = make_round([{}, {"sectors": ("energy",)}], five_hosts() + [{"sectors": ("textile",)}], top_k=2)
    cat = build_catalogue(rnd)
    kept = cat.pairs.groupby("v")["h"].apply(list).to_dict()
    assert kept[0] == [0, 5]
    # The energy visitor: host 4 (energy), then a tie at sectors 0 among the others -> host 0.
    assert kept[1] == [0, 4]
    assert cat.n_pruned_top_k == 2 * 6 - 4 and cat.visitors_pruned_top_k == 2
    text = cat.describe()
    assert "K-best pruning DROPPED 8 pairs of 2 visitors" in text and "top_k = 2" in text


def test_top_k_tie_goes_to_lower_host_position(standin):
    rnd = make_round([{}], [{"sectors": ("textile",)}] * 4, top_k=1)
    assert list(build_catalogue(rnd).pairs["h"]) == [0]


def test_locked_pair_survives_top_k_and_min_score(standin):
    # H4 (energy) is the visitor's worst host; locking it keeps it and it takes a first place.
    rnd = make_round([{}], five_hosts(), decisions=[("V0", "H4", "lock")], top_k=2, min_score=60.0)
    cat = build_catalogue(rnd)
    assert set(cat.pairs["h"]) == {4, 0}
    assert cat.pairs.set_index("h").loc[4, "locked"]
    assert cat.pairs.set_index("h").loc[4, "score"] < 60


def test_min_score_drops_low_pairs_and_counts_them(standin):
    rnd0 = make_round([{}], five_hosts())
    scores = build_catalogue(rnd0).pairs.set_index("h")["score"]
    threshold = float(scores.sort_values().iloc[2])  # keeps the three best
    cat = build_catalogue(make_round([{}], five_hosts(), min_score=threshold))
    assert sorted(cat.pairs["h"]) == sorted(scores[scores >= threshold].index)
    assert cat.n_pruned_min_score == 2 and cat.n_pruned_top_k == 0
    assert f"min_score = {threshold:g}: 2 pairs" in cat.describe()


def test_visitor_with_all_pairs_below_min_score_is_reported(standin):
    cat = build_catalogue(make_round([{"sectors": ("sport",), "languages": ("lv",)}], five_hosts(), min_score=99.0))
    assert cat.n_kept == 0 and list(cat.visitors_without_kept) == [0]
    assert "below min_score: 1" in cat.describe()


def test_max_pairs_turns_on_k_best_when_top_k_is_zero(standin):
    rnd = make_round([{}, {}, {}], five_hosts(), max_pairs=6)
    cat = build_catalogue(rnd)
    assert cat.top_k == 2 and cat.top_k_source == "max_pairs"
    assert cat.n_kept == 6 and cat.n_pruned_top_k == 9
    assert "exceeds scoring.options.max_pairs = 6" in cat.describe()


def test_blocks_give_the_same_catalogue(standin):
    rng = np.random.default_rng(2)
    secs = ["textile", "water", "energy", "ict", "plastics"]
    vis = [{"sectors": tuple(rng.choice(secs, 2, replace=False))} for _ in range(23)]
    rnd = make_round(vis, five_hosts(), top_k=3)
    a = build_catalogue(rnd, block_size=4).pairs
    b = build_catalogue(rnd, block_size=1000).pairs
    pd.testing.assert_frame_equal(a, b)


def test_block_size_must_be_positive(standin):
    with pytest.raises(ValueError, match="block_size"):
        build_catalogue(make_round([{}], five_hosts()), block_size=0)


def test_prune_on_hand_made_scores():
    pairs = pd.DataFrame({"v": [0, 0, 0, 1, 1], "h": [0, 1, 2, 0, 1],
                          "score": [50.0, 70.0, 70.0, 10.0, 30.0],
                          "locked": [True, False, False, False, False]})
    kept, n_min, n_top, n_vis = prune(pairs, top_k=1, min_score=20.0)
    # v0: the locked h0 takes the one slot although h1 and h2 score higher;
    # v1: h0 is below min_score, h1 is kept.
    assert list(zip(kept["v"], kept["h"])) == [(0, 0), (1, 1)]
    assert (n_min, n_top, n_vis) == (1, 2, 1)


def test_write_catalogue_csv(standin, tmp_path):
    rnd = make_round([{"name": "Clúster Textil Valencià"}], five_hosts())
    cat = build_catalogue(rnd)
    path = write_catalogue(rnd, cat, tmp_path / "scores.csv")
    df = pd.read_csv(path, encoding="utf-8")
    assert list(df.columns[:6]) == ["visitor_id", "visitor_name", "visitor_country", "host_id", "host_name",
                                    "host_country"]
    assert {"working_days", "distance_km", "lump_sum_eur", "earliest_start", "latest_start", "partnership",
            "locked"} <= set(df.columns)
    assert [c for c in df.columns if c.startswith("score_")] == [f"score_{c}" for c in CRITERIA]
    assert df["visitor_name"].iloc[0] == "Clúster Textil Valencià"
    assert df["earliest_start"].iloc[0] == "2027-03-01"
    np.testing.assert_allclose(df.filter(like="score_").sum(axis=1), df["score"], atol=1e-9)


def test_ranked_counterparts_for_a_visitor_best_first(standin):
    rnd = make_round([{}], five_hosts())
    text = ranked_counterparts(rnd, "V0", top=3)
    assert "Best hosts for visitor V0" in text and "3 of 5 eligible hosts" in text
    lines = text.splitlines()
    assert lines[2].split()[:2] == ["1", "H0"]  # identical sectors rank first
    assert "sectors" in text


def test_ranked_counterparts_for_a_host_and_both_roles(standin):
    visitors = [{"org_id": "BOTH"}, {"sectors": ("energy",)}]
    hosts = five_hosts() + [{"org_id": "BOTH", "country": "PT"}]
    rnd = make_round(visitors, hosts)
    host_text = ranked_counterparts(rnd, "H4", role="host")
    assert "Best visitors for host H4" in host_text
    assert host_text.splitlines()[2].split()[:2] == ["1", "V1"]  # energy visitor first
    both = ranked_counterparts(rnd, "BOTH")
    assert "for visitor BOTH" in both and "for host BOTH" in both
    only = ranked_counterparts(rnd, "BOTH", role="host")
    assert "for visitor BOTH" not in only


def test_ranked_counterparts_unknown_id_and_wrong_role(standin):
    rnd = make_round([{}], five_hosts())
    with pytest.raises(KeyError, match="'NOPE' is not registered"):
        ranked_counterparts(rnd, "NOPE")
    with pytest.raises(KeyError, match="not registered as host"):
        ranked_counterparts(rnd, "V0", role="host")


def test_threads_give_the_same_catalogue(standin):
    rng = np.random.default_rng(4)
    secs = ["textile", "water", "energy", "ict", "plastics"]
    vis = [{"sectors": tuple(rng.choice(secs, 2, replace=False))} for _ in range(17)]
    rnd = make_round(vis, five_hosts(), top_k=2)
    one = build_catalogue(rnd, block_size=3, workers=1)
    two = build_catalogue(rnd, block_size=3, workers=2)
    pd.testing.assert_frame_equal(one.pairs, two.pairs)
    assert (one.n_eligible, one.n_pruned_top_k) == (two.n_eligible, two.n_pruned_top_k)


def reference_best_k(v, h, key, k):
    """Slow, obvious K-best: sort each visitor's pairs by (-key, h)."""
    keep = np.zeros(len(v), dtype=bool)
    for visitor in np.unique(v):
        idx = np.flatnonzero(v == visitor)
        ranked = sorted(idx, key=lambda i: (-key[i], h[i]))
        keep[ranked[:k]] = True
    return keep


@pytest.mark.parametrize("cells", [10**6, 7])  # one chunk; a chunk per visitor or so
def test_best_k_mask_matches_reference_with_ties_and_any_order(monkeypatch, cells):
    monkeypatch.setattr(pruning, "DENSE_CELLS", cells)
    rng = np.random.default_rng(5)
    v, h = np.meshgrid(np.arange(12), np.arange(9), indexing="ij")
    v, h = v.ravel(), h.ravel()
    take = rng.random(v.size) < 0.7
    v, h = v[take], h[take]
    key = rng.integers(0, 4, v.size).astype(float)  # many ties
    perm = rng.permutation(v.size)
    v, h, key = v[perm], h[perm], key[perm]
    for k in (1, 3, 5):
        np.testing.assert_array_equal(pruning._best_k_mask(v, h, key, k), reference_best_k(v, h, key, k))


# --- with the real rules on a generated round -------------------------------------------------

@pytest.fixture(scope="module")
def sample_round(tmp_path_factory):
    d = tmp_path_factory.mktemp("round")
    generate_round(d, n_visitors=40, n_hosts=25, seed=7)
    return d, load_round(d)


def test_real_rules_catalogue_holds_every_eligible_pair_scored(sample_round):
    _, rnd = sample_round
    cat = build_catalogue(rnd)
    eligible = eligible_block(rnd, np.arange(rnd.n_visitors))
    assert cat.n_eligible == len(eligible) == cat.n_kept
    np.testing.assert_array_equal(cat.pairs["v"], eligible["v"])
    np.testing.assert_array_equal(cat.pairs["h"], eligible["h"])
    np.testing.assert_allclose(cat.pairs.filter(like="score_").sum(axis=1), cat.pairs["score"], atol=1e-9)
    assert cat.pairs["score"].between(0, 100).all()
    virtual = cat.pairs["mode"] == "virtual"
    if virtual.any():  # the virtual weight caps a virtual pair's score
        vw = rnd.settings["scoring"]["options"]["virtual_weight"]
        assert (cat.pairs.loc[virtual, "score"] <= 100 * vw + 1e-9).all()
    locked_v, locked_h = rnd.pair_decisions("lock")
    kept_locked = set(zip(cat.pairs.loc[cat.pairs["locked"], "v"], cat.pairs.loc[cat.pairs["locked"], "h"]))
    assert kept_locked <= set(zip(locked_v, locked_h))


def test_cli_score_and_rank_on_a_generated_round(sample_round, tmp_path, capsys):
    d, rnd = sample_round
    out = tmp_path / "scores.csv"
    assert main(["score", str(d), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "eligible pairs" in printed and "kept for the solver" in printed
    df = pd.read_csv(out)
    assert len(df) > 0 and "score_description" in df.columns
    org = df["visitor_id"].iloc[0]
    assert main(["rank", str(d), "--org", org, "--role", "visitor", "--top", "3"]) == 0
    text = capsys.readouterr().out
    assert f"for visitor {org}" in text
    assert main(["rank", str(d), "--org", "NO-SUCH-ORG"]) == 2
    assert "'NO-SUCH-ORG' is not registered" in capsys.readouterr().err


def test_rank_a_visitor_without_eligible_host_names_the_refusing_rules(sample_round):
    _, rnd = sample_round
    cat = build_catalogue(rnd)
    assert len(cat.visitors_without_eligible), "the sample round should have a visitor no host accepts"
    org = rnd.visitors["org_id"].iloc[cat.visitors_without_eligible[0]]
    text = ranked_counterparts(rnd, org, role="visitor")
    assert "0 of 0 eligible hosts" in text and "no eligible host" in text and "hosts refused per rule:" in text


def test_max_pairs_setting_must_be_positive():
    with pytest.raises(SettingsError, match="scoring.options.max_pairs"):
        load_settings(overrides={"scoring": {"options": {"max_pairs": 0}}})
