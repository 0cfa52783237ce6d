"""Rounds and worker processes for the ledger's concurrency and kill tests.

The workers run in separate OS processes (multiprocessing's ``forkserver`` start method:
each child is a fresh process forked from a server that imported this module once, so
no database connection is inherited). Each opens its own :class:`Ledger`, waits at a
barrier so that all start together, and reports every call's outcome to the parent:
``("ok", ...)`` with the stored id, ``("refused", ...)`` with the LedgerError's message,
or ``("error", ...)`` with anything else (a test failure: never a traceback).

The kill workers write one line per step to a log file (``begin k`` before a call,
``done k ID`` after it returned) and run until the parent kills them with SIGKILL.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_module
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

from matchmaker.inputs.instance import Round
from matchmaker.ledger import tables
from matchmaker.ledger.carry_over import apply_carry_over, plan_carry_over
from matchmaker.ledger.store import Ledger, LedgerError, make_engine

PG_URL = os.environ.get("MATCHMAKER_TEST_PG_URL", "").strip()
REQUIRE_PG = os.environ.get("MATCHMAKER_REQUIRE_PG", "").strip() not in ("", "0", "false", "no")
WHY = ("PostgreSQL ledger tests NOT RUN: MATCHMAKER_TEST_PG_URL is not set. Start a throwaway server with "
       "`export MATCHMAKER_TEST_PG_URL=\"$(bash scripts/start_postgres.sh)\"`")

VISITOR_COUNTRIES = ["ES", "CZ", "PL", "DK"]
HOST_COUNTRIES = ["PT", "FR", "IT", "BE", "NL", "AT"]
PARTNERSHIPS = ["CLAMTEX", "EXTRATEX", "BLUES", "CELIS"]


def fresh_ledger_url(kind: str, tmp_path: Path) -> str:
    """An empty ledger: a new SQLite file, or the PostgreSQL test database with the ledger's tables dropped.

    Without ``MATCHMAKER_TEST_PG_URL`` a PostgreSQL test is skipped, or fails when
    ``MATCHMAKER_REQUIRE_PG=1`` (the convention of tests/ledger/test_ledger_postgres.py).
    """
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("MATCHMAKER_REQUIRE_PG=1 but " + WHY, pytrace=False)
        pytest.skip(WHY)
    engine = make_engine(PG_URL)
    tables.metadata.drop_all(engine)
    engine.dispose()
    return PG_URL


def visitor_ids(n: int) -> list[str]:
    return [f"V{i:03d}" for i in range(1, n + 1)]


def host_ids(n: int) -> list[str]:
    return [f"H{i:03d}" for i in range(1, n + 1)]


def make_round(n_visitors: int, n_hosts: int) -> Round:
    """A Round of ``n_visitors`` visitors (ES, CZ, PL, DK) and ``n_hosts`` hosts (PT, FR, IT, ...)."""
    v = pd.DataFrame({"org_id": visitor_ids(n_visitors), "name": [f"Visitor {i}" for i in range(n_visitors)],
                      "country": [VISITOR_COUNTRIES[i % 4] for i in range(n_visitors)],
                      "partnership": [PARTNERSHIPS[i % 4] for i in range(n_visitors)]})
    v["already_visited"] = False
    v["source_row"] = range(2, 2 + n_visitors)
    h = pd.DataFrame({"org_id": host_ids(n_hosts), "name": [f"Host {i}" for i in range(n_hosts)],
                      "country": [HOST_COUNTRIES[i % len(HOST_COUNTRIES)] for i in range(n_hosts)]})
    h["source_row"] = range(2 + n_visitors, 2 + n_visitors + n_hosts)
    p = pd.DataFrame({"partnership_id": PARTNERSHIPS, "name": PARTNERSHIPS,
                      "budget_eur": [1e6] * 4}).set_index("partnership_id")
    decisions = pd.DataFrame({"visitor_id": pd.Series(dtype=str), "host_id": pd.Series(dtype=str),
                              "decision": pd.Series(dtype=str), "comment": pd.Series(dtype=str),
                              "source_row": pd.Series(dtype="int64")})
    return Round(visitors=v, hosts=h, partnerships=p, countries=pd.DataFrame(), decisions=decisions,
                 settings={"solver": {"programme_budget_eur": 0.0}}, input_hash="concurrency")


def make_solution(rnd: Round) -> dict:
    """Every visitor of ``rnd`` proposed with every host (physical, 5 days, EUR 830)."""
    rows = []
    for v in rnd.visitors.itertuples():
        for h in rnd.hosts.itertuples():
            rows.append({"visitor_id": v.org_id, "visitor_name": v.name, "visitor_country": v.country,
                         "host_id": h.org_id, "host_name": h.name, "host_country": h.country, "mode": "physical",
                         "start_date": "2027-03-01", "end_date": "2027-03-05", "working_days": 5,
                         "distance_km": 1234.5, "lump_sum_eur": 830.0, "partnership": v.partnership,
                         "score": 70.0, "score_sectors": 42.0, "score_languages": 28.0, "locked": False})
    return {"proposals": pd.DataFrame(rows), "unmatched": pd.DataFrame(columns=["visitor_id", "reason"]),
            "summary": {"n_proposals": len(rows)}}


def expected_sizes(rnd: Round) -> dict[str, int]:
    """Rows a recorded ``rnd`` has in each table."""
    return {"registrations": len(rnd.visitors) + len(rnd.hosts), "proposals": len(rnd.visitors) * len(rnd.hosts),
            "unmatched": 0}


# -- concurrency ---------------------------------------------------------------------------

def decide_worker(url: str, calls: list[tuple], barrier, queue, tag: str) -> None:
    """Take ``calls`` = ``[(round_id or "latest", visitor, host, decision, reviewer), ...]`` in order."""
    led = Ledger(url)  # an exception here ends the process with exit code 1: run_together says so
    barrier.wait(120)
    out = []
    for rid, v, h, d, who in calls:
        try:
            rid = led.latest_round_id() if rid == "latest" else rid
            out.append(("ok", rid, v, h, d, who, led.decide(rid, v, h, d, reviewer=who)))
        except LedgerError as exc:
            out.append(("refused", rid, v, h, d, who, str(exc)))
        except Exception as exc:  # reported to the parent: a failure of the test
            out.append(("error", rid, v, h, d, who, f"{type(exc).__name__}: {exc}"))
    led.close()
    queue.put((tag, out))


def record_worker(url: str, n_visitors: int, n_hosts: int, carry_over: bool, barrier, queue, tag: str) -> None:
    """Record one round (with ``carry_over``: the next round, around the ledger's decisions)."""
    led = Ledger(url)
    rnd = make_round(n_visitors, n_hosts)
    barrier.wait(120)
    try:
        if carry_over:  # what carry_over.run_next_round does, without the solve
            rnd = apply_carry_over(rnd, plan_carry_over(rnd, led.current_decisions(), led.accepted_exchanges()))
        rid = led.record_round(rnd, make_solution(rnd))
        out = [("ok", rid, sorted(rnd.visitors["org_id"]), expected_sizes(rnd))]
    except Exception as exc:  # reported to the parent: a failure of the test
        out = [("error", None, f"{type(exc).__name__}: {exc}", None)]
    led.close()
    queue.put((tag, out))


#: What the fork server imports once, so that each child starts in milliseconds (Python 3.11's server
#: does not see the tests' sys.path: this module is imported by each child, the heavy ones are not).
PRELOAD = ["matchmaker.ledger.carry_over", "pytest"]


def run_together(jobs: list[tuple], timeout: float = 120.0) -> dict[str, list]:
    """Start ``jobs`` = ``[(target, args_without_barrier_queue_tag), ...]`` in separate processes at once.

    Returns each job's outcomes by tag (``"0"``, ``"1"``, ...).
    """
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    barrier, queue = ctx.Barrier(len(jobs)), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, barrier, queue, str(i))) for i, (target, args) in enumerate(jobs)]
    for p in procs:
        p.start()
    got: dict[str, list] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(got) < len(procs):
            try:
                tag, out = queue.get(timeout=1.0)
                got[tag] = out
            except queue_module.Empty:
                dead = [(i, p.exitcode) for i, p in enumerate(procs) if p.exitcode not in (None, 0)]
                assert not dead and time.monotonic() < deadline, f"worker processes died or hung: {dead}"
    finally:
        for p in procs:
            p.join(timeout)
            if p.is_alive():
                p.kill()
    return got


