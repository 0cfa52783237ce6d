"""Reference data shipped with the matchmaker: ``data/reference/``.

* ``vocabularies.csv``: the codes allowed in coded and list columns (organisation
  types, sectors, activities, objectives, languages),
* ``countries.csv``: COSME participation and the lump-sum threshold per host country
  (used when a round has no ``countries.csv`` of its own),
* ``partnerships.csv``: the 13 Partnerships (a template for a round's own file).

The directory is :data:`REFERENCE_DIR`, or the one named by the environment variable
``MATCHMAKER_REFERENCE`` (read at each call, so a support office can point the
matchmaker at its own tables). See ``data/reference/README.md`` for the sources.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pandas as pd

from matchmaker.common.errors import Problem, RoundDataError
from matchmaker.common.schema import FIXED_VOCABULARIES
from matchmaker.inputs.tables import read_checked_table

#: The repository's reference directory (``data/reference``).
REFERENCE_DIR = Path(__file__).resolve().parents[2] / "data" / "reference"

#: Environment variable that replaces :data:`REFERENCE_DIR`.
REFERENCE_ENV = "MATCHMAKER_REFERENCE"


def reference_dir() -> Path:
    """The reference directory in use: ``$MATCHMAKER_REFERENCE`` or :data:`REFERENCE_DIR`."""
    env = os.environ.get(REFERENCE_ENV)
    return Path(env) if env else REFERENCE_DIR


def reference_file(name: str, directory: str | Path | None = None) -> Path:
    """Path of reference file ``name`` in ``directory`` (default :func:`reference_dir`).

    Raises ``FileNotFoundError`` naming the directory when the file is not there.
    """
    path = Path(directory or reference_dir()) / name
    if not path.is_file():
        raise FileNotFoundError(f"reference file {name} not found in {path.parent} "
                                f"(set {REFERENCE_ENV} to the directory holding it)")
    return path


def load_vocabularies(directory: str | Path | None = None) -> dict[str, tuple[str, ...]]:
    """Codes of every vocabulary: ``vocabularies.csv`` plus the fixed ones of the schema.

    Parameters
    ----------
    directory : path-like, optional
        Reference directory (default :func:`reference_dir`).

    Returns
    -------
    dict
        Vocabulary name -> codes in file order (``org_type``, ``sector``, ``activity``,
        ``objective``, ``language``, and ``role``, ``mode``, ``decision``).

    Raises
    ------
    RoundDataError
        When the file lacks a column, has an empty cell or repeats a code.
    """
    return vocabulary_codes(load_vocabulary_labels(directory))


def vocabulary_codes(table: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Vocabulary name -> codes of a :func:`load_vocabulary_labels` table, plus the fixed ones."""
    vocabularies = {name: tuple(group["code"]) for name, group in table.groupby("vocabulary", sort=False)}
    for name, codes in FIXED_VOCABULARIES.items():
        vocabularies.setdefault(name, tuple(codes))
    return vocabularies


def load_vocabulary_labels(directory: str | Path | None = None) -> pd.DataFrame:
    """``vocabularies.csv`` as a table (``vocabulary``, ``code``, ``label``), checked.

    Raises :class:`~matchmaker.common.errors.RoundDataError` like :func:`load_vocabularies`.
    """
    path = reference_file("vocabularies.csv", directory)
    file = str(path)
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    problems = []
    for column in ("vocabulary", "code", "label"):
        if column not in table.columns:
            problems.append(Problem(file, None, column, "", "missing required column"))
    if problems:
        raise RoundDataError(problems)
    table = table[["vocabulary", "code", "label"]].apply(lambda s: s.str.strip())
    for i in table.index[(table[["vocabulary", "code"]] == "").any(axis=1)]:
        problems.append(Problem(file, int(i) + 2, None, "", "vocabulary and code must not be empty"))
    for i in table.index[table.duplicated(["vocabulary", "code"])]:
        problems.append(Problem(file, int(i) + 2, "code", table.at[i, "code"],
                                f"code listed twice in vocabulary {table.at[i, 'vocabulary']!r}"))
    if problems:
        raise RoundDataError(problems)
    return table


def _load_reference_table(name: str, kind: str, vocabularies: dict, directory) -> pd.DataFrame:
    path = reference_file(name, directory)
    table, problems = read_checked_table(path, kind, vocabularies)
    if table is None or any(p.severity == "error" for p in problems):
        raise RoundDataError([replace(p, file=str(path)) for p in problems])
    return table


def load_countries(directory: str | Path | None = None) -> pd.DataFrame:
    """The reference ``countries.csv`` as a Round's ``countries`` table.

    ``directory``: the reference directory (default :func:`reference_dir`).

    Returns
    -------
    pandas.DataFrame
        Index ``country``; ``name``, ``cosme`` (bool), ``lump_sum_eur`` (float, NaN
        where not COSME and not given).

    Raises
    ------
    RoundDataError
        When the reference file breaks the format of ``docs/data-format.md``.
    """
    return _load_reference_table("countries.csv", "countries", load_vocabularies(directory), directory)


def load_partnerships(directory: str | Path | None = None) -> pd.DataFrame:
    """The reference ``partnerships.csv`` as a Round's ``partnerships`` table.

    Member countries are checked against the reference ``countries.csv`` of the same
    ``directory`` (default :func:`reference_dir`).

    Returns
    -------
    pandas.DataFrame
        Index ``partnership_id``; ``name``, ``sectors``, ``member_countries`` (tuples),
        ``budget_eur`` (float).

    Raises
    ------
    RoundDataError
        When the reference file breaks the format of ``docs/data-format.md``.
    """
    vocabularies = load_vocabularies(directory) | {"country": tuple(load_countries(directory).index)}
    return _load_reference_table("partnerships.csv", "partnerships", vocabularies, directory)
