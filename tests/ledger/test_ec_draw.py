"""The random EC validation draw (issue 14): reproducible from its seed, recorded, checkable, stratified."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from ledger_workers import host_ids, visitor_ids
from steps_helpers import accepted_ledger, walk_to

from matchmaker.ledger.ec_draw import check_ec_draw, draw_mask, ec_draw, ec_draws
from matchmaker.ledger.engine import LedgerError
from matchmaker.ledger.steps import exchange_pipeline, record_step


@pytest.fixture
def led(tmp_path):
    ledger, _ = accepted_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    yield ledger
    ledger.close()


def by_hand(candidates: pd.DataFrame, share: float, seed: int) -> list[tuple[str, str]]:
    """The draw as docs/ledger.md tells anyone to re-run it (stratified), written out independently."""
    rng = np.random.default_rng(seed)
    drawn = []
    for _, group in candidates.groupby("partnership", sort=True):
        k = math.ceil(share * len(group))
        picked = rng.choice(len(group), size=k, replace=False)
        drawn += [tuple(group.iloc[i][["visitor_id", "host_id"]]) for i in sorted(picked)]
    return sorted(drawn)


def test_the_draw_is_recorded_and_reproduces_from_its_seed(led):
    draw = ec_draw(led, 0.1, seed=20271, by="office@cxc.eu")
    assert len(draw.candidates) == 20 and len(draw.drawn) == 4  # 4 Partnerships x ceil(0.1 x 5)
    assert draw.drawn.groupby("partnership").size().to_dict() == dict.fromkeys(["BLUES", "CELIS", "CLAMTEX",
                                                                                "EXTRATEX"], 1)
    (stored,) = ec_draws(led)
    assert (stored.seed, stored.share, stored.by_partnership, stored.drawn_by) == (20271, 0.1, True, "office@cxc.eu")
    assert stored.drawn.equals(draw.drawn) and stored.candidates.equals(draw.candidates)
    assert check_ec_draw(led, draw.draw_id) == (True, f"EC draw {draw.draw_id} re-run from seed 20271, share 0.1: "
                                                      "the same exchanges (4 drawn)")
    assert sorted(zip(draw.drawn["visitor_id"], draw.drawn["host_id"])) == by_hand(draw.candidates, 0.1, 20271)
    drawn = exchange_pipeline(led).query("drawn_for_ec")
    assert sorted(drawn["visitor_id"]) == sorted(draw.drawn["visitor_id"])


def test_same_seed_same_draw_other_seed_other_draw():
    cand = pd.DataFrame({"visitor_id": visitor_ids(40), "host_id": "H001",
                         "partnership": ["A"] * 10 + ["B"] * 30})
    a = draw_mask(cand, 0.25, 7, by_partnership=True)
    assert (a == draw_mask(cand, 0.25, 7, by_partnership=True)).all()
    assert a[:10].sum() == 3 and a[10:].sum() == 8  # ceil(2.5), ceil(7.5)
    others = {tuple(np.flatnonzero(draw_mask(cand, 0.25, s, by_partnership=True))) for s in range(20)}
    assert len(others) > 15
    plain = draw_mask(cand, 0.25, 7, by_partnership=False)
    assert plain.sum() == 10


def test_a_tampered_record_does_not_check(led):
    draw = ec_draw(led, 0.2, seed=5)
    with led.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE ec_draws SET drawn = '[]' WHERE id = ?", (draw.draw_id,))
    same, text = check_ec_draw(led, draw.draw_id)
    assert not same and "OTHER exchanges than recorded" in text


def test_drawn_exchanges_pass_the_ec_before_the_agreement_and_others_skip_it(led):
    draw = ec_draw(led, 0.1, seed=3)
    v, h = draw.drawn.iloc[0][["visitor_id", "host_id"]]
    walk_to(led, v, h, "validated_by_support_office")
    with pytest.raises(LedgerError, match="before the European Commission has validated it"):
        record_step(led, v, h, "fa_signed", "office")
    record_step(led, v, h, "validated_by_ec", "EC services")
    record_step(led, v, h, "fa_signed", "office")
    other = draw.candidates[~draw.candidates["visitor_id"].isin(draw.drawn["visitor_id"])].iloc[0]
    walk_to(led, other["visitor_id"], other["host_id"], "fa_signed")


def test_each_exchange_is_a_candidate_of_one_draw_only_and_not_past_its_agreement(led):
    walk_to(led, "V001", host_ids(3)[0], "fa_signed")
    first = ec_draw(led, 0.5, seed=1, by_partnership=False)
    assert "V001" not in set(first.candidates["visitor_id"]) and len(first.candidates) == 19
    assert len(first.drawn) == 10
    with pytest.raises(LedgerError, match="no exchange to draw"):
        ec_draw(led, 0.5, seed=2)
    assert len(ec_draws(led)) == 1  # a refused draw records nothing


@pytest.mark.parametrize("share, seed, words", [(0, 1, "share 0 must be above 0"), (1.5, 1, "at most 1"),
                                                (0.1, -1, "seed -1 must be a whole number"),
                                                (0.1, 2.5, "seed 2.5 must be a whole number")])
def test_bad_settings_are_refused(led, share, seed, words):
    with pytest.raises(LedgerError, match=words):
        ec_draw(led, share, seed)