# -- kill -9 -----------------------------------------------------------------------------------

def _log(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def record_forever(url: str, n_visitors: int, n_hosts: int, log: str, ready) -> None:
    """Record the same round again and again until killed."""
    led = Ledger(url)
    rnd = make_round(n_visitors, n_hosts)
    sol = make_solution(rnd)
    ready.set()
    k = 0
    while True:
        _log(log, f"begin {k}")
        _log(log, f"done {k} {led.record_round(rnd, sol, name=f'kill {k}')}")
        k += 1


#: The batch of decisions a kill worker takes, over and over: step k is on visitor k % n_visitors.
CYCLE = [("lock", 0), ("comment", 0), ("reopen", 0), ("accept", 1), ("reject", 1)]


def planned_decision(k: int, n_visitors: int) -> tuple[str, str, str, str]:
    """``(visitor, host, decision, comment)`` of step ``k`` of the kill workers' batch (always valid)."""
    visitor = visitor_ids(n_visitors)[k % n_visitors]
    decision, host = CYCLE[(k // n_visitors) % len(CYCLE)]
    return visitor, host_ids(2)[host], decision, f"step {k}"


def decide_forever(url: str, round_id: int, n_visitors: int, start: int, log: str, ready) -> None:
    """Take the planned decisions one after the other, from step ``start``, until killed."""
    led = Ledger(url)
    ready.set()
    k = start
    while True:
        v, h, d, comment = planned_decision(k, n_visitors)
        _log(log, f"begin {k}")
        _log(log, f"done {k} {led.decide(round_id, v, h, d, reviewer='killer', comment=comment)}")
        k += 1


def kill_during(target, args: tuple, delay: float, log: Path) -> tuple[list[int], bool]:
    """Run ``target(*args, log, ready)`` in a fresh process, SIGKILL it ``delay`` seconds after it is
    ready, and return :func:`read_log` of its log."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    ready = ctx.Event()
    proc = ctx.Process(target=target, args=(*args, str(log), ready))
    proc.start()
    try:
        assert ready.wait(60), f"the worker did not start (exit code {proc.exitcode})"
        time.sleep(delay)
        assert proc.exitcode is None, f"the worker ended before it was killed (exit code {proc.exitcode})"
        os.kill(proc.pid, signal.SIGKILL)  # kill -9: no rollback, no close, no atexit
    finally:
        proc.join(30)
        if proc.is_alive():
            proc.kill()
    assert proc.exitcode == -signal.SIGKILL, proc.exitcode
    return read_log(log)


def read_log(path: Path) -> tuple[list[int], bool]:
    """Ids of the calls that returned, and whether the process died inside a call."""
    lines = path.read_text().splitlines() if path.exists() else []
    done = [int(line.split()[2]) for line in lines if line.startswith("done ")]
    inside = bool(lines) and lines[-1].startswith("begin ")
    return done, inside
