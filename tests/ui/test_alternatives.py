"""Alternatives worth a look (issue 13): the blocking pairs of a Partnership's visitors in words,
from the ledger's round as the review panel reads it. No browser.

Known answer: visitors V001 and V002 of P01, V003 of P02; hosts H001 (Porto) and H002
(Milan); scores set on the catalogue: V001-H001 100, V001-H002 60, V002-H001 90,
V002-H002 5, V003-H001 20, V003-H002 10. The list V001-H002, V002-H001 leaves one
blocking pair, V001 with H001 (V001 gains 40, H001 10 by releasing V002).
"""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import host, visitor, write_round

from matchmaker.generator.generate import generate_round
from matchmaker.inputs.loading import load_round
from matchmaker.ledger.carry_over import run_next_round
from matchmaker.ledger.store import Ledger
from matchmaker.pairs.catalogue import build_catalogue
from matchmaker.quality.stability import blocking_pairs
from matchmaker.ui.alternatives import AlternativesPanel, alternative_text, alternatives, standing_pairs
from matchmaker.ui.review import ReviewPanel

IT = dict(country="IT", city="Milan", latitude=45.4642, longitude=9.19)
SCORES = {("V001", "H001"): 100.0, ("V001", "H002"): 60.0, ("V002", "H001"): 90.0, ("V002", "H002"): 5.0,
          ("V003", "H001"): 20.0, ("V003", "H002"): 10.0}


def _known(tmp_path):
    rows = [visitor(partnership="P01", name="Tex One"), visitor(partnership="P01", name="Tex Two"),
            visitor(partnership="P02"), host(partnership="P01", name="Fibre Porto"),
            host(partnership="P01", name="Loom Milan", **IT)]
    parts = [{"budget_eur": 50000, "member_countries": "ES;PT;IT"}] * 2
    rnd = load_round(write_round(tmp_path, rows, partnerships=parts))
    cat = build_catalogue(rnd)
    vid = rnd.visitors["org_id"].to_numpy()[cat.pairs["v"].to_numpy()]
    hid = rnd.hosts["org_id"].to_numpy()[cat.pairs["h"].to_numpy()]
    cat.pairs["score"] = [SCORES[(a, b)] for a, b in zip(vid, hid)]
    return rnd, cat


def _list(rows):
    """A ledger-like list of the round: (visitor, host, status, partnership, score, lump sum)."""
    return pd.DataFrame([dict(visitor_id=v, host_id=h, status=s, partnership=p, score=sc, lump_sum_eur=lump,
                              mode="physical", start_date="2027-03-01", end_date="2027-03-05", working_days=5,
                              locked=False) for v, h, s, p, sc, lump in rows])


def test_the_known_blocking_pair_in_words(tmp_path):
    rnd, cat = _known(tmp_path)
    lump = float(cat.pairs["lump_sum_eur"].max())
    ex = _list([("V001", "H002", "proposed", "P01", 60.0, lump), ("V002", "H001", "proposed", "P01", 90.0, lump)])
    table = alternatives(rnd, cat, ex, "P01")
    assert list(zip(table["visitor_id"], table["host_id"], table["host_would_release"])) == [("V001", "H001", "V002")]
    row = table.iloc[0].to_dict()
    assert row["visitor_gain"] == pytest.approx(40) and row["host_gain"] == pytest.approx(10)
    names = {"H002": "Loom Milan", "V002": "Tex Two"}
    text = alternative_text(row, names)
    assert text.startswith("Tex One (V001) with Fibre Porto (H001): score 100.00, 40.00 points more for the visitor "
                           "than with Loom Milan (H002) now; 10.00 points more for the host, which would release "
                           "Tex Two (V002); ")
    assert "working days in a row on site" in text
    # P02's visitor V003 has no alternative: both hosts prefer their visitors
    assert alternatives(rnd, cat, ex, "P02").empty


