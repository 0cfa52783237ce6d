"""Decisions are cumulative (issue 11): an accepted or locked exchange stays in every later list, filter and
export with its status and the round it was decided in; budgets count a committed lump sum once."""

from __future__ import annotations

import pandas as pd
import pytest
from ledger_helpers import hand_made_round, proposal, solution

from matchmaker.ledger.carry_over import apply_carry_over, plan_carry_over
from matchmaker.ledger.exchanges import STATUSES, exchange_list
from matchmaker.ledger.store import Ledger
from matchmaker.report.exports import export_partnership_lists


@pytest.fixture
def three_rounds(tmp_path):
    """Round 1: V1-H1 accepted, V2-H2 rejected, V3-H1 locked (unproposed), V4-H2 accepted then reopened.
    Rounds 2 and 3 are carried over: V1 is skipped (not proposed again)."""
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    r1 = led.record_round(hand_made_round(), solution(
        proposal("V1", "H1", lump=780.0), proposal("V2", "H2", lump=900.0), proposal("V4", "H2", lump=415.0)))
    led.decide(r1, "V1", "H1", "accept", reviewer="ana")
    led.decide(r1, "V2", "H2", "reject", reviewer="jan")
    led.decide(r1, "V3", "H1", "lock", reviewer="office", comment="prior agreement")
    led.decide(r1, "V4", "H2", "accept", reviewer="ana")
    led.decide(r1, "V4", "H2", "reopen", reviewer="ana", comment="cancelled")
    budgets = []
    ids = [r1]
    for _ in range(2):
        rnd = hand_made_round()
        plan = plan_carry_over(rnd, led.current_decisions(), led.accepted_exchanges())
        budgets.append(plan.budgets)
        nxt = apply_carry_over(rnd, plan)
        assert "V1" not in set(nxt.visitors["org_id"])
        ids.append(led.record_round(nxt, solution(proposal("V3", "H1", locked=True), proposal("V4", "H1"))))
    yield led, ids, budgets
    led.close()


def test_accepted_pair_stays_in_every_later_list_with_status_and_round(three_rounds):
    led, (r1, r2, r3), _ = three_rounds
    for rid in (r2, r3):
        lst = exchange_list(led, round_id=rid).set_index(["visitor_id", "host_id"])
        assert lst.at[("V1", "H1"), "status"] == "accepted"
        assert lst.at[("V1", "H1"), "decided_in_round"] == r1
        assert lst.at[("V1", "H1"), "proposed_in_round"] == r1
        assert lst.at[("V1", "H1"), "lump_sum_eur"] == 780.0
        assert lst.at[("V3", "H1"), "status"] == "locked" and lst.at[("V3", "H1"), "proposed_in_round"] == rid
        assert lst.at[("V2", "H2"), "status"] == "rejected"
        assert lst.at[("V4", "H2"), "status"] == "withdrawn"  # reopened: still listed, in the words of the UI
        assert lst.at[("V4", "H1"), "status"] == "proposed"
        assert pd.isna(lst.at[("V4", "H1"), "decided_in_round"])
        assert set(lst["status"]) <= set(STATUSES)
    # the round's own proposals alone would have lost it
    assert "V1" not in set(led.proposals(r3)["visitor_id"])


def test_partnership_filter_and_accepted_filter_keep_it(three_rounds):
    led, (r1, _, r3), _ = three_rounds
    mine = exchange_list(led, "CLAMTEX", r3)
    assert set(mine["partnership"]) == {"CLAMTEX"}
    accepted = mine[mine["status"] == "accepted"]
    assert accepted[["visitor_id", "host_id"]].values.tolist() == [["V1", "H1"]]
    assert exchange_list(led).equals(exchange_list(led, round_id=r3))  # default: the latest round


def test_export_of_a_later_round_holds_the_accepted_pair(three_rounds, tmp_path):
    led, (r1, _, r3), _ = three_rounds
    written = export_partnership_lists(r3, tmp_path / "lists", sep=";", ledger=led)
    table = pd.read_csv(written["round"], sep=";", encoding="utf-8-sig")
    row = table[(table["visitor_id"] == "V1") & (table["host_id"] == "H1")]
    assert row[["status", "decided_in_round"]].values.tolist() == [["accepted", r1]]
    part = pd.read_csv(written["CLAMTEX"], sep=";", encoding="utf-8-sig")
    assert "V1" in set(part["visitor_id"])


def test_budgets_count_a_committed_lump_sum_once(three_rounds):
    led, _, budgets = three_rounds
    # round 2 and round 3 each see EUR 780 committed by V1-H1, not 780 then 1,560
    for b in budgets:
        assert b.at["CLAMTEX", "committed_eur"] == pytest.approx(780.0)
        assert b.at["CLAMTEX", "remaining_eur"] == pytest.approx(3000.0 - 780.0)
    # the reopened accept and the lock commit nothing
    assert led.committed_lump_sums().to_dict() == {"CLAMTEX": 780.0}
