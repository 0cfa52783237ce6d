"""Notebooks that people use, not edit: the round picker, runtime files git ignores, the
launcher, messages in the users' words, download links, invalid settings and progress."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import subprocess
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from ui_helpers import write_solved_round

from matchmaker.common import locations
from matchmaker.inputs.loading import load_round
from matchmaker.inputs.settings import DEFAULTS_FILE
from matchmaker.ledger.store import Ledger
from matchmaker.ui import lab
from matchmaker.ui import notebook as ui
from matchmaker.ui import wording as words
from matchmaker.ui.picker import RoundPicker

ROOT = Path(__file__).resolve().parents[2]


def _leaves(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _leaves(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}"


# -- settings help ------------------------------------------------------------------------
def test_every_setting_has_its_own_help_and_seed_and_reduction_factor_theirs():
    helps = ui.settings_help()
    assert helps["solver.seed"].startswith("Seed of the solver") and "work" not in helps["solver.seed"].lower()
    assert helps["lump_sum.reduction_factor"].startswith("The reduced lump sum")
    panel = ui.SettingsPanel()
    with open(DEFAULTS_FILE, "rb") as fh:
        keys = list(_leaves(tomllib.load(fh)))
    for key in keys:
        tip = panel.controls[key].tooltip
        assert tip and tip != key, f"{key}: no help of its own"
    assert "distinctive words" in panel.controls["scoring.weights.description"].tooltip


def test_a_key_without_a_comment_gets_no_help_not_the_previous_ones(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[a]\n# Help of x.\nx = 1\ny = 2\n", encoding="utf-8")
    assert ui.settings_help(path) == {"a.x": "Help of x.", "a.y": ""}


def test_no_developer_wording_in_the_settings_help():
    text = " ".join(ui.settings_help().values())
    assert "Jaccard" not in text and "TF-IDF" not in text


# -- invalid settings: a message, never a traceback ----------------------------------------
def test_invalid_setting_says_why_and_the_progress_says_the_solve_did_not_start(tmp_path):
    round_dir, _, _ = write_solved_round(tmp_path)
    panel = ui.SettingsPanel(load_round(round_dir).settings)
    panel.controls["solver.fairness_share"].value = 2.0
    assert "fairness_share" in panel.message.value  # beside the widget
    progress = ui.SolveProgress(time_limit=5)
    run = ui.solve_round(round_dir, tmp_path / "new-out", overrides=panel, progress=progress, time_limit=5)
    assert not run.ok and run.exit_code == 2
    assert "settings are not valid" in run.message and "fairness_share" in run.message
    assert "did not start" in run._repr_html_() and "Traceback" not in run._repr_html_()
    assert "did not start" in progress.figures.value and progress.time_bar.description == "not started"
    assert not (tmp_path / "new-out").exists()
    assert "Traceback" not in repr(run) and "RoundRun(" not in repr(run)


# -- words ------------------------------------------------------------------------------------
def test_readable_tables_dates_percentages_words_and_country_names():
    countries = pd.DataFrame({"name": ["Portugal", "France"]}, index=pd.Index(["PT", "FR"], name="country"))
    df = pd.DataFrame({"created_at": pd.to_datetime(["2026-12-04 19:50:46.896335+00:00"]),
                       "used_share": [0.994937], "reason_code": ["no_eligible_host"], "host_country": ["PT"],
                       "host_country_name": ["Portugal"], "input_hash": ["abc"], "n_proposals": [19],
                       "remaining_eur": [40.0]})
    out = words.readable(df, countries)
    assert out.to_dict("records") == [{"recorded": "4 Dec 2026, 19:50 UTC", "budget used": "99.5%",
                                       "reason": "no eligible host", "host country": "Portugal (PT)",
                                       "proposals": 19, "remaining (EUR)": 40.0}]
    assert words.when(dt.date(2027, 3, 1)) == "1 Mar 2027"


def test_ledger_rounds_and_decisions_in_words(tmp_path, monkeypatch):
    monkeypatch.setenv(locations.PROJECT_ENV, str(tmp_path))
    round_dir, out, _ = write_solved_round(tmp_path)
    with Ledger(locations.default_ledger_url(round_dir)) as ledger:
        rid = ledger.record_round(load_round(round_dir), out)
        ledger.decide(rid, "V1", "H1", "accept", "ana", "fine")
        text = words.ledger_text(ledger)
        assert text == f"ledger file {Path(round_dir).name}/ledger.sqlite"
        rounds = ui.rounds_table(ledger)
        decisions = ui.decisions_table(ledger.decisions(rid))
    assert list(rounds.columns) == ["round", "name", "recorded", "status", "proposals", "round folder"]
    assert re.fullmatch(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC", rounds["recorded"].iloc[0])
    assert list(decisions.columns) == ["decided", "partnership", "visitor", "host", "decision", "reviewer", "comment"]
    assert "." not in decisions["decided"].iloc[0]  # no microseconds


def test_summary_values_and_the_reproducibility_note_in_either_layout():
    flat = {"reproducible": False, "reproducible_note": "the clock stopped the solver"}
    split = {"officer": {"reproducible": False}, "solver": {"reproducible_note": "the clock stopped the solver"}}
    for summary in (flat, split):
        assert words.summary_value(summary, "reproducible") is False
        note = words.reproducibility_html(summary)
        assert "cannot be repeated" in note and "more time" in note
    assert "can be repeated" in words.reproducibility_html({"solver": {"reproducible": True}})
    assert words.reproducibility_html({}) == ""


def test_download_links_hold_the_files(tmp_path):
    path = tmp_path / "round_1_CLAMTEX.csv"
    path.write_bytes("\ufeffvisitor_id,host_id\nV1,H1\n".encode())
    link = words.download_html([path])
    m = re.search(r"href='data:text/csv;base64,([^']+)' download='round_1_CLAMTEX.csv'", link)
    assert m and base64.b64decode(m.group(1)) == path.read_bytes()
    assert "mm-download" in link


# -- review panel: ledger in words, download links, re-solve progress ----------------------
def test_review_panel_export_gives_download_links_and_names_the_ledger_in_words(tmp_path):
    round_dir, out, _ = write_solved_round(tmp_path)
    with Ledger(locations.default_ledger_url(round_dir)) as ledger:
        rid = ledger.record_round(load_round(round_dir), out)
        panel = ui.ReviewPanel(ledger, rid, round_dir=round_dir, export_dir=tmp_path / "exports",
                               resolve_dir=tmp_path / "resolved", time_limit=5)
        assert "Ledger(" not in panel.round_label.value and "sqlite:" not in panel.round_label.value
        panel.partnership_box.value = "CLAMTEX"
        panel.xlsx_box.value = True
        written = panel.export()
        assert panel.downloads.value.count("class='mm-download'") == 2
        assert f"download='{written[0].name}'" in panel.downloads.value
        assert panel.progress.widget.layout.display == "none"  # until a re-solve
        result = panel.resolve()  # the hand-made round's kept pairs move: not recordable by CLAMTEX
        assert result is not None and not result.recordable and ledger.latest_round_id() == rid
        assert "the Support Office must re-solve the whole round" in panel.status.value
        assert panel.record_button.layout.display == "none"
        assert panel.progress.widget.layout.display is None and panel.progress.history  # live reports shown
    assert "not recordable" in panel.progress.figures.value
    # the recordable path, then recording on confirmation: tests/ui/test_review_resolve.py


# -- the round picker and where runtime files go -----------------------------------------------
def test_round_picker_defaults_and_follows_the_chosen_round(tmp_path, monkeypatch):
    monkeypatch.setenv(locations.PROJECT_ENV, str(tmp_path))
    for name in ("sample", "spring"):
        (tmp_path / "data" / name).mkdir(parents=True)
        (tmp_path / "data" / name / "registrations.csv").write_text("org_id\n", encoding="utf-8")
    picker = RoundPicker()
    assert picker.round_box.options == ("data/sample", "data/spring")
    assert picker.round_dir == tmp_path / "data" / "sample"
    assert picker.out_dir == tmp_path / "out" / "sample-round" and picker.ledger_url is None
    assert "data/sample/ledger.sqlite" in picker.note.value
    picker.round_box.value = "data/spring"
    assert picker.out_dir == tmp_path / "out" / "spring-round"
    picker.out_box.value = "out/mine"  # typed: stays when the round changes
    picker.round_box.value = "data/sample"
    assert picker.out_dir == tmp_path / "out" / "mine"
    picker.round_box.value = "data/nothing"
    assert "holds no registrations file" in picker.note.value


def test_default_ledger_and_outputs_are_ignored_by_git(tmp_path):
    ledger = locations.default_ledger_path(ROOT / "data" / "sample")
    assert locations.default_ledger_url(ROOT / "data" / "sample") == f"sqlite:///{ledger}"
    paths = [ledger, Path(str(ledger) + "-journal"), locations.default_output_dir(ROOT / "data" / "sample", ROOT),
             ROOT / locations.WORKSPACE / "01_matching_round.ipynb", locations.out_folder("exports", ROOT)]
    rel = [str(p.relative_to(ROOT)) for p in paths]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # the project's .gitignore in a new repo
    (tmp_path / ".gitignore").write_text((ROOT / ".gitignore").read_text(encoding="utf-8"), encoding="utf-8")
    proc = subprocess.run(["git", "check-ignore", "--no-index", *rel], cwd=tmp_path, capture_output=True, text=True)
    assert proc.stdout.split() == rel, proc.stdout + proc.stderr


def test_open_ledger_says_what_to_do_without_a_traceback(tmp_path):
    with pytest.raises(ui.NotUsable, match="No round has been solved .* run notebook 01"):
        ui.open_ledger(tmp_path)
    with pytest.raises(ui.NotUsable, match="There is no round folder"):
        ui.open_ledger(tmp_path / "missing")


def test_lab_workspace_copies_the_notebooks_once_and_refresh_keeps_the_old_copy(tmp_path, capsys):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_x.ipynb").write_text(json.dumps({"v": 1}), encoding="utf-8")
    workspace, copied = lab.prepare_workspace(tmp_path)
    assert workspace == tmp_path / "out" / "notebooks" and [p.name for p in copied] == ["01_x.ipynb"]
    (workspace / "01_x.ipynb").write_text("my work", encoding="utf-8")
    assert lab.prepare_workspace(tmp_path)[1] == []  # the user's copy is kept
    assert (workspace / "01_x.ipynb").read_text(encoding="utf-8") == "my work"
    lab.prepare_workspace(tmp_path, refresh=True)
    assert (workspace / "01_x.old.ipynb").read_text(encoding="utf-8") == "my work"
    assert json.loads((workspace / "01_x.ipynb").read_text(encoding="utf-8")) == {"v": 1}
    assert lab.main(["--project", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "lab --ServerApp.root_dir=" in out and str(workspace) in out


def test_headless_progress_prints_a_repeated_report_once(capsys):
    p = ui.SolveProgress(headless=True)
    for elapsed in (18.96, 18.97):
        p(dict(phase="mip", best=10, bound=12, gap=1 / 6, elapsed=elapsed))
    assert len(capsys.readouterr().out.splitlines()) == 1 and len(p.history) == 2
