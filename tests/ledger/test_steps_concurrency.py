"""Concurrent steps on one ledger, on SQLite and on the real PostgreSQL server (issue 14).

Six processes start together (a barrier) and walk the same exchanges through their chain;
two of them withdraw each exchange instead of validating it at the Support Office, and two
draw exchanges for EC validation in the middle. Then:

* every exchange's stored steps form a valid chain (replayed through the rules: no step twice,
  none out of order, the EC before the agreement when drawn, nothing after a withdrawal);
* every successful call's row is in the ledger and nothing else; every refusal is a
  LedgerError saying why, never an IntegrityError or another exception;
* no exchange is a candidate of two draws; a withdrawal before the start stored one reject.

PostgreSQL needs ``MATCHMAKER_TEST_PG_URL`` (skipped without it, failed with ``MATCHMAKER_REQUIRE_PG=1``).
"""

from __future__ import annotations

import pytest
from ledger_workers import host_ids, run_together, visitor_ids
from steps_helpers import CHAIN, accepted_ledger, fresh_steps_ledger_url, step_worker

from matchmaker.ledger.ec_draw import ec_draws
from matchmaker.ledger.step_rules import Done, Exchange, refusal
from matchmaker.ledger.steps import exchange_pipeline
from matchmaker.ledger.store import Ledger

N_VISITORS = 3
N_HOSTS = 3
N_PROCESSES = 6


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    url = fresh_steps_ledger_url(request.param, tmp_path)
    ledger, _ = accepted_ledger(url, N_VISITORS, N_HOSTS)
    ledger.close()
    return url


def _calls(process: int) -> list[tuple]:
    """Every process walks every exchange, starting at a different one; processes 0 and 1 withdraw instead of the
    Support Office's validation, processes 2 and 3 draw for the EC after their first exchange."""
    visitors = visitor_ids(N_VISITORS)
    start = (process // 2) % N_VISITORS
    calls = []
    for i, v in enumerate(visitors[start:] + visitors[:start]):
        h = host_ids(N_HOSTS)[visitors.index(v) % N_HOSTS]
        chain = [s for s in CHAIN]
        chain.insert(chain.index("fa_signed"), "validated_by_ec")
        if process < 2:
            chain[chain.index("validated_by_support_office")] = "withdrawn"
        calls += [("step", v, h, step, f"reviewer-{process}") for step in chain]
        if i == 0 and process in (2, 3):
            calls.append(("draw", 100 + process))
    return calls


def _check_chains(url: str, ok: list[tuple]) -> None:
    with Ledger(url) as led:
        with led.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT id, visitor_id, host_id, step, partnership, actor FROM exchange_steps "
                                        "ORDER BY id").fetchall()
        drawn = {(v, h) for d in ec_draws(led) for v, h in zip(d.drawn["visitor_id"], d.drawn["host_id"])}
        pipe = exchange_pipeline(led)
        decisions = led.decisions()
    stored = {(r[0], r[1], r[2], r[3], r[5]) for r in rows}
    assert stored == {(c[-1], c[2], c[3], c[4], c[5]) for c in ok if c[1] == "step"}  # no lost step, no extra row
    for v, h in zip(pipe["visitor_id"], pipe["host_id"]):
        ex = Exchange(v, h, "accept", "physical", (pipe.set_index("visitor_id").at[v, "partnership"],),
                      drawn=(v, h) in drawn)
        done: list[Done] = []
        for r in rows:
            if (r[1], r[2]) == (v, h):
                assert refusal(ex, done, r[3], r[4]) is None, (v, h, r[3], done)
                done.append(Done(r[3], r[4], r[5]))
        rejects = decisions[(decisions["visitor_id"] == v) & (decisions["decision"] == "reject")]
        assert len(rejects) == int(any(d.step == "withdrawn" for d in done))


def _check_draws(url: str) -> None:
    with Ledger(url) as led:
        draws = ec_draws(led)
    seen = [(v, h) for d in draws for v, h in zip(d.candidates["visitor_id"], d.candidates["host_id"])]
    assert len(seen) == len(set(seen))


@pytest.mark.slow
def test_concurrent_steps_keep_every_chain_valid(url):
    outcomes = run_together([(step_worker, (url, _calls(p))) for p in range(N_PROCESSES)])
    calls = [c for out in outcomes.values() for c in out]
    errors = [c for c in calls if c[0] == "error"]
    assert not errors, errors[:5]
    ok = [c for c in calls if c[0] == "ok"]
    _check_chains(url, ok)
    _check_draws(url)
    steps_ok = [c for c in ok if c[1] == "step"]
    assert len({(c[2], c[3], c[4]) for c in steps_ok}) == len(steps_ok)  # each step of an exchange stored once
    assert {c[2] for c in steps_ok if c[4] == "ctq_drafted"} == set(visitor_ids(N_VISITORS))
