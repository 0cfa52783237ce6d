"""The sample-round generator: determinism, file formats, realism, eligible locks, budgets."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matchmaker.cli import main
from matchmaker.common import schema
from matchmaker.common.errors import RoundDataError, UsageError
from matchmaker.common.geo import great_circle_km
from matchmaker.constraints import eligible_block, locked_refusals, pair_refusals
from matchmaker.generator.generate import DEFAULT_SEASON, generate_round, read_reference
from matchmaker.generator.orgs import COUNTRY_LANGUAGES
from matchmaker.inputs.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "data" / "reference"
SAMPLE = ROOT / "data" / "sample"
FILES = ("registrations.csv", "partnerships.csv", "countries.csv", "decisions.csv", "settings.toml", "README.md")
N_VISITORS, N_HOSTS, SEED = 400, 200, 11


def _read(d: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(d / name, dtype=str, keep_default_na=False, encoding="utf-8")


def _split(cell: str) -> list[str]:
    return [x for x in cell.split(schema.LIST_SEPARATOR) if x]


@pytest.fixture(scope="module")
def round_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("generated")
    generate_round(d, N_VISITORS, N_HOSTS, SEED)
    return d


@pytest.fixture(scope="module")
def regs(round_dir) -> pd.DataFrame:
    return _read(round_dir, "registrations.csv")


@pytest.fixture(scope="module")
def loaded(round_dir):
    loading = pytest.importorskip("matchmaker.inputs.loading")
    return loading.load_round(round_dir)


@pytest.fixture(scope="module")
def vocab() -> dict:
    v = pd.read_csv(REFERENCE / "vocabularies.csv", dtype=str, keep_default_na=False)
    return {k: set(g["code"]) for k, g in v.groupby("vocabulary")}


# --- determinism and files ---------------------------------------------------------------

def test_same_arguments_give_byte_identical_files(round_dir, tmp_path):
    generate_round(tmp_path, N_VISITORS, N_HOSTS, SEED)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (round_dir / name).read_bytes(), name


def test_other_seed_gives_other_registrations(round_dir, tmp_path):
    generate_round(tmp_path, N_VISITORS, N_HOSTS, SEED + 1)
    assert (tmp_path / "registrations.csv").read_bytes() != (round_dir / "registrations.csv").read_bytes()


def test_files_have_the_schema_columns(round_dir):
    for name, spec in schema.FILES.items():
        assert list(_read(round_dir, f"{name}.csv").columns) == schema.column_names(spec), name
    assert (round_dir / "countries.csv").read_bytes() == (REFERENCE / "countries.csv").read_bytes()
    parts, ref = _read(round_dir, "partnerships.csv"), _read(REFERENCE, "partnerships.csv")
    pd.testing.assert_frame_equal(parts.drop(columns="budget_eur"), ref.drop(columns="budget_eur"))


def test_settings_move_the_virtual_cutoff_to_the_season_end(round_dir):
    text = (round_dir / "settings.toml").read_text(encoding="utf-8")
    assert "2020" in text  # the comment says the round reconsiders the cut-off
    s = load_settings(round_dir / "settings.toml")
    assert s["rules"]["virtual_until"] == DEFAULT_SEASON[1]


def test_generated_round_loads_without_errors_or_warnings(loaded):
    assert loaded.n_visitors == N_VISITORS and loaded.n_hosts == N_HOSTS
    assert loaded.warnings == []


def test_cli_generate_writes_a_round(tmp_path, capsys):
    assert main(["generate", "--visitors", "30", "--hosts", "15", "--seed", "3", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
    assert "30 visitors and 15 hosts" in capsys.readouterr().out


# --- registrations: schema, ranges, realism ---------------------------------------------

def test_registrations_follow_the_schema(regs, vocab):
    codes = {**vocab, "role": {"host", "visitor"}, "mode": {"physical", "virtual", "either"},
             "country": set(_read(REFERENCE, "countries.csv")["country"]),
             "partnership_or_auto": set(_read(REFERENCE, "partnerships.csv")["partnership_id"]) | {"auto"}}
    for col in schema.REGISTRATIONS:
        values = regs[col.name]
        if col.required is True:
            assert (values != "").all(), col.name
        elif col.required in ("host", "visitor"):
            assert (values[regs["role"] == col.required] != "").all(), col.name
            assert (values[regs["role"] != col.required] == "").all(), col.name
        filled = values[values != ""]
        if col.type == "code":
            assert filled.isin(codes[col.vocabulary]).all(), col.name
        elif col.type == "list" and col.vocabulary:
            items = {x for cell in filled for x in _split(cell)}
            assert items <= codes[col.vocabulary], (col.name, items - codes[col.vocabulary])
        elif col.type in ("int", "float"):
            x = filled.astype(float)
            assert (x >= col.minimum).all() and (x <= col.maximum).all(), col.name
            if col.type == "int":
                assert (x == np.round(x)).all(), col.name
        elif col.type == "bool":
            assert filled.isin(["true", "false"]).all(), col.name
    assert not regs.duplicated(["org_id", "role"]).any()


def test_counts_and_shares(regs):
    vis, hosts = regs[regs["role"] == "visitor"], regs[regs["role"] == "host"]
    assert (len(vis), len(hosts)) == (N_VISITORS, N_HOSTS)
    n_orgs = regs["org_id"].nunique()
    both = regs["org_id"].duplicated().sum()
    assert 0.08 <= both / n_orgs <= 0.12
    types = regs["org_type"].value_counts()
    assert types["sme"] > types["cluster_organisation"] > types["scaleup_support"] > types["other"] >= 1
    assert types["other"] <= 0.02 * len(regs)
    assert 1 <= (regs["country"] == "GB").sum() <= 0.02 * len(regs)
    mode = regs["mode"].value_counts(normalize=True)
    assert 0.65 <= mode["physical"] <= 0.82 and 0.06 <= mode["virtual"] <= 0.16 and 0.10 <= mode["either"] <= 0.22
    assert 0.10 <= (regs["partnership"] == "auto").mean() <= 0.20
    assert 0.03 <= (vis["already_visited"] == "true").mean() <= 0.07
    assert 0.25 <= (hosts["grouped"] == "true").mean() <= 0.55
    for col, top in (("sectors", 3), ("activities", 4), ("objectives", 3)):
        k = regs[col].map(lambda c: len(_split(c)))
        assert k.min() == 1 and k.max() == top, col
    assert 0.05 <= (regs["preferred_countries"] != "").mean() <= 0.2
    assert 0.05 <= (regs["max_distance_km"] != "").mean() <= 0.2


def test_windows_and_stays_are_plausible(regs):
    start, end = (np.datetime64(d, "D") for d in DEFAULT_SEASON)
    a = regs["available_from"].to_numpy(dtype="datetime64[D]")
    b = regs["available_to"].to_numpy(dtype="datetime64[D]")
    assert (a >= start).all() and (b <= end).all()
    days = (b - a).astype(int) + 1
    vis = (regs["role"] == "visitor").to_numpy()
    assert days[vis].min() >= 21 and days[vis].max() <= 123
    assert days[~vis].min() >= 30 and days[~vis].max() <= 184
    lo, hi = regs["min_days"].astype(int), regs["max_days"].astype(int)
    assert lo.between(3, 10).all() and (hi >= lo).all() and (hi <= 22).all()
    assert (hi < 5).sum() >= 1  # some short stays only


def test_hosts_capacity_matches_grouped(regs):
    hosts = regs[regs["role"] == "host"]
    cap, mx = hosts["capacity"].astype(int), hosts["max_visitors"].astype(int)
    single = hosts["grouped"] == "false"
    assert (cap[single] == 1).all()
    assert cap[~single].between(2, 6).all() and (mx[~single] >= cap[~single]).all()
    assert (mx >= 1).all() and (mx <= 6).mean() > 0.8


def test_both_role_organisations_share_identity_and_location(regs):
    twice = regs[regs["org_id"].duplicated(keep=False)]
    assert len(twice) > 0 and set(twice["role"]) == {"host", "visitor"}
    cols = ["name", "org_type", "country", "city", "latitude", "longitude"]
    assert (twice.groupby("org_id")[cols].nunique() == 1).all().all()


def test_organisations_sit_within_10_km_of_their_city(regs):
    cities = _read(REFERENCE, "cities.csv").set_index(["country", "city"])
    centre = cities.loc[list(zip(regs["country"], regs["city"]))]
    d = great_circle_km(regs["latitude"].astype(float), regs["longitude"].astype(float),
                        centre["latitude"].astype(float).to_numpy(), centre["longitude"].astype(float).to_numpy())
    assert d.max() < 10.0


def test_named_partnership_covers_a_sector_of_the_organisation(regs):
    parts = _read(REFERENCE, "partnerships.csv").set_index("partnership_id")
    named = regs[regs["partnership"] != "auto"]
    for secs, pid in zip(named["sectors"], named["partnership"]):
        assert set(_split(secs)) & set(_split(parts.at[pid, "sectors"])), (secs, pid)


def test_sector_mix_follows_partnership_member_countries(tmp_path):
    generate_round(tmp_path, 1500, 700, 5)
    regs = _read(tmp_path, "registrations.csv").drop_duplicates("org_id")
    parts = _read(REFERENCE, "partnerships.csv")
    gaps = []
    for secs, members in zip(parts["sectors"], parts["member_countries"]):
        covered = set(_split(secs))
        has = regs["sectors"].map(lambda c, covered=covered: bool(covered & set(_split(c))))
        inside = regs["country"].isin(_split(members))
        gaps.append(has[inside].mean() - has[~inside].mean())
    assert sum(g > 0 for g in gaps) >= 11 and np.mean(gaps) > 0.05


def test_languages_are_the_country_language_and_mostly_english(regs):
    langs = regs["languages"].map(_split)
    assert all(codes[0] == COUNTRY_LANGUAGES[c][0] for codes, c in zip(langs, regs["country"]))
    assert 0.85 <= langs.map(lambda codes: "en" in codes).mean() <= 0.97


def _tfidf(text: pd.Series) -> np.ndarray:
    """L2-normalised TF-IDF rows over words of 4+ letters (numpy only, to keep the test fast)."""
    words = text.str.lower().str.findall(r"[a-z]{4,}")
    vocab = {w: i for i, w in enumerate(sorted({w for ws in words for w in ws}))}
    tf = np.zeros((len(text), len(vocab)))
    for r, ws in enumerate(words):
        for w in ws:
            tf[r, vocab[w]] += 1
    x = tf * (np.log(len(text) / (tf > 0).sum(axis=0)) + 1)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_descriptions_share_words_within_a_sector(regs):
    text = regs["description"]
    n_sent = text.str.count(r"\.(?: |$)")
    assert n_sent.between(2, 4).all() and text.str.len().min() > 60
    assert text.nunique() > 0.95 * len(text)
    x = _tfidf(text)
    sim = x @ x.T
    first = regs["sectors"].map(lambda c: _split(c)[0]).to_numpy()
    same = first[:, None] == first[None, :]
    off = ~np.eye(len(text), dtype=bool)
    assert sim[same & off].mean() > 2 * sim[~same].mean()


# --- decisions and budgets -----------------------------------------------------------------

def test_locks_are_eligible_under_every_rule(loaded):
    locks = loaded.decisions[loaded.decisions["decision"] == "lock"]
    assert round(0.01 * N_VISITORS) == len(locks)
    assert not locks["visitor_id"].duplicated().any() and not locks["host_id"].duplicated().any()
    assert locked_refusals(loaded).empty
    v, h = loaded.pair_decisions("lock")
    pairs = eligible_block(loaded, np.unique(v))
    kept = set(zip(pairs.loc[pairs["locked"], "v"], pairs.loc[pairs["locked"], "h"]))
    assert kept == set(zip(v.tolist(), h.tolist()))
    assert not loaded.visitors["already_visited"].to_numpy()[v].any()
    assert (loaded.visitors["partnership_requested"].to_numpy()[v] != "auto").all()


def test_forbids_name_registered_otherwise_eligible_pairs(loaded, round_dir):
    dec = _read(round_dir, "decisions.csv")
    assert set(dec["decision"]) == {"lock", "forbid"}
    assert not dec.duplicated(["visitor_id", "host_id"]).any()
    v, h = loaded.pair_decisions("forbid")
    assert len(v) >= 1
    for a, b in zip(v, h):
        assert [rule for rule, _ in pair_refusals(loaded, a, b)] == ["not_forbidden"]


def test_budgets_fund_the_share_of_visitors_at_their_mean_lump_sum(loaded):
    """Recomputes the README's formula on the round loaded from the written files."""
    pairs = eligible_block(loaded, np.arange(loaded.n_visitors))
    phys = pairs[pairs["mode"] == "physical"]
    mean_lump = phys.groupby("v")["lump_sum_eur"].mean()
    paying = loaded.visitors["partnership"].to_numpy()[mean_lump.index]
    total = mean_lump.groupby(paying).sum()
    locked = pairs[pairs["locked"]].groupby("partnership", observed=True)["lump_sum_eur"].sum()
    for pid, budget in loaded.partnerships["budget_eur"].items():
        expected = max(math.ceil(round(0.5 * total.get(pid, 0.0), 6) / 100) * 100,
                       math.ceil(round(locked.get(pid, 0.0), 6) / 100) * 100)
        assert budget == pytest.approx(expected), pid


