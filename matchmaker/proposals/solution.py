"""Reading and checking a solved round's tables before the ledger records them.

A solved round is what :func:`matchmaker.run.run_round` writes into its output
directory (``proposals.csv``, ``unmatched.csv``, ``summary.json``), or the same tables
held in memory. :func:`read_solution` accepts either and returns a :class:`Solution`;
:func:`check_proposals` reports every problem at once (file, row, column, value, rule)
so that nothing half-checked reaches the database.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matchmaker.common.errors import Problem, RoundDataError

#: Columns ``proposals.csv`` must have (docs/design.md).
REQUIRED_PROPOSAL_COLUMNS = (
    "visitor_id", "host_id", "mode", "start_date", "end_date", "working_days",
    "lump_sum_eur", "partnership",
)
#: Columns it may have, stored when present.
OPTIONAL_PROPOSAL_COLUMNS = (
    "visitor_name", "visitor_country", "host_name", "host_country", "distance_km",
    "score", "locked",
)
#: Text columns read as strings (never as numbers or missing values).
TEXT_COLUMNS = (
    "visitor_id", "host_id", "visitor_name", "visitor_country", "host_name",
    "host_country", "partnership", "mode", "reason",
)
MODES = ("physical", "virtual")
SCORE_PREFIX = "score_"


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


def json_safe(value):
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


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV written by ``run_round``: text columns as text, empty cells as missing."""
    head = pd.read_csv(path, nrows=0, encoding="utf-8-sig")
    dtype = {c: str for c in head.columns if c in TEXT_COLUMNS}
    return pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""], encoding="utf-8-sig")


