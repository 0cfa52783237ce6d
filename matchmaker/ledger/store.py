"""The round ledger: rounds, proposals and reviewers' decisions in a real database.

SQLite is the embedded default (``DIR/ledger.sqlite`` beside a round's data, see
:meth:`Ledger.for_round_dir`); any SQLAlchemy URL works the same, for example
``postgresql+psycopg://user:password@host:5432/matchmaker``. The tables are in
:mod:`matchmaker.ledger.tables`, the engine set-up in :mod:`matchmaker.ledger.engine`,
the decision rules in :mod:`matchmaker.ledger.rules`, the reading and checking of a
solved round in :mod:`matchmaker.proposals.solution`; docs/ledger.md explains the rules.

Guarantees
----------
* Recording a round (its row, its registrations, all its proposals and unmatched
  visitors) is ONE transaction: after a crash the ledger holds the previous state or
  the new one, never half a round.
* Decisions are append-only inserts, each in its own transaction: two reviewers
  deciding at the same time both get their decision stored. SQLite runs in WAL mode
  with a busy timeout and takes its write lock at ``BEGIN`` (``BEGIN IMMEDIATE``) so
  concurrent writers queue instead of failing; on PostgreSQL a decision first locks its
  visitor's ``write_locks`` row (``SELECT ... FOR UPDATE``), so its checks see every
  earlier decision on that visitor, in any round. Behind the lock, the unique index
  ``uq_decisions_visitor_seq`` refuses a second state-setting decision on a visitor
  that did not see the first: one active accept or lock per visitor, across rounds,
  is kept by the database itself. Recording a round locks ``round names``, so the
  default names "round N" are unique.
* Nothing is ever updated or deleted: the current decision on a pair is its latest
  ``accept``/``reject``/``lock``/``reopen`` (a ``reopen`` makes it undecided again);
  comments never change a pair's state.

Examples
--------
>>> led = Ledger.for_round_dir("rounds/2027-spring")            # doctest: +SKIP
>>> rid = led.record_round(rnd, "rounds/2027-spring/out", name="spring 1")  # doctest: +SKIP
>>> led.decide(rid, "V-0001", "H-0420", "accept", reviewer="ana@clamtex.eu")  # doctest: +SKIP
>>> led.proposals(rid, partnership="CLAMTEX")                   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from sqlalchemy import Table, func, insert, select
from sqlalchemy.engine import Connection

from matchmaker.common.locations import LEDGER_FILE, default_ledger_url
from matchmaker.inputs.instance import Round
from matchmaker.inputs.settings import settings_json
from matchmaker.ledger import tables
from matchmaker.ledger.decisions import checked_request, store_decision
from matchmaker.ledger.engine import LedgerError, make_engine, write_transaction
from matchmaker.ledger.rules import current_states, unknown_round
from matchmaker.ledger.schema import open_schema, take_lock
from matchmaker.ledger.step_history import released_after_start
from matchmaker.proposals.solution import (
    Solution,
    check_solution,
    json_safe,
    proposal_rows,
    proposals_from_rows,
    read_solution,
    registration_rows,
    unmatched_rows,
)
from matchmaker.proposals.spec import AFTER_SCORES, BEFORE_SCORES, STORED

#: What to run when a ledger holds no round yet (the first round is recorded by ``matchmaker solve``).
FIRST_ROUND_HINT = ("solve the round and record it first: `matchmaker solve ROUND_DIR --out OUT_FOLDER` "
                    "(for the sample: `bash scripts/sample-round.sh`)")
#: Rows per INSERT statement when recording a round.
BATCH_SIZE = 500

#: Columns of :meth:`Ledger.proposals` before the ``score_<criterion>`` columns: the stored
#: columns of the proposals' specification (:mod:`matchmaker.proposals.spec`) that precede them.
PROPOSAL_COLUMNS = [c for c in STORED if c in BEFORE_SCORES]
#: Stored columns of the specification that follow the scores (``locked``).
AFTER_SCORE_COLUMNS = [c for c in STORED if c in AFTER_SCORES]
#: The current decision on each pair, added by :meth:`Ledger.proposals`.
REVIEW_COLUMNS = ["decision", "reviewer", "decided_at", "decision_round_id", "latest_comment"]
#: Columns of :meth:`Ledger.proposals` after the scores.
DECISION_COLUMNS = [*AFTER_SCORE_COLUMNS, *REVIEW_COLUMNS]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _insert_rows(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Insert ``rows`` into ``table`` in batches of :data:`BATCH_SIZE` (one executemany each)."""
    for start in range(0, len(rows), BATCH_SIZE):
        conn.execute(insert(table), rows[start:start + BATCH_SIZE])


