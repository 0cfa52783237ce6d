"""Opening a ledger: URLs that name no usable database, ledgers of the previous version, and the
database's own guard of one exchange per visitor (``uq_decisions_visitor_seq``), on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse

import pytest
from ledger_workers import fresh_ledger_url, make_round, make_solution
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

import matchmaker.ledger.decisions as decisions_mod
from matchmaker.ledger import tables as S
from matchmaker.ledger.engine import LedgerURLError, ledger_url
from matchmaker.ledger.store import Ledger, LedgerError


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    return fresh_ledger_url(request.param, tmp_path)


@pytest.fixture
def led(url):
    with Ledger(url) as ledger:
        rnd = make_round(4, 3)
        ledger.record_round(rnd, make_solution(rnd))
        yield ledger


# -- URLs that name no usable database ----------------------------------------------------------

def test_mysql_ledger_url_names_the_scheme_and_the_supported_ones():
    with pytest.raises(LedgerURLError) as exc:
        Ledger("mysql://x")
    message = str(exc.value)
    assert "'mysql'" in message and "SQLite or PostgreSQL" in message and "sqlite:///" in message
    assert "postgresql://" in message


def test_ledger_url_works_as_an_argparse_type():
    parser = argparse.ArgumentParser(prog="matchmaker export", exit_on_error=False)
    parser.add_argument("--ledger", type=ledger_url)
    assert parser.parse_args(["--ledger", "postgresql://u@h/db"]).ledger.drivername == "postgresql+psycopg"
    with pytest.raises(argparse.ArgumentError, match="--ledger"):
        parser.parse_args(["--ledger", "mysql://x"])


def test_unreachable_postgresql_ledger_is_a_ledger_error():
    with pytest.raises(LedgerError, match="cannot reach the ledger database at 127.0.0.1:1, database x .*"
                                          "check that the PostgreSQL server is running"):
        Ledger("postgresql://127.0.0.1:1/x")


def test_sqlite_ledger_url_pointing_at_a_csv_is_a_ledger_error(tmp_path):
    csv_file = tmp_path / "registrations.csv"
    csv_file.write_bytes(b"org_id,role,name\nV001,visitor,Cluster\n" * 50)
    before = csv_file.read_bytes()
    with pytest.raises(LedgerError, match=f"ledger file {csv_file} is not a SQLite database"):
        Ledger(f"sqlite:///{csv_file}")
    assert csv_file.read_bytes() == before  # not touched


def test_sqlite_ledger_url_pointing_at_a_folder_is_a_ledger_error(tmp_path):
    with pytest.raises(LedgerError, match=f"cannot open the ledger file {tmp_path}.*not a folder"):
        Ledger(f"sqlite:///{tmp_path}")


# -- a ledger of the previous version --------------------------------------------------------------

def _make_previous_version(ledger: Ledger) -> None:
    """Take out what this version added: ``write_locks``, ``decisions.visitor_seq`` and its index."""
    with ledger.engine.begin() as conn:
        conn.execute(text("DROP INDEX uq_decisions_visitor_seq"))
        conn.execute(text("ALTER TABLE decisions DROP COLUMN visitor_seq"))
        conn.execute(text("DROP TABLE write_locks"))
    ledger.close()


def test_ledger_of_the_previous_version_opens_and_gains_the_visitor_guard(url):
    with Ledger(url) as old:
        rnd = make_round(4, 3)
        rid = old.record_round(rnd, make_solution(rnd))
        old.decide(rid, "V001", "H001", "lock", reviewer="ana")
        old.decide(rid, "V002", "H002", "accept", reviewer="ana")
        _make_previous_version(old)
    with Ledger(url) as led:
        found = inspect(led.engine)
        assert "write_locks" in found.get_table_names()
        assert "visitor_seq" in {c["name"] for c in found.get_columns("decisions")}
        assert "uq_decisions_visitor_seq" in {i["name"] for i in found.get_indexes("decisions")}
        assert led.current_decisions()[["visitor_id", "decision"]].values.tolist() == [["V001", "lock"],
                                                                                       ["V002", "accept"]]
        with pytest.raises(LedgerError, match="a visitor takes part in one exchange"):  # the old lock holds
            led.decide(rid, "V001", "H002", "accept", reviewer="ben")
        led.decide(rid, "V001", "H001", "reopen", reviewer="ben")
        led.decide(rid, "V001", "H002", "accept", reviewer="ben")
        with led.engine.connect() as conn:
            seqs = conn.execute(select(S.decisions.c.visitor_seq).order_by(S.decisions.c.id)).scalars().all()
            locks = set(conn.execute(select(S.write_locks.c.name)).scalars())
        assert seqs == [None, None, 2, 3]  # old rows keep no number; new ones count the visitor's decisions
        assert locks == {"visitor V001"}  # the round was recorded before: its lock row is not there
    with Ledger(url) as again:  # opening an up-to-date ledger changes nothing
        assert len(again.decisions()) == 4


# -- the database's own guard -----------------------------------------------------------------------

def test_two_holds_on_one_visitor_cannot_both_be_stored(led):
    """Two state-setting decisions with the same (visitor, visitor_seq): the second is refused by the database."""
    led.decide(1, "V001", "H001", "lock", reviewer="ana")
    row = {"round_id": 1, "visitor_id": "V001", "host_id": "H002", "decision": "lock", "comment": "",
           "reviewer": "raced", "decided_at": led.decisions()["decided_at"].iloc[0].to_pydatetime(), "visitor_seq": 1}
    with pytest.raises(IntegrityError):
        with led.engine.begin() as conn:
            conn.execute(insert(S.decisions).values(**row))
    assert len(led.decisions()) == 1


def test_a_decision_that_raced_past_the_checks_is_refused_with_the_rule(led, monkeypatch):
    """The checks miss the other decision once (as if the lock were not there): the unique index refuses
    the insert, the decision is tried again, and the caller gets the rule's LedgerError."""
    led.decide(1, "V001", "H001", "lock", reviewer="ana")
    real_check, real_seq, calls = decisions_mod.check_decision, decisions_mod.next_visitor_seq, []

    def check_misses_once(conn, *args):
        calls.append(args)
        return "CLAMTEX" if len(calls) == 1 else real_check(conn, *args)

    monkeypatch.setattr(decisions_mod, "check_decision", check_misses_once)
    monkeypatch.setattr(decisions_mod, "next_visitor_seq", lambda conn, v: real_seq(conn, v) - 1)
    with pytest.raises(LedgerError, match="visitor V001 already has host H001 locked .*one exchange"):
        led.decide(1, "V001", "H002", "accept", reviewer="ben")
    assert len(calls) == 2
    assert led.current_decisions()[["host_id", "decision"]].values.tolist() == [["H001", "lock"]]


def test_a_decision_that_keeps_clashing_is_a_ledger_error(led, monkeypatch):
    led.decide(1, "V001", "H001", "lock", reviewer="ana")
    monkeypatch.setattr(decisions_mod, "check_decision", lambda *a: "CLAMTEX")
    monkeypatch.setattr(decisions_mod, "next_visitor_seq", lambda conn, v: 1)
    with pytest.raises(LedgerError, match="other decisions on visitor V001 were being stored at the same moment"):
        led.decide(1, "V001", "H002", "lock", reviewer="ben")
    assert len(led.decisions()) == 1
