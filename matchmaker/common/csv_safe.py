"""The one injection-safe CSV writer of the product, and its exact inverse for the readers.

Every CSV file matchmaker writes (``proposals.csv``, ``unmatched.csv``, the pair
catalogue, the match lists of ``matchmaker export``) is opened in a spreadsheet by
someone, so every one goes through :func:`csv_bytes` / :func:`write_csv`. A text cell that
starts like a formula (OWASP, CSV injection) gets a leading ``'``: a cell starting with
``=``, ``+``, ``-``, ``@``, tab, carriage return, line feed or NUL, or with the
full-width forms of ``= + - @``. A text that already starts with ``'`` characters
followed by one of these is prefixed too, so that the mapping can be undone exactly:
:func:`unneutralise` (used by every reader of these files: the validator's reader, the
ledger's reader of an output folder, the round files' reader) gives back the original
text. Only *text* is prefixed: numbers stay numbers (a negative lump sum is data, and a
number cell cannot hold a formula). Column names are treated like text cells.

Apart from the prefixed cells the bytes are pandas' ``to_csv`` with the caller's
options, so a file without dangerous cells is byte for byte what it was before.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

#: Any cell value (text, number, date, missing): what :func:`neutralise` takes and returns.
Cell = TypeVar("Cell")

#: First characters that make a spreadsheet read a cell as a formula (OWASP + ASVS 1.2.10,
#: plus line feed, NUL and the full-width forms some spreadsheets also accept).
DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: The prefix that makes a spreadsheet read a cell as text.
PREFIX = "'"


def _dangerous(text: str) -> bool:
    """Whether ``text``, after any leading apostrophes, starts like a formula."""
    return text.lstrip(PREFIX).startswith(DANGEROUS_FIRST)


def neutralise(value: Cell) -> Cell | str:
    """``value`` made safe for a spreadsheet: a dangerous text gets a leading ``'``.

    Non-text values (numbers, dates, booleans, missing values) are returned unchanged.
    A text of apostrophes then a formula character gets one more apostrophe, so that
    :func:`unneutralise` restores every text exactly.

    >>> neutralise("=1+1"), neutralise("-2+3"), neutralise(-2.5), neutralise("Łódź"), neutralise("'=x")
    ("'=1+1", "'-2+3", -2.5, 'Łódź', "''=x")
    """
    if isinstance(value, str) and _dangerous(value):
        return PREFIX + value
    return value


def unneutralise(value: Cell) -> Cell | str:
    """The inverse of :func:`neutralise`: a cell ``'`` + a neutralised text reads back as that text.

    >>> unneutralise("'=1+1"), unneutralise("''=x"), unneutralise("'quoted"), unneutralise(3)
    ('=1+1', "'=x", "'quoted", 3)
    """
    if isinstance(value, str) and value.startswith(PREFIX) and _dangerous(value[1:]):
        return value[1:]
    return value


def is_text(s: pd.Series) -> bool:
    """Whether a column holds text (object, string or categorical dtype)."""
    types = pd.api.types
    return types.is_object_dtype(s) or types.is_string_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype)


def _any_text(col: pd.Series, test: Callable[[str], bool]) -> bool:
    """Whether ``test`` holds for a text cell of ``col`` (each distinct value tested once)."""
    values = col.cat.categories if isinstance(col.dtype, pd.CategoricalDtype) else pd.unique(col.to_numpy(object))
    return any(isinstance(x, str) and test(x) for x in values)


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every dangerous text cell and column name neutralised.

    Numeric, boolean and date columns are left as they are; text and mixed (object)
    columns have their *string* cells checked (numbers inside an object column stay
    numbers). The index is dropped (the product's CSV files carry no index).
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame to write, got {type(df).__name__}")
    out = df.reset_index(drop=True).copy()
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        if is_text(col) and _any_text(col, _dangerous):
            out.isetitem(j, col.astype(object).map(neutralise))
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def restore_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (read from a file :func:`write_csv` wrote) with every neutralised text cell and name restored."""
    out = df.copy()
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        if is_text(col) and _any_text(col, lambda x: x.startswith(PREFIX)):
            out.isetitem(j, col.astype(object).map(unneutralise))
    out.columns = [unneutralise(c) for c in out.columns]
    return out


def csv_bytes(df: pd.DataFrame, encoding: str = "utf-8", **to_csv: Any) -> bytes:
    """The bytes of ``df`` as an injection-safe CSV: ``df.to_csv(index=False, **to_csv)`` after
    :func:`neutralise_frame`, encoded as ``encoding`` (``utf-8-sig`` writes a byte-order mark)."""
    text = neutralise_frame(df).to_csv(None, index=False, **to_csv)
    return text.encode(encoding)


def write_bytes_durably(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file beside it, flushed to disk, then renamed
    over ``path``: a reader sees the old file or the new one, never a part of it."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_csv(df: pd.DataFrame, path: str | Path, encoding: str = "utf-8", **to_csv: Any) -> Path:
    """Write ``df`` as an injection-safe CSV (:func:`csv_bytes`) to ``path``, all at once.

    ``path``'s folder must exist (``FileNotFoundError`` naming it otherwise).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path}: folder {path.parent} does not exist")
    return write_bytes_durably(path, csv_bytes(df, encoding=encoding, **to_csv))
