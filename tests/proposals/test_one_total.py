"""One total (issue 12): the proposals' scores are the solver's hundredths, so their sum, the
officer's ``total_score``, the command's line and the solver's objective are one number."""

from __future__ import annotations

import pandas as pd
from helpers import write_big_round

from matchmaker.inputs.loading import load_round
from matchmaker.proposals.output_set import read_summary
from matchmaker.proposals.summary import TOTAL_SCORE_NOTE
from matchmaker.run import run_round


def test_total_score_is_the_solver_objective_and_the_sum_of_the_file(tmp_path, capsys):
    rnd = load_round(write_big_round(tmp_path, 40, 20, seed=4))
    out = tmp_path / "out"
    assert run_round(rnd, out, time_limit=30, verbose=True) == 0
    line = [t for t in capsys.readouterr().out.splitlines() if "wrote" in t][0]
    summary = read_summary(out)
    officer, solver = summary["round"], summary["solver"]
    props = pd.read_csv(out / "proposals.csv")
    assert len(props) > 10
    assert (props["score"] * 100).round(6).mod(1).eq(0).all()  # hundredths of a point
    breakdown = props.filter(like="score_").sum(axis=1)
    assert ((breakdown * 100).round(6).mod(1) != 0).any()  # the criteria keep their decimals ...
    assert ((breakdown - props["score"]).abs() <= 0.005 + 1e-9).all()  # ... and add up to the score
    total = round(float(props["score"].sum()), 2)
    assert officer["total_score"] == total == solver["objective"]  # one number, exactly
    assert f"total score {total:,.2f} ({TOTAL_SCORE_NOTE})" in line and line.count("total score") == 1
    assert "hundredth" in TOTAL_SCORE_NOTE and "total_score" in solver["objective_note"]
    # the status and the tolerance, side by side in the solver part
    assert solver["status"] == "optimal" and solver["gap"] <= 1e-6 and solver["within_mip_tolerance"] is True
    assert officer["proof"].startswith("optimal: ")
