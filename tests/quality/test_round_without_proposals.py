"""Regression: a round whose solve proposes nothing still gets its match quality.

A generated 5 x 3 round (seed 1) ends with 0 proposals; ``blocking_pairs`` indexed the empty
proposals and ``run_round`` stopped with an IndexError.
"""

from __future__ import annotations

import json

import pandas as pd

from matchmaker.generator.generate import generate_round
from matchmaker.inputs.loading import load_round
from matchmaker.pairs.catalogue import build_catalogue
from matchmaker.quality.stability import blocking_pairs
from matchmaker.run import run_round


def test_round_without_proposals_gets_its_match_quality(tmp_path):
    generate_round(tmp_path / "r", 5, 3, 1, budget_share=0.5)
    rnd = load_round(tmp_path / "r")
    assert run_round(rnd, tmp_path / "out", work_limit=1, verbose=False) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert "stability" in summary["match_quality"]
    proposals = pd.read_csv(tmp_path / "out" / "proposals.csv")
    if len(proposals) == 0:  # the case this guards; the round is built so that it happens
        pairs = blocking_pairs(rnd, build_catalogue(rnd), proposals)
        assert (pairs["current_host_id"] == "").all()
