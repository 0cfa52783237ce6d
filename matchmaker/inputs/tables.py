"""Checked tables shared by a round's files and the reference data.

The ``countries`` and ``partnerships`` tables are read the same way from a round
directory (:mod:`matchmaker.inputs.loading`) and from ``data/reference/``
(:mod:`matchmaker.inputs.reference`); both, and the partnership selection's country
points, report repeated keys with :func:`duplicate_rows`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from matchmaker.common import schema
from matchmaker.common.errors import Problem
from matchmaker.inputs.columns import ParsedTable, check_required, parse_table
from matchmaker.inputs.raw_tables import RawTable, read_table

_ISO_COUNTRY = re.compile(r"^[A-Z]{2}$")

#: Codes of every vocabulary, by name (:func:`matchmaker.inputs.reference.load_vocabularies`).
Vocabularies = dict[str, tuple[str, ...]]


def duplicate_rows(parsed: ParsedTable, keys: list[str], mask: np.ndarray, what: str) -> list[Problem]:
    """A problem on every row repeating the ``keys`` of an earlier row (among ``mask``)."""
    frame = parsed.values.loc[mask, keys]
    dup = frame.duplicated(keep=False).to_numpy()
    if not dup.any():
        return []
    rows = pd.Series(parsed.rows[mask], index=frame.index)
    first = rows.groupby([frame[k] for k in keys], sort=False).transform("min")
    problems = []
    for i in frame.index[dup]:
        if rows[i] != first[i]:
            problems.append(Problem(parsed.file, int(rows[i]), keys[-1], parsed.text.at[i, keys[-1]],
                                    f"duplicate {what} (first at row {int(first[i])})"))
    return problems


def row_frame(parsed: ParsedTable, columns: Iterable[str], mask: np.ndarray | None = None) -> pd.DataFrame:
    """Rows ``mask`` and ``columns`` of a parsed table, with plain NumPy dtypes."""
    frame = parsed.values[list(columns)]
    rows = parsed.rows
    if mask is not None:
        frame, rows = frame[mask], rows[mask]
    frame = frame.reset_index(drop=True)
    for name in frame.columns:
        dtype = frame[name].dtype
        if dtype == "Int64":
            frame[name] = frame[name].astype("int64" if not frame[name].isna().any() else "float64")
        elif dtype == "boolean" and not frame[name].isna().any():
            frame[name] = frame[name].astype(bool)
    frame["source_row"] = np.asarray(rows, dtype=np.int64)
    return frame


def checked_countries(table: RawTable, vocabularies: Vocabularies) -> tuple[pd.DataFrame, list[Problem]]:
    """The ``countries`` table of ``table`` (index ``country``) and the problems found."""
    parsed, problems = parse_table(table, schema.COUNTRIES, vocabularies)
    cosme = parsed.values["cosme"].fillna(False).to_numpy(dtype=bool) & parsed.ok("cosme")
    problems += check_required(parsed, schema.COUNTRIES, {"cosme": (cosme, "COSME countries (cosme = true)")})
    code = parsed.values["country"]
    wrong = parsed.ok("country") & ~code.str.fullmatch(_ISO_COUNTRY).to_numpy(dtype=bool)
    for i in np.flatnonzero(wrong):
        problems.append(Problem(table.file, int(table.rows[i]), "country", code.iloc[i],
                                "must be an ISO 3166-1 alpha-2 code: two capital letters (Kosovo: XK)"))
    usable = parsed.ok("country") & ~wrong
    problems += duplicate_rows(parsed, ["country"], usable, "country")
    usable &= ~parsed.values["country"].duplicated().to_numpy()
    frame = row_frame(parsed, [c.name for c in schema.COUNTRIES], usable).drop(columns="source_row")
    frame["cosme"] = frame["cosme"].fillna(False).astype(bool)
    return frame.set_index("country"), problems


def checked_partnerships(table: RawTable, vocabularies: Vocabularies) -> tuple[pd.DataFrame, list[Problem]]:
    """The ``partnerships`` table of ``table`` (index ``partnership_id``) and the problems found."""
    parsed, problems = parse_table(table, schema.PARTNERSHIPS, vocabularies)
    problems += check_required(parsed, schema.PARTNERSHIPS)
    usable = parsed.ok("partnership_id")
    problems += duplicate_rows(parsed, ["partnership_id"], usable, "partnership_id")
    usable &= ~parsed.values["partnership_id"].duplicated().to_numpy()
    frame = row_frame(parsed, [c.name for c in schema.PARTNERSHIPS], usable).drop(columns="source_row")
    return frame.set_index("partnership_id"), problems


_CHECKERS = {"countries": checked_countries, "partnerships": checked_partnerships}


def read_checked_table(path: str | Path, kind: str,
                       vocabularies: Vocabularies) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read and check a ``countries`` or ``partnerships`` file on its own.

    Returns the Round-shaped table (``None`` if unreadable) and the problems found.
    """
    table, problems = read_table(path)
    if table is None:
        return None, problems
    frame, more = _CHECKERS[kind](table, vocabularies)
    return frame, problems + more
