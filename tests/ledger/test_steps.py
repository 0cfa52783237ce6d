"""The validation chain of an exchange (issue 14): every allowed and refused step, withdrawals, the ledger's rows.

The pure rules (:mod:`matchmaker.ledger.step_rules`) are checked exhaustively: after every
prefix of the chain, exactly the expected steps are allowed and every other one is refused
with a sentence. The ledger (:func:`record_step`) is checked on a hand-made round: steps out
of order refused with the rule in words and nothing written, withdrawals at each step.
"""

from __future__ import annotations

import pytest
from ledger_helpers import hand_made_round, proposal, solution

from matchmaker.ledger.engine import LedgerError
from matchmaker.ledger.step_rules import STEPS, Done, Exchange, next_steps, refusal, state_words
from matchmaker.ledger.steps import exchange_funnel, exchange_pipeline, record_step
from matchmaker.ledger.store import Ledger

#: A physical exchange with two Partnerships in charge, drawn for EC validation: its whole chain.
FULL = [("ctq_drafted", None), ("signed_by_host", None), ("signed_by_visitor", None),
        ("validated_by_partnership", "CLAMTEX"), ("validated_by_partnership", "BLUES"),
        ("validated_by_support_office", None), ("validated_by_ec", None), ("fa_signed", None), ("started", None),
        ("completed", None), ("reported", None)]
#: What may follow each prefix of FULL (its length -> the allowed steps).
ALLOWED_AFTER = {0: {"ctq_drafted", "withdrawn"}, 1: {"signed_by_host", "signed_by_visitor", "withdrawn"},
                 2: {"signed_by_visitor", "withdrawn"}, 3: {"validated_by_partnership", "withdrawn"},
                 4: {"validated_by_partnership", "withdrawn"}, 5: {"validated_by_support_office", "withdrawn"},
                 6: {"validated_by_ec", "withdrawn"}, 7: {"fa_signed", "withdrawn"}, 8: {"started", "withdrawn"},
                 9: {"completed", "withdrawn"}, 10: {"reported"}, 11: set()}
DRAWN = Exchange("V1", "H1", "accept", "physical", ("CLAMTEX", "BLUES"), drawn=True)


def _done(prefix: list[tuple[str, str | None]]) -> list[Done]:
    return [Done(step, p, actor="ana", when="2027-01-01 10:00 UTC") for step, p in prefix]


@pytest.mark.parametrize("k", range(len(FULL) + 1))
def test_after_each_step_exactly_the_next_ones_are_allowed(k):
    done = _done(FULL[:k])
    assert set(next_steps(DRAWN, done)) == ALLOWED_AFTER[k]
    for step in STEPS:
        partnership = "BLUES" if k == 4 else "CLAMTEX"
        why = refusal(DRAWN, done, step, partnership)
        if step in ALLOWED_AFTER[k]:
            assert why is None, (k, step, why)
        else:
            assert why and why.startswith("exchange (visitor V1, host H1)") and "cannot" in why or "was" in why, why


@pytest.mark.parametrize("done, step, partnership, words", [
    ([], "signed_by_host", None, "cannot be signed by the host before its Commitment to Quality is drafted"),
    (FULL[:2], "validated_by_partnership", "CLAMTEX",
     "before both the host and the visitor have signed the Commitment to Quality (missing: the visitor)"),
    (FULL[:4], "validated_by_support_office", None,
     "cannot be validated by the Support Office before both Partnerships have validated it (missing: BLUES)"),
    (FULL[:4], "validated_by_partnership", "CLAMTEX", "Partnership CLAMTEX has already validated it (by ana"),
    (FULL[:3], "validated_by_partnership", "CELIS", "Partnership CELIS is not in charge of it"),
    (FULL[:6], "fa_signed", None, "before the European Commission has validated it (it was drawn"),
    (FULL[:7], "started", None, "cannot start before the visitor has signed the Financial Agreement"),
    (FULL[:1], "ctq_drafted", None, "it is already Commitment to Quality drafted (by ana"),
    (FULL[:10], "withdrawn", None, "a completed exchange cannot be withdrawn"),
    (FULL, "completed", None, "was reported (by ana"),
])
def test_refusals_say_why_in_words(done, step, partnership, words):
    assert words in refusal(DRAWN, _done(done), step, partnership)


