"""The match quality of a round carried over by ``matchmaker round``: the budgets it was solved against
(committed lump sums counted) and the visitors it skipped, counted as in the officer's part."""

from __future__ import annotations

import json

import pytest
from helpers import host, visitor, write_round

from matchmaker.ledger.carry_over import run_next_round
from matchmaker.ledger.store import Ledger


def test_match_quality_of_a_carried_over_round(tmp_path):
    lyon = dict(country="FR", city="Lyon", latitude=45.764, longitude=4.8357)
    rows = [visitor(), visitor(), host(max_visitors=1), host(**lyon)]
    parts = [{"partnership_id": "CLAMTEX", "sectors": "textile", "member_countries": "ES;PT", "budget_eur": 5000}]
    d = write_round(tmp_path, rows, partnerships=parts, name="spring")
    first = run_next_round(d, tmp_path / "out1", time_limit=20, verbose=False)
    assert first.exit_code == 0
    with Ledger.for_round_dir(d) as led:
        props = led.proposals(first.round_id).set_index("visitor_id")
        lump = props.at["V001", "lump_sum_eur"]
        led.decide(first.round_id, "V001", props.at["V001", "host_id"], "accept", reviewer="ana")
    assert run_next_round(d, tmp_path / "out2", time_limit=20, verbose=False).exit_code == 0
    summary = json.loads((tmp_path / "out2" / "summary.json").read_text(encoding="utf-8"))
    q, officer = summary["match_quality"], summary["round"]
    assert q["visitors"]["total"] == officer["visitors"] == 2 and q["visitors"]["unmatched"] == 1
    assert {"reason": "already has an accepted exchange from an earlier round", "visitors": 1} in q[
        "unmatched_by_reason"]
    budget = q["budget_use"]["partnerships"][0]
    assert budget["partnership"] == "CLAMTEX" and budget["budget_eur"] == 5000.0
    assert budget["committed_eur"] == pytest.approx(lump)
    assert budget["remaining_eur"] == pytest.approx(5000.0 - lump - budget["used_eur"])
    groups = {g["group"]: g for g in q["spread"]["organisation_type"]["groups"]}
    assert groups["not known"]["visitors"] == 1  # the skipped visitor is not among the round's registrations
    spain = next(g for g in q["spread"]["country"]["groups"] if g["group"] == "Spain (ES)")
    assert spain["visitors"] == 2  # its country is known from unmatched.csv
