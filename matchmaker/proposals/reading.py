"""Reading a proposals file for the validator (``matchmaker check``).

A proposals file is read like a round's files (:mod:`matchmaker.inputs.raw_tables`,
:mod:`matchmaker.inputs.columns`), with the columns the proposals' specification marks as
validated (:data:`matchmaker.proposals.spec.VALIDATED`) and any ``score_<criterion>``
column: UTF-8 CSV, and every bad cell named by file, row, column, value and rule. A
``proposals.csv`` in a solved round's output folder is read only when the folder's set
matches its ``summary.json`` (:mod:`matchmaker.proposals.output_set`). A proposals table already in
memory (from the solver, with typed columns) goes through the same checks once its
cells are written as text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from matchmaker.common.errors import OutputSetError, Problem, RoundDataError
from matchmaker.common.schema import SCORE_PREFIX, Column
from matchmaker.inputs.columns import check_required, parse_table
from matchmaker.inputs.loading import sorted_problems
from matchmaker.inputs.raw_tables import RawTable, cell_text, read_table
from matchmaker.proposals.output_set import read_summary
from matchmaker.proposals.spec import VALIDATED, VOCABULARIES, score_column


def read_proposals(path: str | Path) -> pd.DataFrame:
    """Read and type a proposals CSV.

    Returns
    -------
    DataFrame
        The columns of :data:`matchmaker.proposals.spec.VALIDATED` the file has and its
        ``score_<criterion>`` columns, typed (dates ``datetime64``, ``working_days``
        ``Int64``, amounts float, ``locked`` bool), plus ``row``: the spreadsheet row
        number.

    Raises
    ------
    RoundDataError
        Missing file or required column, or a value that cannot be read; every problem
        names the file, row, column and value.
    """
    path = Path(path)
    if not path.is_file():
        raise RoundDataError([Problem(path.name, None, None, str(path), "proposals file not found")])
    _check_output_set(path)
    table, problems = read_table(path, allow_empty=True)
    if table is None:
        raise RoundDataError(problems)
    return _typed(table, problems)


def _check_output_set(path: Path) -> None:
    """A ``proposals.csv`` inside a solved round's output folder must match that folder's ``summary.json``."""
    if path.name != "proposals.csv":
        return
    try:
        read_summary(path.parent)
    except OutputSetError as exc:
        raise RoundDataError([Problem(path.name, None, None, "", str(exc))]) from exc


def typed_proposals(proposals: pd.DataFrame, file: str = "proposals") -> pd.DataFrame:
    """A proposals table in memory (text or typed columns), checked and typed like a file.

    ``row`` gives the row numbers when present, else the spreadsheet rows ``2, 3, ...``.
    """
    proposals = proposals.reset_index(drop=True)
    rows = proposals["row"].to_numpy(dtype=np.int64) if "row" in proposals else np.arange(2, len(proposals) + 2)
    data = pd.DataFrame({str(c): [_text(x) for x in proposals[c]] for c in proposals.columns if c != "row"},
                        index=proposals.index, dtype=object)
    return _typed(RawTable(file, data, rows, b""), [])


def _text(value) -> str:
    """A typed cell as the text a CSV file would hold."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.generic):
        value = value.item()
    return cell_text(value)  # a date-time that is not midnight stays one, and is reported


def _spec(columns) -> tuple[Column, ...]:
    """The validated columns, then the table's ``score_<criterion>`` columns."""
    return VALIDATED + tuple(score_column(str(c)) for c in columns if str(c).startswith(SCORE_PREFIX))


def _typed(table: RawTable, problems: list[Problem]) -> pd.DataFrame:
    """Typed columns of a proposals table; other columns are allowed and left out."""
    spec = _spec(table.data.columns)
    parsed, more = parse_table(table, spec, VOCABULARIES)
    problems = [p for p in problems + more if p.severity == "error"]  # warnings: columns not read
    problems += check_required(parsed, spec)
    flags = [c.name for c in spec if c.type == "bool" and c.name in parsed.present]
    for flag in flags:  # given: a flag on every row
        problems += [Problem(table.file, int(table.rows[i]), flag, "", "required value is missing (true or false)")
                     for i in np.flatnonzero(parsed.missing[flag])]
    if problems:
        raise RoundDataError(sorted_problems(problems, spec))
    out = parsed.values[[c.name for c in spec if c.required is True or c.name in parsed.present]].copy()
    for flag in flags:
        out[flag] = out[flag].astype(bool)
    out.insert(0, "row", np.asarray(table.rows, dtype=np.int64))
    return out.reset_index(drop=True)
