"""The exchange-building panels in process (issue 14): pipeline, steps by the buttons, drafts, EC draw, statement.

The round is :mod:`exchange_round`'s (four exchanges: physical, virtual, locked, two Partnerships in charge);
buttons are clicked with ``Button.click()`` (outside an event loop a click acts at once).
"""

from __future__ import annotations

import re

import pytest
from exchange_round import write_exchange_round

from matchmaker.building.ctq_docx import docx_text
from matchmaker.inputs.loading import load_round
from matchmaker.ledger import tables
from matchmaker.ledger.step_history import step_history
from matchmaker.ledger.steps import exchange_pipeline
from matchmaker.ledger.store import Ledger
from matchmaker.ui.exchange_building import ExchangePanel
from matchmaker.ui.exchange_money import EcDrawPanel, StatementPanel

CODES = ("ctq_drafted", "signed_by_", "validated_by_", "fa_signed", "Ledger(", "Traceback", "{'", "None")


@pytest.fixture
def setup(tmp_path):
    round_dir, url = write_exchange_round(tmp_path)
    with Ledger(url) as ledger:
        panel = ExchangePanel(ledger, round_dir, by="ana@clamtex.eu", drafts_dir=tmp_path / "drafts")
        yield ledger, panel, round_dir, tmp_path / "drafts"


def buttons(panel) -> dict[str, list]:
    """The step buttons shown, by step (CSS class mm-step-<step>)."""
    out: dict[str, list] = {}
    for b in panel.steps_box.children:
        step = next(c for c in b._dom_classes if c.startswith("mm-step-")).removeprefix("mm-step-")
        out.setdefault(step, []).append(b)
    return out


def shown_text(panel) -> str:
    return " ".join([panel.round_label.value, panel.counts.value, panel.details.value, panel.status.value,
                     *[label for label, _ in panel.select.options], *[b.description for b in panel.steps_box.children]])


def steps_of(ledger, visitor_id, host_id) -> list[tuple]:
    s = tables.exchange_steps.c
    with ledger.engine.connect() as conn:
        h = step_history(conn, (s.visitor_id == visitor_id) & (s.host_id == host_id))
    return list(zip(h["step"], h["partnership"].fillna(""), h["actor"]))


def test_the_pipeline_counts_and_filters_by_partnership_in_charge(setup):
    _, panel, _, _ = setup
    assert [v for _, v in panel.partnership_box.options] == ["", "BLUES", "BRILLIANT", "CLAMTEX"]
    assert "all Partnerships (4 exchanges)" in panel.partnership_box.options[0][0]
    assert re.search(r"accepted, no step yet</td><td[^>]*>3<", panel.counts.value)
    assert re.search(r"locked, no step yet</td><td[^>]*>1<", panel.counts.value)
    panel.partnership_box.value = "BRILLIANT"  # host's Partnership: in charge of both exchanges at H002
    assert [v for _, v in panel.select.options] == [("V003", "H002"), ("V004", "H002")]
    assert len(panel.grid.data) == 2 and list(panel.grid.data["visitor"]) == ["V003", "V004"]
    assert "Lyon Digital &lt;b&gt;Hub" not in panel.counts.value
    for code in CODES:
        assert code not in shown_text(panel), code