def read_solution(solution) -> Solution:
    """A :class:`Solution` from an output directory, a mapping of tables, or itself.

    Parameters
    ----------
    solution : path-like, Mapping or Solution
        A directory holding ``proposals.csv`` (required), ``unmatched.csv`` and
        ``summary.json`` (optional); or a mapping with a ``proposals`` DataFrame and
        optional ``unmatched`` DataFrame and ``summary`` dict.

    Raises
    ------
    FileNotFoundError
        When the directory or its ``proposals.csv`` does not exist.
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
        out = Path(solution)
        path = out / "proposals.csv"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no proposals.csv in this output directory "
                                    "(run the round first: matchmaker solve/round DIR --out OUT)")
        sol = Solution(proposals=read_table(path), source=str(path))
        if (out / "unmatched.csv").is_file():
            sol.unmatched = read_table(out / "unmatched.csv")
        if (out / "summary.json").is_file():
            with open(out / "summary.json", encoding="utf-8") as fh:
                sol.summary = json_safe(json.load(fh))
        return sol
    raise TypeError(f"solution must be an output directory, a mapping of tables or a Solution, "
                    f"not {type(solution).__name__}")


def check_proposals(sol: Solution, visitor_ids, host_ids) -> pd.DataFrame:
    """Check and normalise the proposals of ``sol``; return them ready to store.

    Every missing column, unknown visitor or host, unknown mode, bad date or number,
    and repeated pair is reported together in one :class:`RoundDataError`.

    Returns
    -------
    DataFrame
        Columns ``visitor_id, host_id, ..., score_breakdown`` (dict per row) with
        Python dates, ints, floats and bools.
    """
    df = sol.proposals
    fname = Path(sol.source).name if sol.source.endswith(".csv") else sol.source
    problems: list[Problem] = []
    missing = [c for c in REQUIRED_PROPOSAL_COLUMNS if c not in df.columns]
    if missing:
        raise RoundDataError([Problem(fname, None, c, "", "required column is missing") for c in missing])
    rows = np.arange(len(df)) + 2

    def report(mask, column, rule):
        for r, v in zip(rows[mask], df.loc[mask, column].astype(object)):
            problems.append(Problem(fname, int(r), column, "" if pd.isna(v) else str(v), rule))

    out = pd.DataFrame(index=df.index)
    for col in ("visitor_id", "host_id", "partnership", "mode"):
        s = df[col].astype(object)
        report(s.isna().to_numpy() | (s.astype(str).str.strip() == "").to_numpy(), col, "must not be empty")
        out[col] = s.where(s.notna(), "").astype(str).str.strip()
    report(~out["visitor_id"].isin(set(visitor_ids)).to_numpy() & (out["visitor_id"] != "").to_numpy(),
           "visitor_id", "is not a visitor of this round")
    report(~out["host_id"].isin(set(host_ids)).to_numpy() & (out["host_id"] != "").to_numpy(),
           "host_id", "is not a host of this round")
    report(~out["mode"].isin(MODES).to_numpy() & (out["mode"] != "").to_numpy(),
           "mode", f"must be one of {', '.join(MODES)}")
    for col in ("start_date", "end_date"):
        parsed = pd.to_datetime(df[col], errors="coerce", format="mixed")
        report(parsed.isna().to_numpy(), col, "must be an ISO date (YYYY-MM-DD)")
        out[col] = parsed.dt.date
    numeric = {"working_days": True, "lump_sum_eur": True, "distance_km": False, "score": False}
    for col, required in numeric.items():
        if col not in df.columns:
            out[col] = np.nan
            continue
        vals = pd.to_numeric(df[col], errors="coerce")
        bad = (vals.isna() & df[col].notna()) | (vals.isna() if required else False)
        report(bad.to_numpy(), col, "must be a number")
        report((vals < 0).to_numpy(), col, "must be >= 0")
        out[col] = vals
    out["working_days"] = out["working_days"].fillna(0).astype(int)
    for col in ("visitor_name", "visitor_country", "host_name", "host_country"):
        out[col] = df[col].astype(object).where(df[col].notna(), None) if col in df.columns else None
    if "locked" in df.columns:
        locked = df["locked"].map(lambda x: str(x).strip().lower() in ("true", "1", "yes"))
        out["locked"] = locked.astype(bool)
    else:
        out["locked"] = False
    dup = out.duplicated(["visitor_id", "host_id"], keep="first").to_numpy()
    report(dup, "host_id", "this visitor-host pair is proposed twice")
    if problems:
        raise RoundDataError(sorted(problems, key=lambda q: (q.row or 0, list(df.columns).index(q.column))))
    criteria = [c for c in df.columns if c.startswith(SCORE_PREFIX)]
    scores = df[criteria].apply(pd.to_numeric, errors="coerce") if criteria else pd.DataFrame(index=df.index)
    scores.columns = [c[len(SCORE_PREFIX):] for c in criteria]
    out["score_breakdown"] = [json_safe(r) for r in scores.to_dict("records")] if criteria else [{}] * len(df)
    return out


def registration_rows(rnd) -> list[dict]:
    """Rows of the ``registrations`` table for a round's visitors and hosts."""
    rows = []
    for role, table in (("visitor", rnd.visitors), ("host", rnd.hosts)):
        part = table["partnership"] if "partnership" in table.columns else pd.Series(None, index=table.index)
        for org, name, country, p in zip(table["org_id"], table["name"], table["country"], part):
            rows.append({"role": role, "org_id": str(org), "name": str(name), "country": str(country),
                         "partnership": None if pd.isna(p) else str(p)})
    return rows


def proposal_rows(props: pd.DataFrame) -> list[dict]:
    """Rows of the ``proposals`` table from :func:`check_proposals` output (plain Python values)."""
    cols = [c for c in props.columns if c != "score_breakdown"]
    records = props[cols].astype(object).where(props[cols].notna(), None).to_dict("records")
    for rec, breakdown in zip(records, props["score_breakdown"]):
        rec["score_breakdown"] = breakdown
        rec["working_days"] = int(rec["working_days"])
        rec["locked"] = bool(rec["locked"])
        for k in ("lump_sum_eur", "distance_km", "score"):
            rec[k] = None if rec[k] is None else float(rec[k])
    return records


def unmatched_rows(unmatched: pd.DataFrame) -> list[dict]:
    """Rows of the ``unmatched`` table: ``visitor_id``, ``reason``, other columns in ``details``."""
    rest = [c for c in unmatched.columns if c not in ("visitor_id", "reason")]
    rows = []
    for rec in unmatched.astype(object).where(unmatched.notna(), None).to_dict("records"):
        rows.append({"visitor_id": str(rec["visitor_id"]), "reason": "" if rec["reason"] is None else str(rec["reason"]),
                     "details": json_safe({c: rec[c] for c in rest})})
    return rows