class Ledger:
    """The round ledger in the database at ``url``; tables are created if missing.

    Parameters
    ----------
    url : str or Path
        SQLAlchemy URL: ``sqlite:///DIR/ledger.sqlite`` (default kind) or
        ``postgresql+psycopg://user:password@host:port/database``.
    """

    def __init__(self, url: str | Path) -> None:
        self.engine = make_engine(url)
        self.url = self.engine.url
        try:
            open_schema(self.engine)
        except LedgerError:
            self.engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"Ledger({self.url.render_as_string(hide_password=True)!r})"

    @property
    def location(self) -> str:
        """Where the ledger is, in a user's words: the SQLite file, or the database URL without its password."""
        if self.url.get_backend_name() == "sqlite":
            return f"file {self.url.database}" if self.url.database not in (None, "", ":memory:") else "in memory"
        return f"database {self.url.render_as_string(hide_password=True)}"

    @classmethod
    def for_round_dir(cls, round_dir: str | Path) -> Ledger:
        """The SQLite ledger beside a round's data: ``ROUND_DIR/ledger.sqlite``
        (:func:`matchmaker.common.locations.default_ledger_url`); created if missing."""
        d = Path(round_dir).expanduser().resolve()
        if not d.is_dir():
            raise LedgerError(f"{round_dir}: round directory does not exist")
        return cls(default_ledger_url(d))

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions -------------------------------------------------------------
    def _read(self, query) -> pd.DataFrame:
        with self.engine.connect() as conn:
            result = conn.execute(query)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    # -- rounds ---------------------------------------------------------------------
    def record_round(self, rnd: Round, solution: str | Path | Mapping | Solution, name: str | None = None, *,
                     status: str = "proposed") -> int:
        """Record a solved round: its row, registrations, proposals and unmatched visitors.

        Everything is written in ONE transaction; if anything fails (a bad row, a
        crash, a lost connection) nothing of this round is left in the ledger.

        Parameters
        ----------
        rnd : Round
            The round that was solved (its visitors, hosts, settings, input hash).
        solution : path-like, Mapping or Solution
            The output directory of :func:`matchmaker.run.run_round` (``proposals.csv``,
            ``unmatched.csv``, ``summary.json``) or the same tables in memory, see
            :func:`matchmaker.proposals.solution.read_solution`.
        name : str, optional
            Name shown to reviewers; default ``"round N"``.
        status : {"proposed", "closed"}

        Returns
        -------
        int
            The new round's id.

        Raises
        ------
        RoundDataError
            When the proposals break the file contract (every problem listed).
        """
        if status not in tables.ROUND_STATUSES:
            raise LedgerError(f"round status {status!r} must be one of {', '.join(tables.ROUND_STATUSES)}")
        sol = read_solution(solution)
        props = check_solution(sol, rnd.visitors["org_id"], rnd.hosts["org_id"])
        if "visitor_id" not in sol.unmatched.columns or "reason" not in sol.unmatched.columns:
            raise LedgerError(f"{sol.source}: unmatched table needs columns visitor_id and reason "
                              f"(has: {', '.join(map(str, sol.unmatched.columns))})")
        registrations = registration_rows(rnd)
        proposal_rows_ = proposal_rows(props)
        unmatched_rows_ = unmatched_rows(sol.unmatched)
        settings = json.loads(settings_json(rnd.settings or {}))
        source = str(rnd.source) if getattr(rnd, "source", None) else None
        with write_transaction(self.engine) as conn:
            take_lock(conn, tables.ROUND_NAMES_LOCK)  # concurrent recorders count the rounds one after the other
            if name is None:
                n = conn.execute(select(func.count()).select_from(tables.rounds)).scalar_one()
                name = f"round {n + 1}"
            round_id = conn.execute(insert(tables.rounds).values(
                name=str(name), created_at=_utcnow(), status=status,
                input_hash=str(getattr(rnd, "input_hash", "") or ""), settings=settings,
                summary=json_safe(sol.summary), source=source, n_proposals=len(proposal_rows_),
            )).inserted_primary_key[0]
            for rows, target in ((registrations, tables.registrations), (proposal_rows_, tables.proposals),
                                 (unmatched_rows_, tables.unmatched)):
                _insert_rows(conn, target, [dict(r, round_id=round_id) for r in rows])
        return int(round_id)

    def rounds(self) -> pd.DataFrame:
        """All rounds, oldest first: ``id, name, created_at, status, input_hash, source, n_proposals``."""
        r = tables.rounds.c
        df = self._read(select(r.id, r.name, r.created_at, r.status, r.input_hash, r.source,
                               r.n_proposals).order_by(r.id))
        df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
        return df

    def round(self, round_id: int) -> dict:
        """One round's row as a dict, with its ``settings`` and ``summary``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(tables.rounds).where(tables.rounds.c.id == int(round_id))).mappings().first()
        if row is None:
            raise LedgerError(self._unknown_round(round_id))
        return dict(row)

    def latest_round_id(self) -> int:
        """Id of the most recently recorded round."""
        with self.engine.connect() as conn:
            rid = conn.execute(select(func.max(tables.rounds.c.id))).scalar_one()
        if rid is None:
            raise LedgerError(f"the ledger ({self.location}) holds no round yet: {FIRST_ROUND_HINT}")
        return int(rid)

    def _unknown_round(self, round_id) -> str:
        with self.engine.connect() as conn:
            return unknown_round(conn, round_id)

    def registrations(self, round_id: int) -> pd.DataFrame:
        """Visitors and hosts of a round: ``role, org_id, name, country, partnership``."""
        g = tables.registrations.c
        return self._read(select(g.role, g.org_id, g.name, g.country, g.partnership)
                          .where(g.round_id == int(round_id)).order_by(g.role, g.org_id))

    def unmatched(self, round_id: int) -> pd.DataFrame:
        """Visitors of a round without a proposal: ``visitor_id, reason`` and their details."""
        u = tables.unmatched.c
        df = self._read(select(u.visitor_id, u.reason, u.details).where(u.round_id == int(round_id)).order_by(u.id))
        details = pd.DataFrame(df.pop("details").tolist(), index=df.index) if len(df) else pd.DataFrame(index=df.index)
        return pd.concat([df, details.drop(columns=[c for c in details.columns if c in df.columns])], axis=1)

    # -- proposals --------------------------------------------------------------------
    def proposals(self, round_id: int, partnership: str | None = None) -> pd.DataFrame:
        """A round's proposals with the current decision on each pair.

        Parameters
        ----------
        round_id : int
        partnership : str, optional
            Only the pairs paid by this (the visitor's) partnership.

        Returns
        -------
        DataFrame
            :data:`PROPOSAL_COLUMNS`, then ``score_<criterion>`` (score points per
            criterion), then :data:`DECISION_COLUMNS`: ``locked`` (proposed as a lock),
            ``decision`` (current ``accept``/``reject``/``lock``, missing when none),
            ``reviewer``, ``decided_at``, ``decision_round_id`` (the round it was taken
            in) and ``latest_comment`` (latest non-empty comment on the pair). Sorted by
            partnership, then descending score.
        """
        self.round(round_id)  # fails clearly on an unknown round
        p = tables.proposals.c
        q = select(*[p[c] for c in PROPOSAL_COLUMNS], p.score_breakdown, *[p[c] for c in AFTER_SCORE_COLUMNS])
        q = q.where(p.round_id == int(round_id))
        if partnership is not None:
            q = q.where(p.partnership == str(partnership))
        df = proposals_from_rows(self._read(q.order_by(p.partnership, p.score.desc(), p.visitor_id)))
        current = self.current_decisions()
        comments = self._latest_comments()
        df = df.merge(current[["visitor_id", "host_id", "decision", "reviewer", "decided_at", "round_id"]]
                      .rename(columns={"round_id": "decision_round_id"}), on=["visitor_id", "host_id"], how="left")
        df = df.merge(comments, on=["visitor_id", "host_id"], how="left")
        df["decision_round_id"] = df["decision_round_id"].astype("Int64")
        return df.reset_index(drop=True)

    # -- decisions ---------------------------------------------------------------------
    def decide(self, round_id: int, visitor_id: str, host_id: str, decision: str, reviewer: str,
               comment: str = "", *, rnd: Round | None = None) -> int:
        """Record a reviewer's decision on a pair (append-only); return its id.

        Parameters
        ----------
        round_id : int
            The round the reviewer is looking at.
        visitor_id, host_id : str
            The pair.
        decision : {"accept", "reject", "lock", "comment", "reopen"}
            See :data:`matchmaker.ledger.tables.DECISIONS`.
        reviewer : str
            Who decides (e-mail or name); required.
        comment : str
            Free text; required for ``comment``.
        rnd : Round, optional
            The round's data; when given, a ``lock`` on a pair that was not proposed is
            checked against every rule of the scheme (``constraints.pair_refusals``).

        Rules
        -----
        * ``accept`` needs a proposal of that round (its lump sum is what is committed).
        * ``reject``, ``comment`` and ``reopen`` need a proposal of that round or a pair
          that already has a decision in the ledger.
        * ``lock`` also accepts any pair of the round's registrations (visitor and host
          from different countries; eligible under ``rnd`` when given).
        * A visitor has one exchange: ``accept`` is refused while the visitor has
          another pair accepted or locked, ``lock`` while it has another pair
          accepted or locked (``reject`` or ``reopen`` that pair first).
        """
        decision, visitor_id, host_id, reviewer, comment = checked_request(decision, visitor_id, host_id,
                                                                           reviewer, comment)
        return store_decision(self.engine, int(round_id), visitor_id, host_id, decision, reviewer, comment, rnd)

    def decisions(self, round_id: int | None = None) -> pd.DataFrame:
        """The full decision history (oldest first), optionally of one round only.

        Columns ``id, round_id, visitor_id, host_id, partnership, decision, comment,
        reviewer, decided_at``.
        """
        q = select(*[c for c in tables.decisions.c if c.name != "visitor_seq"]).order_by(tables.decisions.c.id)
        if round_id is not None:
            q = q.where(tables.decisions.c.round_id == int(round_id))
        df = self._read(q)
        df["decided_at"] = pd.to_datetime(df["decided_at"], utc=True)
        return df

    def current_decisions(self) -> pd.DataFrame:
        """The current state of every decided pair across all rounds.

        One row per pair whose latest ``accept``/``reject``/``lock``/``reopen`` is not a
        ``reopen``: ``visitor_id, host_id, partnership, decision, round_id, reviewer,
        decided_at, comment, decision_id``.
        """
        with self.engine.connect() as conn:
            return current_states(conn)

    def _latest_comments(self) -> pd.DataFrame:
        d = tables.decisions.c
        latest = (select(func.max(d.id).label("id")).where(d.comment != "")
                  .group_by(d.visitor_id, d.host_id).subquery())
        return self._read(select(d.visitor_id, d.host_id, d.comment.label("latest_comment"))
                          .join(latest, d.id == latest.c.id))

    def accepted_exchanges(self) -> pd.DataFrame:
        """Pairs currently accepted, with the proposal they accepted.

        An exchange withdrawn after it started stays accepted (the visitor made its one
        visit) with ``lump_sum_eur`` 0 (released); one withdrawn before it started is no
        longer accepted (docs/ledger.md, "Money").

        Columns ``visitor_id, host_id, round_id, reviewer, decided_at, mode, start_date,
        end_date, lump_sum_eur, partnership``.
        """
        cur = self.current_decisions()
        acc = cur[cur["decision"] == "accept"][["visitor_id", "host_id", "round_id", "reviewer", "decided_at"]]
        p = tables.proposals.c
        props = self._read(select(p.round_id, p.visitor_id, p.host_id, p.mode, p.start_date, p.end_date,
                                  p.lump_sum_eur, p.partnership)
                           .where(p.round_id.in_(sorted({int(x) for x in acc["round_id"]}) or [-1])))
        out = acc.merge(props, on=["round_id", "visitor_id", "host_id"], how="left")
        with self.engine.connect() as conn:  # withdrawn after it started: the visit counts, its lump sum is released
            released = released_after_start(conn)
        out.loc[[(v, h) in released for v, h in zip(out["visitor_id"], out["host_id"])], "lump_sum_eur"] = 0.0
        return out.sort_values(["partnership", "visitor_id"]).reset_index(drop=True)

    def committed_lump_sums(self) -> pd.Series:
        """Lump sums of the accepted exchanges per (visitor's) partnership, EUR.

        A pair counts once, with the lump sum of the proposal it was accepted on;
        an accept later rejected or reopened no longer counts.
        """
        acc = self.accepted_exchanges()
        s = acc.groupby("partnership")["lump_sum_eur"].sum().astype(float)
        s.index.name = "partnership"
        return s.rename("committed_eur").round(2)


__all__ = ["Ledger", "LedgerError", "make_engine", "Solution", "LEDGER_FILE", "PROPOSAL_COLUMNS", "DECISION_COLUMNS"]
