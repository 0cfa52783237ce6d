"""Money of the exchanges (issue 14): reserved, committed, paid, released; and the next round's budgets."""

from __future__ import annotations

import pandas as pd
import pytest
from ledger_workers import make_round
from steps_helpers import accepted_ledger, fresh_steps_ledger_url, walk_to

from matchmaker.ledger.carry_over import plan_carry_over
from matchmaker.ledger.money import describe_statement, statement, statement_table
from matchmaker.ledger.steps import exchange_funnel, exchange_pipeline, record_step


@pytest.fixture
def led(tmp_path):
    """8 visitors accepted at EUR 830; CLAMTEX pays V001 and V005."""
    ledger, _ = accepted_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", n_visitors=8, n_hosts=3)
    yield ledger
    ledger.close()


def _money(result: dict) -> dict:
    return {k: result[k] for k in ("reserved_eur", "committed_eur", "paid_eur", "released_eur", "remaining_eur")}


@pytest.mark.parametrize("last, where", [(None, "reserved"), ("validated_by_support_office", "reserved"),
                                         ("fa_signed", "committed"), ("started", "committed"),
                                         ("completed", "committed"), ("reported", "paid")])
def test_the_lump_sum_moves_with_the_chain(led, last, where):
    if last:
        walk_to(led, "V001", "H001", last)
    result = statement(led, "CLAMTEX", budget_eur=5000.0)
    rows = result["exchanges"].set_index("visitor_id")
    assert rows.at["V001", "money"] == where and rows.at["V001", f"{where}_eur"] == 830.0
    assert rows.at["V005", "money"] == "reserved"
    expected = {"reserved_eur": 830.0, "committed_eur": 0.0, "paid_eur": 0.0, "released_eur": 0.0}
    expected[f"{where}_eur"] += 830.0
    assert _money(result) == {**expected, "remaining_eur": 5000.0 - 1660.0}


@pytest.mark.parametrize("after", [None, "fa_signed", "started"])
def test_a_withdrawal_releases_the_lump_sum(led, after):
    if after:
        walk_to(led, "V001", "H001", after)
    record_step(led, "V001", "H001", "withdrawn", "ana", reason="cancelled")
    result = statement(led, "CLAMTEX", budget_eur=5000.0)
    assert _money(result) == {"reserved_eur": 830.0, "committed_eur": 0.0, "paid_eur": 0.0, "released_eur": 830.0,
                              "remaining_eur": 4170.0}
    assert result["exchanges"].set_index("visitor_id").at["V001", "state_words"].endswith(": cancelled")


def test_the_next_round_uses_committed_and_released_amounts(led):
    walk_to(led, "V001", "H001", "fa_signed")                 # committed: counted, visitor skipped
    walk_to(led, "V002", "H002", "reported")                  # paid: counted, visitor skipped
    record_step(led, "V003", "H003", "withdrawn", "ana", reason="host closed")  # before start: released, free again
    walk_to(led, "V004", "H001", "started")
    record_step(led, "V004", "H001", "withdrawn", "ana", reason="cut short")   # after start: released, one visit
    plan = plan_carry_over(make_round(8, 3), led.current_decisions(), led.accepted_exchanges())
    skipped = set(plan.skipped["visitor_id"])
    assert "V003" not in skipped and {"V001", "V002", "V004"} <= skipped
    committed = plan.budgets["committed_eur"].to_dict()
    # CLAMTEX: V001 (committed) + V005 (reserved); EXTRATEX: V002 (paid) + V006; BLUES: V007 only (V003 released);
    # CELIS: V008 only (V004 released although skipped)
    assert committed == {"CLAMTEX": 1660.0, "EXTRATEX": 1660.0, "BLUES": 830.0, "CELIS": 830.0}
    assert plan.budgets.at["BLUES", "remaining_eur"] == 1e6 - 830.0
    assert set(plan.forbids["visitor_id"]) == {"V003"}  # the withdrawn pair is never proposed again


def test_statement_as_a_table_ends_with_the_totals(led):
    walk_to(led, "V001", "H001", "reported")
    table = statement_table(statement(led, "CLAMTEX", budget_eur=2000.0))
    assert list(table["visitor_id"]) == ["V001", "V005", "total"]
    total = table.iloc[-1]
    assert (total["paid_eur"], total["reserved_eur"], total["lump_sum_eur"]) == (830.0, 830.0, 1660.0)
    assert total["state_words"] == "budget EUR 2,000.00, remaining EUR 340.00"
    assert pd.isna(statement(led, "CLAMTEX")["remaining_eur"])


@pytest.fixture(params=["sqlite", "postgresql"])
def led_both(request, tmp_path):
    """The ``led`` ledger on SQLite and on PostgreSQL (skipped without MATCHMAKER_TEST_PG_URL)."""
    ledger, _ = accepted_ledger(fresh_steps_ledger_url(request.param, tmp_path), n_visitors=8, n_hosts=3)
    yield ledger
    ledger.close()


def test_a_withdrawn_then_re_accepted_pair_starts_its_chain_afresh_and_counts_again(led_both):
    led = led_both
    walk_to(led, "V001", "H001", "validated_by_support_office")
    record_step(led, "V001", "H001", "withdrawn", "ana", reason="the visitor fell ill")
    rid = int(led.current_decisions().set_index("visitor_id").at["V001", "round_id"])
    led.decide(rid, "V001", "H001", "reopen", reviewer="ana")
    led.decide(rid, "V001", "H001", "accept", reviewer="ana")      # the visitor is well again
    row = exchange_pipeline(led).set_index("visitor_id").loc["V001"]
    assert (row["state"], row["state_words"], row["next_steps"]) == ("accepted", "accepted, no step yet",
                                                                     ["ctq_drafted", "withdrawn"])
    walk_to(led, "V001", "H001", "fa_signed")                       # the new run goes through the whole chain
    result = statement(led, "CLAMTEX", budget_eur=5000.0)
    assert _money(result) == {"reserved_eur": 830.0, "committed_eur": 830.0, "paid_eur": 0.0, "released_eur": 0.0,
                              "remaining_eur": 3340.0}
    plan = plan_carry_over(make_round(8, 3), led.current_decisions(), led.accepted_exchanges())
    assert plan.budgets.at["CLAMTEX", "committed_eur"] == 1660.0    # the statement and the next round agree
    assert exchange_funnel(led).set_index("step").at["withdrawn", "exchanges"] == 0


def test_the_statement_in_words_says_a_virtual_exchange_has_no_lump_sum():
    rows = pd.DataFrame([{"visitor_id": "V1", "host_id": "H1", "mode": "virtual", "state_words": "started",
                          "lump_sum_eur": 0.0, "money": "committed"},
                         {"visitor_id": "V2", "host_id": "H2", "mode": "physical", "state_words": "reported",
                          "lump_sum_eur": 830.0, "money": "paid"}])
    result = {"partnership": "BLUES", "budget_eur": 5000.0, "reserved_eur": 0.0, "committed_eur": 0.0,
              "paid_eur": 830.0, "released_eur": 0.0, "remaining_eur": 4170.0, "exchanges": rows}
    lines = describe_statement(result).splitlines()
    assert lines[2] == "  visitor V1 with host H1 (virtual): started; no lump sum (a virtual exchange)"
    assert lines[3] == "  visitor V2 with host H2 (physical): reported; lump sum EUR 830.00 paid"
