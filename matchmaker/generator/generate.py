"""Realistic sample rounds: ``matchmaker generate``.

:func:`generate_round` writes a complete round directory (``registrations.csv``,
``partnerships.csv``, ``countries.csv``, ``decisions.csv``, ``settings.toml`` and a
``README.md`` describing how it was generated) from the reference data in
``data/reference/`` (countries, partnerships, vocabularies, cities). The same arguments
always give byte-identical files.

The draws live in :mod:`matchmaker.generator.orgs` (organisations, registrations),
:mod:`matchmaker.generator.text` (names, descriptions),
:mod:`matchmaker.generator.decisions` (locks, forbids, budgets) and
:mod:`matchmaker.generator.readme` (the README).
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from matchmaker.common.errors import Problem, RoundDataError, UsageError
from matchmaker.common.schema import (
    DECISIONS,
    FIXED_VOCABULARIES,
    LIST_SEPARATOR,
    PARTNERSHIPS,
    REGISTRATIONS,
    Column,
    column_names,
)
from matchmaker.generator.decisions import drawn_round, mean_lump_sums, partnership_budgets, prior_decisions
from matchmaker.generator.orgs import Reference, build_organisations, build_rows
from matchmaker.generator.readme import readme_text
from matchmaker.inputs.columns import check_required, parse_table
from matchmaker.inputs.loading import duplicate_rows, sorted_problems
from matchmaker.inputs.raw_tables import read_table
from matchmaker.inputs.reference import (
    load_countries,
    load_partnerships,
    load_vocabulary_labels,
    reference_file,
    vocabulary_codes,
)
from matchmaker.inputs.reference import reference_dir as default_reference_dir
from matchmaker.inputs.settings import load_settings

DEFAULT_SEASON = (dt.date(2027, 2, 1), dt.date(2027, 10, 31))

#: Columns of ``data/reference/cities.csv``, checked like a round's files.
CITIES = (
    Column("country", "code", True, "Country code of countries.csv.", "PT", vocabulary="country"),
    Column("city", "str", True, "City name.", "Porto"),
    Column("latitude", "float", True, "WGS84 latitude of the city centre, degrees.", "41.1579",
           minimum=-90, maximum=90),
    Column("longitude", "float", True, "WGS84 longitude of the city centre, degrees.", "-8.6291",
           minimum=-180, maximum=180),
    Column("population_k", "float", True, "Inhabitants in thousands (> 0), the weight of the city.", "232",
           minimum=0),
)


def read_cities(path: Path, countries: pd.DataFrame) -> pd.DataFrame:
    """``cities.csv`` checked against its columns and ``countries`` (index ``country``).

    Raises
    ------
    RoundDataError
        Naming file, row, column, value and rule of every problem: bad cells, a city
        listed twice for its country, a population of 0, a COSME country without a city.
    """
    table, problems = read_table(path)
    if table is not None:
        parsed, more = parse_table(table, CITIES, {"country": tuple(countries.index)})
        problems += more + check_required(parsed, CITIES)
        problems += duplicate_rows(parsed, ["country", "city"], parsed.ok("country") & parsed.ok("city"),
                                   "city for its country")
        zero = parsed.ok("population_k") & (parsed.values["population_k"] == 0).to_numpy()
        problems += [Problem(table.file, int(table.rows[i]), "population_k", parsed.text.at[i, "population_k"],
                             "must be more than 0 (thousands of inhabitants)") for i in np.flatnonzero(zero)]
        cosme = countries.index[countries["cosme"].to_numpy(dtype=bool)]
        uncovered = sorted(set(cosme) - set(parsed.values["country"]))
        if uncovered:
            problems.append(Problem(table.file, None, "country", ";".join(uncovered),
                                    "every COSME country needs at least one city"))
    errors = [replace(p, file=str(path)) for p in problems if p.severity == "error"]
    if table is None or errors:
        raise RoundDataError(sorted_problems(errors, CITIES))
    return parsed.values[[c.name for c in CITIES]].copy()


def read_reference(ref_dir: Path | None = None) -> Reference:
    """The reference tables the generator needs, checked.

    Countries and partnerships are checked like a round's own files
    (:func:`matchmaker.inputs.reference.load_countries`, :func:`~matchmaker.inputs.reference.load_partnerships`),
    cities by :func:`read_cities`.

    Parameters
    ----------
    ref_dir : Path, optional
        Default :func:`matchmaker.inputs.reference.reference_dir` (``data/reference`` or
        ``$MATCHMAKER_REFERENCE``).

    Raises
    ------
    RoundDataError
        Naming file, row, column, value and rule of every problem found.
    """
    ref_dir = Path(ref_dir) if ref_dir is not None else default_reference_dir()
    vocab = load_vocabulary_labels(ref_dir)
    labels = {k: dict(zip(g["code"], g["label"])) for k, g in vocab.groupby("vocabulary", sort=False)}
    countries, partnerships = load_countries(ref_dir), load_partnerships(ref_dir)
    cities = read_cities(reference_file("cities.csv", ref_dir), countries)
    return Reference(countries.reset_index(), partnerships.reset_index(), cities, vocabulary_codes(vocab), labels)


def _check_arguments(n_visitors, n_hosts, seed, budget_share, season) -> None:
    for name, value in (("n_visitors", n_visitors), ("n_hosts", n_hosts)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"generate_round: {name} must be a whole number >= 1, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"generate_round: seed must be a whole number >= 0, got {seed!r}")
    if not isinstance(budget_share, (int, float)) or isinstance(budget_share, bool) \
            or not math.isfinite(budget_share) or budget_share < 0:
        raise ValueError(f"generate_round: budget_share must be a finite number >= 0 (0.5 funds about half "
                         f"of the visitors), got {budget_share!r}")
    start, end = season
    if not (isinstance(start, dt.date) and isinstance(end, dt.date)) or (end - start).days + 1 < 21:
        raise ValueError(f"generate_round: season must be two dates at least 3 weeks apart "
                         f"(visitors' windows last 3 weeks or more), got {season!r}")


def _settings_text(season_end: dt.date) -> str:
    return (
        "# Settings of this generated round; everything else comes from\n"
        "# matchmaker/defaults/settings.toml.\n\n"
        "[rules]\n"
        "# This round reconsiders the scheme's 2020-12-31 cut-off for virtual exchanges:\n"
        "# virtual exchanges may take place until the end of the round's season.\n"
        f"virtual_until = {season_end.isoformat()}\n"
    )


def _text(col: pd.Series) -> list[str]:
    """One column of typed registrations as cells: tuples joined, booleans lower case,
    missing values empty."""
    first = next((x for x in col if x is not None), None)
    if isinstance(first, tuple):
        return [LIST_SEPARATOR.join(x) for x in col]
    if isinstance(first, (bool, np.bool_)):
        return ["" if x is None else ("true" if x else "false") for x in col]
    return ["" if x is None else str(x) for x in col]


def registrations_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Typed registrations -> the text columns of ``registrations.csv``."""
    out = pd.DataFrame(index=rows.index)
    for name in column_names(REGISTRATIONS):
        col = rows[name]
        if name in ("latitude", "longitude"):
            out[name] = [f"{x:.5f}" for x in col]
        elif name in ("available_from", "available_to"):
            out[name] = col.to_numpy(dtype="datetime64[D]").astype(str)
        elif name == "max_distance_km":
            out[name] = ["" if math.isnan(x) else f"{x:.0f}" for x in col]
        else:
            out[name] = _text(col)
    return out


