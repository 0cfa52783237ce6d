"""Opening a ledger's database: the first connection, the tables, the locks of write transactions.

:func:`open_schema` connects once (a server that cannot be reached, or a file that is
not a SQLite database, becomes a :class:`LedgerError` saying what to check), creates the
missing tables and brings a ledger written by an older version up to date: the
``write_locks`` table and the ``decisions.visitor_seq`` column with its unique index
(``uq_decisions_visitor_seq``) are added when missing; existing rows are left as they are.

:func:`take_lock` is the database lock a write transaction takes before it checks
anything (``SELECT ... FOR UPDATE`` on a ``write_locks`` row, inserted on first use).
See docs/ledger.md, "Transactions and concurrent reviewers".
"""

from __future__ import annotations

from sqlalchemy import inspect, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from matchmaker.ledger import tables
from matchmaker.ledger.engine import LedgerError, write_transaction


def _driver_message(exc: DBAPIError) -> str:
    """The database's own one-line reason, without SQLAlchemy's wrapping."""
    lines = [line.strip() for line in str(getattr(exc, "orig", exc) or exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def unreachable(engine: Engine, exc: DBAPIError) -> LedgerError:
    """A :class:`LedgerError` for a database that cannot be opened, saying what to check."""
    url = engine.url
    why = _driver_message(exc)
    if url.get_backend_name() == "sqlite":
        path = url.database or ":memory:"
        if "locked" in why:
            return LedgerError(f"the ledger file {path} is busy ({why}): another program has been writing to it "
                               "for longer than the 30 s a writer waits; try again when it has finished")
        if "not a database" in why or "malformed" in why:
            return LedgerError(f"ledger file {path} is not a SQLite database ({why}): give the ledger URL of a "
                               "ledger.sqlite file (a file name that does not exist yet starts an empty ledger)")
        return LedgerError(f"cannot open the ledger file {path} ({why}): check that it is a file (not a folder) "
                           "that you may read and write")
    where = f"{url.host or 'localhost'}:{url.port or 5432}, database {url.database or '(none)'}"
    return LedgerError(f"cannot reach the ledger database at {where} ({why}): check that the PostgreSQL server is "
                       "running and accepts connections there, and that the ledger URL's host, port, user, password "
                       "and database are right")


def open_schema(engine: Engine) -> None:
    """Connect, create the missing tables and add what an older ledger lacks; LedgerError if unusable.

    The schema is changed in one write transaction (SQLite: ``BEGIN IMMEDIATE``), so that
    processes opening a new ledger at the same moment create it one after the other.
    """
    try:
        with engine.connect() as conn:
            if _up_to_date(conn):
                return
    except DBAPIError as exc:
        raise unreachable(engine, exc) from exc
    for last_try in (False, True):  # PostgreSQL: another process may create a table at the same moment
        try:
            with write_transaction(engine) as conn:
                tables.metadata.create_all(conn)
                if "visitor_seq" not in {c["name"] for c in inspect(conn).get_columns(tables.decisions.name)}:
                    conn.execute(text(f"ALTER TABLE {tables.decisions.name} ADD COLUMN visitor_seq INTEGER"))
                tables.visitor_seq_index.create(conn, checkfirst=True)
            return
        except DBAPIError as exc:
            if last_try:
                raise unreachable(engine, exc) from exc


def _up_to_date(conn: Connection) -> bool:
    """Whether every table, ``decisions.visitor_seq`` and its unique index are there."""
    found = inspect(conn)
    if not set(tables.metadata.tables) <= set(found.get_table_names()):
        return False
    columns = {c["name"] for c in found.get_columns(tables.decisions.name)}
    indexes = {i["name"] for i in found.get_indexes(tables.decisions.name)}
    return "visitor_seq" in columns and tables.visitor_seq_index.name in indexes


def take_lock(conn: Connection, name: str) -> None:
    """Lock the ``write_locks`` row ``name`` until the transaction ends (insert it on first use).

    PostgreSQL: ``INSERT ... ON CONFLICT DO NOTHING`` then ``SELECT ... FOR UPDATE``; a
    second transaction taking the same lock waits until the first commits or rolls back,
    then sees everything it wrote. SQLite: the write transaction already holds the whole
    database (``BEGIN IMMEDIATE``); the row is inserted all the same (no ``FOR UPDATE``).
    """
    insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    locks = tables.write_locks
    conn.execute(insert(locks).values(name=name).on_conflict_do_nothing(index_elements=[locks.c.name]))
    conn.execute(select(locks.c.name).where(locks.c.name == name).with_for_update()).one()
