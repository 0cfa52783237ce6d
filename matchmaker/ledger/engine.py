"""The database engine behind a ledger URL, set up for safe concurrent writers.

SQLite: WAL journal (readers never block the writer), a busy timeout, foreign keys, and
write transactions that take the write lock at ``BEGIN`` (``BEGIN IMMEDIATE``, asked
for with the ``matchmaker_write`` execution option) so that concurrent writers queue
instead of failing. PostgreSQL through psycopg 3. See docs/ledger.md.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

#: Seconds a SQLite writer waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_S = 30.0


class LedgerError(ValueError):
    """A ledger request that cannot be carried out (unknown round, bad decision, ...)."""


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


def make_engine(url: str | Path) -> Engine:
    """A SQLAlchemy engine for a ledger URL, set up for safe concurrent writes.

    ``postgresql://`` is read as ``postgresql+psycopg://`` (psycopg 3 is the driver
    installed with the package); SQLite gets WAL, a busy timeout and foreign keys.
    """
    text = str(url)
    if text.startswith("postgresql://") or text.startswith("postgres://"):
        text = "postgresql+psycopg://" + text.split("://", 1)[1]
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise LedgerError(f"ledger URL {text!r} is not a database URL (expected "
                          "sqlite:///path/to/ledger.sqlite or "
                          "postgresql+psycopg://user:password@host:port/database)") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed)
        return create_engine(parsed, pool_pre_ping=True)
    except NoSuchModuleError as exc:
        raise LedgerError(f"ledger URL {parsed.render_as_string()}: no SQLAlchemy driver for "
                          f"'{parsed.drivername}' (use sqlite:/// or postgresql+psycopg://)") from exc
