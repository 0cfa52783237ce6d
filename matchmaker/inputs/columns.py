"""Typed columns from raw text tables, checked against :mod:`matchmaker.common.schema`.

Every check is vectorised over a whole column with pandas; Python loops run only over
the cells that break a rule, to word their problems. A cell that is empty is *missing*
(never a type error); whether it may be missing is decided by :func:`check_required`,
because some columns are required only for some rows (hosts, COSME countries).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from matchmaker.common.errors import Problem
from matchmaker.common.schema import DATE_RANGE, FALSE_VALUES, LIST_SEPARATOR, TRUE_VALUES, Column
from matchmaker.inputs.raw_tables import RawTable

#: Where the codes of the special vocabularies come from, for problem wording.
VOCABULARY_SOURCES = {
    "country": "countries.csv",
    "partnership": "partnerships.csv",
    "partnership_or_auto": "partnerships.csv",
}

_TYPE_RULES = {
    "int": "must be a whole number",
    "float": "must be a number",
    "date": "must be an ISO date YYYY-MM-DD (for example 2027-03-01)",
    "bool": f"must be true or false (also accepted: {'/'.join(TRUE_VALUES[1:])} and {'/'.join(FALSE_VALUES[1:])})",
}


@dataclass
class ParsedTable:
    """A raw table's columns converted to their schema types.

    Attributes
    ----------
    file : str
        File name for problems.
    text : pandas.DataFrame
        The cells as read (stripped text, ``""`` when empty or absent), for messages.
    values : pandas.DataFrame
        Every column of the spec (absent ones all missing): ``str`` columns as text
        (``""`` when missing), ``int`` as ``Int64``, ``float`` as ``float64``, ``date``
        as ``datetime64[ns]``, ``bool`` as ``boolean``, ``list`` as tuples of codes.
    missing, bad : dict of str to numpy.ndarray
        Per column: cells that are empty; cells whose value breaks the column's rule.
    rows : numpy.ndarray
        Spreadsheet row number of every row.
    present : set of str
        Columns found in the header.
    """

    file: str
    text: pd.DataFrame
    values: pd.DataFrame
    missing: dict[str, np.ndarray]
    bad: dict[str, np.ndarray]
    rows: np.ndarray
    present: set[str] = field(default_factory=set)

    def ok(self, column: str) -> np.ndarray:
        """Cells of ``column`` holding a valid value."""
        return ~self.missing[column] & ~self.bad[column]


def range_text(col: Column) -> str:
    """The column's inclusive range in words (empty if unbounded)."""
    if col.type == "date":
        return f"from {DATE_RANGE[0]} to {DATE_RANGE[1]}"
    lo, hi = (None if x is None else _number_text(x) for x in (col.minimum, col.maximum))
    if lo is not None and hi is not None:
        return f"from {lo} to {hi}"
    if lo is not None:
        return f"at least {lo}"
    if hi is not None:
        return f"at most {hi}"
    return ""


def _number_text(x: float) -> str:
    """A bound as people write it: ``22``, ``0.5``, ``1,000,000,000,000``."""
    return f"{x:,.0f}" if float(x).is_integer() and abs(x) >= 1e6 else f"{x:g}"


def _near(value: str, candidates) -> tuple[str | None, bool]:
    """The candidate ``value`` is most likely a misspelling of, and whether only its case differs."""
    folded = {c.casefold(): c for c in candidates}
    if value.casefold() in folded:
        return folded[value.casefold()], True
    close = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.75)
    return (close[0], False) if close else (None, False)


def _suggest(value: str, codes: tuple[str, ...], what: str = "codes") -> str:
    match, case_only = _near(value, codes)
    if match is None:
        return ""
    return f"; did you mean {match!r}?" + (f" ({what} are case-sensitive)" if case_only else "")


def _renamed_hint(name: str, extras: tuple[str, ...]) -> str:
    """Hint naming a header cell that looks like column ``name`` misspelt ("" if none)."""
    match, case_only = _near(name, extras)
    if match is None:
        return ""
    return f" (the header has {match!r}: " + ("column names are case-sensitive)" if case_only
                                               else "is it this column misspelt?)")


