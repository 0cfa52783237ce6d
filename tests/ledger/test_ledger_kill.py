"""``kill -9`` in the middle of ledger writes, on SQLite and PostgreSQL (issue 10, parts 2 and 4).

A worker process records rounds (3,000 proposals each) or takes a batch of decisions in a
loop, and is killed with SIGKILL at a seeded random moment; RUNS times per test. After
every kill the ledger must hold the old state or the new one:

* every round is whole (its registrations, proposals and unmatched rows all there), and
  the rounds are those the worker saw committed, plus at most the one it was recording;
* the decisions are exactly the first m steps of the planned batch, in order, each row
  whole (pair, decision, comment, reviewer), where m is the number of calls that
  returned, or one more (killed after the commit, before the call returned);
* one active accept or lock per visitor; the ledger opens, records and decides again.

The review panel takes one decision per click (ui/review_actions.record_decision), so a
"batch" is a loop of ``decide`` calls, each its own transaction: there is no batch API to
make atomic as a whole.
"""

from __future__ import annotations

import random

import pytest
from ledger_workers import (
    decide_forever,
    expected_sizes,
    fresh_ledger_url,
    kill_during,
    make_round,
    make_solution,
    planned_decision,
    record_forever,
)
from sqlalchemy import func, select

from matchmaker.ledger import tables as S
from matchmaker.ledger.store import Ledger

RUNS = 10
SEED = 20270301
BIG = (300, 10)  # visitors, hosts of a killed round: 3,000 proposals, 310 registrations
N_VISITORS = 8


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    return fresh_ledger_url(request.param, tmp_path)


def _rows_per_round(led: Ledger) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    with led.engine.connect() as conn:
        for table in (S.registrations, S.proposals, S.unmatched):
            q = select(table.c.round_id, func.count()).group_by(table.c.round_id)
            for rid, n in conn.execute(q):
                counts.setdefault(int(rid), {})[table.name] = int(n)
    return counts


def test_kill_9_during_record_round_leaves_whole_rounds_only(url, tmp_path):
    rng = random.Random(SEED)
    whole = expected_sizes(make_round(*BIG))
    seen: set[int] = set()
    inside = 0
    for run in range(RUNS):
        done, was_inside = kill_during(record_forever, (url, *BIG), rng.uniform(0.05, 0.8), tmp_path / f"r{run}.log")
        inside += was_inside
        with Ledger(url) as led:
            rounds = led.rounds()
            counts = _rows_per_round(led)
        new = set(rounds["id"]) - seen
        assert set(done) <= new, "a round that was committed is gone"
        extra = new - set(done)
        assert len(extra) <= (1 if was_inside else 0), (done, sorted(new))
        assert set(counts) <= set(rounds["id"]), "rows of a round that is not there"
        for rid, n in zip(rounds["id"], rounds["n_proposals"]):
            assert dict.fromkeys(whole, 0) | counts.get(int(rid), {}) == whole, f"round {rid} is not whole"
            assert n == whole["proposals"]
        seen |= new
    assert inside >= RUNS // 2, f"only {inside} of {RUNS} kills landed inside record_round"
    with Ledger(url) as led:  # the ledger still works
        rnd = make_round(4, 3)
        rid = led.record_round(rnd, make_solution(rnd))
        led.decide(rid, "V001", "H001", "lock", reviewer="after the kills")
        assert len(led.rounds()) == len(seen) + 1


def _check_decisions_are_the_plan(led: Ledger, calls_returned: int) -> int:
    history = led.decisions()
    m = len(history)
    assert m in (calls_returned, calls_returned + 1), (m, calls_returned)
    got = [(r.visitor_id, r.host_id, r.decision, r.comment, r.reviewer) for r in history.itertuples()]
    assert got == [(*planned_decision(k, N_VISITORS), "killer") for k in range(m)]
    current = led.current_decisions()
    held = current[current["decision"].isin(["accept", "lock"])]
    assert not held["visitor_id"].duplicated().any()
    return m


def test_kill_9_during_a_batch_of_decisions_keeps_each_decision_whole(url, tmp_path):
    rng = random.Random(SEED + 1)
    with Ledger(url) as led:
        rnd = make_round(N_VISITORS, 2)
        rid = led.record_round(rnd, make_solution(rnd))
    stored, inside = 0, 0
    for run in range(RUNS):
        done, was_inside = kill_during(decide_forever, (url, rid, N_VISITORS, stored), rng.uniform(0.05, 0.6),
                                       tmp_path / f"d{run}.log")
        inside += was_inside
        with Ledger(url) as led:
            history_ids = set(led.decisions()["id"])
            assert set(done) <= history_ids, "a decision that was stored is gone"
            stored = _check_decisions_are_the_plan(led, stored + len(done))
    assert inside >= RUNS // 2, f"only {inside} of {RUNS} kills landed inside decide"
    assert stored > RUNS
    with Ledger(url) as led:  # the ledger still works, from where the batch stopped
        v, h, d, comment = planned_decision(stored, N_VISITORS)
        led.decide(rid, v, h, d, reviewer="killer", comment=comment)
        _check_decisions_are_the_plan(led, stored + 1)