def test_zero_budget_share_still_funds_the_locks(tmp_path):
    generate_round(tmp_path, 300, 150, 2, budget_share=0.0)
    loading = pytest.importorskip("matchmaker.inputs.loading")

    rnd = loading.load_round(tmp_path)
    v, _ = rnd.pair_decisions("lock")
    pairs = eligible_block(rnd, np.unique(v))
    locked = pairs[pairs["locked"]].groupby("partnership", observed=True)["lump_sum_eur"].sum()
    budgets = rnd.partnerships["budget_eur"]
    assert (budgets.reindex(locked.index) >= locked).all()
    assert budgets.sum() < 100 * (len(locked) + 1) + locked.sum()


# --- reference data and bad input ------------------------------------------------------------

def test_cities_cover_every_cosme_country_near_its_capital():
    cities = _read(REFERENCE, "cities.csv")
    countries = _read(REFERENCE, "countries.csv")
    n = cities.groupby("country").size()
    cosme = countries.loc[countries["cosme"] == "true", "country"]
    assert n.reindex(cosme).between(3, 8).all()
    assert {"GB", "NO", "CH"} <= set(n.index)
    capitals = _read(REFERENCE, "country_centroids.csv").set_index("country")
    cap = capitals.loc[cities["country"]]
    d = great_circle_km(cities["latitude"].astype(float), cities["longitude"].astype(float),
                        cap["latitude"].astype(float).to_numpy(), cap["longitude"].astype(float).to_numpy())
    assert d.max() < 1100, cities.loc[int(np.argmax(d)), "city"]
    madrid_barcelona = great_circle_km(40.4168, -3.7038, 41.3851, 2.1734)
    assert 495 < madrid_barcelona < 510