def vocabulary_rule(name: str, codes: tuple[str, ...], bad_items: list[str], in_list: bool = False) -> str:
    """Problem wording for codes ``bad_items`` missing from vocabulary ``name``."""
    items = ", ".join(repr(x) for x in bad_items)
    hint = _suggest(bad_items[0], codes) if bad_items else ""
    if name in VOCABULARY_SOURCES:
        what = {"country": "country code", "partnership": "partnership id",
                "partnership_or_auto": "partnership id"}[name]
        rule = f"unknown {what} {items}{_in_list(in_list)}: not in {VOCABULARY_SOURCES[name]}"
        if name == "partnership_or_auto":
            rule += " (use a partnership_id from partnerships.csv or 'auto')"
        return rule + hint
    allowed = ", ".join(codes) if len(codes) <= 12 else "see data/reference/vocabularies.csv"
    return f"unknown code {items}{_in_list(in_list)} of vocabulary '{name}' (allowed: {allowed}){hint}"


def _in_list(in_list: bool) -> str:
    return f" in this '{LIST_SEPARATOR}'-separated list" if in_list else ""


def _numbers(text: pd.Series, missing: np.ndarray) -> np.ndarray:
    num = pd.to_numeric(text.where(~missing, None), errors="coerce")
    return np.asarray(num, dtype=float)


def _parse_column(col: Column, text: pd.Series, vocab: tuple[str, ...] | None):
    """Typed values, missing mask, bad mask and a function wording a bad cell's rule."""
    missing = (text == "").to_numpy()
    n = len(text)
    rule_of = None
    if col.type == "int" or col.type == "float":
        num = _numbers(text, missing)
        bad = ~missing & ~np.isfinite(num)
        if col.type == "int":
            bad |= ~missing & np.isfinite(num) & (np.mod(np.where(np.isfinite(num), num, 0), 1) != 0)
        out_of_range = np.zeros(n, dtype=bool)
        with np.errstate(invalid="ignore"):
            if col.minimum is not None:
                out_of_range |= num < col.minimum
            if col.maximum is not None:
                out_of_range |= num > col.maximum
        out_of_range &= ~missing & ~bad
        type_bad = bad.copy()
        bad = bad | out_of_range
        clean = np.where(missing | bad, np.nan, num)
        values = pd.array(clean, dtype="Int64") if col.type == "int" else clean
        rng = range_text(col)
        example = f" (for example {col.example})" if col.type == "float" else ""
        type_rule = _TYPE_RULES[col.type] + example + (f", {rng}" if rng else "")

        def rule_of(i, value, _tb=type_bad):
            if _tb[i]:
                if col.type == "float" and "," in value:
                    return type_rule + "; use a decimal point, not a comma"
                return type_rule
            return f"value out of range: must be {rng}"
    elif col.type == "date":
        parsed = pd.to_datetime(text.where(~missing, None), format="%Y-%m-%d", errors="coerce")
        type_bad = ~missing & parsed.isna().to_numpy()
        lo, hi = (pd.Timestamp(d) for d in DATE_RANGE)
        outside = ~missing & ~type_bad & ~parsed.between(lo, hi).to_numpy()  # before the ns cast wraps or fails
        bad = type_bad | outside
        values = parsed.where(~outside).astype("datetime64[ns]")

        def rule_of(i, value, _tb=type_bad):
            return _TYPE_RULES["date"] if _tb[i] else f"date out of range: must be {range_text(col)}"
    elif col.type == "bool":
        low = text.str.lower()
        true, false = low.isin(TRUE_VALUES).to_numpy(), low.isin(FALSE_VALUES).to_numpy()
        bad = ~missing & ~true & ~false
        values = pd.array(np.where(true, True, np.where(false, False, None)), dtype="boolean")

        def rule_of(i, value):
            return _TYPE_RULES["bool"]
    elif col.type == "code" and vocab is not None:
        bad = ~missing & ~text.isin(vocab).to_numpy()
        values = text

        def rule_of(i, value):
            return vocabulary_rule(col.vocabulary, vocab, [value])
    elif col.type == "list":
        # Split each distinct cell once: list cells repeat a lot ("en;es").
        codes, distinct = pd.factorize(text)
        split = np.empty(len(distinct), dtype=object)
        split[:] = [tuple(dict.fromkeys(p for p in (x.strip() for x in cell.split(LIST_SEPARATOR)) if p))
                    for cell in distinct]
        items = split[codes] if n else np.empty(0, dtype=object)
        empty = np.fromiter((len(t) == 0 for t in split), dtype=bool, count=len(split))
        missing = empty[codes] if n else np.zeros(0, dtype=bool)
        values = pd.Series(items, index=text.index, dtype=object)
        bad = np.zeros(n, dtype=bool)
        if vocab is not None and n:
            flat = pd.Series(split).explode()
            unknown = flat.notna() & ~flat.isin(vocab)
            bad_distinct = np.zeros(len(split), dtype=bool)
            bad_distinct[np.unique(flat.index[unknown.to_numpy()])] = True
            bad = bad_distinct[codes]

        def rule_of(i, value):
            wrong = [x for x in items[i] if x not in vocab]
            return vocabulary_rule(col.vocabulary, vocab, wrong, in_list=True)
    else:  # str, or code without a vocabulary
        bad = np.zeros(n, dtype=bool)
        values = text
    return values, missing, bad, rule_of


