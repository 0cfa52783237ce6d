"""The match-quality section of the HTML report and its tables (report/tables.quality_*), on the small
hand-made solved round of ui_helpers (3 exchanges, 1 visitor unmatched)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from matplotlib.figure import Figure
from ui_helpers import write_solved_round

from matchmaker.inputs.loading import load_round
from matchmaker.report import plots
from matchmaker.report import tables as T
from matchmaker.report.html import SECTION_BUILDERS, SECTIONS, build_report


@pytest.fixture
def solved(tmp_path):
    return write_solved_round(tmp_path)


def _quality(solved):
    round_dir, out, props = solved
    unmatched = pd.read_csv(out / "unmatched.csv")
    return T.quality_of({}, props, unmatched, load_round(round_dir))


def test_quality_is_measured_from_the_tables_of_an_older_output_set(solved):
    q = _quality(solved)
    assert q["exchanges"] == {"total": 3, "physical": 2, "virtual": 1}
    assert q["score"]["total"] == 180.0 and q["visitors"]["matched"] == 3 and q["visitors"]["total"] == 4


def test_quality_frames_speak_in_words_with_shares_in_percent(solved):
    frames = T.quality_frames(_quality(solved))
    head = dict(zip(frames["headline"]["what"], frames["headline"]["figure"]))
    assert head["exchanges"] == "3 (2 physical, 1 virtual)"
    assert head["visitors matched"] == "3 of 4 (75.0%)"
    assert list(frames["partnership"].columns) == ["Partnership", "visitors", "exchanges", "share matched",
                                                   "total score", "mean score", "exchanges hosted"]
    assert "Spain (ES)" in set(frames["country"]["country"])
    assert set(frames["organisation_type"]["organisation type"]) == {"SME"}
    assert "share used" in frames["budget"].columns and frames["budget"]["share used"].str.endswith("%").all()
    for df in frames.values():
        assert not any("_" in str(c) for c in df.columns)  # no codes as column names


def test_quality_figure_draws_a_panel_per_grouping(solved):
    fig = plots.quality_figure(_quality(solved))
    assert isinstance(fig, Figure) and len([ax for ax in fig.axes if ax.patches]) == 3
    assert plots.figure_png(fig, dpi=30)[:4] == b"\x89PNG"


def test_quality_figure_draws_names_with_dollar_signs_as_they_are(solved):
    q = _quality(solved)
    q["spread"]["partnership"]["groups"][0]["group"] = "Cash $x^{ $ Partnership"  # mathtext would fail on it
    fig = plots.quality_figure(q)
    assert plots.figure_png(fig, dpi=30)[:4] == b"\x89PNG"
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert "Cash \\$x^{ \\$ Partnership" in labels


def test_report_has_the_match_quality_section_after_the_summary(solved):
    round_dir, out, _ = solved
    text = build_report(out, round_dir=round_dir, dpi=30)
    assert list(SECTIONS)[:2] == ["summary", "quality"] and [s[0] for s in SECTION_BUILDERS] == list(SECTIONS)
    section = text[text.index('<section id="quality">'):text.index('<section id="budget">')]
    assert "<h2>Match quality</h2>" in section
    for words in ("Budget use per Partnership", "Spread across Partnerships", "Spread across countries",
                  "Spread across organisation types", "Visitors unmatched by reason",
                  "3 (2 physical, 1 virtual)", "Share of visitors matched per country from",
                  "<td>budget</td>"):
        assert words in section, words
    assert section.count("data:image/png;base64,") == 1
    assert "reason_code" not in section and "share_matched" not in section and "{'" not in section


def test_report_shows_the_recorded_quality_with_comparison_and_stability(solved):
    round_dir, out, props = solved
    q = _quality(solved)
    q["comparison"] = {"summary": "the optimiser proposes 3 exchanges, ranked-list picking 2",
                       "methods": [{"method": "ranked-list picking", "exchanges": 2, "total score": 120.0}]}
    q["stability"] = {"summary": "no blocking pair", "blocking_pairs": []}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    (out / "summary.json").write_text(json.dumps({**summary, "match_quality": q}), encoding="utf-8")
    text = build_report(out, round_dir=round_dir, dpi=30)
    section = text[text.index('<section id="quality">'):text.index('<section id="budget">')]
    assert "The same round matched other ways" in section and "ranked-list picking" in section
    assert "The optimiser proposes 3 exchanges, ranked-list picking 2." in section
    assert "No blocking pair." in section


def test_report_scores_in_one_column_have_the_same_decimals(solved):
    """Seen on the sample's report: 'ranked-list picking' showed 8,892.1 under the optimiser's 10,174.21."""
    round_dir, out, _ = solved
    q = _quality(solved)
    q["comparison"] = {"summary": "compared", "methods": [
        {"method": "the optimiser (this product)", "exchanges": 226, "total_score": 10174.21,
         "budget_used_eur": 94380.0},
        {"method": "ranked-list picking, highest score first", "exchanges": 177, "total_score": 8892.1,
         "budget_used_eur": 93535.0}]}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    (out / "summary.json").write_text(json.dumps({**summary, "match_quality": q}), encoding="utf-8")
    text = build_report(out, round_dir=round_dir, dpi=30)
    section = text[text.index('<section id="quality">'):text.index('<section id="budget">')]
    assert '<td class="num">10,174.21</td>' in section and '<td class="num">8,892.10</td>' in section
    assert '<td class="num">93,535</td>' in section  # whole euros stay whole
    assert "8,892.1<" not in section


def _with_options(out, **solver):
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    settings = summary.get("settings", {})
    settings["solver"] = {**settings.get("solver", {}), **solver}
    return {**summary, "settings": settings}


def test_options_say_the_stability_and_fairness_settings_are_off_by_default(solved):
    _, out, _ = solved
    said = T.options_sentences(_with_options(out, stability_weight=0.0, fairness_share=0.0))
    assert said[0].startswith("stability option off ([solver] stability_weight = 0)")
    assert "reports/match_quality.md" in said[0]
    assert said[1].startswith("fairness option off ([solver] fairness_share = 0)") and len(said) == 2
    assert T.options_sentences({}) == [] and T.options_sentences(None) == []


def test_options_show_the_fairness_share_and_the_groups_short_of_their_target(solved):
    """A fairness share set by country was not visible in the report: its targets and shortfalls now are."""
    round_dir, out, _ = solved
    summary = _with_options(out, stability_weight=1.0, fairness_share=0.6, fairness_by="country")
    summary["round"] = {**summary.get("round", {}), "fairness": [
        {"group": "ES", "eligible_visitors": 3, "target": 2, "exchanges": 1, "shortfall": 1,
         "text": "visitors from ES: 1 exchange(s) for 3 eligible visitor(s), target 2 (60%); 1 short of the target"},
        {"group": "PT", "eligible_visitors": 1, "target": 1, "exchanges": 1, "shortfall": 0,
         "text": "visitors from PT: 1 exchange(s) for 1 eligible visitor(s), target 1 (60%); target met"}]}
    said = T.options_sentences(summary)
    assert said[0].startswith("stability option on ([solver] stability_weight = 1)")
    assert said[1].startswith("fairness option on ([solver] fairness_share = 0.6 by country): each country gets "
                              "at least 60% of its eligible visitors matched")
    assert said[2] == "fairness: 1 exchange(s) short of the targets in 1 of 2 group(s)"
    assert said[3].startswith("visitors from ES") and len(said) == 4  # groups that met the target are not listed
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    text = build_report(out, round_dir=round_dir, dpi=30)
    section = text[text.index('<section id="quality">'):text.index('<section id="budget">')]
    assert "<h3>Stability and fairness options</h3>" in section
    assert "Fairness: 1 exchange(s) short of the targets in 1 of 2 group(s).</p>" in section
