"""Reading the validation chain back from the ledger (inside any connection or transaction).

:func:`step_history` is every recorded step of the exchanges, oldest first;
:func:`done_steps` turns one pair's rows into :class:`~matchmaker.ledger.step_rules.Done`;
:func:`drawn_pairs` is the set of exchanges drawn for EC validation;
:func:`released_after_start` the exchanges withdrawn after they started, whose lump
sum is released although the visitor keeps its one visit (docs/ledger.md, "Money").
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import ColumnElement, select
from sqlalchemy.engine import Connection

from matchmaker.ledger import tables
from matchmaker.ledger.step_rules import Done

#: Columns of :func:`step_history`.
HISTORY_COLUMNS = ["id", "round_id", "visitor_id", "host_id", "step", "partnership", "actor", "done_at", "comment"]


def step_history(conn: Connection, where: ColumnElement[bool] | None = None) -> pd.DataFrame:
    """Recorded steps (:data:`HISTORY_COLUMNS`), oldest first, optionally filtered by ``where``."""
    s = tables.exchange_steps.c
    q = select(*[s[c] for c in HISTORY_COLUMNS]).order_by(s.id)
    if where is not None:
        q = q.where(where)
    result = conn.execute(q)
    df = pd.DataFrame(result.fetchall(), columns=HISTORY_COLUMNS)
    df["done_at"] = pd.to_datetime(df["done_at"], utc=True)
    return df


def when_text(value: object) -> str:
    """A step's time for people: ``2027-03-01 14:05 UTC``."""
    if value is None or pd.isna(value):
        return ""
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def done_steps(rows: pd.DataFrame) -> list[Done]:
    """One pair's rows of :func:`step_history` as :class:`Done` steps, oldest first."""
    return [Done(step=str(st), partnership=None if p is None or pd.isna(p) else str(p), actor=str(a),
                 when=when_text(w), comment=str(c or ""))
            for st, p, a, w, c in zip(rows["step"], rows["partnership"], rows["actor"], rows["done_at"],
                                      rows["comment"])]


def drawn_pairs(conn: Connection) -> set[tuple[str, str]]:
    """Every ``(visitor_id, host_id)`` drawn by any EC draw."""
    drawn = conn.execute(select(tables.ec_draws.c.drawn)).scalars()
    return {(str(v), str(h)) for pairs in drawn for v, h in pairs}


def released_after_start(conn: Connection) -> set[tuple[str, str]]:
    """Pairs whose exchange was withdrawn after it started: the lump sum is released, the pair stays accepted."""
    hist = step_history(conn, tables.exchange_steps.c.step.in_(["started", "withdrawn"]))
    pairs = {step: set(zip(g["visitor_id"], g["host_id"])) for step, g in hist.groupby("step")}
    return pairs.get("started", set()) & pairs.get("withdrawn", set())
