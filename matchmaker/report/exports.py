"""Safe exports of match lists: CSV that Excel opens with accents intact, and .xlsx.

Both formats are protected against CSV/formula injection (OWASP): a text cell that
starts with ``=``, ``+``, ``-``, ``@``, tab (0x09), carriage return (0x0D), line feed
(0x0A) or NUL, or with the full-width forms of ``= + - @``, is prefixed with a single
quote ``'`` so that no spreadsheet runs it as a formula. Only *text* is prefixed:
numeric columns stay numbers (a negative lump sum or score is data, not a formula, and
a number cell cannot hold a formula). Column names are treated like text cells.

CSV files are UTF-8 with a byte-order mark (Excel then shows accented names right),
``,`` or ``;`` separated, CRLF line ends by default (RFC 4180; ``line_end="\\n"`` for LF),
and every text cell is quoted (``csv.QUOTE_NONNUMERIC``) so that a separator or quote
inside a cell, or a spreadsheet that guesses another separator, cannot start a new cell;
quotes in cells are doubled. ``;`` is for spreadsheets set up for a country where ``,``
is the decimal mark (most of continental Europe), so with ``;`` numbers with a fraction
are written with a decimal comma, in quotes (``"780,5"``, as pandas writes them), which
such a spreadsheet reads as numbers (quotes only delimit a cell); whole numbers stay
unquoted. With ``,`` the decimal mark is ``.`` (docs/decisions.md §18).

.xlsx workbooks have each column as wide as its longest cell (within
:data:`XLSX_WIDTH`), the header row frozen and filters on every column; dates show as
``YYYY-MM-DD`` (with the time only when a cell has one).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from matchmaker.common.csv_safe import DANGEROUS_FIRST, is_text, neutralise, neutralise_frame, write_csv
from matchmaker.ledger.exchanges import exchange_list
from matchmaker.ledger.store import Ledger

__all__ = ["DANGEROUS_FIRST", "export_csv", "export_partnership_lists", "export_xlsx", "neutralise",
           "neutralise_frame"]

SEPARATORS = (",", ";")
LINE_ENDS = ("\r\n", "\n")
#: The decimal mark of the numbers in a CSV file, per separator.
DECIMAL_MARK = {",": ".", ";": ","}
#: Characters that .xlsx files cannot hold (openpyxl refuses them); replaced by U+FFFD.
XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Narrowest and widest .xlsx column, in characters (a longer cell shows its start; the cell holds all of it).
XLSX_WIDTH = (6, 60)


def _check_sep(sep: str) -> None:
    if sep not in SEPARATORS:
        raise ValueError(f"separator {sep!r} must be ',' or ';' (';' for Excel in countries with a decimal comma)")


def export_csv(df: pd.DataFrame, path: str | Path, sep: str = ",", line_end: str = "\r\n") -> Path:
    """Write ``df`` as an injection-safe CSV for spreadsheets.

    Parameters
    ----------
    df : DataFrame
    path : path-like
        Output file; its folder must exist.
    sep : {",", ";"}
        With ``;`` numbers have a decimal comma (:data:`DECIMAL_MARK`).
    line_end : {"\\r\\n", "\\n"}
        CRLF by default (RFC 4180, what Excel writes); LF on request.

    Returns
    -------
    Path
        ``path``. The file is UTF-8 with a BOM: read it back with
        ``pd.read_csv(path, sep=sep, decimal=DECIMAL_MARK[sep], encoding="utf-8-sig")``.
    """
    _check_sep(sep)
    if line_end not in LINE_ENDS:
        raise ValueError(f"line_end {line_end!r} must be '\\r\\n' (CRLF) or '\\n' (LF)")
    return write_csv(df, path, encoding="utf-8-sig", sep=sep, decimal=DECIMAL_MARK[sep], lineterminator=line_end,
                     quoting=csv.QUOTE_NONNUMERIC, doublequote=True)


def _xlsx_cell(value: object) -> object:
    """A cell already neutralised (:func:`neutralise_frame`) with the characters .xlsx cannot hold replaced."""
    if isinstance(value, str):
        return XLSX_ILLEGAL.sub("\ufffd", value)
    return value


def export_xlsx(df: pd.DataFrame, path: str | Path, sheet_name: str = "proposals") -> Path:
    """Write ``df`` as an .xlsx workbook with the same protection as :func:`export_csv`.

    openpyxl stores a text beginning with ``=`` as a formula, so dangerous texts are
    prefixed with ``'`` exactly as in CSV (a later "save as CSV" from Excel stays safe).
    Control characters that .xlsx cannot hold are replaced by U+FFFD. Dates become
    Excel dates (time zones are dropped, values kept in UTC) shown as ``YYYY-MM-DD``;
    numbers stay numbers. Each column is as wide as its longest cell (within
    :data:`XLSX_WIDTH`), the header row is frozen and every column has a filter.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path}: folder {path.parent} does not exist")
    safe = neutralise_frame(df)
    for col in safe.columns:
        s = safe[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            safe[col] = s.dt.tz_convert("UTC").dt.tz_localize(None)
        elif is_text(s):
            safe[col] = s.map(_xlsx_cell)
    safe.columns = [_xlsx_cell(c) for c in safe.columns]
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        safe.to_excel(writer, sheet_name=sheet_name[:31], index=False)
        _layout(writer.sheets[sheet_name[:31]], safe)
    return path


def _cell_width(value: object) -> int:
    """Characters a cell takes on screen (a date: its ``YYYY-MM-DD[ hh:mm]`` form)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return 0
    if isinstance(value, pd.Timestamp):
        return 10 if value == value.normalize() else 16
    if isinstance(value, float):
        return len(f"{value:,.2f}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def _layout(sheet: Worksheet, df: pd.DataFrame) -> None:
    """Fit each column's width to its cells, freeze the header row, filter every column, show dates as dates."""
    lo, hi = XLSX_WIDTH
    for j, col in enumerate(df.columns, start=1):
        s = df[col]
        width = max([_cell_width(str(col)), *(_cell_width(v) for v in s.astype(object))])
        letter = get_column_letter(j)
        sheet.column_dimensions[letter].width = min(max(width + 2, lo), hi)
        if pd.api.types.is_datetime64_any_dtype(s):
            timed = bool((s.dropna() != s.dropna().dt.normalize()).any())
            for cell in sheet[letter][1:]:
                cell.number_format = "yyyy-mm-dd hh:mm" if timed else "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    if sheet.max_row >= 1 and sheet.max_column >= 1:
        sheet.auto_filter.ref = sheet.dimensions


def _file_part(name: str) -> str:
    part = re.sub(r"[^\w.-]+", "_", str(name), flags=re.UNICODE).strip("._")
    return part or "unnamed"


def export_partnership_lists(source: int | pd.DataFrame, out_dir: str | Path, sep: str = ",", *,
                             ledger: Ledger | str | Path | None = None, xlsx: bool = False,
                             line_end: str = "\r\n") -> dict[str, Path]:
    """One match list per partnership and one for the whole round.

    Parameters
    ----------
    source : int or DataFrame
        A round id of ``ledger``: its cumulative list (:func:`matchmaker.ledger.exchanges.exchange_list`:
        the round's proposals and every pair decided before it, with ``status`` and
        ``decided_in_round``), or a proposals DataFrame with a ``partnership`` column.
    out_dir : path-like
        Created if missing. Files: ``round[_ID].csv`` and
        ``round[_ID]_<partnership>.csv`` (``.xlsx`` too when ``xlsx``).
    sep : {",", ";"}
    ledger : Ledger or str, optional
        Needed when ``source`` is a round id (a Ledger or its URL).
    xlsx : bool
        Also write each list as .xlsx.

    Returns
    -------
    dict
        ``{"round": path, "<partnership>": path, ...}`` (the CSV paths).
    """
    _check_sep(sep)
    if isinstance(source, pd.DataFrame):
        props, stem = source, "round"
    elif isinstance(source, (int, np.integer)) and not isinstance(source, bool):
        if ledger is None:
            raise ValueError("export_partnership_lists: a round id needs ledger= (a Ledger or its URL)")
        if isinstance(ledger, (str, Path)):
            ledger = Ledger(ledger)
        props, stem = exchange_list(ledger, round_id=int(source)), f"round_{int(source)}"  # cumulative
    else:
        raise TypeError(f"source must be a round id or a proposals DataFrame, not {type(source).__name__}")
    if "partnership" not in props.columns:
        raise ValueError("the proposals have no 'partnership' column: cannot split them per partnership")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {"round": export_csv(props, out / f"{stem}.csv", sep=sep, line_end=line_end)}
    if xlsx:
        export_xlsx(props, out / f"{stem}.xlsx")
    for partnership, part in props.groupby("partnership", sort=True, observed=True):
        name = f"{stem}_{_file_part(partnership)}"
        written[str(partnership)] = export_csv(part, out / f"{name}.csv", sep=sep, line_end=line_end)
        if xlsx:
            export_xlsx(part, out / f"{name}.xlsx", sheet_name=str(partnership))
    return written
