"""The round ledger: recording rounds, decisions, history, crash safety, concurrent writers.

Every test takes the ``ledger_url`` fixture; tests/ledger/test_ledger_postgres.py runs this same
suite against a real PostgreSQL server by overriding that fixture.
"""

from __future__ import annotations

import multiprocessing as mp
import threading

import pandas as pd
import pytest
from ledger_helpers import hand_made_round, proposal, solution
from sqlalchemy import func, select

import matchmaker.ledger.store as ledger_mod
from matchmaker.common.errors import RoundDataError
from matchmaker.ledger import tables as S
from matchmaker.ledger.store import Ledger, LedgerError


@pytest.fixture
def ledger_url(tmp_path):
    """Where the ledger under test lives (overridden by the PostgreSQL suite)."""
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}"


@pytest.fixture
def ledger(ledger_url):
    led = Ledger(ledger_url)
    yield led
    led.close()


@pytest.fixture
def round_one(ledger):
    sol = solution(proposal("V1", "H1", lump=780.0), proposal("V2", "H2", lump=900.0),
                   proposal("V3", "H2", lump=450.0, score=50.0), unmatched=[("V4", "no eligible host")])
    return ledger.record_round(hand_made_round(), sol, name="spring")


# -- recording rounds ----------------------------------------------------------------

def test_record_round_stores_proposals_scores_and_unmatched(ledger, round_one):
    props = ledger.proposals(round_one)
    assert sorted(zip(props.visitor_id, props.host_id)) == [("V1", "H1"), ("V2", "H2"), ("V3", "H2")]
    v1 = props.set_index("visitor_id").loc["V1"]
    assert v1.visitor_name == "Clúster Textil Valencià"
    assert v1.lump_sum_eur == pytest.approx(780.0)
    assert v1.score_sectors == pytest.approx(42.0) and v1.score_languages == pytest.approx(28.0)
    assert v1.start_date == pd.Timestamp("2027-03-01") and v1.working_days == 5
    assert list(props.columns[:len(ledger_mod.PROPOSAL_COLUMNS)]) == ledger_mod.PROPOSAL_COLUMNS
    assert list(props.columns[-len(ledger_mod.DECISION_COLUMNS):]) == ledger_mod.DECISION_COLUMNS
    assert props["decision"].isna().all()
    info = ledger.round(round_one)
    assert info["name"] == "spring" and info["status"] == "proposed" and info["n_proposals"] == 3
    assert info["summary"] == {"n_proposals": 3, "gap": None}  # NaN is stored as null
    assert info["input_hash"] == "abc123"
    un = ledger.unmatched(round_one)
    assert un.to_dict("records") == [{"visitor_id": "V4", "reason": "no eligible host"}]
    regs = ledger.registrations(round_one)
    assert set(regs[regs.role == "host"].org_id) == {"H1", "H2", "H3"}