def test_signatures_come_in_either_order_and_a_partnership_alone_validates_once():
    one = Exchange("V2", "H2", "accept", "physical", ("EXTRATEX",))
    done = _done([("ctq_drafted", None), ("signed_by_visitor", None)])
    assert next_steps(one, done) == ["signed_by_host", "withdrawn"]
    done += _done([("signed_by_host", None), ("validated_by_partnership", "EXTRATEX")])
    assert state_words(one, done) == "validated by its Partnership"
    assert next_steps(one, done) == ["validated_by_support_office", "withdrawn"]


def test_not_drawn_skips_the_ec_and_virtual_skips_the_financial_agreement():
    after_office = [("ctq_drafted", None), ("signed_by_host", None), ("signed_by_visitor", None),
                    ("validated_by_partnership", "EXTRATEX"), ("validated_by_support_office", None)]
    physical = Exchange("V2", "H2", "accept", "physical", ("EXTRATEX",))
    virtual = Exchange("V2", "H2", "accept", "virtual", ("EXTRATEX",))
    assert next_steps(physical, _done(after_office)) == ["fa_signed", "withdrawn"]
    assert "not drawn for validation by the European Commission" in refusal(physical, _done(after_office),
                                                                           "validated_by_ec")
    assert next_steps(virtual, _done(after_office)) == ["started", "withdrawn"]
    assert "a virtual exchange has no lump sum, so no Financial Agreement" in refusal(
        virtual, _done(after_office), "fa_signed")


def test_a_locked_pair_is_accepted_before_its_financial_agreement():
    locked = Exchange("V3", "H1", "lock", "physical", ("BLUES",))
    done = _done([("ctq_drafted", None), ("signed_by_host", None), ("signed_by_visitor", None),
                  ("validated_by_partnership", "BLUES"), ("validated_by_support_office", None)])
    assert "the pair is locked, not accepted: accept it first" in refusal(locked, done, "fa_signed")
    assert next_steps(locked, done) == ["withdrawn"]


# -- in the ledger ----------------------------------------------------------------------------------

@pytest.fixture
def led(tmp_path):
    """V1-H1 accepted (physical, CLAMTEX pays, host's Partnership BLUES), V2-H2 accepted (virtual, EXTRATEX
    both), V3-H1 locked (physical, BLUES both), V4-H3 proposed only."""
    rnd = hand_made_round()
    rnd.hosts["partnership"] = ["BLUES", "EXTRATEX", "CELIS"]
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    rid = ledger.record_round(rnd, solution(proposal("V1", "H1", lump=780.0),
                                            proposal("V2", "H2", mode="virtual", lump=0.0),
                                            proposal("V3", "H1", lump=900.0), proposal("V4", "H3")))
    ledger.decide(rid, "V1", "H1", "accept", reviewer="ana")
    ledger.decide(rid, "V2", "H2", "accept", reviewer="ana")
    ledger.decide(rid, "V3", "H1", "lock", reviewer="jan")
    yield ledger
    ledger.close()


def walk(ledger: Ledger, v: str, h: str, steps: list[tuple[str, str | None]], by: str = "office") -> list[int]:
    return [record_step(ledger, v, h, step, by, partnership=p) for step, p in steps]