def test_one_exchange_from_accepted_to_financial_agreement_by_clicking(setup):
    ledger, panel, _, drafts = setup
    panel.select_exchange("V004", "H002")
    assert set(buttons(panel)) == {"ctq_drafted", "withdrawn"}
    buttons(panel)["ctq_drafted"][0].click()  # writes the draft and records the step
    assert "recorded for 1 exchange(s)" in panel.status.value
    assert (drafts / "ctq_V004_H002.docx").is_file() and (drafts / "ctq_V004_H002.html").is_file()
    assert "Milano Lighting Cluster" in docx_text(drafts / "ctq_V004_H002.docx")
    assert panel.downloads.value.count("class='mm-download'") == 2 and "ctq_V004_H002.docx" in panel.downloads.value
    for step in ("signed_by_visitor", "signed_by_host"):
        buttons(panel)[step][0].click()
    validate = buttons(panel)["validated_by_partnership"]
    assert [b.description for b in validate] == ["Validated by CLAMTEX", "Validated by BRILLIANT"]
    validate[1].click()
    assert [b.description for b in buttons(panel)["validated_by_partnership"]] == ["Validated by CLAMTEX"]
    assert "validated by BRILLIANT (1 of 2 Partnerships)" in panel.details.value
    buttons(panel)["validated_by_partnership"][0].click()
    buttons(panel)["validated_by_support_office"][0].click()
    assert set(buttons(panel)) == {"fa_signed", "withdrawn"}
    buttons(panel)["fa_signed"][0].click()
    assert "Financial Agreement signed" in panel.status.value and panel.selected == ("V004", "H002")
    assert steps_of(ledger, "V004", "H002") == [
        ("ctq_drafted", "", "ana@clamtex.eu"), ("signed_by_visitor", "", "ana@clamtex.eu"),
        ("signed_by_host", "", "ana@clamtex.eu"), ("validated_by_partnership", "BRILLIANT", "ana@clamtex.eu"),
        ("validated_by_partnership", "CLAMTEX", "ana@clamtex.eu"),
        ("validated_by_support_office", "", "ana@clamtex.eu"), ("fa_signed", "", "ana@clamtex.eu")]
    assert re.search(r"Financial Agreement signed</td><td[^>]*>1<", panel.counts.value)
    for code in CODES:
        assert code not in shown_text(panel), code


def test_refusals_are_said_in_words_and_record_nothing(setup):
    ledger, panel, _, drafts = setup
    panel.select_exchange("V001", "H001")
    panel.by_box.value = " "
    assert panel.draft() is None and "who drafts must be given" in panel.status.value
    assert not drafts.exists()
    panel.by_box.value = "ana"
    assert panel.record("withdrawn") is None and "a withdrawal needs its reason" in panel.status.value
    assert panel.record("signed_by_host") is None
    assert "cannot be signed by the host before its Commitment to Quality is drafted" in panel.status.value
    panel.select_exchange("V003", "H002")  # locked: no Financial Agreement until accepted
    assert panel.record("fa_signed") is None and "accept it first" in panel.status.value
    assert steps_of(ledger, "V001", "H001") == [] and steps_of(ledger, "V003", "H002") == []
    assert "#b00020" in panel.status.value  # shown in red


def test_a_virtual_exchange_has_no_financial_agreement_button(setup):
    _, panel, _, _ = setup
    panel.select_exchange("V002", "H001")
    panel.record("ctq_drafted")  # the step alone, as the command line's `step` does
    for step in ("signed_by_host", "signed_by_visitor", "validated_by_partnership", "validated_by_partnership",
                 "validated_by_support_office"):  # BLUES pays, CLAMTEX hosts: two validations
        buttons(panel)[step][0].click()
    assert set(buttons(panel)) == {"started", "withdrawn"}
    assert "none (virtual exchange)" in panel.details.value


def test_withdrawal_with_its_reason_releases_the_lump_sum(setup):
    ledger, panel, round_dir, _ = setup
    panel.select_exchange("V001", "H001")
    panel.reason_box.value = "the visitor cannot travel in March"
    buttons(panel)["withdrawn"][0].click()
    assert "withdrawn" in panel.status.value and panel.reason_box.value == ""
    assert "withdrawn (before any step): the visitor cannot travel in March" in panel.details.value
    st = StatementPanel(ledger, load_round(round_dir), partnership="CLAMTEX")
    assert "released (withdrawn)</th><td style='text-align:right'>EUR 780.00" in st.summary.value
    assert "remaining for new exchanges</th><td style='text-align:right'>EUR 59,550.00" in st.summary.value


def test_draft_every_exchange_not_drafted_yet(setup):
    ledger, panel, _, drafts = setup
    panel.select_exchange("V001", "H001")
    panel.draft()
    panel.draft_all_button.click()
    assert "recorded for 3 exchange(s)" in panel.status.value
    assert sorted(p.name for p in drafts.glob("*.docx")) == [f"ctq_{v}_{h}.docx" for v, h in
                                                            (("V001", "H001"), ("V002", "H001"), ("V003", "H002"),
                                                             ("V004", "H002"))]
    assert set(exchange_pipeline(ledger)["state"]) == {"ctq_drafted"}
    panel.draft()  # again on a drafted exchange: files unchanged, the first record kept
    assert "already recorded before (kept)" in panel.status.value
    assert panel.draft_all() is None and "drafted already" in panel.status.value


