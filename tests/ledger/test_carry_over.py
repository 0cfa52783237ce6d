"""Rounds that carry over: accepted visitors skipped, locks kept, rejects forbidden, budgets reduced."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import host, visitor, write_round
from ledger_helpers import hand_made_round, proposal, solution

from matchmaker.cli import main
from matchmaker.common.errors import RoundDataError
from matchmaker.inputs.loading import load_round
from matchmaker.ledger.carry_over import add_skipped, apply_carry_over, plan_carry_over, run_next_round
from matchmaker.ledger.store import Ledger, LedgerError


@pytest.fixture
def ledger(tmp_path):
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    yield led
    led.close()


@pytest.fixture
def decided(ledger):
    """Round 1 proposed V1-H1, V2-H2, V3-H2; reviewers accepted, rejected and locked."""
    rid = ledger.record_round(hand_made_round(), solution(
        proposal("V1", "H1", lump=780.0), proposal("V2", "H2", lump=900.0), proposal("V3", "H2", lump=415.0)))
    ledger.decide(rid, "V1", "H1", "accept", reviewer="ana@clamtex.eu")
    ledger.decide(rid, "V2", "H2", "reject", reviewer="jan@extratex.eu", comment="sector mismatch")
    ledger.decide(rid, "V3", "H1", "lock", reviewer="office", comment="prior agreement")
    return ledger, rid


def plan_for(ledger, rnd):
    return plan_carry_over(rnd, ledger.current_decisions(), ledger.accepted_exchanges())


def test_carry_over_between_two_rounds(decided):
    ledger, rid = decided
    rnd = hand_made_round()
    plan = plan_for(ledger, rnd)
    nxt = apply_carry_over(rnd, plan)
    # the accepted visitor has had its exchange: skipped, with the reason
    assert "V1" not in set(nxt.visitors["org_id"])
    assert list(nxt.visitors.index) == list(range(len(nxt.visitors)))  # positions stay 0..n-1
    assert plan.skipped["visitor_id"].tolist() == ["V1"]
    assert "accepted physical exchange with host H1 (round" in plan.skipped.loc[0, "reason"]
    # the rejected pair is forbidden, the locked pair kept
    dec = nxt.decisions.set_index(["visitor_id", "host_id"])["decision"].to_dict()
    assert dec == {("V3", "H1"): "lock", ("V2", "H2"): "forbid"}
    assert "ledger: lock in round 1 by office: prior agreement" in nxt.decisions["comment"].tolist()
    assert nxt.decisions["source_row"].isna().all()
    # the committed lump sum reduces the partnership's budget, others untouched
    assert nxt.partnerships.at["CLAMTEX", "budget_eur"] == pytest.approx(3000.0 - 780.0)
    assert nxt.partnerships.at["EXTRATEX", "budget_eur"] == pytest.approx(3000.0)
    assert plan.budgets.loc["CLAMTEX"].to_dict() == {"budget_eur": 3000.0, "committed_eur": 780.0,
                                                     "remaining_eur": 2220.0}
    # the input round is not modified
    assert "V1" in set(rnd.visitors["org_id"]) and rnd.partnerships.at["CLAMTEX", "budget_eur"] == 3000.0
    assert nxt.input_hash != rnd.input_hash


def test_ledger_decisions_are_added_to_the_files_decisions_without_duplicates(decided):
    ledger, _ = decided
    own = pd.DataFrame({"visitor_id": ["V3", "V4"], "host_id": ["H1", "H2"], "decision": ["lock", "forbid"],
                        "comment": ["from file", ""], "source_row": [2, 3]})
    nxt = apply_carry_over(hand_made_round(decisions=own), plan_for(ledger, hand_made_round(decisions=own)))
    rows = nxt.decisions[["visitor_id", "host_id", "decision"]].values.tolist()
    assert rows == [["V3", "H1", "lock"], ["V4", "H2", "forbid"], ["V2", "H2", "forbid"]]
    assert nxt.decisions["source_row"].tolist()[:2] == [2, 3]


def test_a_reopened_accept_no_longer_skips_or_commits(decided):
    ledger, rid = decided
    ledger.decide(rid, "V1", "H1", "reopen", reviewer="ana@clamtex.eu", comment="exchange cancelled")
    plan = plan_for(ledger, hand_made_round())
    assert plan.skipped.empty
    assert plan.budgets["committed_eur"].sum() == 0.0


def test_lock_on_a_withdrawn_host_cannot_be_kept(decided):
    ledger, _ = decided
    rnd = hand_made_round(hosts=[("H2", "Techtera Lyon", "FR"), ("H3", "Valencia Host", "ES")])  # H1 withdrew
    with pytest.raises(RoundDataError) as exc:
        plan_for(ledger, rnd)
    assert "pair (visitor V3, host H1) locked in round 1 cannot be kept: host H1 is not registered" in str(exc.value)
    assert "reject or reopen the pair in the ledger" in str(exc.value)


@pytest.mark.parametrize("file_row, message, expected", [
    (("V2", "H2", "lock"), "the ledger has this pair rejected (a later decision): it is forbidden, not locked",
     {("V3", "H1"): "lock", ("V2", "H2"): "forbid"}),
    (("V3", "H1", "forbid"), "the ledger has this pair locked (a later decision): it is locked, not forbidden",
     {("V3", "H1"): "lock", ("V2", "H2"): "forbid"}),
    (("V1", "H2", "lock"), "visitor V1 already has an accepted exchange with host H1 in the ledger",
     {("V3", "H1"): "lock", ("V2", "H2"): "forbid"}),
    (("V3", "H3", "lock"), "the ledger locks visitor V3 with host H1",
     {("V3", "H1"): "lock", ("V2", "H2"): "forbid"}),
])
def test_ledger_wins_over_files_decisions_and_says_so(decided, file_row, message, expected):
    ledger, _ = decided
    own = pd.DataFrame([file_row], columns=["visitor_id", "host_id", "decision"])
    own["comment"], own["source_row"] = "", 2
    rnd = hand_made_round(decisions=own)
    plan = plan_for(ledger, rnd)
    assert len(plan.problems) == 1
    assert str(plan.problems[0]).startswith(
        f"warning: decisions.csv, row 2, column 'decision': value '{file_row[2]}': {message}")
    assert plan.overridden[["visitor_id", "host_id"]].values.tolist() == [list(file_row[:2])]
    nxt = apply_carry_over(rnd, plan)
    assert nxt.decisions.set_index(["visitor_id", "host_id"])["decision"].to_dict() == expected


def test_a_locked_pair_that_was_accepted_is_fulfilled_quietly(decided):
    """decisions.csv locks V1-H1, a reviewer accepted it: V1 is skipped, no warning, no lock left."""
    ledger, _ = decided
    own = pd.DataFrame({"visitor_id": ["V1"], "host_id": ["H1"], "decision": ["lock"], "comment": [""],
                        "source_row": [2]})
    rnd = hand_made_round(decisions=own)
    plan = plan_for(ledger, rnd)
    assert plan.problems == [] and len(plan.overridden) == 1
    assert "V1" not in set(apply_carry_over(rnd, plan).decisions["visitor_id"])


def test_overcommitted_budget_leaves_nothing_and_warns(decided):
    ledger, _ = decided
    rnd = hand_made_round(budgets={"CLAMTEX": 500.0, "EXTRATEX": 3000.0, "BLUES": 3000.0, "CELIS": 3000.0})
    plan = plan_for(ledger, rnd)
    assert plan.budgets.at["CLAMTEX", "remaining_eur"] == 0.0
    assert any("CLAMTEX has already committed EUR 780.00, more than its budget" in str(p) for p in plan.problems)
    assert all(p.severity == "warning" for p in plan.problems)
    assert apply_carry_over(rnd, plan).warnings[-1] == plan.problems[-1]


def test_committed_sums_of_unlisted_partnerships_are_reported(decided):
    ledger, _ = decided
    rnd = hand_made_round(budgets={"EXTRATEX": 3000.0, "BLUES": 3000.0, "CELIS": 3000.0})
    rnd.visitors = rnd.visitors[rnd.visitors.partnership != "CLAMTEX"].reset_index(drop=True)
    plan = plan_for(ledger, rnd)
    assert any("EUR 780.00 committed" in str(p) and "CLAMTEX" in str(p) for p in plan.problems)


def test_programme_budget_is_reduced_by_the_committed_total(decided):
    ledger, _ = decided
    rnd = hand_made_round()
    rnd.settings = {"solver": {"programme_budget_eur": 5000.0}}
    nxt = apply_carry_over(rnd, plan_for(ledger, rnd))
    assert nxt.settings["solver"]["programme_budget_eur"] == pytest.approx(4220.0)
    assert rnd.settings["solver"]["programme_budget_eur"] == 5000.0


def test_skipped_visitors_are_reported_in_unmatched_csv(decided, tmp_path):
    ledger, _ = decided
    rnd = hand_made_round()
    plan = plan_for(ledger, rnd)
    unmatched = pd.DataFrame({"visitor_id": ["V4"], "visitor_name": ["Ørsted Energy Group"], "partnership": ["CELIS"],
                              "reason": ["no eligible host"]})
    un, summary = add_skipped(unmatched, {"status": "OPTIMAL"}, rnd, plan)
    assert un["visitor_id"].tolist() == ["V4", "V1"]
    assert un.loc[1, "visitor_name"] == "Clúster Textil Valencià" and un.loc[1, "partnership"] == "CLAMTEX"
    assert "a visitor takes part in one exchange" in un.loc[1, "reason"]
    assert summary["status"] == "OPTIMAL"
    assert summary["carry_over"]["skipped_visitors"][0]["visitor_id"] == "V1"
    assert summary["carry_over"]["locks_kept"] == [{"visitor_id": "V3", "host_id": "H1"}]
    assert summary["carry_over"]["rejected_pairs_forbidden"] == 1


def test_recorded_next_round_keeps_the_skipped_visitor_in_the_ledger(decided, tmp_path):
    """The adjusted round and its report go into the ledger; skipped visitors stay visible."""
    ledger, _ = decided
    rnd = hand_made_round()
    plan = plan_for(ledger, rnd)
    nxt = apply_carry_over(rnd, plan)
    out = tmp_path / "out"
    out.mkdir()
    pd.DataFrame([proposal("V3", "H1", locked=True), proposal("V2", "H1")]).to_csv(out / "proposals.csv", index=False)
    unmatched = pd.DataFrame({"visitor_id": ["V4"], "reason": ["no eligible host"]})
    unmatched, summary = add_skipped(unmatched, {}, rnd, plan)
    unmatched.to_csv(out / "unmatched.csv", index=False)
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    rid2 = ledger.record_round(nxt, out, name="round 2")
    assert set(ledger.unmatched(rid2)["visitor_id"]) == {"V1", "V4"}
    props = ledger.proposals(rid2).set_index("visitor_id")
    assert props.at["V3", "locked"] and props.at["V3", "decision"] == "lock"
    assert ledger.round(rid2)["summary"]["carry_over"]["budgets"][0]["partnership_id"] == "CLAMTEX"


def test_round_command_explains_a_lock_that_cannot_be_kept(tmp_path, capsys):
    """`matchmaker round` stops before solving when the ledger's lock names a withdrawn host."""
    first = write_round(tmp_path, [visitor(), host(), host(country="FR", city="Lyon", latitude=45.76,
                                                       longitude=4.84)], name="first")
    rnd = load_round(first)
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with Ledger(url) as led:
        rid = led.record_round(rnd, {"proposals": pd.DataFrame([{
            "visitor_id": "V001", "host_id": "H001", "mode": "physical", "start_date": "2027-03-01",
            "end_date": "2027-03-05", "working_days": 5, "lump_sum_eur": 780.0, "partnership": "CLAMTEX"}])})
        led.decide(rid, "V001", "H002", "lock", reviewer="office", rnd=rnd)
    second = write_round(tmp_path, [visitor(), host()], name="second")  # H002 withdrew
    code = main(["round", str(second), "--out", str(tmp_path / "out"), "--ledger", url, "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "pair (visitor V001, host H002) locked in round 1 cannot be kept: host H002 is not registered" in err
    assert not (tmp_path / "out" / "proposals.csv").exists()


def _two_round_dir(tmp_path):
    lyon = dict(country="FR", city="Lyon", latitude=45.764, longitude=4.8357)
    milan = dict(country="IT", city="Milan", latitude=45.4642, longitude=9.19)
    berlin = dict(country="DE", city="Berlin", latitude=52.52, longitude=13.405)
    rows = [visitor(), visitor(), visitor(), host(), host(**lyon), host(**milan), host(**berlin)]
    parts = [{"partnership_id": "CLAMTEX", "sectors": "textile", "member_countries": "ES;PT", "budget_eur": 5000}]
    return write_round(tmp_path, rows, partnerships=parts, name="spring")


def test_carry_over_between_two_solved_rounds(tmp_path):
    """End to end: solve, decide, solve again with `matchmaker round`: every carry-over rule holds."""
    d = _two_round_dir(tmp_path)
    first = run_next_round(d, tmp_path / "out1", time_limit=20, verbose=False)
    assert first.exit_code == 0 and first.round_id is not None
    with Ledger.for_round_dir(d) as led:
        props = led.proposals(first.round_id).set_index("visitor_id")
        assert set(props.index) == {"V001", "V002", "V003"}
        accepted_host, lump = props.at["V001", "host_id"], props.at["V001", "lump_sum_eur"]
        rejected_host = props.at["V002", "host_id"]
        lock_host = next(h for h in ("H001", "H002", "H003", "H004") if h != props.at["V003", "host_id"])
        led.decide(first.round_id, "V001", accepted_host, "accept", reviewer="ana")
        led.decide(first.round_id, "V002", rejected_host, "reject", reviewer="ana", comment="no")
        led.decide(first.round_id, "V003", lock_host, "lock", reviewer="office", rnd=first.round)

    code = main(["round", str(d), "--out", str(tmp_path / "out2"), "--name", "spring 2", "--time-limit", "20",
                 "--quiet"])
    assert code == 0
    with Ledger.for_round_dir(d) as led:
        second = led.latest_round_id()
        assert led.round(second)["name"] == "spring 2"
        props = led.proposals(second).set_index("visitor_id")
        assert "V001" not in props.index  # accepted visitor skipped ...
        un = pd.read_csv(tmp_path / "out2" / "unmatched.csv").set_index("visitor_id")
        assert un.at["V001", "reason_code"] == "already_accepted"  # ... and reported, not dropped
        assert f"accepted physical exchange with host {accepted_host}" in un.at["V001", "reason"]
        assert set(led.unmatched(second)["visitor_id"]) >= {"V001"}
        assert not ("V002" in props.index and props.at["V002", "host_id"] == rejected_host)  # never again
        assert props.at["V003", "host_id"] == lock_host and props.at["V003", "locked"]  # lock kept
        summary = led.round(second)["summary"]
        budget = next(b for b in summary["round"]["budgets"] if b["partnership"] == "CLAMTEX")
        assert budget["budget_eur"] == pytest.approx(5000 - lump)  # committed sum counted
        assert summary["carry_over"]["budgets"][0]["committed_eur"] == pytest.approx(lump)
        by_reason = {r["reason_code"]: r for r in summary["round"]["unmatched_by_reason"]}
        assert summary["round"]["visitors"] == 3 and by_reason["already_accepted"]["visitors"] == 1
        assert by_reason["already_accepted"]["reason"] == "already has an accepted exchange from an earlier round"


def test_lock_of_an_ineligible_pair_names_the_rules(tmp_path):
    d = write_round(tmp_path, [visitor(), host(), host(country="FR", city="Lyon", latitude=45.76, longitude=4.84,
                                                       available_from="2027-09-01", available_to="2027-09-30")])
    rnd = load_round(d)
    with Ledger.for_round_dir(d) as led:
        rid = led.record_round(rnd, {"proposals": pd.DataFrame(columns=[
            "visitor_id", "host_id", "mode", "start_date", "end_date", "working_days", "lump_sum_eur",
            "partnership"])})
        with pytest.raises(LedgerError, match=r"cannot lock pair \(visitor V001, host H002\): it breaks the "
                                              r"scheme's rules: .*avail"):
            led.decide(rid, "V001", "H002", "lock", reviewer="office", rnd=rnd)
        assert led.decide(rid, "V001", "H001", "lock", reviewer="office", rnd=rnd) > 0
