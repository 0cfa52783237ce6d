"""The ledger test-suite (tests/ledger/test_ledger.py) against a real PostgreSQL server.

Set ``MATCHMAKER_TEST_PG_URL`` to a database the tests may wipe, for example::

    export MATCHMAKER_TEST_PG_URL="$(bash scripts/start_postgres.sh)"

Without it every test here is SKIPPED with a loud reason, unless
``MATCHMAKER_REQUIRE_PG=1`` (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os

import pytest
import test_ledger as suite
from sqlalchemy import inspect

from matchmaker.ledger import tables as S
from matchmaker.ledger.store import Ledger, make_engine

PG_URL = os.environ.get("MATCHMAKER_TEST_PG_URL", "").strip()
REQUIRE_PG = os.environ.get("MATCHMAKER_REQUIRE_PG", "").strip() not in ("", "0", "false", "no")
WHY = ("PostgreSQL ledger tests NOT RUN: MATCHMAKER_TEST_PG_URL is not set. Start a throwaway server with "
       "`export MATCHMAKER_TEST_PG_URL=\"$(bash scripts/start_postgres.sh)\"`")

# Every ledger test that takes the `ledger_url` fixture runs here again, on PostgreSQL
# (SQLite-only tests - WAL mode, file URLs - stay in test_ledger.py).
SQLITE_ONLY = {"test_for_round_dir_puts_the_ledger_beside_the_data", "test_bad_ledger_urls_are_explained",
               "test_sqlite_ledger_runs_in_wal_mode"}
for _name in dir(suite):
    if _name.startswith("test_") and _name not in SQLITE_ONLY:
        globals()[_name] = getattr(suite, _name)
round_one = suite.round_one
ledger = suite.ledger


@pytest.fixture(autouse=True)
def _postgres_available():
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("MATCHMAKER_REQUIRE_PG=1 but " + WHY, pytrace=False)
        pytest.skip(WHY)


@pytest.fixture
def ledger_url():
    """The PostgreSQL database, emptied of ledger tables before each test."""
    engine = make_engine(PG_URL)
    S.metadata.drop_all(engine)
    engine.dispose()
    return PG_URL


def test_postgres_ledger_is_really_postgres(ledger_url):
    led = Ledger(ledger_url)
    assert led.engine.dialect.name == "postgresql"
    assert led.engine.dialect.driver == "psycopg"
    assert set(S.metadata.tables) <= set(inspect(led.engine).get_table_names())
    led.close()


def test_plain_postgresql_url_uses_psycopg(ledger_url):
    plain = ledger_url.replace("postgresql+psycopg://", "postgresql://")
    led = Ledger(plain)
    assert led.engine.dialect.driver == "psycopg"
    led.close()
