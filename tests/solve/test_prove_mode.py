"""Prove mode end to end (issue 12): ``matchmaker solve --prove``, the setting ``solver.prove``,
``run_round(prove=True)`` and what ``summary.json`` says about the proof."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from solver_bruteforce import brute_force

from matchmaker.cli import main
from matchmaker.common.errors import SettingsError
from matchmaker.generator.generate import generate_round
from matchmaker.inputs.loading import load_round
from matchmaker.inputs.settings import load_settings
from matchmaker.pairs.catalogue import build_catalogue
from matchmaker.run import run_round
from matchmaker.solve.config import DEFAULT_WORK, SolveConfig, prove_config
from matchmaker.solve.problem import build_instance
from matchmaker.ui.settings_panel import SettingsPanel

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def budgeted_round(tmp_path_factory) -> Path:
    """90 visitors, 45 hosts, binding budgets: one work unit leaves a gap that branch-and-price closes."""
    d = tmp_path_factory.mktemp("prove") / "round"
    generate_round(d, 90, 45, 4, budget_share=0.5)
    return d


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_prove_mode_has_no_time_limit_and_the_default_work():
    solver = load_settings()["solver"]
    config = SolveConfig.from_settings(solver, prove=True)
    assert config.prove and config.time_limit is None and config.work_limit == DEFAULT_WORK
    # a time limit stops the proof but does not change the phases' work (as it would without --prove)
    timed = SolveConfig.from_settings(solver, prove=True, time_limit=600)
    assert timed.time_limit == 600 and timed.work_limit == DEFAULT_WORK
    assert SolveConfig.from_settings(dict(solver, time_limit_s=120.0, prove=True)).time_limit == 120.0
    assert SolveConfig.from_settings(dict(solver, prove=True), work_limit=5).work_limit == 5
    default = SolveConfig.from_settings(solver)
    assert not default.prove and default.time_limit == 390.0  # the usual run is unchanged
    assert prove_config(default) == config  # the Python way (solve.exact) and the settings' way agree
    with pytest.raises(SettingsError, match="prove"):
        SolveConfig(prove="yes")
    with pytest.raises(SettingsError, match=r"solver\.prove must be true or false"):
        SolveConfig.from_settings(dict(solver, prove=1))


def test_solver_prove_yes_in_a_settings_file_is_a_clear_error(tmp_path):
    f = tmp_path / "settings.toml"
    f.write_text('[solver]\nprove = "yes"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as err:
        load_settings(f)
    assert str(err.value) == f"{f}: setting 'solver.prove' = 'yes' must be true or false (unquoted)"
    f.write_text("[solver]\nprove = true\n", encoding="utf-8")
    assert load_settings(f)["solver"]["prove"] is True
    assert load_settings()["solver"]["prove"] is False


def test_the_notebook_settings_panel_offers_prove_mode_with_its_help():
    panel = SettingsPanel()
    box = panel.controls["solver.prove"]
    assert type(box).__name__ == "Checkbox" and box.value is False
    assert "proven optimal" in box.tooltip and "time_limit_s" in box.tooltip
    box.value = True
    assert panel.changed() == {"solver": {"prove": True}}
    assert load_settings(overrides=panel.overrides())["solver"]["prove"] is True


@pytest.mark.parametrize(("n_visitors", "n_hosts", "seed"), [(8, 5, 1), (8, 5, 3), (10, 5, 2)])
def test_run_round_in_prove_mode_equals_brute_force(tmp_path, n_visitors, n_hosts, seed):
    d = tmp_path / "round"
    generate_round(d, n_visitors, n_hosts, seed, budget_share=0.5)
    rnd = load_round(d)
    best, _ = brute_force(build_instance(rnd, build_catalogue(rnd)))
    assert run_round(rnd, tmp_path / "out", prove=True, verbose=False) == 0
    summary = _summary(tmp_path / "out")
    s, r = summary["solver"], summary["round"]
    assert s["prove_mode"] is True and s["time_limit_s"] is None and s["status"] == "optimal"
    assert round(s["objective"] * 100) == best[2]
    assert r["proof"].startswith("prove mode, proven optimal: ")
    assert r["reproducible"] is True and r["reproducible_note"].startswith("prove mode: ")


def test_solver_prove_setting_is_the_default_of_run_round(budgeted_round, tmp_path):
    rnd = load_round(budgeted_round, overrides={"solver": {"prove": True, "work_limit": 1.0}})
    lines = []
    assert run_round(rnd, tmp_path / "out", verbose=False, progress=lines.append) == 0
    summary = _summary(tmp_path / "out")
    assert summary["solver"]["prove_mode"] is True and summary["solver"]["status"] == "optimal"
    assert any(line["phase"].startswith("branch-and-price (") for line in lines)  # the search closed the gap
    assert summary["solver"]["solver_stats"]["branch_price_status"] == "optimal"


def test_matchmaker_solve_prove_proves_a_generated_round_optimal(budgeted_round, tmp_path):
    """End to end through the command line (a subprocess), recording in the round's ledger."""
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "matchmaker.cli", "solve", str(budgeted_round), "--out", str(out),
                           "--prove", "--work-limit", "1", "--ledger", f"sqlite:///{tmp_path / 'ledger.sqlite'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "prove mode: after the usual search" in done.stdout and "with no time limit" in done.stdout
    steps = [line for line in done.stdout.splitlines() if "(searching for the proof, " in line]
    assert steps and all(line.endswith("still open)") and "branch-and-price" not in line for line in steps)
    assert steps and "bound" in steps[-1] and "gap 0.0000%" in steps[-1]
    summary = _summary(out)
    s, r = summary["solver"], summary["round"]
    assert s["prove_mode"] is True and s["status"] == "optimal" and s["gap"] <= 1e-6 and s["time_limit_s"] is None
    assert r["proof"].startswith("prove mode, proven optimal")
    assert r["reproducible"] is True and "proven optimal" in r["reproducible_note"]
    assert "optimal: " in done.stdout and "prove mode, proven optimal" in done.stdout


def test_prove_with_a_time_limit_stops_and_says_it_is_not_reproducible(budgeted_round, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["solve", str(budgeted_round), "--out", str(out), "--no-record", "--prove", "--time-limit", "1"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "or until the time limit of 1 s, which then stops the proof" in text
    summary = _summary(out)
    s, r = summary["solver"], summary["round"]
    assert s["prove_mode"] is True and s["time_limit_s"] == 1.0 and s["work_limit"] == DEFAULT_WORK
    assert s["status"] == "feasible" and r["reproducible"] is False
    assert r["proof"].startswith("prove mode, not proven optimal (the time limit stopped the proof)")
    assert "not reproducible" in r["reproducible_note"] and "not reproducible" in text
