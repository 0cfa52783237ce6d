"""Blocking pairs on hand-made rounds with a known answer (docs/decisions.md §37).

Two visitors (V001 of P01, V002 of P02) and two hosts (H001 in Lyon, lump sum EUR 900;
H002 in Porto, EUR 780), every pair allowed; the scores are set by hand on the catalogue:
V001-H001 90, V001-H002 50, V002-H001 80, V002-H002 40. The proposals V001-H002 and
V002-H001 leave one blocking pair: V001 would gain 40 with H001, and H001 10 by
releasing V002.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import host, visitor, write_round

from matchmaker.compare.base import Setting, method_proposals
from matchmaker.inputs.loading import load_round
from matchmaker.pairs.catalogue import build_catalogue
from matchmaker.quality.stability import COLUMNS, blocking_pairs

SCORES = {("V001", "H001"): 90.0, ("V001", "H002"): 50.0, ("V002", "H001"): 80.0, ("V002", "H002"): 40.0}
LYON = dict(country="FR", city="Lyon", latitude=45.76, longitude=4.83)


def _round(tmp_path, budget_p01=5000, h1=None, decisions=None, scores=SCORES):
    rows = [visitor(partnership="P01"), visitor(partnership="P02"), host(**LYON, **(h1 or {})), host()]
    parts = [{"budget_eur": budget_p01, "member_countries": "ES;PT;FR"},
             {"budget_eur": 5000, "member_countries": "ES;PT;FR"}]
    rnd = load_round(write_round(tmp_path, rows, partnerships=parts, decisions=decisions))
    cat = build_catalogue(rnd)
    vid = rnd.visitors["org_id"].to_numpy()[cat.pairs["v"].to_numpy()]
    hid = rnd.hosts["org_id"].to_numpy()[cat.pairs["h"].to_numpy()]
    cat.pairs["score"] = [scores[(a, b)] for a, b in zip(vid, hid)]
    return rnd, cat


def _proposals(rnd, cat, wanted) -> pd.DataFrame:
    """The proposals table of the pairs ``wanted`` ((visitor_id, host_id) ...), each at its earliest start."""
    s = Setting.build(rnd, cat)
    p = s.problem
    vid = rnd.visitors["org_id"].to_numpy()[p.v]
    hid = rnd.hosts["org_id"].to_numpy()[p.h]
    idx = np.array([int(np.flatnonzero((vid == a) & (hid == b))[0]) for a, b in wanted], dtype=np.int64)
    return method_proposals(s, idx, p.es[idx])


def test_classic_two_by_two_swap(tmp_path):
    rnd, cat = _round(tmp_path)
    out = blocking_pairs(rnd, cat, _proposals(rnd, cat, [("V001", "H002"), ("V002", "H001")]))
    assert list(out.columns) == list(COLUMNS)
    assert len(out) == 1
    row = out.iloc[0]
    assert (row.visitor_id, row.host_id, row.current_host_id, row.host_would_release) == ("V001", "H001", "H002",
                                                                                         "V002")
    assert row.visitor_gain == pytest.approx(40.0) and row.host_gain == pytest.approx(10.0)
    assert row.score == pytest.approx(90.0)
    assert row.start_date == "2027-03-01"


def test_stable_proposals_have_no_blocking_pair(tmp_path):
    rnd, cat = _round(tmp_path)
    out = blocking_pairs(rnd, cat, _proposals(rnd, cat, [("V001", "H001"), ("V002", "H002")]))
    assert out.empty and list(out.columns) == list(COLUMNS)


def test_budget_forbids_the_blocking_pair(tmp_path):
    # P01 can pay V001's EUR 780 to Porto but not EUR 900 to Lyon
    rnd, cat = _round(tmp_path, budget_p01=850)
    out = blocking_pairs(rnd, cat, _proposals(rnd, cat, [("V001", "H002"), ("V002", "H001")]))
    assert out.empty


def test_budget_counts_the_released_lump_sum(tmp_path):
    # P01 has EUR 900: enough for Lyon once V001's EUR 780 to Porto is released
    rnd, cat = _round(tmp_path, budget_p01=900)
    out = blocking_pairs(rnd, cat, _proposals(rnd, cat, [("V001", "H002"), ("V002", "H001")]))
    assert out[["visitor_id", "host_id"]].values.tolist() == [["V001", "H001"]]


def test_unmatched_visitor_and_host_with_room(tmp_path):
    # H001 takes two visitors but one at a time; V002 is there in March, V001 is unmatched
    rnd, cat = _round(tmp_path, h1=dict(max_visitors=2))
    out = blocking_pairs(rnd, cat, _proposals(rnd, cat, [("V002", "H001")]))
    pairs = out[["visitor_id", "host_id", "current_host_id", "host_would_release"]].values.tolist()
    assert pairs == [["V001", "H001", "", ""], ["V001", "H002", "", ""]]
    first = out.iloc[0]
    assert first.visitor_gain == pytest.approx(90.0) and first.host_gain == pytest.approx(90.0)
    # V002's stay is 2027-03-01..03-12 (10 working days): V001's starts the next working day
    assert (first.start_date, first.end_date) == ("2027-03-15", "2027-03-26")


def test_host_full_on_those_dates(tmp_path):
    # H001 is open for one 10-day stay only and prefers V002 (95) to V001 (90): no room, no gain from a swap
    scores = SCORES | {("V002", "H001"): 95.0}
    rnd, cat = _round(tmp_path, h1=dict(max_visitors=2, available_to="2027-03-12"), scores=scores)
    out = blocking_pairs(rnd, cat, _proposals(rnd, cat, [("V002", "H001")]))
    assert out[["visitor_id", "host_id"]].values.tolist() == [["V001", "H002"]]


def test_grouped_host_has_room_on_the_same_dates(tmp_path):
    # the same window, but H001 hosts two visitors at once: V001 fits beside V002
    scores = SCORES | {("V002", "H001"): 95.0}
    h1 = dict(max_visitors=2, capacity=2, grouped=True, available_to="2027-03-12")
    rnd, cat = _round(tmp_path, h1=h1, scores=scores)
    out = blocking_pairs(rnd, cat, _proposals(rnd, cat, [("V002", "H001")]))
    first = out.iloc[0]
    assert (first.visitor_id, first.host_id, first.host_would_release) == ("V001", "H001", "")
    assert first.start_date == "2027-03-01"


def test_locked_pair_of_the_host_cannot_be_broken(tmp_path):
    rnd, cat = _round(tmp_path, decisions=[{"visitor_id": "V002", "host_id": "H001"}])
    out = blocking_pairs(rnd, cat, _proposals(rnd, cat, [("V001", "H002"), ("V002", "H001")]))
    assert out.empty


def test_locked_pair_of_the_visitor_cannot_be_broken(tmp_path):
    rnd, cat = _round(tmp_path, decisions=[{"visitor_id": "V001", "host_id": "H002"}])
    out = blocking_pairs(rnd, cat, _proposals(rnd, cat, [("V001", "H002"), ("V002", "H001")]))
    assert out.empty


def test_unknown_visitor_is_refused_in_words(tmp_path):
    rnd, cat = _round(tmp_path)
    table = _proposals(rnd, cat, [("V001", "H001")])
    table.loc[0, "visitor_id"] = "V999"
    with pytest.raises(ValueError, match="visitor_id 'V999' is not a visitor of the round"):
        blocking_pairs(rnd, cat, table)


def test_locked_flag_read_as_text(tmp_path):
    rnd, cat = _round(tmp_path, decisions=[{"visitor_id": "V002", "host_id": "H001"}])
    table = _proposals(rnd, cat, [("V001", "H002"), ("V002", "H001")])
    table["locked"] = table["locked"].map({True: "True", False: "False"})
    assert blocking_pairs(rnd, cat, table).empty
    table["locked"] = "False"
    assert len(blocking_pairs(rnd, cat, table)) == 1
