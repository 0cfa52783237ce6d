"""The round report's exchange-building funnel (issue 14): how many exchanges reached each step."""

from __future__ import annotations

import re

import pandas as pd
from ui_helpers import write_solved_round

from matchmaker.common.locations import default_ledger_path, default_ledger_url
from matchmaker.inputs.loading import load_round
from matchmaker.ledger.steps import record_step
from matchmaker.ledger.store import Ledger
from matchmaker.report.funnel import NO_EXCHANGE, funnel_html, ledger_funnel
from matchmaker.report.html import SECTIONS, build_report

CHAIN = ["ctq_drafted", "signed_by_host", "signed_by_visitor", "validated_by_partnership",
         "validated_by_support_office", "fa_signed"]


def _row(html_text: str, label: str) -> tuple[int, str]:
    m = re.search(rf"<td>{re.escape(label)}</td><td class='num'>(\d+)</td><td class='num'>(\d+%)</td>", html_text)
    assert m, f"no row {label!r} in the funnel"
    return int(m.group(1)), m.group(2)


def test_the_report_has_the_funnel_of_the_rounds_ledger(tmp_path):
    round_dir, out, props = write_solved_round(tmp_path)
    rnd = load_round(round_dir)
    with Ledger(default_ledger_url(round_dir)) as led:
        rid = led.record_round(rnd, {"proposals": props, "summary": {},
                                     "unmatched": pd.DataFrame(columns=["visitor_id", "reason"])})
        for v, h in (("V1", "H1"), ("V2", "H1"), ("V3", "H3")):
            led.decide(rid, v, h, "accept", reviewer="ana")
        for step in CHAIN:  # V1 up to its Financial Agreement
            record_step(led, "V1", "H1", step, "office")
        record_step(led, "V2", "H1", "ctq_drafted", "office")
        record_step(led, "V3", "H3", "withdrawn", "office", reason="host closed")
    html_text = build_report(out, rnd=rnd)
    assert '<section id="exchanges"><h2>Exchange building</h2>' in html_text and "exchanges" in SECTIONS
    body = html_text.split('<section id="exchanges">')[1].split("</section>")[0]
    assert _row(body, "accepted or locked") == (3, "100%")
    assert _row(body, "Commitment to Quality drafted") == (2, "67%")
    assert _row(body, "validated by every Partnership in charge") == (1, "33%")
    assert _row(body, "Financial Agreement signed") == (1, "33%")
    assert _row(body, "started") == (0, "0%") and _row(body, "withdrawn") == (1, "33%")
    assert "3 exchange(s) in the round's ledger" in body and "1 withdrawn at some step" in body


def test_no_ledger_or_no_exchange_is_said_and_no_ledger_file_is_created(tmp_path):
    round_dir, out, _ = write_solved_round(tmp_path)
    html_text = build_report(out, rnd=load_round(round_dir))
    assert NO_EXCHANGE.split(":")[0] in html_text
    assert not default_ledger_path(round_dir).exists()
    assert ledger_funnel(None) is None and funnel_html(None).startswith("<p class='note'>No exchange yet")
