"""The review panel's stable re-solve (issue 11): the churn in words before anything is recorded,
the refusal naming the Support Office, recording only on confirmation. No browser."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from matchmaker.generator.generate import generate_round
from matchmaker.ledger.carry_over import run_next_round
from matchmaker.ledger.resolve import REFUSED_COLUMNS, Resolve
from matchmaker.ledger.store import Ledger
from matchmaker.ui import review_actions
from matchmaker.ui.pairs_grid import grid_frame, pair_label, search_pairs
from matchmaker.ui.review import ReviewPanel
from matchmaker.ui.review_actions import GLOBAL_NEEDED, churn_words, record_proposed

WORK = 0.3  # deterministic work limit: a small generated round, fast


def _round(tmp_path, seed: int = 3):
    d = tmp_path / "round"
    generate_round(d, n_visitors=50, n_hosts=25, seed=seed)
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    res = run_next_round(d, tmp_path / "out_1", ledger_url=led, verbose=False, work_limit=WORK)
    assert res.round_id is not None
    return d, led, res.round_id


def _decide_three(panel: ReviewPanel) -> dict[str, tuple[str, str]]:
    counts = panel.proposals["partnership"].value_counts()
    panel.partnership_box.value = sorted(counts[counts >= 3].index)[0]
    panel.reviewer_box.value = "reviewer@p.eu"
    decided = {}
    pairs = [v for _, v in panel.pair_select.options[:3]]  # chosen first: the list re-sorts by status
    for pair, decision in zip(pairs, ("accept", "reject", "lock")):
        panel.select_pair(*pair)
        assert panel.decide(decision) is not None, panel.status.value
        decided[decision] = pair
    return decided


def test_resolve_shows_churn_before_recording_then_records_on_confirmation(tmp_path):
    d, led, rid = _round(tmp_path)
    with led:
        panel = ReviewPanel(led, rid, round_dir=d, resolve_dir=tmp_path / "resolved", work_limit=WORK)
        decided = _decide_three(panel)
        mine = panel.partnership_box.value
        res = panel.resolve()
        assert res is not None and res.recordable, panel.status.value
        assert "0 of them in other Partnerships" in panel.status.value
        assert "Record this re-solve" in panel.status.value and "{" not in panel.status.value
        assert led.latest_round_id() == rid and panel.round_id == rid  # nothing recorded yet
        assert panel.record_button.layout.display is None
        new_id = panel.record_resolve()
        assert new_id == rid + 1 and panel.round_id == new_id, panel.status.value
        assert f"recorded as round {new_id}" in panel.status.value
        assert panel.record_button.layout.display == "none" and panel.record_resolve() is None
        key = ["visitor_id", "host_id", "start_date", "end_date"]
        before, after = led.proposals(rid), led.proposals(new_id)
        old = before[before["partnership"] != mine][key].sort_values(key, ignore_index=True).astype(str)
        new = after[after["partnership"] != mine][key].sort_values(key, ignore_index=True).astype(str)
        pd.testing.assert_frame_equal(old, new)
        assert panel.partnership_box.value == mine
        # round 2's list still holds the accepted pair, with its status and the round that decided it
        panel.status_filter.value = "accepted"
        assert [v for _, v in panel.pair_select.options] == [decided["accept"]]
        assert "accepted in round 1" in panel.pair_select.options[0][0]
        shown = panel.grid.data
        assert shown["status"].tolist() == ["accepted"] and shown["decided in round"].tolist() == ["round 1"]
        panel.status_filter.value = "all"
        assert set(panel.table()["status"]) >= {"accepted", "locked", "rejected"}
        panel.export_dir = tmp_path / "exports"
        written = panel.export()
        text = written[0].read_text(encoding="utf-8-sig")
        row = next(line for line in text.splitlines() if decided["accept"][0] in line and decided["accept"][1] in line)
        assert "accepted" in row and "decided_in_round" in text.splitlines()[0]


def _resolve(refused: pd.DataFrame, exit_code: int = 0, churn: pd.DataFrame | None = None) -> Resolve:
    churn = churn if churn is not None else pd.DataFrame(
        {"partnership": ["A", "B"], "pairs_before": [2, 3], "pairs_after": [2, 3], "pairs_changed": [1, 0],
         "new_host": [1, 0], "new_dates": [0, 0], "added": [0, 0], "removed": [0, 0]})
    return Resolve("A", 1, Path("x"), exit_code, None, None,
                   pd.DataFrame(columns=["visitor_id", "host_id", "partnership"]), refused, pd.DataFrame(), churn)


def test_churn_words_recordable_says_zero_outside_and_how_to_record():
    text = churn_words(_resolve(pd.DataFrame(columns=REFUSED_COLUMNS)))
    assert "0 of them in other Partnerships" in text
    assert "A: 2 pair(s) before, 2 after; 1 changed (1 with a new host)" in text
    assert "Record this re-solve" in text and GLOBAL_NEEDED not in text


def test_churn_words_refusal_lists_pairs_and_names_the_support_office():
    refused = pd.DataFrame([["B", "V9", "H2", "its host has no place left for it"]], columns=REFUSED_COLUMNS)
    res = _resolve(refused, exit_code=1)
    text = churn_words(res)
    assert "B: visitor V9 with host H2: its host has no place left for it" in text
    assert text.count(GLOBAL_NEEDED) == 1 and "--partnership" not in text
    assert "Record this re-solve" not in text
    done = record_proposed(None, res)  # refused before the ledger is touched
    assert not done.ok and done.value is None and GLOBAL_NEEDED in done.message


def test_churn_outside_the_partnership_is_not_recordable():
    churn = pd.DataFrame({"partnership": ["A", "B"], "pairs_before": [2, 3], "pairs_after": [2, 3],
                          "pairs_changed": [0, 1], "new_host": [0, 0], "new_dates": [0, 1], "added": [0, 0],
                          "removed": [0, 0]})
    text = churn_words(_resolve(pd.DataFrame(columns=REFUSED_COLUMNS), churn=churn))
    assert "1 of them in other Partnerships" in text and text.count(GLOBAL_NEEDED) == 1


def test_panel_resolve_without_folders_says_so(tmp_path, monkeypatch):
    d, led, rid = _round(tmp_path)
    called = []
    monkeypatch.setattr(review_actions, "propose_resolve", lambda *a, **k: called.append(a))
    with led:
        panel = ReviewPanel(led, rid)
        assert panel.resolve() is None and not called and "resolve_dir" in panel.status.value
        assert panel.record_resolve() is None and "re-solve first" in panel.status.value
        assert led.rounds()["id"].tolist() == [rid]


def test_grid_frame_virtual_distance_countries_and_status_in_words():
    table = pd.DataFrame({"visitor_id": ["V1", "V2"], "visitor_country": ["ES", "XX"], "host_id": ["H1", "H2"],
                          "host_country": ["PT", "ES"], "mode": ["virtual", "physical"],
                          "start_date": pd.to_datetime(["2027-01-04", "2027-02-01"]),
                          "end_date": pd.to_datetime(["2027-02-01", "2027-02-12"]), "distance_km": [np.nan, 812.3],
                          "score": [70.0, 80.0], "decision": ["accept", None], "status": ["accepted", "proposed"],
                          "decided_in_round": pd.array([2, pd.NA], dtype="Int64")})
    grid = grid_frame(table, {"ES": "Spain", "PT": "Portugal"})
    assert grid["distance_km"].tolist() == ["virtual", 812.3]
    assert grid["visitor_country"].tolist() == ["Spain (ES)", "XX"]
    assert grid["host_country"].tolist()[0] == "Portugal (PT)"
    assert grid["decided_in_round"].tolist() == ["round 2", ""] and grid["status"].tolist() == ["accepted", "proposed"]
    assert "accepted in round 2" in pair_label(table.to_dict("records")[0])
    assert search_pairs(table, "", "accepted")["visitor_id"].tolist() == ["V1"]
    assert search_pairs(table, "", "open")["visitor_id"].tolist() == ["V2"]
    assert search_pairs(table.drop(columns="status"), "", "accepted")["visitor_id"].tolist() == ["V1"]
