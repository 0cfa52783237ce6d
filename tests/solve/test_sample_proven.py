"""The committed sample round (data/sample, 300 x 150, budgets binding) is proven optimal by
the default solve (issue 12; docs/decisions.md §43): what `bash scripts/sample-round.sh` writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matchmaker.inputs.loading import load_round
from matchmaker.proposals.validator import check_proposals_file
from matchmaker.run import run_round

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.mark.slow
def test_the_sample_round_is_proven_optimal_by_the_default_solve(tmp_path):
    rnd = load_round(SAMPLE)
    assert run_round(rnd, tmp_path / "out", verbose=False) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    solver = summary["solver"]
    assert solver["status"] == "optimal" and solver["gap"] <= 1e-6
    assert solver["objective"] == pytest.approx(10187.07) and solver["bound"] == pytest.approx(10187.07)
    assert solver["solver_stats"]["branch_price_status"] == "optimal"
    assert summary["round"]["reproducible"] is True
    assert check_proposals_file(rnd, tmp_path / "out" / "proposals.csv") == []