def parse_table(table: RawTable, spec: tuple[Column, ...],
                vocabularies: dict[str, tuple[str, ...]]) -> tuple[ParsedTable, list[Problem]]:
    """Convert every column of ``table`` to its type and check values.

    Checks type, vocabulary and range of every non-empty cell; reports columns the
    spec does not know (warning: ignored) and columns required on every row that are
    absent. Required values are checked by :func:`check_required`.

    Parameters
    ----------
    table : RawTable
        The file as text.
    spec : tuple of Column
        The file's columns (:mod:`matchmaker.common.schema`).
    vocabularies : dict
        Codes of each vocabulary named in ``spec``; ``None`` for a vocabulary that
        could not be read (its codes are then not checked, to avoid a flood of
        problems that the unreadable file already explains).

    Returns
    -------
    ParsedTable, list of Problem
    """
    problems: list[Problem] = []
    names = [c.name for c in spec]
    extras = tuple(c for c in table.data.columns if c not in names)
    for extra in extras:
        hint = _suggest(extra, tuple(names), "names")
        problems.append(Problem(table.file, None, extra, "", f"unknown column, ignored{hint} "
                                f"(known columns: {', '.join(names)})", "warning"))
    n = len(table.data)
    values, missing, bad, texts = {}, {}, {}, {}
    for col in spec:
        if col.name in table.data.columns:
            text = table.data[col.name]
        else:
            text = pd.Series([""] * n, index=table.data.index, dtype=object)
            if col.required is True:
                problems.append(Problem(table.file, None, col.name, "", "missing required column"
                                        + _renamed_hint(col.name, extras)))
        if col.vocabulary and col.vocabulary not in vocabularies:
            raise KeyError(f"schema column {col.name!r} names unknown vocabulary {col.vocabulary!r}")
        vocab = vocabularies[col.vocabulary] if col.vocabulary else None
        v, m, b, rule_of = _parse_column(col, text, vocab)
        values[col.name], missing[col.name], bad[col.name], texts[col.name] = v, m, b, text
        for i in np.flatnonzero(b):
            value = text.iloc[i]
            problems.append(Problem(table.file, int(table.rows[i]), col.name, value, rule_of(i, value)))
    frame = pd.DataFrame(values, index=table.data.index)
    text = pd.DataFrame(texts, index=table.data.index)
    parsed = ParsedTable(table.file, text, frame, missing, bad, table.rows, set(table.data.columns))
    return parsed, problems


def check_required(parsed: ParsedTable, spec: tuple[Column, ...],
                   conditions: dict[str, tuple[np.ndarray, str]] | None = None) -> list[Problem]:
    """Problems for required values that are missing.

    Parameters
    ----------
    parsed : ParsedTable
    spec : tuple of Column
    conditions : dict, optional
        For columns whose ``required`` is a keyword (``"host"``, ``"cosme"``...): the
        rows where it applies and how to name them (``"host rows"``).
    """
    conditions = conditions or {}
    problems = []
    for col in spec:
        if col.required is False:
            continue
        if col.required is True:
            if col.name not in parsed.present:
                continue  # reported once as a missing column
            where, rule = np.ones(len(parsed.rows), dtype=bool), "required value is missing"
        else:
            if col.required not in conditions:
                raise KeyError(f"no condition given for columns required for {col.required!r}")
            where, what = conditions[col.required]
            rule = f"required for {what}: value is missing"
            if col.name not in parsed.present:
                if where.any():
                    rows = parsed.rows[where]
                    problems.append(Problem(parsed.file, None, col.name, "",
                                            f"missing column, required for {what} (first at row {rows[0]})"))
                continue
        for i in np.flatnonzero(where & parsed.missing[col.name]):
            problems.append(Problem(parsed.file, int(parsed.rows[i]), col.name, "", rule))
    return problems
