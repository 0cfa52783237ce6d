"""A ledger of accepted exchanges for the tests of the validation chain, the EC draw and money (issue 14)."""

from __future__ import annotations

from ledger_workers import host_ids, make_round, make_solution, visitor_ids

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