@pytest.mark.parametrize("kwargs, words", [
    ({"n_visitors": 0}, "n_visitors must be a whole number >= 1"),
    ({"n_hosts": 2.5}, "n_hosts must be a whole number >= 1"),
    ({"seed": -1}, "seed must be a whole number >= 0"),
    ({"budget_share": -0.1}, "budget_share must be a finite number >= 0"),
    ({"budget_share": float("nan")}, "budget_share must be a finite number >= 0"),
    ({"season": (dt.date(2027, 3, 1), dt.date(2027, 3, 10))}, "at least 3 weeks apart"),
])
def test_bad_arguments_are_refused_with_the_rule(tmp_path, kwargs, words):
    args = {"n_visitors": 10, "n_hosts": 5, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=words):
        generate_round(tmp_path, **args)
    assert not (tmp_path / "registrations.csv").exists()


def test_bad_cities_file_is_reported_by_row_column_and_value(tmp_path):
    ref = tmp_path / "ref"
    shutil.copytree(REFERENCE, ref)
    lines = (ref / "cities.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = "XX,Atlantis,36.0,-25.0,10"
    lines[2] = lines[2].split(",", 1)[0] + ",Graz,north,15.4395,290"
    (ref / "cities.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RoundDataError) as err:
        read_reference(ref)
    found = {(p.row, p.column, p.value) for p in err.value.problems}
    assert (2, "country", "XX") in found and (3, "latitude", "north") in found


def test_tiny_round_is_valid(tmp_path):
    generate_round(tmp_path, 1, 1, 0)
    regs = _read(tmp_path, "registrations.csv")
    assert sorted(regs["role"]) == ["host", "visitor"]
    assert len(_read(tmp_path, "decisions.csv")) == 0


def test_committed_sample_matches_the_generator(tmp_path):
    """data/sample is `matchmaker generate --visitors 300 --hosts 150 --seed 2027`; regenerate if this fails."""
    generate_round(tmp_path, 300, 150, 2027)
    for name in FILES:
        assert (SAMPLE / name).read_bytes() == (tmp_path / name).read_bytes(), name


# --- the folder it writes into (issue 11: a live round, its ledger included, was overwritten) ------

def test_generate_refuses_a_folder_that_is_not_empty_and_changes_nothing(tmp_path, capsys):
    generate_round(tmp_path, 10, 5, 1)
    (tmp_path / "ledger.sqlite").write_bytes(b"the live round's ledger")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(UsageError, match=r"is not empty .*--force"):
        generate_round(tmp_path, 20, 8, 2)
    assert main(["generate", "--visitors", "20", "--hosts", "8", "--seed", "2", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: folder ") and "ledger.sqlite" in err and "--force" in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_generate_force_replaces_the_round_files_and_leaves_the_ledger_alone(tmp_path, capsys):
    generate_round(tmp_path, 10, 5, 1)
    ledger = b"SQLite format 3\x00 a ledger with rounds of the earlier files"
    (tmp_path / "ledger.sqlite").write_bytes(ledger)
    (tmp_path / "ledger.sqlite-wal").write_bytes(b"wal")
    (tmp_path / "registrations.xlsx").write_bytes(b"an older spreadsheet")  # a round has .csv or .xlsx, not both
    argv = ["generate", "--visitors", "30", "--hosts", "15", "--seed", "3", "--out", str(tmp_path), "--force"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "the ledger (ledger.sqlite, ledger.sqlite-wal) was left as it is" in out and "move it out" in out
    assert (tmp_path / "ledger.sqlite").read_bytes() == ledger
    assert (tmp_path / "ledger.sqlite-wal").read_bytes() == b"wal"
    assert not (tmp_path / "registrations.xlsx").exists()
    fresh = tmp_path / "fresh"
    generate_round(fresh, 30, 15, 3)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (fresh / name).read_bytes(), name


def test_generate_into_a_new_or_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    assert generate_round(tmp_path / "empty", 5, 3, 0) == []
    assert generate_round(tmp_path / "new" / "round", 5, 3, 0) == []
    with pytest.raises(UsageError, match="is a file"):
        generate_round(tmp_path / "empty" / "README.md", 5, 3, 0)
