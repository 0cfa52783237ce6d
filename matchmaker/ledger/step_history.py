"""Reading the validation chain back from the ledger (inside any connection or transaction).

:func:`step_history` is every recorded step of the exchanges, oldest first (of each
exchange's current run: a pair withdrawn, then accepted or locked again, starts its chain
afresh, and the steps up to its withdrawal belong to the earlier run; they stay in the table);
:func:`done_steps` turns one pair's rows into :class:`~matchmaker.ledger.step_rules.Done`;
:func:`drawn_pairs` is the set of exchanges drawn for EC validation;
:func:`released_after_start` the exchanges withdrawn after they started, whose lump
sum is released although the visitor keeps its one visit (docs/ledger.md, "Money").
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import ColumnElement, func, select
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
    restarts = _restarts(conn)
    if restarts.empty or df.empty:
        return df
    cut = df.merge(restarts, on=["visitor_id", "host_id"], how="left")["withdrawn_at"]
    return df[~(cut.notna() & (df["done_at"] <= cut)).to_numpy()].reset_index(drop=True)


def _restarts(conn: Connection) -> pd.DataFrame:
    """Pairs withdrawn and then accepted or locked again: ``visitor_id, host_id, withdrawn_at`` (the last withdrawal).

    Their steps up to ``withdrawn_at`` belong to an earlier run of the exchange.
    """
    s, d = tables.exchange_steps.c, tables.decisions.c
    out = conn.execute(select(s.visitor_id, s.host_id, func.max(s.done_at)).where(s.step == "withdrawn")
                       .group_by(s.visitor_id, s.host_id)).fetchall()
    if not out:
        return pd.DataFrame(columns=["visitor_id", "host_id", "withdrawn_at"])
    withdrawn = pd.DataFrame(out, columns=["visitor_id", "host_id", "withdrawn_at"])
    again = pd.DataFrame(conn.execute(select(d.visitor_id, d.host_id, func.max(d.decided_at))
                                      .where(d.decision.in_(["accept", "lock"]))
                                      .group_by(d.visitor_id, d.host_id)).fetchall(),
                         columns=["visitor_id", "host_id", "decided_at"])
    both = withdrawn.merge(again, on=["visitor_id", "host_id"])
    for col in ("withdrawn_at", "decided_at"):
        both[col] = pd.to_datetime(both[col], utc=True)
    return both.loc[both["decided_at"] > both["withdrawn_at"], ["visitor_id", "host_id", "withdrawn_at"]]


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
