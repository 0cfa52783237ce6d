"""The database engine behind a ledger URL, set up for safe concurrent writers.

SQLite: WAL journal (readers never block the writer), a busy timeout, foreign keys, and
write transactions that take the write lock at ``BEGIN`` (``BEGIN IMMEDIATE``, asked
for with the ``matchmaker_write`` execution option) so that concurrent writers queue
instead of failing. PostgreSQL through psycopg 3. See docs/ledger.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

#: Seconds a SQLite writer waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_S = 30.0


class LedgerError(ValueError):
    """A ledger request that cannot be carried out (unknown round, bad decision, ...)."""


class LedgerURLError(LedgerError):
    """A ledger URL that names no usable database: not a URL, or neither SQLite nor PostgreSQL (bad usage)."""


def _sqlite_engine(url) -> Engine:
    database = url.database or ""
    memory = database in ("", ":memory:")
    if not memory:
        parent = Path(database).expanduser().resolve().parent
        if not parent.is_dir():
            raise LedgerError(f"ledger URL {url}: folder {parent} does not exist")
    kwargs = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}}
    if memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        write = conn.get_execution_options().get("matchmaker_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


#: The databases a ledger can live in: (backend, driver) -> an example URL.
SUPPORTED = {("sqlite", "pysqlite"): "sqlite:///path/to/ledger.sqlite",
             ("postgresql", "psycopg"): "postgresql://user:password@host:5432/database"}
EXAMPLES = " or ".join(SUPPORTED.values())


def _scheme(text: str) -> str:
    return text.split("://", 1)[0] if "://" in text else text.split(":", 1)[0]


def ledger_url(url: str | Path) -> URL:
    """The parsed ledger URL, checked without connecting; :class:`LedgerURLError` if unusable.

    ``postgresql://`` (and ``postgres://``) is read as ``postgresql+psycopg://`` (psycopg 3
    is the driver installed with the package). Only SQLite and PostgreSQL are supported.
    Fit for an argparse ``type=`` (the error is a ``ValueError``).
    """
    text = str(url).strip()
    if text.startswith("postgresql://") or text.startswith("postgres://"):
        text = "postgresql+psycopg://" + text.split("://", 1)[1]
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise LedgerURLError(f"ledger URL {text!r} is not a database URL: give {EXAMPLES}") from exc
    key = (parsed.get_backend_name(), parsed.get_driver_name())
    if key not in SUPPORTED:
        shown = parsed.render_as_string(hide_password=True)
        raise LedgerURLError(f"ledger URL {shown}: the scheme '{_scheme(text)}' is not supported; the ledger is "
                             f"kept in SQLite or PostgreSQL only: give {EXAMPLES}")
    return parsed


def make_engine(url: str | Path) -> Engine:
    """A SQLAlchemy engine for a ledger URL (see :func:`ledger_url`), set up for safe concurrent writes.

    SQLite gets WAL, a busy timeout and foreign keys. Nothing is connected yet:
    :func:`matchmaker.ledger.schema.open_schema` makes the first connection.
    """
    parsed = ledger_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except ImportError as exc:  # psycopg is a dependency of the package: a broken installation
        raise LedgerError(f"ledger URL {parsed.render_as_string(hide_password=True)}: the PostgreSQL driver "
                          f"psycopg cannot be loaded ({exc}); reinstall the package (pip install -e .)") from exc


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction (SQLite: ``BEGIN IMMEDIATE``); commits, or rolls back on an exception."""
    with engine.connect().execution_options(matchmaker_write=True) as conn:
        with conn.begin():
            yield conn
