"""A ledger of accepted exchanges for the tests of the validation chain, the EC draw and money (issue 14)."""

from __future__ import annotations

import pytest
from ledger_workers import PG_URL, REQUIRE_PG, WHY, fresh_ledger_url, host_ids, make_round, make_solution, visitor_ids
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from matchmaker.ledger import tables
from matchmaker.ledger.ec_draw import ec_draw
from matchmaker.ledger.engine import LedgerError, make_engine
from matchmaker.ledger.steps import record_step
from matchmaker.ledger.store import Ledger

#: The chain of a physical exchange with one Partnership in charge, not drawn, up to "reported".
CHAIN = ["ctq_drafted", "signed_by_host", "signed_by_visitor", "validated_by_partnership",
         "validated_by_support_office", "fa_signed", "started", "completed", "reported"]


def accepted_ledger(url: str, n_visitors: int = 20, n_hosts: int = 3) -> tuple[Ledger, int]:
    """A ledger whose round 1 proposes every pair (EUR 830, physical); visitor i accepted with host i % n_hosts.

    The visitors' Partnerships are CLAMTEX, EXTRATEX, BLUES, CELIS in turn (each budget EUR 1,000,000); hosts
    have no Partnership, so the visitor's is the only one in charge.
    """
    ledger = Ledger(url)
    rnd = make_round(n_visitors, n_hosts)
    rid = ledger.record_round(rnd, make_solution(rnd))
    for i, v in enumerate(visitor_ids(n_visitors)):
        ledger.decide(rid, v, host_ids(n_hosts)[i % n_hosts], "accept", reviewer="ana")
    return ledger, rid


def walk_to(ledger: Ledger, visitor_id: str, host_id: str, last: str, drawn: bool = False) -> None:
    """Record the chain of (visitor, host) up to ``last`` included (with validated_by_ec when ``drawn``)."""
    chain = list(CHAIN)
    if drawn:
        chain.insert(chain.index("fa_signed"), "validated_by_ec")
    for step in chain[:chain.index(last) + 1]:
        record_step(ledger, visitor_id, host_id, step, "office")


# -- concurrency -----------------------------------------------------------------------------------

def fresh_steps_ledger_url(kind: str, tmp_path) -> str:
    """An empty ledger like :func:`ledger_workers.fresh_ledger_url`, but on PostgreSQL in a database of its own
    (``<test database>_steps``, created on first use), so that these tests never drop another test's tables."""
    if kind == "sqlite":
        return fresh_ledger_url(kind, tmp_path)
    base = make_url(fresh_ledger_url_checked_pg())
    name = f"{base.database}_steps"
    admin = create_engine(base.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    tables.metadata.drop_all(engine)
    engine.dispose()
    return url


def fresh_ledger_url_checked_pg() -> str:
    """The PostgreSQL test server's URL; skip (or fail in CI) without it, as ledger_workers does."""
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("MATCHMAKER_REQUIRE_PG=1 but " + WHY, pytrace=False)
        pytest.skip(WHY)
    return PG_URL


def step_worker(url: str, calls: list[tuple], barrier, queue, tag: str) -> None:
    """Take ``calls`` = ``[("step", visitor, host, step, who) or ("draw", seed), ...]`` in order; report outcomes."""
    led = Ledger(url)
    barrier.wait(120)
    out = []
    for call in calls:
        try:
            if call[0] == "draw":
                out.append(("ok", *call, ec_draw(led, 0.3, call[1], by=f"drawer-{tag}").draw_id))
            else:
                out.append(("ok", *call, record_step(led, call[1], call[2], call[3], call[4],
                                                     reason=f"withdrawn by {call[4]}")))
        except LedgerError as exc:
            out.append(("refused", *call, str(exc)))
        except Exception as exc:  # reported to the parent: a failure of the test
            out.append(("error", *call, f"{type(exc).__name__}: {exc}"))
    led.close()
    queue.put((tag, out))
