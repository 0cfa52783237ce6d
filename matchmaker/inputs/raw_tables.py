"""Raw tables from a round's files: CSV (UTF-8) or Excel ``.xlsx`` to text cells.

This layer only turns a file into a header and rows of stripped text cells, with the
spreadsheet row number of every row, and reports what makes a file unreadable: not
found, not UTF-8, empty, malformed rows, duplicate or unnamed header cells. Types,
vocabularies and ranges are checked afterwards by :mod:`matchmaker.inputs.columns`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from matchmaker.common.csv_safe import restore_frame
from matchmaker.common.errors import Problem

_SURROGATE = re.compile("[\udc80-\udcff]")
#: Longest cell, in characters: what a spreadsheet (Excel) cell holds.
MAX_CELL = 32_767


@dataclass
class RawTable:
    """A file read as text.

    Attributes
    ----------
    file : str
        Name of the file as the user knows it (``registrations.csv``).
    data : pandas.DataFrame
        One column per named header cell (first occurrence), every cell a stripped
        ``str`` (empty when missing); index ``0..n-1``. Blank rows are left out.
    rows : numpy.ndarray
        Spreadsheet row number of each data row (the header is row 1).
    raw : bytes
        The file's bytes, for the round's input hash.
    """

    file: str
    data: pd.DataFrame
    rows: np.ndarray
    raw: bytes


def _decode(raw: bytes, file: str) -> tuple[str | None, list[Problem]]:
    """UTF-8 text of ``raw`` (a leading BOM is dropped); one problem if not UTF-8.

    Undecodable bytes are replaced by U+FFFD so that the rest of the file can still be
    checked and every other problem reported in the same run. UTF-16 text gives
    ``None``: nothing of it could be read as UTF-8.
    """
    offset = 0
    if raw.startswith(codecs.BOM_UTF8):
        raw, offset = raw[len(codecs.BOM_UTF8):], len(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        first = exc.start
    save = "save the file as UTF-8 (in Excel: 'CSV UTF-8 (comma delimited)')"
    if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or (offset == 0 and b"\x00" in raw[:200]):
        return None, [Problem(file, None, None, "", f"file is UTF-16 text, not UTF-8: {save}")]
    text = raw.decode("utf-8", errors="surrogateescape")
    bad_lines = sorted({text.count("\n", 0, m.start()) + 1 for m in _SURROGATE.finditer(text)})
    line = raw.count(b"\n", 0, first) + 1
    more = f"; {len(bad_lines)} lines have such bytes" if len(bad_lines) > 1 else ""
    cell = _cell_around(raw, first)
    rule = (
        f"file is not UTF-8 text: byte 0x{raw[first]:02X} at byte position {first + offset} "
        f"(line {line}) cannot be decoded{more}; it was probably saved as Windows-1252/Latin-1 (the value "
        f"is shown read that way); {save}"
    )
    return _SURROGATE.sub("\ufffd", text), [Problem(file, line, None, cell, rule)]


def _cell_around(raw: bytes, at: int, limit: int = 60) -> str:
    """The CSV cell holding byte ``at``, read as Windows-1252 (at most ``limit`` characters)."""
    start = max(raw.rfind(sep, 0, at) for sep in (b",", b"\n", b'"')) + 1
    ends = [i for i in (raw.find(sep, at) for sep in (b",", b"\r", b"\n", b'"')) if i >= 0]
    cell = raw[start:min(ends, default=len(raw))].decode("cp1252", errors="replace")
    return cell if len(cell) <= limit else cell[:limit - 3] + "..."


def _records_from_csv(text: str, file: str) -> tuple[list[tuple[int, list[str]]], list[Problem]]:
    records: list[tuple[int, list[str]]] = []
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))  # a long free-text cell is a cell, not a broken quote
    try:
        for i, cells in enumerate(csv.reader(io.StringIO(text, newline=""), strict=True), start=1):
            records.append((i, cells))
    except csv.Error as exc:
        row = len(records) + 1
        return records, [Problem(file, row, None, "", f"malformed CSV ({exc}); check the quotes in this row")]
    finally:
        csv.field_size_limit(limit)
    return records, []


def cell_text(value: object) -> str:
    """Text of a typed cell (an Excel cell's value), written as the CSV format expects it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _records_from_xlsx(path: Path, file: str) -> tuple[list[tuple[int, list[str]]], list[Problem]]:
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        return [], [Problem(file, None, None, "", f"not a readable Excel .xlsx workbook ({exc})")]
    problems = []
    try:
        if len(wb.sheetnames) > 1:
            others = ", ".join(repr(n) for n in wb.sheetnames[1:])
            problems.append(Problem(file, None, None, "", f"only the first sheet {wb.sheetnames[0]!r} is read; "
                                    f"sheet(s) {others} are ignored", "warning"))
        ws = wb.worksheets[0]
        rows = list(ws.iter_rows(min_row=1, values_only=True))
    finally:
        wb.close()
    records = [(i, [cell_text(v) for v in row]) for i, row in enumerate(rows, start=1)]
    return records, problems + _formulas_without_values(path, file, rows)


def _formulas_without_values(path: Path, file: str, values: list[tuple]) -> list[Problem]:
    """Cells holding a formula whose result was never stored (the file was not saved by Excel)."""
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        if not any(b"</f>" in z.read(n) for n in sheets):
            return []
    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        formulas = list(wb.worksheets[0].iter_rows(min_row=1, values_only=True))
    finally:
        wb.close()
    header = [cell_text(c).strip() for c in values[0]] if values else []
    problems = []
    for i, (stored, written) in enumerate(zip(values, formulas), start=1):
        for j, (value, formula) in enumerate(zip(stored, written)):
            if value is None and isinstance(formula, str) and formula.startswith("="):
                column = header[j] if j < len(header) and header[j] else None
                problems.append(Problem(file, i, column, formula, "holds a formula without a stored result: open "
                                        "and save the file in Excel (or paste the values instead of formulas)"))
    return problems


def _table(records: list[tuple[int, list[str]]], file: str, raw: bytes,
           allow_empty: bool) -> tuple[RawTable | None, list[Problem]]:
    """Header and data rows from records; ``None`` when the file has no usable header."""
    if not records or not any(c.strip() for c in records[0][1]):
        what = "no header row" if not records else "row 1 must be the header with the column names"
        return None, [Problem(file, None, None, "", f"empty file: {what}")]
    header = [c.strip() for c in records[0][1]]
    named = [c for c in header if c]
    if len(named) == 1 and (";" in named[0] or "\t" in named[0]):
        sep = "';'" if ";" in named[0] else "tabs"
        return None, [Problem(file, 1, None, named[0][:60], f"the columns are separated by {sep}, not commas; save "
                              "the file as comma-separated CSV (in Excel: 'CSV UTF-8 (comma delimited)')")]
    while header and header[-1] == "":
        header.pop()
    problems: list[Problem] = []
    width = len(header)
    rows, cells = [], []
    for number, rec in records[1:]:
        values = [c.strip() for c in rec]
        if not any(values):
            continue  # a blank row holds nothing
        if len(values) > width:
            extra = [v for v in values[width:] if v]
            if extra:
                problems.append(Problem(file, number, None, ", ".join(extra),
                                        f"row has {len(values)} cells but the header names only {width} columns; "
                                        "the extra values cannot be read (a missing quote or an extra comma?)"))
            values = values[:width]
        elif len(values) < width:
            values = values + [""] * (width - len(values))
        rows.append(number)
        cells.append(values)
    if not cells and not allow_empty:
        problems.append(Problem(file, None, None, "", "empty file: header but no data rows"))
    frame = pd.DataFrame(cells, columns=range(width), dtype=object) if cells else pd.DataFrame(columns=range(width))
    keep, names, seen = [], [], {}
    for j, name in enumerate(header):
        if name == "":
            if cells and (frame[j] != "").any():
                first = int(np.argmax((frame[j] != "").to_numpy()))
                problems.append(Problem(file, rows[first], None, frame[j].iloc[first],
                                        f"column {j + 1} has values but no header name; it is ignored",
                                        "warning"))
            continue
        if name in seen:
            problems.append(Problem(file, 1, name, name, "column name appears more than once "
                                    f"(columns {seen[name] + 1} and {j + 1}); keep one"))
            continue
        seen[name] = j
        keep.append(j)
        names.append(name)
    data = frame[keep].copy() if keep else pd.DataFrame(index=frame.index)
    data.columns = names
    data = data.astype(str) if len(data) else data.astype(object)
    return RawTable(file, data.reset_index(drop=True), np.asarray(rows, dtype=np.int64), raw), problems


def read_table(path: str | Path, allow_empty: bool = False) -> tuple[RawTable | None, list[Problem]]:
    """Read a ``.csv`` (UTF-8, comma-separated) or ``.xlsx`` (first sheet) file as text.

    Parameters
    ----------
    path : path-like
        The file; its name (without directory) is used in problems.
    allow_empty : bool, default False
        Whether a header without data rows is acceptable (otherwise it is reported).

    Returns
    -------
    table : RawTable or None
        ``None`` when nothing usable could be read (file missing, empty, not a
        workbook).
    problems : list of Problem
        Everything wrong with the file at this level.
    """
    path = Path(path)
    file = path.name
    if not path.is_file():
        what = f"{path} is a folder, not a file" if path.is_dir() else "missing file"
        return None, [Problem(file, None, None, "", what)]
    raw = path.read_bytes()
    if path.suffix.lower() == ".xlsx":
        records, problems = _records_from_xlsx(path, file)
        if any(p.severity == "error" for p in problems):
            return None, problems
    else:
        text, problems = _decode(raw, file)
        if text is None:
            return None, problems
        records, more = _records_from_csv(text, file)
        problems += more
    table, more = _table(records, file, raw, allow_empty)
    return _restored(table), problems + more + _overlong_cells(table)


def _overlong_cells(table: RawTable | None) -> list[Problem]:
    """Cells longer than a spreadsheet cell can hold: one problem each (the CSV itself is fine)."""
    if table is None or not len(table.data):
        return []
    problems = []
    for column in table.data.columns:
        lengths = table.data[column].str.len().to_numpy()
        for i in np.flatnonzero(lengths > MAX_CELL):
            problems.append(Problem(table.file, int(table.rows[i]), column, table.data[column].iloc[i],
                                    f"cell of {lengths[i]:,} characters, longer than the {MAX_CELL:,} a spreadsheet "
                                    "cell holds: shorten it"))
    return problems


def _restored(table: RawTable | None) -> RawTable | None:
    """``table`` with the cells an injection-safe writer neutralised (``'`` before a formula
    character) read back as they were written (:func:`matchmaker.common.csv_safe.unneutralise`)."""
    if table is not None:
        table.data = restore_frame(table.data)
    return table
