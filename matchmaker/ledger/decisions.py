"""Storing a reviewer's decision: one transaction that locks the visitor, checks, inserts.

:func:`store_decision` is the write path of :meth:`matchmaker.ledger.store.Ledger.decide`:

1. lock the visitor's ``write_locks`` row (:func:`matchmaker.ledger.schema.take_lock`), so
   that decisions on one visitor, in any round, are taken one after the other and each
   one's checks see every earlier one;
2. check the rules (:func:`matchmaker.ledger.rules.check_decision`): one active accept or
   lock per visitor, the pair proposed or lockable, ...;
3. insert the decision with the visitor's next ``visitor_seq`` (state-setting decisions
   only); the unique index ``uq_decisions_visitor_seq`` refuses a second decision that
   did not see the first, even if the lock were bypassed. Such a clash is retried (the
   checks then see the other decision and say why this one is refused), so the caller
   gets a :class:`LedgerError`, never an ``IntegrityError``.

A batch of decisions (the review panel takes one decision per click) is a loop of
``decide`` calls: each decision is whole or absent after a crash (tests/ledger/test_ledger_kill.py).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from matchmaker.inputs.instance import Round
from matchmaker.ledger import tables
from matchmaker.ledger.engine import LedgerError, write_transaction
from matchmaker.ledger.rules import check_decision, next_visitor_seq, unknown_round
from matchmaker.ledger.schema import take_lock

#: Tries of a decision whose visitor got another decision at the same moment (uq_decisions_visitor_seq).
DECIDE_TRIES = 3


def checked_request(decision: str, visitor_id: str, host_id: str, reviewer: str,
                    comment: str | None) -> tuple[str, str, str, str, str]:
    """The arguments of ``Ledger.decide`` cleaned and checked (before any database work).

    Returns ``(decision, visitor_id, host_id, reviewer, comment)``; raises :class:`LedgerError`.
    """
    decision = str(decision).strip().lower()
    if decision not in tables.DECISIONS:
        raise LedgerError(f"decision {decision!r} must be one of {', '.join(tables.DECISIONS)}")
    reviewer = str(reviewer or "").strip()
    if not reviewer:
        raise LedgerError("reviewer must be given (who takes this decision: name or e-mail)")
    comment = "" if comment is None else str(comment)
    if decision == "comment" and not comment.strip():
        raise LedgerError("a 'comment' decision needs a non-empty comment")
    visitor_id, host_id = str(visitor_id).strip(), str(host_id).strip()
    if not visitor_id or not host_id:
        raise LedgerError(f"visitor_id {visitor_id!r} and host_id {host_id!r} must not be empty")
    return decision, visitor_id, host_id, reviewer, comment


def store_decision(engine: Engine, rid: int, visitor_id: str, host_id: str, decision: str, reviewer: str,
                   comment: str, rnd: Round | None = None) -> int:
    """Store one checked decision (see :func:`checked_request`) in its own transaction; return its id."""
    clash: IntegrityError | None = None
    for _ in range(DECIDE_TRIES):
        try:
            return _store_once(engine, rid, visitor_id, host_id, decision, reviewer, comment, rnd)
        except IntegrityError as exc:  # uq_decisions_visitor_seq: a decision on the visitor slipped in
            if "visitor_seq" not in str(exc.orig):
                raise
            clash = exc
    raise LedgerError(f"cannot {decision} pair (visitor {visitor_id}, host {host_id}): other decisions on visitor "
                      f"{visitor_id} were being stored at the same moment; look at the pair again and retry"
                      ) from clash


def _store_once(engine: Engine, rid: int, visitor_id: str, host_id: str, decision: str, reviewer: str,
                comment: str, rnd: Round | None) -> int:
    with write_transaction(engine) as conn:
        take_lock(conn, tables.visitor_lock(visitor_id))  # decisions on one visitor: one after the other
        if conn.execute(select(tables.rounds.c.id).where(tables.rounds.c.id == rid)).first() is None:
            raise LedgerError(unknown_round(conn, rid))
        partnership = check_decision(conn, rid, visitor_id, host_id, decision, rnd)
        seq = next_visitor_seq(conn, visitor_id) if decision in tables.STATE_DECISIONS else None
        new_id = conn.execute(insert(tables.decisions).values(
            round_id=rid, visitor_id=visitor_id, host_id=host_id, partnership=partnership, decision=decision,
            comment=comment, reviewer=reviewer, decided_at=dt.datetime.now(dt.UTC), visitor_seq=seq,
        )).inserted_primary_key[0]
    return int(new_id)
