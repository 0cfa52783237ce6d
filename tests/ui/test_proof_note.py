"""The notebooks' headline says how close to the best possible the proposals are, in words (task R,
after branch-and-price proved the sample optimal): notebooks 01 and 03 showed only "solver status
optimal" and the gap; the HTML report already said "Optimal: the solver proved that ..."."""

from __future__ import annotations

import json

from matchmaker.generator.generate import generate_round
from matchmaker.inputs.loading import load_round
from matchmaker.run import run_round
from matchmaker.ui import notebook as nb
from matchmaker.ui import wording as words


def test_proof_note_in_either_layout_capitalised_and_escaped():
    split = {"round": {"proof": "optimal: the solver proved that no valid set of proposals does better"}}
    assert words.proof_html(split) == ("<p class='mm-proof-note'><b>Optimal</b>: the solver proved that no valid "
                                       "set of proposals does better.</p>")
    flat = {"proof": "prove mode, proven optimal: the solver proved that no valid set of proposals does better"}
    assert "<b>Prove mode, proven optimal</b>: the solver proved" in words.proof_html(flat)
    assert words.proof_html({"proof": "a < b"}) == "<p class='mm-proof-note'>A &lt; b.</p>"
    assert words.proof_html({}) == "" and words.proof_html({"round": {"proof": None}}) == ""


def test_a_solved_rounds_headline_says_the_proof_before_the_reproducibility(tmp_path):
    generate_round(tmp_path / "round", 30, 15, 2, budget_share=0.5)
    rnd = load_round(tmp_path / "round", overrides={"solver": {"work_limit": 2.0}})
    assert run_round(rnd, tmp_path / "out", verbose=False) == 0
    proof = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["round"]["proof"]
    shown = nb.headline(tmp_path / "out").data
    assert "mm-proof-note" in shown and proof.partition(": ")[2] in shown
    assert shown.index("mm-proof-note") < shown.index("mm-reproducible-note")
    assert "solver_stats" not in shown and "branch_price" not in shown
