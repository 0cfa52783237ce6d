"""Real concurrent processes on one ledger, on SQLite and on the real PostgreSQL server (issue 10, part 1).

Each test starts its processes together (a barrier) and then counts:

* successes per visitor: exactly one active ``accept`` or ``lock`` per visitor, across
  rounds, and exactly one successful accept/lock call per visitor;
* rows written: every successful call's row is in the ledger, with what was asked; a
  refused call wrote nothing (decisions in the ledger == successful calls);
* no other outcome: every refusal is a LedgerError saying why, never an IntegrityError
  or any other exception.

The PostgreSQL cases need ``MATCHMAKER_TEST_PG_URL`` (see tests/ledger/test_ledger_postgres.py);
without it they are skipped, and with ``MATCHMAKER_REQUIRE_PG=1`` (CI) they fail.
"""

from __future__ import annotations

import pytest
from ledger_workers import (
    decide_worker,
    fresh_ledger_url,
    host_ids,
    make_round,
    make_solution,
    record_worker,
    run_together,
    visitor_ids,
)
from sqlalchemy import func, select

from matchmaker.ledger import tables as S
from matchmaker.ledger.store import Ledger

N_VISITORS = 8
N_PROCESSES = 12
ONE_EXCHANGE = "a visitor takes part in one exchange"
#: Why a call may be refused: the visitor is held already; or (carry-over) the latest round skipped the
#: visitor because its exchange was accepted, so the pair is not proposed and the visitor not registered there.
REFUSALS = (ONE_EXCHANGE, "it is not a proposal of round", "is not a visitor of round")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """A fresh ledger on each database."""
    return fresh_ledger_url(request.param, tmp_path)


def _record(url: str, times: int = 1) -> list[int]:
    with Ledger(url) as led:
        rnd = make_round(N_VISITORS, N_PROCESSES)
        return [led.record_round(rnd, make_solution(rnd)) for _ in range(times)]


def _calls(process: int, round_of) -> list[tuple]:
    """Process ``process`` tries to hold every visitor, each with its own host (a lock or an accept).

    Processes 2k and 2k+1 start with the same visitor (and the same decision) at the same
    moment and then go through the visitors in the same order; other pairs of processes
    start further on, so that every visitor is wanted by several processes at once.
    """
    visitors, hosts = visitor_ids(N_VISITORS), host_ids(N_PROCESSES)
    start = (process // 2) % N_VISITORS
    order = visitors[start:] + visitors[:start]
    decision = "lock" if (process // 2) % 2 == 0 else "accept"
    return [(round_of(process), v, hosts[(process + visitors.index(v)) % N_PROCESSES], decision, f"reviewer-{process}")
            for v in order]


def _check_one_exchange_per_visitor(url: str, outcomes: dict[str, list]) -> dict[str, int]:
    """The counts of the module docstring; returns the successes per visitor."""
    calls = [c for out in outcomes.values() for c in out]
    errors = [c for c in calls if c[0] == "error"]
    assert not errors, errors[:5]
    ok = [c for c in calls if c[0] == "ok"]
    held = [c for c in ok if c[4] in ("accept", "lock")]
    successes = {v: sum(c[2] == v for c in held) for v in visitor_ids(N_VISITORS)}
    assert successes == dict.fromkeys(visitor_ids(N_VISITORS), 1), successes
    for c in calls:
        if c[0] == "refused":
            assert any(why in c[6] for why in REFUSALS), c
    with Ledger(url) as led:
        current = led.current_decisions()
        history = led.decisions()
    active = current[current["decision"].isin(["accept", "lock"])]
    assert active.groupby("visitor_id").size().to_dict() == dict.fromkeys(visitor_ids(N_VISITORS), 1)
    stored = {(r.id, r.round_id, r.visitor_id, r.host_id, r.decision, r.reviewer) for r in history.itertuples()}
    assert stored == {(c[6], c[1], c[2], c[3], c[4], c[5]) for c in ok}  # no lost decision, no extra row
    return successes


def test_same_round_decisions_keep_one_exchange_per_visitor(url):
    (rid,) = _record(url)
    outcomes = run_together([(decide_worker, (url, _calls(p, lambda _p: rid))) for p in range(N_PROCESSES)])
    successes = _check_one_exchange_per_visitor(url, outcomes)
    assert sum(successes.values()) == N_VISITORS


def test_cross_round_decisions_keep_one_exchange_per_visitor(url):
    """Rounds 1 and 2 recorded from the same data; processes 2k decide in round 1, 2k+1 in round 2 (the
    issue's case: ``decide(r1, V, H_a, "lock")`` and ``decide(r2, V, H_b, "lock")`` at the same moment)."""
    r1, r2 = _record(url, times=2)
    outcomes = run_together([(decide_worker, (url, _calls(p, lambda q: r1 if q % 2 == 0 else r2)))
                             for p in range(N_PROCESSES)])
    _check_one_exchange_per_visitor(url, outcomes)
    with Ledger(url) as led:
        assert set(led.decisions()["round_id"]) <= {r1, r2}


def _check_rounds(url: str, recorded: list[tuple]) -> None:
    """Every recorded round is whole, and the default names "round N" are unique and 1..N."""
    with Ledger(url) as led:
        rounds = led.rounds()
        with led.engine.connect() as conn:
            for _, rid, _, sizes in recorded:
                for table, n in sizes.items():
                    t = S.metadata.tables[table]
                    got = conn.execute(select(func.count()).select_from(t).where(t.c.round_id == rid)).scalar_one()
                    assert got == n, (rid, table, got, n)
    assert len(set(rounds["id"])) == len(rounds)
    assert sorted(rounds["name"]) == sorted(f"round {i}" for i in range(1, len(rounds) + 1))
    assert set(rounds["id"]) >= {r[1] for r in recorded}


def test_concurrent_record_round_numbers_rounds_uniquely(url):
    n = 8
    outcomes = run_together([(record_worker, (url, N_VISITORS, N_PROCESSES, False)) for _ in range(n)])
    recorded = [c for out in outcomes.values() for c in out]
    assert all(c[0] == "ok" for c in recorded), recorded
    assert len({c[1] for c in recorded}) == n
    _check_rounds(url, recorded)


def test_decisions_during_carry_over_keep_one_exchange_per_visitor(url):
    """Three processes record the next round (carry-over) while nine decide in the latest round."""
    (rid,) = _record(url)
    deciders = [(decide_worker, (url, _calls(p, lambda q: rid if q % 2 == 0 else "latest"))) for p in range(9)]
    recorders = [(record_worker, (url, N_VISITORS, N_PROCESSES, True)) for _ in range(3)]
    outcomes = run_together(deciders + recorders)
    recorded = [c for tag, out in outcomes.items() if int(tag) >= len(deciders) for c in out]
    decided = {tag: out for tag, out in outcomes.items() if int(tag) < len(deciders)}
    assert all(c[0] == "ok" for c in recorded), recorded
    _check_one_exchange_per_visitor(url, decided)
    _check_rounds(url, recorded)