def test_a_gain_of_a_hundredth_of_a_point_is_not_shown_as_zero():
    """Notebook 02 rounded gains to a tenth: a blocking pair's gain of 0.01 read '0.0 points more', and the
    sample's 30.06 read 30.1 where the round report and summary.json say 30.06 (review R13)."""
    row = dict(visitor_id="V1", visitor_name="Tex", host_id="H1", host_name="Fibre", current_host_id="H2",
               host_would_release="", visitor_gain=0.01, host_gain=30.06, score=56.19, mode="physical",
               start_date="2027-08-03", end_date="2027-08-17", working_days=11)
    text = alternative_text(row, {"H2": "Loom"})
    assert "score 56.19, 0.01 points more for the visitor than with Loom (H2) now; 30.06 points more for the host" \
        in text
    assert "0.0 points" not in text


def test_accepted_and_locked_pairs_are_kept_and_rejected_ones_free_their_places(tmp_path):
    rnd, cat = _known(tmp_path)
    lump = float(cat.pairs["lump_sum_eur"].max())
    accepted = _list([("V001", "H002", "accepted", "P01", 60.0, lump), ("V002", "H001", "proposed", "P01", 90.0, lump)])
    assert standing_pairs(accepted)["locked"].tolist() == [True, False]
    assert alternatives(rnd, cat, accepted, "P01").empty  # V001 keeps its accepted pair
    rejected = _list([("V001", "H002", "proposed", "P01", 60.0, lump), ("V002", "H001", "rejected", "P01", 90.0, lump)])
    table = alternatives(rnd, cat, rejected, "P01")
    # H001 is free once V002's pair is rejected: V001 and V002 both have it as an alternative, with room
    assert set(zip(table["visitor_id"], table["host_id"])) == {("V001", "H001"), ("V002", "H001")}
    assert (table["host_would_release"] == "").all()
    assert "which has room on those dates" in alternative_text(table.iloc[0].to_dict(), {})


def test_the_panel_follows_the_review_panels_partnership(tmp_path):
    d = tmp_path / "round"
    generate_round(d, n_visitors=50, n_hosts=25, seed=3)
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    res = run_next_round(d, tmp_path / "out_1", ledger_url=led, verbose=False, work_limit=0.3)
    review = ReviewPanel(led, res.round_id, round_dir=d)
    panel = AlternativesPanel(review)
    assert "mm-alternatives" in panel.widget._dom_classes
    rnd = load_round(d)
    every = blocking_pairs(rnd, build_catalogue(rnd), standing_pairs(review.proposals))
    part_of = dict(zip(rnd.visitors["org_id"], rnd.visitors["partnership"]))
    with_alt = sorted({part_of[v] for v in every["visitor_id"]})
    without = sorted({v for _, v in review.partnership_box.options} - set(with_alt))
    assert with_alt and without  # seed 3 has both kinds
    for part in (with_alt[0], without[0]):  # switching the review panel's Partnership takes a second each
        review.partnership_box.value = part
        mine = set(rnd.visitors.loc[rnd.visitors["partnership"] == part, "org_id"])
        expected = every[every["visitor_id"].isin(mine)]
        assert panel.table[["visitor_id", "host_id"]].values.tolist() == \
            expected[["visitor_id", "host_id"]].values.tolist()
        assert f"Alternatives worth a look</b> for {part}" in panel.widget.value
    review.partnership_box.value = with_alt[0]
    first = panel.table.iloc[0]
    assert len(panel.table) >= 1 and f"({first['visitor_id']}) with " in panel.widget.value
    assert "points more for the visitor" in panel.widget.value
    review.partnership_box.value = without[0]
    assert "None: no visitor of yours" in panel.widget.value


def test_the_panel_without_the_round_files_says_so(tmp_path):
    d = tmp_path / "round"
    generate_round(d, n_visitors=20, n_hosts=10, seed=3)
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    res = run_next_round(d, tmp_path / "out_1", ledger_url=led, verbose=False, work_limit=0.2)
    panel = AlternativesPanel(ReviewPanel(led, res.round_id))
    assert "the round's files are needed" in panel.widget.value
