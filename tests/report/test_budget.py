"""The budget section and figure in the users' words: Partnerships' names, shares with one decimal."""

from __future__ import annotations

import pandas as pd
from ui_helpers import write_solved_round

from matchmaker.inputs.loading import load_round
from matchmaker.proposals.wording import partnership_labels, percent_text
from matchmaker.report import plots
from matchmaker.report import tables as T
from matchmaker.report.html import SECTIONS, build_report

PARTNERSHIPS = pd.DataFrame({"name": ["Safe Smart Food", "Placeholder partnership 12 (not identified)"],
                             "budget_eur": [10000.0, 2000.0]}, index=["SAFESMARTFOOD", "PLACEHOLDER_12"])
PROPOSALS = pd.DataFrame({"partnership": ["SAFESMARTFOOD"] * 2 + ["PLACEHOLDER_12"],
                          "lump_sum_eur": [5000.0, 4995.0, 1000.0]})


def _budget() -> pd.DataFrame:
    return T.budget_use(PROPOSALS, PARTNERSHIPS["budget_eur"], names=partnership_labels(PARTNERSHIPS))


def _bar_texts(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


def test_a_99_9_percent_budget_share_is_not_shown_as_100_percent():
    budget = _budget()
    assert budget.loc["SAFESMARTFOOD", "used_share"] == 0.9995
    words = T.budget_words(budget).set_index("Partnership")
    assert words.loc["Safe Smart Food", "budget used"] == "99.9%"
    assert words.loc["Placeholder partnership 12 (not identified)", "budget used"] == "50.0%"
    texts = _bar_texts(plots.budget_figure(budget))
    assert "2 exchanges, 99.9% used" in texts and "1 exchange, 50.0% used" in texts
    assert not any("100" in t for t in texts)
    assert [percent_text(s) for s in (0.99999, 1.0, 0.00001, 0.0, 0.4567)] == ["99.9%", "100.0%", "0.1%", "0.0%",
                                                                                 "45.7%"]


def test_budget_bar_labels_are_the_partnerships_names_not_their_ids():
    labels = [t.get_text() for t in plots.budget_figure(_budget()).axes[0].get_yticklabels()]
    assert sorted(labels) == ["Placeholder partnership 12 (not identified)", "Safe Smart Food"]
    assert not any("exch." in t for t in _bar_texts(plots.budget_figure(_budget())))


def test_budget_bar_labels_keep_the_id_when_two_partnerships_share_a_name():
    parts = pd.DataFrame({"name": ["Textiles", "Textiles"], "budget_eur": [100.0, 100.0]}, index=["T1", "T2"])
    budget = T.budget_use(PROPOSALS.iloc[:0], parts["budget_eur"], names=partnership_labels(parts))
    labels = [t.get_text() for t in plots.budget_figure(budget).axes[0].get_yticklabels()]
    assert sorted(labels) == ["Textiles (T1)", "Textiles (T2)"]


def test_budget_words_names_the_columns_and_the_partnerships():
    words = T.budget_words(_budget())
    assert list(words["Partnership"]) == ["Placeholder partnership 12 (not identified)", "Safe Smart Food"]
    assert list(words.columns) == ["Partnership", "exchanges", "budget (EUR)", "committed earlier (EUR)",
                                   "proposed this round (EUR)", "remaining (EUR)", "budget used"]
    assert "SAFESMARTFOOD" not in words.to_string()


def test_the_report_s_budget_section_names_partnerships_with_a_capital_p(tmp_path):
    round_dir, out, _ = write_solved_round(tmp_path)
    page = build_report(out, rnd=load_round(round_dir))
    assert SECTIONS["budget"] == "Budget used per Partnership"
    section = page[page.index('<section id="budget">'):]
    section = section[:section.index("</section>")]
    assert "used_share" not in section and "budget_eur" not in section and "budget used" in section


def test_budget_rows_are_sorted_by_name_whatever_the_case():
    parts = pd.DataFrame({"name": ["SMART4NZEB", "Safe Smart Food", "BLUES"], "budget_eur": [1.0, 1.0, 1.0]},
                         index=["S4", "SSF", "B"])
    budget = T.budget_use(PROPOSALS.iloc[:0], parts["budget_eur"], names=partnership_labels(parts))
    assert list(budget["name"]) == ["BLUES", "Safe Smart Food", "SMART4NZEB"]