def _steps_stored(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM exchange_steps").scalar_one()


UNDRAWN = [s for s in FULL if s[0] != "validated_by_ec"]


@pytest.mark.parametrize("k", range(len(UNDRAWN)))
def test_each_step_in_order_is_recorded_and_each_skipped_one_refused(led, k):
    walk(led, "V1", "H1", UNDRAWN[:k])
    before = _steps_stored(led)
    for step, p in UNDRAWN[k + 1:]:
        if step == UNDRAWN[k][0] or {step, UNDRAWN[k][0]} == {"signed_by_host", "signed_by_visitor"}:
            continue  # the second Partnership's validation, or the other signature: allowed now too
        with pytest.raises(LedgerError, match=r"exchange \(visitor V1, host H1\) cannot"):
            record_step(led, "V1", "H1", step, "office", partnership=p)
    assert _steps_stored(led) == before  # a refused step writes nothing
    new_id = record_step(led, "V1", "H1", UNDRAWN[k][0], "office", partnership=UNDRAWN[k][1])
    row = exchange_pipeline(led).set_index("visitor_id").loc["V1"]
    assert new_id > 0 and row["state"] == UNDRAWN[k][0] and row["last_by"] == "office"


def test_the_office_waits_for_both_partnerships_in_words(led):
    walk(led, "V1", "H1", UNDRAWN[:4])
    with pytest.raises(LedgerError) as err:
        record_step(led, "V1", "H1", "validated_by_support_office", "office")
    assert str(err.value) == ("exchange (visitor V1, host H1) cannot be validated by the Support Office before both "
                              "Partnerships have validated it (missing: BLUES)")
    assert exchange_pipeline(led).set_index("visitor_id").at["V1", "state_words"] == \
        "validated by CLAMTEX (1 of 2 Partnerships)"


def test_the_only_partnership_left_need_not_be_named_but_two_must_be(led):
    walk(led, "V1", "H1", UNDRAWN[:3])
    with pytest.raises(LedgerError, match="2 Partnerships in charge that have not validated it"):
        record_step(led, "V1", "H1", "validated_by_partnership", "ana")
    record_step(led, "V1", "H1", "validated_by_partnership", "ana", partnership="BLUES")
    record_step(led, "V1", "H1", "validated_by_partnership", "ana")  # CLAMTEX, the one left
    assert exchange_pipeline(led).set_index("visitor_id").at["V1", "next_steps"] == \
        ["validated_by_support_office", "withdrawn"]


@pytest.mark.parametrize("k", range(len(UNDRAWN) - 1))
def test_withdraw_at_each_step_ends_the_chain_and_releases_the_pair(led, k):
    walk(led, "V1", "H1", UNDRAWN[:k])
    record_step(led, "V1", "H1", "withdrawn", "ana", reason="the visitor fell ill")
    row = exchange_pipeline(led).set_index("visitor_id").loc["V1"]
    assert row["state"] == "withdrawn" and row["next_steps"] == []
    assert row["state_words"].startswith("withdrawn (after: " if k else "withdrawn (before any step): ")
    assert row["state_words"].endswith("the visitor fell ill")
    with pytest.raises(LedgerError, match=r"was withdrawn \(by ana on .*: the visitor fell ill\): no further step"):
        record_step(led, "V1", "H1", "ctq_drafted", "ana")
    accepted = led.accepted_exchanges().set_index("visitor_id")
    started = any(s == "started" for s, _ in UNDRAWN[:k])
    if started:  # the visit took place in part: one visit per visitor, its lump sum released
        assert accepted.at["V1", "lump_sum_eur"] == 0.0
    else:  # the pair is rejected in the same transaction: the visitor may be matched again
        assert "V1" not in accepted.index
        last = led.decisions().iloc[-1]
        assert (last["decision"], last["reviewer"], last["comment"]) == (
            "reject", "ana", "exchange withdrawn: the visitor fell ill")


def test_a_withdrawal_needs_a_reason_and_a_completed_exchange_cannot_be_withdrawn(led):
    with pytest.raises(LedgerError, match="a withdrawal needs its reason"):
        record_step(led, "V1", "H1", "withdrawn", "ana", reason="  ")
    walk(led, "V1", "H1", UNDRAWN[:9])  # up to completed
    with pytest.raises(LedgerError, match="a completed exchange cannot be withdrawn"):
        record_step(led, "V1", "H1", "withdrawn", "ana", reason="late")


def test_a_pair_under_way_is_not_rejected_or_reopened_but_withdrawn(led):
    record_step(led, "V1", "H1", "ctq_drafted", "ana")
    for decision in ("reject", "reopen"):
        with pytest.raises(LedgerError, match="its exchange is under way .* withdraw the exchange"):
            led.decide(1, "V1", "H1", decision, reviewer="ana")


@pytest.mark.parametrize("end", ["reported", "withdrawn after it started"])
def test_a_reported_or_started_then_withdrawn_exchange_is_not_rejected_or_reopened(led, end):
    if end == "reported":
        walk(led, "V1", "H1", UNDRAWN)
    else:
        walk(led, "V1", "H1", UNDRAWN[:UNDRAWN.index(("started", None)) + 1])
        record_step(led, "V1", "H1", "withdrawn", "ana", reason="cut short")
    for decision in ("reject", "reopen"):
        with pytest.raises(LedgerError, match=f"its exchange took place and was {end}.*the decision stands"):
            led.decide(1, "V1", "H1", decision, reviewer="ana")
    assert "V1" in set(led.accepted_exchanges()["visitor_id"])  # still counted: one visit, the money stays


@pytest.mark.parametrize("v, h, step, words", [
    ("V4", "H3", "ctq_drafted", "pair (visitor V4, host H3) is not an exchange: only a pair accepted or locked"),
    ("V2", "H2", "fa_signed", "a virtual exchange has no lump sum"),
    ("V1", "H1", "dancing", "step 'dancing' is not a step of an exchange"),
])
def test_requests_that_are_not_steps_are_refused(led, v, h, step, words):
    walk(led, "V2", "H2", [("ctq_drafted", None), ("signed_by_host", None), ("signed_by_visitor", None),
                           ("validated_by_partnership", None), ("validated_by_support_office", None)])
    with pytest.raises(LedgerError, match=words.replace("(", r"\(").replace(")", r"\)")):
        record_step(led, v, h, step, "ana")


def test_a_locked_pair_goes_on_once_accepted(led):
    walk(led, "V3", "H1", [("ctq_drafted", None), ("signed_by_host", None), ("signed_by_visitor", None),
                           ("validated_by_partnership", None), ("validated_by_support_office", None)])
    with pytest.raises(LedgerError, match="the pair is locked, not accepted: accept it first"):
        record_step(led, "V3", "H1", "fa_signed", "ana")
    led.decide(1, "V3", "H1", "accept", reviewer="jan")
    record_step(led, "V3", "H1", "fa_signed", "ana")
    assert exchange_pipeline(led).set_index("visitor_id").at["V3", "state_words"] == "Financial Agreement signed"


def test_the_pipeline_has_one_row_per_exchange_with_its_details(led):
    pipe = exchange_pipeline(led).set_index("visitor_id")
    assert sorted(pipe.index) == ["V1", "V2", "V3"]
    assert pipe.at["V1", "partnerships_in_charge"] == "CLAMTEX, BLUES"
    assert pipe.at["V2", "partnerships_in_charge"] == "EXTRATEX"
    assert (pipe.at["V1", "host_name"], pipe.at["V1", "lump_sum_eur"], pipe.at["V2", "mode"]) == (
        "Citeve Porto", 780.0, "virtual")
    assert pipe.at["V3", "state_words"] == "locked, no step yet"
    assert pipe.at["V1", "next_steps"] == ["ctq_drafted", "withdrawn"] and not pipe["drawn_for_ec"].any()


def test_an_older_ledger_gains_the_tables_when_opened(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    with Ledger(url) as ledger:
        with ledger.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE exchange_steps")
            conn.exec_driver_sql("DROP TABLE ec_draws")
    with Ledger(url) as ledger:
        assert exchange_pipeline(ledger).empty
        with ledger.engine.connect() as conn:
            names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"exchange_steps", "ec_draws"} <= names


def test_the_funnel_counts_the_exchanges_that_reached_each_step(led):
    walk(led, "V1", "H1", UNDRAWN[:4])  # CLAMTEX validated, BLUES not yet
    walk(led, "V2", "H2", [("ctq_drafted", None), ("signed_by_host", None), ("signed_by_visitor", None),
                           ("validated_by_partnership", None), ("validated_by_support_office", None)])
    record_step(led, "V2", "H2", "withdrawn", "ana", reason="no longer interested")
    funnel = exchange_funnel(led).set_index("step")["exchanges"].to_dict()
    assert funnel["accepted or locked"] == 3
    assert (funnel["ctq_drafted"], funnel["signed_by_host"], funnel["validated_by_partnership"],
            funnel["validated_by_support_office"], funnel["fa_signed"], funnel["withdrawn"]) == (2, 2, 1, 1, 0, 1)
