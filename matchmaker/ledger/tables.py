"""Tables of the round ledger (SQLAlchemy Core, portable to SQLite and PostgreSQL).

The ledger keeps every matching round, its proposals and every decision that a
reviewer took on a pair. It is append-only: the :class:`~matchmaker.ledger.store.Ledger`
API inserts rows and never updates or deletes them; a later decision on a pair
supersedes the earlier one by being later (larger ``id``).

Tables
------
``rounds``
    One row per recorded round: ``name``, ``created_at`` (UTC), ``status``,
    ``input_hash`` (of the round's files and the carried-over ledger state),
    ``settings`` and ``summary`` (JSON), ``source`` (the round directory, if any),
    ``n_proposals``.
``registrations``
    The visitors and hosts the round was solved for (``role``, ``org_id``, ``name``,
    ``country``, ``partnership``), so that decisions can be checked against them.
``proposals``
    The proposed pairs: the stored columns of the proposals' specification
    (:data:`matchmaker.proposals.spec.STORED`, in its order, nullable where not
    required; ``tests/proposals/test_spec.py`` checks that they agree); the
    per-criterion score contributions are kept in ``score_breakdown`` (JSON
    ``{criterion: points}``).
``unmatched``
    Visitors left without a proposal and why (``reason``; other columns of
    ``unmatched.csv`` in ``details`` JSON).
``decisions``
    The append-only history of decisions: ``accept``, ``reject``, ``lock``,
    ``comment``, ``reopen``; who (``reviewer``), when (``decided_at``, UTC), on which
    round and pair, with a free ``comment``. ``visitor_seq`` numbers the state-setting
    decisions (not comments) of each visitor 1, 2, 3, ...; it is unique per visitor
    (``uq_decisions_visitor_seq``), so two decisions on one visitor that did not see each
    other cannot both be stored (rows of a ledger older than the column have it empty).
``exchange_steps``
    The append-only validation chain of each exchange (an accepted or locked pair):
    ``step`` (:data:`matchmaker.ledger.step_rules.STEPS`), who (``actor``), when
    (``done_at``, UTC), the ``round_id`` of the pair's accept or lock, the Partnership
    that validated (``validated_by_partnership`` only) and a free ``comment`` (the
    reason of a ``withdrawn``). ``visitor_seq`` numbers each visitor's steps 1, 2, 3,
    ...; unique per visitor (``uq_exchange_steps_visitor_seq``), like decisions.
``ec_draws``
    Each random draw of exchanges for validation by the European Commission: ``seed``,
    ``share``, ``by_partnership``, who and when, the ``candidates`` (JSON list of
    ``[visitor_id, host_id, partnership]`` in the order the draw used) and the
    exchanges ``drawn`` (JSON list of ``[visitor_id, host_id]``), so that anyone can
    re-run it (:func:`matchmaker.ledger.ec_draw.check_ec_draw`).
``write_locks``
    One row per lock a write transaction takes (``SELECT ... FOR UPDATE``): ``visitor
    <id>`` for every decision or step on that visitor, ``round names`` for recording a
    round, ``ec draw`` for an EC draw.
    Rows are only ever inserted (once per name) and locked.

:mod:`matchmaker.ledger.schema` creates the tables and brings an older ledger up to date.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

#: Decisions a reviewer can take on a pair.
#: ``accept``: the exchange goes ahead (its lump sum is committed, the visitor is not
#: matched again); ``reject``: never propose this pair again; ``lock``: keep this pair
#: in every later round; ``comment``: a note that changes nothing; ``reopen``: withdraw
#: the pair's earlier accept/reject/lock (the pair is undecided again).
DECISIONS = ("accept", "reject", "lock", "comment", "reopen")

#: Decisions that set a pair's state (a ``comment`` does not).
STATE_DECISIONS = ("accept", "reject", "lock", "reopen")

#: Status values of a round.
ROUND_STATUSES = ("proposed", "closed")

ID = String(100)
MONEY = Numeric(12, 2, asdecimal=False)

metadata = MetaData()

rounds = Table(
    "rounds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("input_hash", String(64), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("source", Text, nullable=True),
    Column("n_proposals", Integer, nullable=False),
    CheckConstraint(f"status IN ({', '.join(repr(s) for s in ROUND_STATUSES)})", name="ck_rounds_status"),
)

registrations = Table(
    "registrations",
    metadata,
    Column("round_id", Integer, ForeignKey("rounds.id"), primary_key=True),
    Column("role", String(10), primary_key=True),
    Column("org_id", ID, primary_key=True),
    Column("name", String(300), nullable=False),
    Column("country", String(2), nullable=False),
    Column("partnership", ID, nullable=True),
    CheckConstraint("role IN ('visitor', 'host')", name="ck_registrations_role"),
)

proposals = Table(
    "proposals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("round_id", Integer, ForeignKey("rounds.id"), nullable=False),
    Column("visitor_id", ID, nullable=False),
    Column("visitor_name", String(300), nullable=True),
    Column("visitor_country", String(2), nullable=True),
    Column("host_id", ID, nullable=False),
    Column("host_name", String(300), nullable=True),
    Column("host_country", String(2), nullable=True),
    Column("mode", String(10), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("working_days", Integer, nullable=False),
    Column("distance_km", Float, nullable=True),
    Column("lump_sum_eur", MONEY, nullable=False),
    Column("partnership", ID, nullable=False),
    Column("score", Float, nullable=True),
    Column("score_breakdown", JSON, nullable=False),
    Column("locked", Boolean, nullable=False),
    UniqueConstraint("round_id", "visitor_id", "host_id", name="uq_proposals_pair"),
    CheckConstraint("mode IN ('physical', 'virtual')", name="ck_proposals_mode"),
    Index("ix_proposals_round_partnership", "round_id", "partnership"),
)

unmatched = Table(
    "unmatched",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("round_id", Integer, ForeignKey("rounds.id"), nullable=False),
    Column("visitor_id", ID, nullable=False),
    Column("reason", Text, nullable=False),
    Column("details", JSON, nullable=False),
    Index("ix_unmatched_round", "round_id"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("round_id", Integer, ForeignKey("rounds.id"), nullable=False),
    Column("visitor_id", ID, nullable=False),
    Column("host_id", ID, nullable=False),
    Column("partnership", ID, nullable=True),
    Column("decision", String(10), nullable=False),
    Column("comment", Text, nullable=False),
    Column("reviewer", String(200), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("visitor_seq", Integer, nullable=True),
    CheckConstraint(f"decision IN ({', '.join(repr(d) for d in DECISIONS)})", name="ck_decisions_value"),
    Index("ix_decisions_pair", "visitor_id", "host_id"),
    Index("ix_decisions_round", "round_id"),
)

#: One state-setting decision per (visitor, sequence number): see ``decisions`` above.
#: Kept outside the table so that it can also be added to a ledger created without it.
visitor_seq_index = Index("uq_decisions_visitor_seq", decisions.c.visitor_id, decisions.c.visitor_seq, unique=True)

write_locks = Table(
    "write_locks",
    metadata,
    Column("name", Text, primary_key=True),
)


#: Steps of an exchange's validation chain (see :mod:`matchmaker.ledger.step_rules`).
STEP_NAMES = ("ctq_drafted", "signed_by_host", "signed_by_visitor", "validated_by_partnership",
              "validated_by_support_office", "validated_by_ec", "fa_signed", "started", "completed", "reported",
              "withdrawn")

exchange_steps = Table(
    "exchange_steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("round_id", Integer, ForeignKey("rounds.id"), nullable=False),
    Column("visitor_id", ID, nullable=False),
    Column("host_id", ID, nullable=False),
    Column("step", String(40), nullable=False),
    Column("partnership", ID, nullable=True),
    Column("actor", String(200), nullable=False),
    Column("done_at", DateTime(timezone=True), nullable=False),
    Column("comment", Text, nullable=False),
    Column("visitor_seq", Integer, nullable=False),
    CheckConstraint(f"step IN ({', '.join(repr(s) for s in STEP_NAMES)})", name="ck_exchange_steps_step"),
    Index("ix_exchange_steps_pair", "visitor_id", "host_id"),
    Index("uq_exchange_steps_visitor_seq", "visitor_id", "visitor_seq", unique=True),
)

ec_draws = Table(
    "ec_draws",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("drawn_at", DateTime(timezone=True), nullable=False),
    Column("drawn_by", String(200), nullable=False),
    Column("seed", Integer, nullable=False),
    Column("share", Float, nullable=False),
    Column("by_partnership", Boolean, nullable=False),
    Column("candidates", JSON, nullable=False),
    Column("drawn", JSON, nullable=False),
)

#: Name of the lock row that an EC draw takes (two draws at once would draw the same exchanges).
EC_DRAW_LOCK = "ec draw"


def visitor_lock(visitor_id: str) -> str:
    """Name of the lock row that a decision on ``visitor_id`` takes."""
    return f"visitor {visitor_id}"


#: Name of the lock row that recording a round takes (its default name "round N" counts the rounds).
ROUND_NAMES_LOCK = "round names"
