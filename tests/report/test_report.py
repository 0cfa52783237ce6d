"""Round tables, figures and the HTML round report, on a small hand-made solved round."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from ui_helpers import write_solved_round

from matchmaker.cli import main
from matchmaker.inputs.loading import load_round
from matchmaker.proposals.summary import TOTAL_SCORE_NOTE
from matchmaker.report import plots
from matchmaker.report import tables as T
from matchmaker.report.html import SECTIONS, build_report, write_report


@pytest.fixture
def solved(tmp_path):
    return write_solved_round(tmp_path)


def test_budget_use_adds_committed_and_proposed_against_each_budget(solved):
    _, _, props = solved
    budgets = pd.Series({"CLAMTEX": 2000.0, "BLUES": 1000.0, "CELIS": 500.0})
    table = T.budget_use(props, budgets, committed=pd.Series({"CLAMTEX": 800.0}))
    assert list(table.index) == ["BLUES", "CELIS", "CLAMTEX"]
    assert table.loc["CLAMTEX", "exchanges"] == 2
    assert table.loc["CLAMTEX", "proposed_eur"] == 1560.0
    assert table.loc["CLAMTEX", "remaining_eur"] == pytest.approx(2000 - 800 - 1560)
    assert table.loc["CLAMTEX", "used_share"] == pytest.approx((800 + 1560) / 2000)
    assert table.loc["CELIS", "exchanges"] == 0 and table.loc["CELIS", "remaining_eur"] == 500.0


def test_budget_use_lists_a_partnership_with_proposals_but_no_budget(solved):
    _, _, props = solved
    table = T.budget_use(props, pd.Series({"CLAMTEX": 2000.0}))
    assert table.loc["BLUES", "budget_eur"] == 0.0
    assert np.isnan(table.loc["BLUES", "used_share"])


def test_country_flows_is_square_over_every_country(solved):
    _, _, props = solved
    flows = T.country_flows(props)
    assert list(flows.index) == list(flows.columns) == ["DE", "ES", "FR", "PL", "PT"]
    assert flows.loc["ES", "PT"] == 1 and flows.loc["FR", "PT"] == 1 and flows.loc["DE", "PL"] == 1
    assert flows.to_numpy().sum() == 3


def test_unmatched_reasons_group_by_the_reason_code_in_words():
    un = pd.DataFrame({"visitor_id": ["A", "B"], "reason_code": ["budget_spent", "budget_spent"],
                       "reason": ["CLAMTEX has EUR 10 left", "CLAMTEX has EUR 5 left"]})
    assert T.unmatched_reasons(un)[["reason", "visitors"]].to_dict("records") == [
        {"reason": "its Partnership's budget is spent", "visitors": 2}]


def test_unmatched_reasons_of_an_older_file_group_by_rule_and_keep_an_example():
    un = pd.DataFrame({"visitor_id": ["A", "B", "C"], "rule": ["budget", "budget", None],
                       "reason": ["no budget for A", "no budget for B", "no eligible host"]})
    r = T.unmatched_reasons(un)
    assert r.to_dict("records") == [
        {"reason": "budget", "visitors": 2, "example": "no budget for A"},
        {"reason": "no eligible host", "visitors": 1, "example": "no eligible host"},
    ]
    assert T.unmatched_reasons(un.iloc[:0]).empty


def test_exchange_segments_take_coordinates_from_the_round(solved):
    round_dir, _, props = solved
    rnd = load_round(round_dir)
    seg = T.exchange_segments(props, rnd.visitors, rnd.hosts)
    row = seg[seg["visitor_id"] == "V3"].iloc[0]
    assert (row["v_lat"], row["v_lon"], row["h_lat"], row["h_lon"]) == (52.52, 13.405, 52.2297, 21.0122)
    assert row["mode"] == "virtual" and row["host_country"] == "PL"


def test_exchange_segments_refuse_proposals_of_another_round(solved):
    round_dir, _, props = solved
    rnd = load_round(round_dir)
    bad = props.assign(visitor_id=["V1", "V2", "V999"])
    with pytest.raises(ValueError, match="V999"):
        T.exchange_segments(bad, rnd.visitors, rnd.hosts)


def test_score_summary_has_a_row_per_partnership_and_all(solved):
    _, _, props = solved
    s = T.score_summary(props)
    assert s.loc["CLAMTEX", "mean"] == 70.0 and s.loc["(all)", "exchanges"] == 3
    assert s.loc["(all)", "score_sectors"] == pytest.approx(100 / 3, abs=0.01)


def test_headline_reads_solver_fields_from_the_summary(solved):
    _, _, props = solved
    h = T.headline(props, pd.DataFrame({"visitor_id": ["V4"], "reason": ["x"]}),
                   {"solver": {"status": "optimal", "gap": 0.0}})
    assert h["exchanges"] == 3 and h["physical"] == 2 and h["virtual"] == 1
    assert h["lump_sums_eur"] == 1560.0 and h["locked_pairs"] == 1 and h["status"] == "optimal"


def test_headline_text_formats_money_and_gap():
    text = dict(T.headline_text({"exchanges": 1234, "lump_sums_eur": 94085.0, "gap": 0.0087237, "status": "feasible",
                                 "total_score": 10144.8123, "objective": 10144.79, "bound": 10200.0,
                                 "mean_score": None}))
    assert text == {"exchanges proposed": "1,234", "lump sums proposed": "EUR 94,085.00",
                    "gap: at most this far from the best possible": "0.8724%", "solver status": "feasible",
                    f"total score ({TOTAL_SCORE_NOTE})": "10,144.81",
                    "mean score (out of 100)": "-"}  # one total, said what it is: no objective, no bound


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="lump_sum_eur"):
        T.budget_use(pd.DataFrame({"partnership": ["X"]}), pd.Series(dtype=float))


def test_every_figure_draws_data_and_empty_tables(solved):
    round_dir, _, props = solved
    rnd = load_round(round_dir)
    empty = props.iloc[:0]
    figures = [
        plots.budget_figure(T.budget_use(props, rnd.partnerships["budget_eur"])),
        plots.score_figure(props), plots.score_figure(empty),
        plots.flows_figure(T.country_flows(props)), plots.flows_figure(T.country_flows(empty)),
        plots.map_figure(T.exchange_segments(props, rnd.visitors, rnd.hosts)),
        plots.map_figure(T.exchange_segments(empty, rnd.visitors, rnd.hosts)),
        plots.unmatched_figure(T.unmatched_reasons(pd.DataFrame({"visitor_id": ["V4"], "reason": ["r"]}))),
        plots.breakdown_figure(props.iloc[0]),
    ]
    for fig in figures:
        assert isinstance(fig, Figure)
        png = plots.figure_png(fig, dpi=40)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_map_draws_one_line_per_exchange_and_labels_each_country(solved):
    round_dir, _, props = solved
    rnd = load_round(round_dir)
    fig = plots.map_figure(T.exchange_segments(props, rnd.visitors, rnd.hosts))
    ax = fig.axes[0]
    n_lines = sum(len(c.get_segments()) for c in ax.collections if hasattr(c, "get_segments"))
    assert n_lines == 3
    labels = {t.get_text() for t in ax.texts}
    assert labels == {"ES", "FR", "DE", "PT", "PL"}


def test_country_colours_are_stable_whatever_the_order():
    a = plots.country_colours(["PT", "ES", "FR"])
    b = plots.country_colours(["FR", "PT", "ES", "ES"])
    assert a == b and len(set(a.values())) == 3


def test_report_has_every_section_and_embedded_pngs(solved):
    round_dir, out, _ = solved
    text = build_report(out, round_dir=round_dir, dpi=30)
    for key in SECTIONS:
        assert f'<section id="{key}">' in text
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 6  # match quality, budget, scores, flows, map, unmatched
    assert all(base64.b64decode(i)[:4] == b"\x89PNG" for i in images)
    assert "http://" not in text and "https://" not in text  # self-contained: nothing fetched
    assert "partnership CLAMTEX has no budget left for this visitor" in text


def test_report_escapes_html_in_organisation_names(solved):
    round_dir, out, _ = solved
    text = build_report(out, round_dir=round_dir, dpi=30)
    assert "<script>" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Clúster Têxtil" in text


def test_report_needs_the_round_data(solved):
    _, out, _ = solved
    with pytest.raises(ValueError, match="round_dir"):
        build_report(out)


def test_write_report_finds_the_round_named_in_the_summary(solved):
    round_dir, out, _ = solved
    summary = json.loads((out / "summary.json").read_text())
    (out / "summary.json").write_text(json.dumps(summary | {"round_dir": str(round_dir)}))
    path = write_report(out, dpi=30)
    assert path == out / "round_report.html"
    assert '<section id="map">' in path.read_text(encoding="utf-8")


def test_report_shows_carried_over_budgets(solved):
    round_dir, out, _ = solved
    summary = {"carry_over": {"budgets": [
        {"partnership_id": "CLAMTEX", "budget_eur": 3000.0, "committed_eur": 900.0, "remaining_eur": 2100.0}],
        "skipped_visitors": [{"visitor_id": "V9"}], "locks_kept": [], "rejected_pairs_forbidden": 2}}
    (out / "summary.json").write_text(json.dumps(summary))
    text = build_report(out, round_dir=round_dir, dpi=30)
    assert "1 visitor(s) skipped" in text and "2 rejected pair(s)" in text
    assert ">900<" in text  # committed column of the budget table


def test_cli_report_writes_the_html(solved, tmp_path, capsys):
    round_dir, out, _ = solved
    dest = tmp_path / "reports" / "r.html"
    assert main(["report", str(out), "--round", str(round_dir), "--html", str(dest)]) == 0
    assert dest.is_file() and "wrote the round report" in capsys.readouterr().out


def test_cli_report_without_round_says_how(solved, capsys):
    _, out, _ = solved
    assert main(["report", str(out)]) == 1
    assert "--round DIR" in capsys.readouterr().err


def test_cli_report_on_a_missing_output_folder(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope"), "--round", str(tmp_path)]) == 1
    assert "proposals.csv" in capsys.readouterr().err