#: The files :func:`generate_round` writes; nothing else in its folder is ever touched (a ledger least of all).
ROUND_FILES = ("settings.toml", "registrations.csv", "partnerships.csv", "countries.csv", "decisions.csv",
               "README.md")
#: A round file :func:`generate_round` replaces with ``registrations.csv`` under ``force``.
STALE_FILES = ("registrations.xlsx",)


def prepare_folder(out_dir: Path, force: bool) -> list[Path]:
    """Check the folder a round is generated into; return what is in it that generate leaves as it is.

    A folder that does not exist or is empty is fine. A folder holding anything refuses
    (:class:`UsageError`: a live round, its ledger and its results must not be overwritten
    silently) unless ``force``: then the round's files (:data:`ROUND_FILES`, and a
    ``registrations.xlsx`` that ``registrations.csv`` replaces) are replaced and every other
    entry, a ledger included, is kept and returned.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir} is a file, not a folder: give a new or empty folder to write the round to")
    entries = sorted(out_dir.iterdir()) if out_dir.is_dir() else []
    if entries and not force:
        shown = ", ".join(p.name for p in entries[:6]) + (f" and {len(entries) - 6} more" if len(entries) > 6 else "")
        raise UsageError(f"folder {out_dir} is not empty (it holds {shown}): a generated round is written into a new "
                         "or empty folder, so that a live round, its ledger and its results are never overwritten; "
                         "give another folder, or --force to replace the round's files (any ledger in the folder is "
                         "left as it is)")
    for p in entries:
        if p.name in STALE_FILES and p.is_file():
            p.unlink()
    return [p for p in entries if p.name not in ROUND_FILES and p.name not in STALE_FILES]


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def generate_round(out_dir: Path, n_visitors: int, n_hosts: int, seed: int, budget_share: float = 0.5,
                   *, season: tuple[dt.date, dt.date] = DEFAULT_SEASON, reference_dir: Path | None = None,
                   force: bool = False) -> list[Path]:
    """Write a realistic matching round to ``out_dir``; return the entries of ``out_dir`` left as they were.

    Parameters
    ----------
    out_dir : Path
        Directory to write: new or empty (created if missing), see :func:`prepare_folder`.
    n_visitors, n_hosts : int
        Registrations per role (>= 1). About 10 % of organisations register in both
        roles, so there are fewer organisations than registrations.
    seed : int
        Seed of ``numpy.random.default_rng``; the same arguments give byte-identical files.
    budget_share : float, default 0.5
        Share of each partnership's eligible visitors its budget can fund at their
        mean lump sum (see the round's README for the formula).
    season : (date, date), keyword-only
        First and last day of the round; availability windows lie inside it and
        virtual exchanges are allowed until its last day.
    reference_dir : Path, keyword-only
        Directory of the reference tables (default: :func:`matchmaker.inputs.reference.reference_dir`).
    force : bool, keyword-only
        Write into a folder that is not empty: replace the round's six files, keep every
        other entry (a ledger, results) untouched.
    """
    _check_arguments(n_visitors, n_hosts, seed, budget_share, season)
    out_dir = Path(out_dir)
    kept = prepare_folder(out_dir, force)
    reference_dir = Path(reference_dir) if reference_dir is not None else default_reference_dir()
    ref = read_reference(reference_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "settings.toml").write_text(_settings_text(season[1]), encoding="utf-8")
    settings = load_settings(out_dir / "settings.toml")
    rng = np.random.default_rng(seed)
    n_both = min(int(round((n_visitors + n_hosts) * 0.10 / 1.10)), n_visitors, n_hosts)
    n_orgs = n_visitors + n_hosts - n_both
    orgs = build_organisations(ref, n_orgs, rng)
    width = max(4, len(str(n_orgs)))
    orgs.insert(0, "org_id", [f"ORG-{i + 1:0{width}d}" for i in range(n_orgs)])
    perm = rng.permutation(n_orgs)
    vis_pos = np.sort(np.concatenate([perm[:n_both], perm[n_both:n_visitors]]))
    host_pos = np.sort(np.concatenate([perm[:n_both], perm[n_visitors:]]))
    s = tuple(np.datetime64(d, "D") for d in season)
    visitors = build_rows(ref, orgs, vis_pos, "visitor", s, rng)
    hosts = build_rows(ref, orgs, host_pos, "host", s, rng)
    drawn = drawn_round(visitors, hosts, ref.partnerships, ref.countries, settings)
    decisions, locked_lumps = prior_decisions(drawn, s[0], rng)
    mean_lump = mean_lump_sums(drawn, rng)
    budgets = partnership_budgets(drawn.visitors, mean_lump, ref.partnerships["partnership_id"], budget_share,
                                  decisions[decisions["decision"] == "lock"], locked_lumps)

    rows = pd.concat([visitors, hosts], ignore_index=True)
    rows["_pos"] = np.concatenate([vis_pos, host_pos])
    rows = rows.sort_values(["_pos", "role"], kind="stable").reset_index(drop=True)
    _write_csv(registrations_table(rows), out_dir / "registrations.csv")
    parts = pd.read_csv(reference_dir / "partnerships.csv", dtype=str, keep_default_na=False)
    parts["budget_eur"] = budgets.loc[parts["partnership_id"], "budget_eur"].astype(str).to_numpy()
    _write_csv(parts[column_names(PARTNERSHIPS)], out_dir / "partnerships.csv")
    shutil.copyfile(reference_dir / "countries.csv", out_dir / "countries.csv")
    _write_csv(decisions[column_names(DECISIONS)], out_dir / "decisions.csv")
    text = readme_text(n_visitors=n_visitors, n_hosts=n_hosts, seed=seed, budget_share=budget_share,
                       season=season, rows=rows, n_orgs=n_orgs, n_both=n_both, decisions=decisions,
                       budgets=budgets, vocab_modes=FIXED_VOCABULARIES["mode"],
                       non_cosme=sorted(set(ref.countries.loc[~ref.countries["cosme"], "country"])))
    (out_dir / "README.md").write_text(text, encoding="utf-8")
    return kept