def test_record_round_reads_an_output_directory(ledger, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    pd.DataFrame([proposal("V3", "H1"), proposal("V4", "H2")]).to_csv(out / "proposals.csv", index=False)
    pd.DataFrame({"visitor_id": ["V1"], "visitor_name": ["Clúster Textil Valencià"],
                  "reason": ["no host in the window"]}).to_csv(out / "unmatched.csv", index=False)
    (out / "summary.json").write_text('{"objective": 140.0, "status": "OPTIMAL"}', encoding="utf-8")
    rid = ledger.record_round(hand_made_round(), out)
    assert ledger.round(rid)["name"] == "round 1"
    assert ledger.round(rid)["summary"]["status"] == "OPTIMAL"
    props = ledger.proposals(rid)
    assert set(props.visitor_name) == {"Łódź Textile Hub", "Ørsted Energy Group"}
    assert ledger.unmatched(rid).loc[0, "visitor_name"] == "Clúster Textil Valencià"


def test_record_round_rejects_bad_proposals_listing_every_problem(ledger):
    bad = solution(proposal("V1", "H1", mode="boat"), proposal("V4", "H1", visitor_id="V9"),
                   proposal("V2", "H2", start_date="soon"), proposal("V1", "H1"))
    with pytest.raises(RoundDataError) as exc:
        ledger.record_round(hand_made_round(), bad)
    text = str(exc.value)
    lines = text.splitlines()[1:]
    assert len(lines) == 4
    assert "row 2, column 'mode': value 'boat': must be one of physical, virtual" in lines[0]
    assert "row 3, column 'visitor_id': value 'V9': is not a visitor of this round" in lines[1]
    assert "row 4, column 'start_date': value 'soon': must be an ISO date" in lines[2]
    assert "row 5, column 'host_id': value 'H1': this visitor-host pair is proposed twice" in lines[3]
    assert ledger.rounds().empty


def test_record_round_missing_column_is_named(ledger):
    sol = solution(proposal("V1", "H1"))
    sol["proposals"] = sol["proposals"].drop(columns=["lump_sum_eur"])
    with pytest.raises(RoundDataError, match="lump_sum_eur.*required column is missing"):
        ledger.record_round(hand_made_round(), sol)


def test_crash_mid_record_round_leaves_no_trace(ledger, round_one, monkeypatch):
    """A failure after half the proposals were inserted rolls the whole round back."""
    monkeypatch.setattr(ledger_mod, "BATCH_SIZE", 2)
    real = ledger_mod._insert_rows
    calls = {"proposal_batches": 0}

    def crash_after_first_batch(conn, table, rows):
        if table is S.proposals:
            conn.execute(S.proposals.insert(), rows[:2])  # half the proposals reach the database
            calls["proposal_batches"] += 1
            raise RuntimeError("power cut while recording the round")
        real(conn, table, rows)

    monkeypatch.setattr(ledger_mod, "_insert_rows", crash_after_first_batch)
    sol = solution(proposal("V1", "H2"), proposal("V2", "H1"), proposal("V3", "H1"), proposal("V4", "H1"))
    with pytest.raises(RuntimeError, match="power cut"):
        ledger.record_round(hand_made_round(), sol, name="half")
    assert calls["proposal_batches"] == 1
    assert ledger.rounds()["id"].tolist() == [round_one]  # the previous state, whole
    with ledger.engine.connect() as conn:
        for table in (S.proposals, S.registrations, S.unmatched):
            n = conn.execute(select(func.count()).select_from(table).where(table.c.round_id != round_one)).scalar_one()
            assert n == 0, table.name
    assert len(ledger.proposals(round_one)) == 3
    monkeypatch.setattr(ledger_mod, "_insert_rows", real)
    rid = ledger.record_round(hand_made_round(), sol, name="retried")  # and the ledger still works
    assert len(ledger.proposals(rid)) == 4


def _record_then_die(url):
    """In a child process: start recording a round and die (no cleanup) half-way through."""
    import os

    led = Ledger(url)

    def die_half_way(conn, table, rows):
        conn.execute(table.insert(), rows[: max(1, len(rows) // 2)])
        if table is S.proposals:
            os._exit(3)  # the process is gone: no rollback, no close, nothing

    ledger_mod._insert_rows = die_half_way
    led.record_round(hand_made_round(), solution(proposal("V1", "H2"), proposal("V2", "H1"), proposal("V4", "H1")))


def test_killed_process_mid_record_round_leaves_no_trace(ledger_url, ledger, round_one):
    child = mp.get_context("fork").Process(target=_record_then_die, args=(ledger_url,))
    child.start()
    child.join(60)
    assert child.exitcode == 3
    assert ledger.rounds()["id"].tolist() == [round_one]
    with ledger.engine.connect() as conn:
        for table in (S.proposals, S.registrations):
            assert conn.execute(select(func.count()).select_from(table)
                                .where(table.c.round_id != round_one)).scalar_one() == 0
    assert ledger.record_round(hand_made_round(), solution(proposal("V4", "H1"))) > round_one


# -- decisions -------------------------------------------------------------------------

def test_decide_history_is_append_only_and_latest_wins(ledger, round_one):
    first = ledger.decide(round_one, "V1", "H1", "accept", reviewer="ana", comment="great fit")
    second = ledger.decide(round_one, "V1", "H1", "reject", reviewer="ben", comment="dates clash")
    ledger.decide(round_one, "V1", "H1", "comment", reviewer="ana", comment="asked for new dates")
    assert second > first
    hist = ledger.decisions(round_one)
    assert hist["decision"].tolist() == ["accept", "reject", "comment"]
    assert hist["reviewer"].tolist() == ["ana", "ben", "ana"]
    assert str(hist["decided_at"].dt.tz) == "UTC"
    cur = ledger.current_decisions()
    assert cur[["visitor_id", "host_id", "decision", "reviewer"]].values.tolist() == [["V1", "H1", "reject", "ben"]]
    row = ledger.proposals(round_one).set_index("visitor_id").loc["V1"]
    assert row.decision == "reject" and row.reviewer == "ben" and row.decision_round_id == round_one
    assert row.latest_comment == "asked for new dates"


def test_reopen_withdraws_a_decision(ledger, round_one):
    ledger.decide(round_one, "V2", "H2", "accept", reviewer="ana")
    ledger.decide(round_one, "V2", "H2", "reopen", reviewer="ana", comment="budget query")
    assert ledger.current_decisions().empty
    assert len(ledger.decisions()) == 2
    with pytest.raises(LedgerError, match="no accept, reject or lock to withdraw"):
        ledger.decide(round_one, "V2", "H2", "reopen", reviewer="ana")


@pytest.mark.parametrize("args, message", [
    (("V1", "H1", "approve", "ana"), "decision 'approve' must be one of accept, reject, lock, comment, reopen"),
    (("V1", "H1", "accept", "  "), "reviewer must be given"),
    (("V1", "H1", "comment", "ana"), "needs a non-empty comment"),
    (("V1", "H2", "accept", "ana"), r"cannot accept pair \(visitor V1, host H2\): it is not a proposal of round"),
    (("V1", "H2", "reject", "ana"), "neither a proposal of round .* nor a pair decided before"),
    (("V9", "H2", "lock", "ana"), "V9 is not a visitor of round"),
    (("V1", "H9", "lock", "ana"), "H9 is not a host of round"),
    (("V1", "H3", "lock", "ana"), "both in ES; host and visitor must be in different countries"),
])
def test_decide_refuses_bad_requests_clearly(ledger, round_one, args, message):
    with pytest.raises(LedgerError, match=message):
        ledger.decide(round_one, *args)
    assert ledger.decisions().empty


def test_decide_on_unknown_round_names_the_known_ones(ledger, round_one):
    with pytest.raises(LedgerError, match=rf"round 99 is not in the ledger \(known rounds: {round_one}\)"):
        ledger.decide(99, "V1", "H1", "accept", reviewer="ana")


def test_lock_of_an_unproposed_pair_of_the_round_is_allowed(ledger, round_one):
    did = ledger.decide(round_one, "V4", "H1", "lock", reviewer="office", comment="prior agreement")
    cur = ledger.current_decisions().set_index("decision_id").loc[did]
    assert cur.decision == "lock" and cur.partnership == "CELIS"
    # once decided, the pair can be commented on and rejected too
    ledger.decide(round_one, "V4", "H1", "reject", reviewer="office")
    assert ledger.current_decisions().decision.tolist() == ["reject"]


def test_visitor_has_one_exchange(ledger, round_one):
    ledger.decide(round_one, "V1", "H1", "accept", reviewer="ana")
    with pytest.raises(LedgerError, match="visitor V1 already has host H1 accepted"):
        ledger.decide(round_one, "V1", "H2", "lock", reviewer="ben")
    ledger.decide(round_one, "V1", "H1", "reject", reviewer="ana")
    ledger.decide(round_one, "V1", "H2", "lock", reviewer="ben")
    with pytest.raises(LedgerError, match="visitor V1 already has host H2 locked"):
        ledger.decide(round_one, "V1", "H1", "accept", reviewer="ana")


def test_committed_lump_sums_count_current_accepts_only(ledger, round_one):
    assert ledger.committed_lump_sums().empty
    ledger.decide(round_one, "V1", "H1", "accept", reviewer="ana")
    ledger.decide(round_one, "V2", "H2", "accept", reviewer="ana")
    ledger.decide(round_one, "V3", "H2", "accept", reviewer="ana")
    ledger.decide(round_one, "V3", "H2", "reject", reviewer="ana")  # changed mind: not committed
    committed = ledger.committed_lump_sums()
    assert committed.to_dict() == {"CLAMTEX": 780.0, "EXTRATEX": 900.0}
    assert committed.name == "committed_eur"
    acc = ledger.accepted_exchanges()
    assert acc[["visitor_id", "host_id", "mode"]].values.tolist() == [["V1", "H1", "physical"],
                                                                       ["V2", "H2", "physical"]]


def test_proposals_of_one_partnership(ledger, round_one):
    props = ledger.proposals(round_one, partnership="EXTRATEX")
    assert props.visitor_id.tolist() == ["V2"]
    assert ledger.proposals(round_one, partnership="NOPE").empty


def test_rounds_listing_and_latest(ledger, round_one):
    second = ledger.record_round(hand_made_round(), solution(proposal("V4", "H1")))
    assert ledger.rounds()["id"].tolist() == [round_one, second]
    assert ledger.latest_round_id() == second
    assert ledger.rounds()["name"].tolist() == ["spring", "round 2"]


# -- concurrency -------------------------------------------------------------------------

N_WRITERS, N_EACH = 4, 10


def _pairs_for(writer: int):
    pairs = [("V1", "H1"), ("V2", "H2"), ("V3", "H2")]
    return [(pairs[(writer + i) % 3], i) for i in range(N_EACH)]


def _write_decisions(url, round_id, writer, barrier=None):
    led = Ledger(url)
    if barrier is not None:
        barrier.wait()
    ids = []
    for (v, h), i in _pairs_for(writer):
        ids.append(led.decide(round_id, v, h, "comment", reviewer=f"reviewer-{writer}", comment=f"note {i}"))
    led.close()
    return ids


def test_two_reviewers_in_threads_lose_nothing(ledger_url, ledger, round_one):
    barrier = threading.Barrier(N_WRITERS)
    results, errors = {}, []

    def work(w):
        try:
            results[w] = _write_decisions(ledger_url, round_one, w, barrier)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(N_WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    hist = ledger.decisions(round_one)
    assert len(hist) == N_WRITERS * N_EACH
    assert hist.groupby("reviewer").size().to_dict() == {f"reviewer-{w}": N_EACH for w in range(N_WRITERS)}
    assert sorted(hist["id"]) == sorted(i for ids in results.values() for i in ids)


def _process_writer(url, round_id, writer, queue):
    try:
        queue.put((writer, _write_decisions(url, round_id, writer)))
    except Exception as exc:  # pragma: no cover - reported by the parent
        queue.put((writer, repr(exc)))


def test_two_reviewers_in_processes_lose_nothing(ledger_url, ledger, round_one):
    ctx = mp.get_context("fork")  # separate OS processes, each with its own engine
    queue = ctx.Queue()
    procs = [ctx.Process(target=_process_writer, args=(ledger_url, round_one, w, queue)) for w in range(2)]
    for p in procs:
        p.start()
    got = dict(queue.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(60)
    assert all(isinstance(v, list) for v in got.values()), got
    hist = ledger.decisions(round_one)
    assert len(hist) == 2 * N_EACH
    assert set(hist["id"]) == {i for ids in got.values() for i in ids}


def test_concurrent_accept_and_lock_of_one_visitor_keep_one_exchange(ledger_url, ledger, round_one):
    """One reviewer accepts V1-H1 while another locks V1-H2: exactly one of them wins."""
    barrier = threading.Barrier(2)
    outcomes = {}

    def work(host, decision):
        led = Ledger(ledger_url)
        barrier.wait()
        try:
            led.decide(round_one, "V1", host, decision, reviewer=f"{decision}er")
            outcomes[decision] = "ok"
        except LedgerError as exc:
            outcomes[decision] = str(exc)
        finally:
            led.close()

    threads = [threading.Thread(target=work, args=a) for a in (("H1", "accept"), ("H2", "lock"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["accept", "lock"]
    assert list(outcomes.values()).count("ok") == 1, outcomes
    assert "a visitor takes part in one exchange" in [v for v in outcomes.values() if v != "ok"][0]
    cur = ledger.current_decisions()
    assert len(cur) == 1 and cur.loc[0, "visitor_id"] == "V1"


# -- URLs ----------------------------------------------------------------------------------

def test_for_round_dir_puts_the_ledger_beside_the_data(tmp_path):
    led = Ledger.for_round_dir(tmp_path)
    assert (tmp_path / "ledger.sqlite").is_file()
    assert led.url.database == str((tmp_path / "ledger.sqlite").resolve())
    led.close()
    with pytest.raises(LedgerError, match="round directory does not exist"):
        Ledger.for_round_dir(tmp_path / "missing")


@pytest.mark.parametrize("url, message", [
    ("not a url", "is not a database URL"),
    ("sqlite:////nonexistent-folder/x/ledger.sqlite", "folder /nonexistent-folder/x does not exist"),
    ("oracle+nothing://u@h/db", "the scheme 'oracle\\+nothing' is not supported.*SQLite or PostgreSQL"),
    ("mysql://x", "the scheme 'mysql' is not supported; the ledger is kept in SQLite or PostgreSQL only"),
    ("postgresql+psycopg2://u@h/db", "the scheme 'postgresql\\+psycopg2' is not supported"),
])
def test_bad_ledger_urls_are_explained(url, message):
    with pytest.raises(LedgerError, match=message):
        Ledger(url)


def test_sqlite_ledger_runs_in_wal_mode(tmp_path):
    led = Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}")
    with led.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10000
    led.close()
