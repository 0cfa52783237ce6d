"""The round report's exchange-building funnel: how many exchanges reached each step of the validation chain.

:func:`ledger_funnel` reads the ledger beside the round's files (``ROUND_DIR/ledger.sqlite``,
or ``ledger_url``; a ledger file that does not exist is never created) with
:func:`matchmaker.ledger.steps.exchange_funnel`; :func:`funnel_html` is the section's body:
one row per step, the number of exchanges that reached it, their share of all exchanges and
a bar. Without a ledger or an exchange, the section says so in a sentence.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from matchmaker.ledger.engine import LedgerError
from matchmaker.ledger.steps import exchange_funnel
from matchmaker.ledger.workflow import NoLedgerYet, open_ledger

#: Said when the round's ledger has no exchange (or there is no ledger).
NO_EXCHANGE = ("No exchange yet: no pair of this round's ledger is accepted or locked, so none has started its "
               "validation chain (notebook 04, or `matchmaker step`).")


def ledger_funnel(round_dir: str | Path | None, ledger_url: str | None = None) -> pd.DataFrame | None:
    """The funnel of the round's ledger (``step, label, exchanges``), or ``None`` without a ledger or an exchange."""
    if round_dir is None and ledger_url is None:
        return None
    try:
        with open_ledger(round_dir or ".", ledger_url) as ledger:
            funnel = exchange_funnel(ledger)
    except (NoLedgerYet, LedgerError):
        return None
    return funnel if int(funnel["exchanges"].iloc[0]) > 0 else None


def funnel_html(funnel: pd.DataFrame | None) -> str:
    """The section's body: the funnel as a table with bars, or :data:`NO_EXCHANGE`."""
    if funnel is None:
        return f"<p class='note'>{html.escape(NO_EXCHANGE)}</p>"
    total = int(funnel["exchanges"].iloc[0])
    rows = []
    for label, n in zip(funnel["label"], funnel["exchanges"]):
        share = n / total if total else 0.0
        bar = (f"<div style='background:#1f77b4;height:12px;width:{share * 300:.0f}px' "
               f"title='{share:.0%}'></div>")
        rows.append(f"<tr><td>{html.escape(str(label))}</td><td class='num'>{int(n)}</td>"
                    f"<td class='num'>{share:.0%}</td><td>{bar}</td></tr>")
    withdrawn = int(funnel.loc[funnel["step"] == "withdrawn", "exchanges"].sum())
    note = (f"<p class='note'>{total} exchange(s) in the round's ledger (all its rounds); each row counts those "
            "that reached the step. A validation by the Partnerships counts once every Partnership in charge has "
            "validated; only exchanges drawn for it are validated by the European Commission; a virtual exchange "
            f"has no Financial Agreement. {withdrawn} withdrawn at some step.</p>")
    return (note + "<table class='funnel'><tr><th>step</th><th>exchanges</th><th>share</th><th></th></tr>"
            + "".join(rows) + "</table>")


def funnel_section(round_dir: str | Path | None, ledger_url: str | None = None) -> str:
    """:func:`funnel_html` of :func:`ledger_funnel`: the report's *Exchange building* section body."""
    return funnel_html(ledger_funnel(round_dir, ledger_url))


__all__ = ["NO_EXCHANGE", "funnel_html", "funnel_section", "ledger_funnel"]