def test_ec_draw_panel_draws_records_and_checks_and_the_drawn_need_ec(setup):
    ledger, panel, _, _ = setup
    ec = EcDrawPanel(ledger, share=0.1, seed=3, by="", on_change=panel.refresh)
    assert ec.draw() is None and "who draws must be given" in ec.status.value
    ec.by_box.value = "support@office.eu"
    d = ec.draw()
    assert d is not None and "same exchanges" in ec.draws.value and "per Partnership" in ec.draws.value
    again = EcDrawPanel(ledger)
    assert again.draws.value == ec.draws.value  # recorded: another panel shows it
    drawn = list(zip(d.drawn["visitor_id"], d.drawn["host_id"]))
    assert len(drawn) == 2  # one in each Partnership that pays an exchange (BLUES, CLAMTEX)
    v, h = drawn[0]
    panel.select_exchange(v, h)
    assert "drawn: the European Commission validates it" in panel.details.value
    assert ec.draw() is None and "no exchange to draw" in ec.status.value  # each exchange is drawn at most once


def test_statement_panel_totals_and_rows(setup):
    ledger, panel, round_dir, _ = setup
    st = StatementPanel(ledger, load_round(round_dir))
    assert list(st.partnership_box.options) == ["BLUES", "CLAMTEX"]
    st.partnership_box.value = "CLAMTEX"
    assert "reserved (accepted, Financial Agreement not signed yet)</th><td style='text-align:right'>EUR 1,230.00" \
        in st.summary.value
    assert st.table.value.count("</tr>") == 3  # header and V001, V004
    assert "Łódź Textile Hub" in st.table.value and "780.00" in st.table.value


def test_the_statement_follows_the_steps_recorded_in_the_exchanges_panel(setup):
    ledger, panel, round_dir, _ = setup
    st = StatementPanel(ledger, load_round(round_dir), partnership="CLAMTEX")
    panel.listeners.append(st.refresh)
    panel.select_exchange("V001", "H001")
    for step in ("ctq_drafted", "signed_by_host", "signed_by_visitor", "validated_by_partnership",
                 "validated_by_support_office", "fa_signed"):
        panel.record(step)
    assert "committed (Financial Agreement signed)</th><td style='text-align:right'>EUR 780.00" in st.summary.value
    assert "Financial Agreement signed" in st.table.value


def test_a_ledger_without_exchanges_is_said_in_words(tmp_path):
    round_dir, url = write_exchange_round(tmp_path)
    with Ledger(url) as ledger:
        for (v, h) in (("V001", "H001"), ("V002", "H001"), ("V003", "H002"), ("V004", "H002")):
            ledger.decide(1, v, h, "reopen", reviewer="ana")
        panel = ExchangePanel(ledger, round_dir, drafts_dir=tmp_path / "drafts")
        assert panel.select.options == () and "accept pairs in notebook 02 first" in panel.details.value
        assert panel.steps_box.children == () and "0 exchange(s)" in panel.round_label.value
        assert panel.draft_all() is None
        st = StatementPanel(ledger, load_round(round_dir))
        assert st.partnership_box.value is None and "no Partnership pays an exchange yet" in st.summary.value
        ec = EcDrawPanel(ledger, by="office")
        assert ec.draw() is None and "no exchange to draw" in ec.status.value


def test_a_partnership_without_exchanges_is_said_and_all_are_shown(setup):
    ledger, _, round_dir, _ = setup
    panel = ExchangePanel(ledger, round_dir, partnership="NOPE")
    assert "Partnership NOPE is in charge of no exchange yet" in panel.status.value and len(panel.select.options) == 4
    st = StatementPanel(ledger, load_round(round_dir), partnership="NOPE")
    assert "Partnership NOPE pays no exchange and has no budget" in st.status.value
    assert st.partnership_box.value == "BLUES"
    assert StatementPanel(ledger, load_round(round_dir), partnership="CELIS").partnership_box.value == "CELIS"
