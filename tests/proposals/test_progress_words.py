"""The solver's progress lines speak in words (task R, after branch-and-price): each step named as
people read it, the proof search with its nodes still open, no phase code such as ``branch-and-price``
or ``support-mip`` in what ``matchmaker solve`` or notebook 01 shows."""

from __future__ import annotations

import re

import pytest

from matchmaker.generator.generate import generate_round
from matchmaker.inputs.loading import load_round
from matchmaker.proposals.wording import PHASE_WORDS, phase_words, progress_repeats
from matchmaker.run import run_round
from matchmaker.solve.phases import EXTENSION, PHASES
from matchmaker.ui.progress import SolveProgress, format_progress

CODES = re.compile(r"\b(locks|flow|lp|lagrangian|support-mip|branch-and-price|mip|cpsat|more-work)\b")


def test_every_phase_of_the_solver_has_words():
    names = [ph.name for ph in (*PHASES, EXTENSION)] + ["done"]
    assert all(name in PHASE_WORDS for name in names)
    assert not any(CODES.search(phase_words(name)) for name in names)


@pytest.mark.parametrize(("phase", "words"), [
    ("branch-and-price (12 nodes open)", "searching for the proof, 12 nodes still open"),
    ("branch-and-price (1 nodes open)", "searching for the proof, 1 node still open"),
    ("branch-and-price (1234 nodes open)", "searching for the proof, 1,234 nodes still open"),
    ("support-mip", "better proposals"),
    ("some_new-step", "some new step"),  # an unknown step: no underscores or hyphens shown
])
def test_phase_words(phase, words):
    assert phase_words(phase) == words


def test_notebook_progress_line_and_figures_name_the_step_in_words(capsys):
    info = dict(phase="branch-and-price (3 nodes open)", best=1_017_435, bound=1_019_102, gap=0.001636,
                elapsed=20.53)
    line = format_progress(info)
    assert line == ("[  20.53s] best 10,174.35  bound 10,191.02  gap 0.1636%  "
                    "(searching for the proof, 3 nodes still open)")
    panel = SolveProgress(time_limit=60)
    panel(info)
    assert "<b>step</b> searching for the proof, 3 nodes still open" in panel.figures.value
    assert "branch-and-price" not in panel.figures.value and panel.history[0]["phase"] == info["phase"]


def test_matchmaker_solve_progress_lines_have_no_phase_codes(tmp_path, capsys):
    """run_round's printed lines (``matchmaker solve``/``round``/``resolve``) on a small generated round."""
    generate_round(tmp_path / "round", 40, 20, 3, budget_share=0.5)
    rnd = load_round(tmp_path / "round", overrides={"solver": {"work_limit": 1.0}})
    assert run_round(rnd, tmp_path / "out") == 0
    steps = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]
    assert steps and all(re.fullmatch(r"\[ *\d+\.\d\ds\] best .+  bound .+  gap .+  \(.+\)", line) for line in steps)
    assert not any(CODES.search(line.rsplit("(", 1)[-1]) for line in steps)
    assert steps[-1].endswith("(done)")


def test_a_proof_closing_its_last_nodes_at_once_prints_one_line(capsys):
    """The sample's prove run printed 44 lines of the same figures in 0.02 s, one per node closed."""
    p = SolveProgress(headless=True)
    figures = dict(best=1_018_707, bound=1_018_707, gap=0.0)
    for open_nodes, elapsed in ((44, 138.76), (43, 138.76), (12, 138.77), (0, 138.78)):
        p(dict(phase=f"branch-and-price ({open_nodes} nodes open)", elapsed=elapsed, **figures))
    p(dict(phase="done", elapsed=138.78, **figures))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].endswith("(searching for the proof, 44 nodes still open)")
    assert lines[1].endswith("(done)") and len(p.history) == 5


def test_a_long_proof_still_shows_its_nodes_every_second():
    last = dict(phase="branch-and-price (8 nodes open)", best=1, bound=2, gap=0.5, elapsed=30.0)
    same_figures = dict(last, phase="branch-and-price (9 nodes open)")
    assert progress_repeats(dict(same_figures, elapsed=30.5), last)
    assert not progress_repeats(dict(same_figures, elapsed=31.5), last)
    assert not progress_repeats(dict(same_figures, bound=3, elapsed=30.5), last)
    assert not progress_repeats(dict(same_figures, phase="done", elapsed=30.5), last)
    assert not progress_repeats(last, None)


def test_a_resolve_ready_to_record_ends_with_a_green_time_bar():
    """Notebook 02's re-solve finishes with "ready to record": its time bar was red (danger), as for a failure."""
    p = SolveProgress()
    p(dict(phase="done", best=10, bound=10, gap=0.0, elapsed=0.1))
    p.finish("ready to record")
    assert p.time_bar.bar_style == "success"
    p.finish("not recordable")
    assert p.time_bar.bar_style == "danger"
