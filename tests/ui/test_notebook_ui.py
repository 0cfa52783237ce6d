"""The notebooks' widgets, driven from Python: settings, solver progress, review panel."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
import tomllib

import pandas as pd
import pytest
from ui_helpers import HOSTILE_NAME, write_solved_round

from matchmaker.common.errors import SettingsError
from matchmaker.inputs.loading import load_round
from matchmaker.inputs.settings import DEFAULTS_FILE, load_settings
from matchmaker.ledger.store import Ledger
from matchmaker.ui import notebook as ui
from matchmaker.ui.review import STATUS_FILTERS, search_pairs


def _leaves(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _leaves(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


# -- settings ----------------------------------------------------------------------------
def test_settings_panel_has_a_control_for_every_setting_of_the_defaults_file():
    with open(DEFAULTS_FILE, "rb") as fh:
        defaults = tomllib.load(fh)
    panel = ui.SettingsPanel()
    assert set(panel.controls) == {k for k, _ in _leaves(defaults)}
    weights = [k for k in panel.controls if k.startswith("scoring.weights.")]
    assert weights and all(type(panel.controls[k]).__name__ == "FloatSlider" for k in weights)
    assert type(panel.controls["rules.allow_virtual"]).__name__ == "Checkbox"
    assert type(panel.controls["rules.virtual_until"]).__name__ == "DatePicker"
    assert type(panel.controls["solver.objective"]).__name__ == "Dropdown"


def test_settings_panel_round_trips_the_round_settings():
    settings = load_settings(overrides={"scoring": {"weights": {"sectors": 4.5}},
                                        "rules": {"holidays": [dt.date(2027, 5, 1)]}})
    panel = ui.SettingsPanel(settings)
    assert panel.changed() == {}
    assert load_settings(overrides=panel.overrides()) == settings


def test_settings_help_comes_from_the_comments_of_the_defaults_file():
    helps = ui.settings_help()
    assert "virtual exchange's score is multiplied" in helps["scoring.options.virtual_weight"]
    # each key has its own help: a key never borrows the previous key's
    assert helps["rules.min_working_days"].startswith("Shortest stay")
    assert helps["rules.max_working_days"].startswith("Longest stay")
    panel = ui.SettingsPanel()
    assert panel.controls["scoring.options.virtual_weight"].tooltip == helps["scoring.options.virtual_weight"]


def test_settings_panel_builds_controls_for_a_new_setting_without_code(tmp_path):
    extra = "\n[extra]\n# A setting nobody coded a widget for.\nshiny = true\n"
    text = DEFAULTS_FILE.read_text(encoding="utf-8") + extra
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    panel = ui.SettingsPanel(defaults_file=path)
    assert panel.controls["extra.shiny"].value is True
    assert panel.controls["extra.shiny"].tooltip == "A setting nobody coded a widget for."


def test_settings_panel_reports_a_value_out_of_range_and_refuses_it():
    panel = ui.SettingsPanel()
    panel.controls["solver.fairness_share"].value = 1.5
    assert "solver.fairness_share" in panel.message.value and "between 0 and 1" in panel.message.value
    with pytest.raises(SettingsError, match="fairness_share"):
        panel.valid_overrides()
    panel.controls["solver.fairness_share"].value = 0.25
    assert panel.valid_overrides()["solver"]["fairness_share"] == 0.25
    assert panel.changed() == {"solver": {"fairness_share": 0.25}}


def test_settings_panel_apply_sets_controls_and_names_unknown_keys():
    panel = ui.SettingsPanel()
    panel.apply({"scoring": {"weights": {"languages": 2.5}}, "rules": {"holidays": [dt.date(2027, 1, 6)]}})
    assert panel.controls["scoring.weights.languages"].value == 2.5
    assert panel.overrides()["rules"]["holidays"] == [dt.date(2027, 1, 6)]
    with pytest.raises(SettingsError, match="scoring.weights.colour"):
        panel.apply({"scoring": {"weights": {"colour": 1.0}}})


def test_settings_panel_names_a_bad_holiday_date():
    panel = ui.SettingsPanel()
    panel.controls["rules.holidays"].value = "2027-05-01, 1 May"
    with pytest.raises(SettingsError, match="'1 May' is not an ISO date"):
        panel.overrides()


# -- progress ----------------------------------------------------------------------------
def test_solve_progress_shows_phase_best_bound_and_gap():
    p = ui.SolveProgress(time_limit=10.0)
    p(dict(phase="flow", best=800, bound=1000, gap=0.2, elapsed=2.0))
    assert p.time_bar.value == pytest.approx(0.2)
    assert p.gap_bar.value == 0.0  # the first gap is the reference
    p(dict(phase="cpsat", best=950, bound=1000, gap=0.05, elapsed=5.0))
    assert p.gap_bar.value == pytest.approx(0.75)
    for text in ("step</b> better proposals with their dates", "best</b> 9.50", "bound</b> 10.00",
                 "5.0000%"):  # in score points, the step in words
        assert text in p.figures.value
    p(dict(phase="cpsat", best=1000, bound=1000, gap=0.0, elapsed=6.0))
    assert p.gap_bar.value == 1.0 and p.gap_bar.bar_style == "success"
    assert [h["phase"] for h in p.history] == ["flow", "cpsat", "cpsat"]


def test_solve_progress_headless_prints_a_line_per_report(capsys):
    p = ui.SolveProgress(headless=True)
    p(dict(phase="locks", best=None, bound=None, gap=None, elapsed=0.01))
    p(dict(phase="lp", best=10, bound=12, gap=1 / 6, elapsed=1.5))
    p.finish("optimal")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].strip().startswith("[") and "(placing the locked pairs)" in lines[0] and "gap -" in lines[0]
    assert "(a first bound)" in lines[1] and "best 0.10  bound 0.12" in lines[1] and "16.6667%" in lines[1]
    assert lines[2] == "solver finished: optimal"


def test_solve_progress_refuses_a_non_positive_time_limit():
    with pytest.raises(ValueError, match="time_limit"):
        ui.SolveProgress(time_limit=0)


# -- validation ------------------------------------------------------------------------------
def test_validate_round_lists_problems_instead_of_raising(tmp_path):
    (tmp_path / "registrations.csv").write_text("org_id,name\nX,Y\n", encoding="utf-8")
    check = ui.validate_round(tmp_path)
    assert not check.ok and check.problems
    assert "not usable" in check._repr_html_()
    with pytest.raises(ui.NotUsable, match="is not usable .* fix its files") as info:
        check.require()
    assert info.value._render_traceback_() == [str(info.value)]  # one sentence in the cell, no traceback


def test_validate_round_shows_refused_registrations(tmp_path):
    round_dir, _, _ = write_solved_round(tmp_path)
    check = ui.validate_round(round_dir)
    assert check.ok and check.require() is check.round
    assert "usable round" in check._repr_html_()


# -- review panel ------------------------------------------------------------------------------
@pytest.fixture
def review(tmp_path):
    round_dir, out, _ = write_solved_round(tmp_path)
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    round_id = ledger.record_round(load_round(round_dir), out)
    panel = ui.ReviewPanel(ledger, round_id, reviewer="ana@clamtex.eu", round_dir=round_dir,
                           export_dir=tmp_path / "exports")
    yield panel, ledger, round_id
    ledger.close()


def test_review_panel_lists_the_partnership_pairs_best_first(review):
    panel, _, _ = review
    assert [v for _, v in panel.partnership_box.options] == ["BLUES", "CLAMTEX"]
    panel.partnership_box.value = "CLAMTEX"
    assert [v for _, v in panel.pair_select.options] == [("V1", "H1"), ("V2", "H1")]
    assert list(panel.grid.data["visitor"]) == ["V1", "V2"]
    assert panel.selected == ("V1", "H1")
    assert panel.breakdown.value[:4] == b"\x89PNG"


def test_review_panel_accept_and_reject_are_written_to_the_ledger(review):
    panel, ledger, round_id = review
    panel.partnership_box.value = "CLAMTEX"
    panel.select_pair("V1", "H1")
    panel.comment_box.value = "good fit"
    assert panel.decide("accept") is not None
    panel.select_pair("V2", "H1")
    assert panel.decide("reject") is not None
    d = ledger.decisions(round_id)
    assert d[["visitor_id", "host_id", "decision", "reviewer", "comment"]].to_dict("records") == [
        {"visitor_id": "V1", "host_id": "H1", "decision": "accept", "reviewer": "ana@clamtex.eu",
         "comment": "good fit"},
        {"visitor_id": "V2", "host_id": "H1", "decision": "reject", "reviewer": "ana@clamtex.eu", "comment": ""},
    ]
    assert "reject recorded" in panel.status.value
    assert dict(zip(panel.grid.data["visitor"], panel.grid.data["decision"])) == {"V1": "accept", "V2": "reject"}


def test_review_panel_shows_why_the_ledger_refuses(review):
    panel, ledger, round_id = review
    panel.reviewer_box.value = "  "
    assert panel.decide("accept") is None
    assert "not recorded" in panel.status.value and "reviewer must be given" in panel.status.value
    assert ledger.decisions(round_id).empty


def test_review_panel_lock_is_checked_against_the_rules(review):
    panel, ledger, round_id = review
    panel.partnership_box.value = "BLUES"
    assert panel.decide("lock") is not None
    assert ledger.current_decisions()["decision"].tolist() == ["lock"]


def test_review_panel_search_and_status_filter(review):
    panel, _, _ = review
    panel.partnership_box.value = "CLAMTEX"
    panel.search_box.value = "clúster têxtil"
    assert [v for _, v in panel.pair_select.options] == [("V1", "H1")]
    panel.search_box.value = "lyon nowhere"
    assert panel.pair_select.options == () and panel.selected is None
    assert "no pair selected" in panel.details.value
    panel.search_box.value = ""
    panel.select_pair("V2", "H1")
    panel.decide("reject")
    panel.status_filter.value = "open"
    assert [v for _, v in panel.pair_select.options] == [("V1", "H1")]
    panel.status_filter.value = "rejected"
    assert [v for _, v in panel.pair_select.options] == [("V2", "H1")]


def test_search_pairs_needs_every_word_and_a_known_filter():
    t = pd.DataFrame({"visitor_id": ["A", "B"], "visitor_name": ["Textil Porto", "Water Lyon"],
                      "decision": [None, "accept"]})
    assert search_pairs(t, "porto TEXTIL")["visitor_id"].tolist() == ["A"]
    assert search_pairs(t, "", "accepted")["visitor_id"].tolist() == ["B"]
    assert search_pairs(t, "", "open")["visitor_id"].tolist() == ["A"]
    assert set(STATUS_FILTERS) >= {"all", "open"}
    with pytest.raises(ValueError, match="status filter"):
        search_pairs(t, "", "maybe")


def test_review_panel_grid_selection_selects_the_pair(review):
    panel, _, _ = review
    panel.partnership_box.value = "CLAMTEX"
    panel.grid.selections = [{"r1": 1, "r2": 1, "c1": 0, "c2": 3}]
    assert panel.selected == ("V2", "H1")
    assert "V2" in panel.details.value


def test_review_panel_select_pair_names_a_pair_not_shown(review):
    panel, _, _ = review
    panel.partnership_box.value = "BLUES"
    with pytest.raises(Exception, match="V1"):
        panel.select_pair("V1", "H1")


def test_review_panel_export_writes_a_safe_csv_of_the_partnership(review, tmp_path):
    panel, _, round_id = review
    panel.partnership_box.value = "CLAMTEX"
    panel.sep_box.value = ";"
    panel.xlsx_box.value = True
    written = panel.export()
    assert [p.name for p in written] == [f"round_{round_id}_CLAMTEX.csv", f"round_{round_id}_CLAMTEX.xlsx"]
    raw = written[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "Clúster Têxtil" in text and ";" in text.splitlines()[0]
    assert "V3" not in text  # only this partnership's pairs


def test_review_panel_without_folders_says_what_to_set(tmp_path):
    round_dir, out, _ = write_solved_round(tmp_path)
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}")
    ledger.record_round(load_round(round_dir), out)
    panel = ui.ReviewPanel(ledger)
    assert panel.export() == [] and "export_dir" in panel.status.value
    assert panel.resolve() is None and "resolve_dir" in panel.status.value
    with pytest.raises(Exception, match="CELIS"):
        ui.ReviewPanel(ledger, partnership="CELIS")
    ledger.close()


def test_table_escapes_html_and_aligns_text_left():
    html = ui.table(pd.DataFrame({"name": [HOSTILE_NAME], "lump_sum_eur": [1234.5678]})).to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "1,234.57" in html and "text-align: left" in html


def test_click_waits_for_a_pair_selection_still_being_handled(review):
    """ipykernel 7 handles a click in the main thread while a widget update may still be
    handled in a subshell thread: the decision must go to the pair selected before the
    click, with the comment typed before it."""
    panel, ledger, round_id = review
    panel.partnership_box.value = "CLAMTEX"
    assert panel.selected == ("V1", "H1")

    def slow_update():  # the browser's "select V2, type a comment", still being handled
        time.sleep(0.4)
        panel.select_pair("V2", "H1")
        panel.comment_box.value = "typed just before the click"

    async def main():
        t = threading.Thread(target=panel._handled, args=(slow_update,))
        t.start()
        await asyncio.sleep(0.05)
        panel._on_click(lambda: panel.decide("reject"))  # the click, handled at once
        await asyncio.sleep(1.5)
        t.join()

    asyncio.run(main())
    d = ledger.decisions(round_id)
    assert d[["visitor_id", "decision", "comment"]].to_dict("records") == [
        {"visitor_id": "V2", "decision": "reject", "comment": "typed just before the click"}]



def test_settings_panel_shows_every_settings_problem_on_its_own_line():
    panel = ui.SettingsPanel()
    panel.controls["solver.fairness_share"].value = 1.5
    panel.controls["solver.programme_budget_eur"].value = -5.0
    assert panel.check() is None
    shown = panel.message.value
    assert "solver.fairness_share" in shown and "solver.programme_budget_eur" in shown
    assert shown.count("<br>") >= 1 and shown.count("&#9888;") >= 2
