"""Reading and checking a solved round's tables before the ledger records them.

A solved round is what :func:`matchmaker.run.run_round` writes into its output
directory (``proposals.csv``, ``unmatched.csv``, ``summary.json``, checked as one set by
:mod:`matchmaker.proposals.output_set`), or the same tables held in memory.
:func:`read_solution` accepts either and returns a :class:`Solution`;
:func:`check_solution` reports every problem of its proposals at once (file, row,
column, value, rule), so that nothing half-checked reaches the database, and returns
them typed as the proposals' specification (:mod:`matchmaker.proposals.spec`) says.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matchmaker.common.csv_safe import restore_frame, unneutralise
from matchmaker.common.errors import OutputSetError, Problem, RoundDataError
from matchmaker.common.schema import SCORE_PREFIX
from matchmaker.inputs.instance import Round
from matchmaker.proposals.output_set import RERUN, read_summary
from matchmaker.proposals.spec import AFTER_SCORES, BY_NAME, REQUIRED, STORED, TEXT, VOCABULARIES, ProposalColumn

#: Columns read as text in a round's output tables: the proposals' text columns and
#: ``unmatched.csv``'s ``reason``.
TEXT_COLUMNS = (*TEXT, "reason")
#: Cells read as true in a proposals table's flag columns (``locked``).
TRUE_TEXTS = ("true", "1", "yes")


@dataclass
class Solution:
    """The tables of one solved round.

    Attributes
    ----------
    proposals : DataFrame
        One row per proposed pair, columns of ``proposals.csv``.
    unmatched : DataFrame
        Visitors without a proposal; at least ``visitor_id`` and ``reason``.
    summary : dict
        Contents of ``summary.json`` (JSON-safe).
    source : str
        Where the tables came from, used in error messages.
    """

    proposals: pd.DataFrame
    unmatched: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["visitor_id", "reason"]))
    summary: dict = field(default_factory=dict)
    source: str = "proposals"


def json_safe(value: object) -> object:
    """``value`` with NaN/inf replaced by ``None``, NumPy scalars and dates made plain.

    Strict JSON (and PostgreSQL's ``json`` type) has no NaN, so the ledger never
    stores one.
    """
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def read_output_table(path: Path) -> pd.DataFrame:
    """Read a CSV that ``run_round`` wrote (proposals or unmatched): text columns as text, empty cells as
    missing, the injection-safe writer's prefixes undone (:func:`matchmaker.common.csv_safe.unneutralise`).

    Raises :class:`OutputSetError` naming the file when it is empty or not a CSV table.
    """
    try:
        head = pd.read_csv(path, nrows=0, encoding="utf-8-sig")
        dtype = {c: str for c in head.columns if unneutralise(c) in TEXT_COLUMNS}
        table = pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise OutputSetError(f"{path} is empty or not a CSV table ({exc}): the file is damaged or was not "
                             f"completely written; {RERUN}") from exc
    return restore_frame(table)


def _read_folder(out: Path) -> Solution:
    """A solved round's output folder, its set checked first (:func:`.output_set.read_summary`)."""
    summary = read_summary(out)
    path = out / "proposals.csv"
    if not path.is_file():
        raise OutputSetError(f"{out} holds no proposals.csv: it is not the output folder of a solved round; "
                             f"{RERUN}")
    sol = Solution(proposals=read_output_table(path), source=str(path))
    if (out / "unmatched.csv").is_file():
        sol.unmatched = read_output_table(out / "unmatched.csv")
    if summary is not None:
        sol.summary = json_safe(summary)
    return sol


def read_solution(solution: str | Path | Mapping | Solution) -> Solution:
    """A :class:`Solution` from an output directory, a mapping of tables, or itself.

    Parameters
    ----------
    solution : path-like, Mapping or Solution
        A directory holding ``proposals.csv`` (required), ``unmatched.csv`` and
        ``summary.json`` (optional; when it lists the set's files, they must match it); or
        a mapping with a ``proposals`` DataFrame and optional ``unmatched`` DataFrame and
        ``summary`` dict.

    Raises
    ------
    OutputSetError
        When the directory does not exist, holds no ``proposals.csv``, holds the set of
        a failed run, or a file that is damaged or does not match ``summary.json``; the
        message names the file and says to run the round again.
    TypeError
        When ``solution`` is none of the accepted kinds.
    """
    if isinstance(solution, Solution):
        return solution
    if isinstance(solution, Mapping):
        if "proposals" not in solution:
            raise TypeError("solution mapping needs a 'proposals' DataFrame "
                            f"(got keys: {', '.join(map(str, solution)) or 'none'})")
        sol = Solution(proposals=pd.DataFrame(solution["proposals"]).reset_index(drop=True))
        if solution.get("unmatched") is not None:
            sol.unmatched = pd.DataFrame(solution["unmatched"]).reset_index(drop=True)
        sol.summary = json_safe(dict(solution.get("summary") or {}))
        return sol
    if isinstance(solution, (str, Path)):
        return _read_folder(Path(solution))
    raise TypeError(f"solution must be an output directory, a mapping of tables or a Solution, "
                    f"not {type(solution).__name__}")


class _Problems:
    """The problems found in a proposals table, each with its file row."""

    def __init__(self, file: str, df: pd.DataFrame):
        self.file, self.df = file, df
        self.rows = np.arange(len(df)) + 2
        self.found: list[Problem] = []

    def report(self, mask: np.ndarray, column: str, rule: str) -> None:
        """One problem per row where ``mask`` holds, with the cell of ``column``."""
        for r, v in zip(self.rows[mask], self.df.loc[mask, column].astype(object)):
            self.found.append(Problem(self.file, int(r), column, "" if pd.isna(v) else str(v), rule))


def _text(col: ProposalColumn, cells: pd.Series, problems: _Problems) -> pd.Series:
    """A required text or code column stripped (empty cells and unknown codes reported)."""
    s = cells.astype(object)
    problems.report(s.isna().to_numpy() | (s.astype(str).str.strip() == "").to_numpy(), col.name,
                    "must not be empty")
    out = s.where(s.notna(), "").astype(str).str.strip()
    if col.vocabulary is not None:
        codes = VOCABULARIES[col.vocabulary]
        problems.report(~out.isin(codes).to_numpy() & (out != "").to_numpy(), col.name,
                        f"must be one of {', '.join(codes)}")
    return out


def _date(col: ProposalColumn, cells: pd.Series, problems: _Problems) -> pd.Series:
    """A date column as Python dates (cells that are no date reported)."""
    parsed = pd.to_datetime(cells, errors="coerce", format="mixed")
    bad = parsed.isna() if col.required is True else parsed.isna() & cells.notna()
    problems.report(bad.to_numpy(), col.name, "must be an ISO date (YYYY-MM-DD)")
    return parsed.dt.date


def _number(col: ProposalColumn, cells: pd.Series, problems: _Problems) -> pd.Series:
    """A number column (cells that are no number, or below the minimum, reported)."""
    vals = pd.to_numeric(cells, errors="coerce")
    bad = (vals.isna() & cells.notna()) | (vals.isna() if col.required is True else False)
    problems.report(bad.to_numpy(), col.name, "must be a number")
    if col.minimum is not None:
        problems.report((vals < col.minimum).to_numpy(), col.name, f"must be >= {col.minimum:g}")
    if col.type == "int" and col.required is True:
        return vals.fillna(0).astype(int)
    return vals


def _column(col: ProposalColumn, df: pd.DataFrame, problems: _Problems) -> object:
    """One stored column of the proposals, checked and typed by its spec (absent optional: its empty value)."""
    if col.name not in df.columns:
        return {"int": np.nan, "float": np.nan, "bool": False}.get(col.type)
    cells = df[col.name]
    if col.type in ("str", "code"):
        return _text(col, cells, problems) if col.required is True else cells.astype(object).where(cells.notna(), None)
    if col.type == "date":
        return _date(col, cells, problems)
    if col.type in ("int", "float"):
        return _number(col, cells, problems)
    if col.type == "bool":
        return cells.map(lambda x: str(x).strip().lower() in TRUE_TEXTS).astype(bool)
    raise ValueError(f"proposals column {col.name!r}: type {col.type!r} has no reading")


def _score_breakdown(df: pd.DataFrame) -> list[dict]:
    """Each row's ``score_<criterion>`` columns as ``{criterion: points}``."""
    criteria = [c for c in df.columns if c.startswith(SCORE_PREFIX)]
    if not criteria:
        return [{}] * len(df)
    scores = df[criteria].apply(pd.to_numeric, errors="coerce")
    scores.columns = [c[len(SCORE_PREFIX):] for c in criteria]
    return [json_safe(r) for r in scores.to_dict("records")]


def check_solution(sol: Solution, visitor_ids: Iterable[str], host_ids: Iterable[str]) -> pd.DataFrame:
    """Check and normalise the proposals of ``sol``; return them ready to store.

    Every missing column, unknown visitor or host, unknown mode, bad date or number,
    and repeated pair is reported together in one :class:`RoundDataError`.

    Returns
    -------
    DataFrame
        The stored columns of the specification (:data:`matchmaker.proposals.spec.STORED`)
        with Python dates, ints, floats and bools, and ``score_breakdown`` (a dict per row).
    """
    df = sol.proposals
    fname = Path(sol.source).name if sol.source.endswith(".csv") else sol.source
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise RoundDataError([Problem(fname, None, c, "", "required column is missing") for c in missing])
    problems = _Problems(fname, df)
    out = pd.DataFrame(index=df.index)
    for name in STORED:
        out[name] = _column(BY_NAME[name], df, problems)
    for role, ids in (("visitor", visitor_ids), ("host", host_ids)):
        col = out[f"{role}_id"]
        problems.report(~col.isin(set(ids)).to_numpy() & (col != "").to_numpy(), f"{role}_id",
                        f"is not a {role} of this round")
    dup = out.duplicated(["visitor_id", "host_id"], keep="first").to_numpy()
    problems.report(dup, "host_id", "this visitor-host pair is proposed twice")
    if problems.found:
        raise RoundDataError(sorted(problems.found, key=lambda q: (q.row or 0, list(df.columns).index(q.column))))
    out["score_breakdown"] = _score_breakdown(df)
    return out


def registration_rows(rnd: Round) -> list[dict]:
    """Rows of the ``registrations`` table for a round's visitors and hosts."""
    rows = []
    for role, table in (("visitor", rnd.visitors), ("host", rnd.hosts)):
        part = table["partnership"] if "partnership" in table.columns else pd.Series(None, index=table.index)
        for org, name, country, p in zip(table["org_id"], table["name"], table["country"], part):
            rows.append({"role": role, "org_id": str(org), "name": str(name), "country": str(country),
                         "partnership": None if pd.isna(p) else str(p)})
    return rows


def _plain(kind: str, value: object) -> object:
    """A stored cell as a plain Python value of its column type."""
    if kind == "bool":
        return bool(value)
    if value is None:
        return None
    return {"int": int, "float": float}.get(kind, lambda x: x)(value)


def proposal_rows(props: pd.DataFrame) -> list[dict]:
    """Rows of the ledger's ``proposals`` table from :func:`check_solution` output (plain Python values)."""
    cols = [c for c in props.columns if c != "score_breakdown"]
    records = props[cols].astype(object).where(props[cols].notna(), None).to_dict("records")
    for rec, breakdown in zip(records, props["score_breakdown"]):
        rec["score_breakdown"] = breakdown
        for name in cols:
            rec[name] = _plain(BY_NAME[name].type, rec[name])
    return records


def proposals_from_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The ledger's proposals rows back as a table: the inverse of :func:`proposal_rows`.

    ``rows`` has stored columns and ``score_breakdown``; the result has the stored
    columns before the scores, ``score_<criterion>`` (from ``score_breakdown``), then
    those after them, with dates as ``datetime64`` and flags as ``bool``.
    """
    df = rows.drop(columns="score_breakdown")
    points = rows["score_breakdown"]
    breakdown = pd.DataFrame(points.tolist(), index=df.index) if len(df) else pd.DataFrame(index=df.index)
    breakdown = breakdown.add_prefix(SCORE_PREFIX).astype(float)
    after = [c for c in df.columns if c in AFTER_SCORES]
    df = pd.concat([df.drop(columns=after), breakdown, df[after]], axis=1)
    for c in df.columns:
        kind = BY_NAME[c].type if c in BY_NAME else None
        if kind == "bool":
            df[c] = df[c].astype(bool)
        elif kind == "date":
            df[c] = pd.to_datetime(df[c])
    return df


def unmatched_rows(unmatched: pd.DataFrame) -> list[dict]:
    """Rows of the ``unmatched`` table: ``visitor_id``, ``reason``, other columns in ``details``."""
    rest = [c for c in unmatched.columns if c not in ("visitor_id", "reason")]
    rows = []
    for rec in unmatched.astype(object).where(unmatched.notna(), None).to_dict("records"):
        reason = "" if rec["reason"] is None else str(rec["reason"])
        rows.append({"visitor_id": str(rec["visitor_id"]), "reason": reason,
                     "details": json_safe({c: rec[c] for c in rest})})
    return rows
