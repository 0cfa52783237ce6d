"""The EC validation draw and a Partnership's statement, as notebook panels.

* :class:`EcDrawPanel` (Support Office): the share (``mm-ec-share``), the seed
  (``mm-ec-seed``), one draw per Partnership or over all exchanges (``mm-ec-stratified``),
  who draws (``mm-ec-by``) and *Run the EC draw* (``mm-ec-run``); every recorded draw
  below (``mm-ec-draws``), each re-run from its seed to show that it draws the same
  exchanges again (:func:`matchmaker.ledger.ec_draw.check_ec_draw`).
* :class:`StatementPanel`: a Partnership's budget and where its lump sums are: reserved,
  committed, paid, released, and what remains (``mm-st-summary``), then one row per
  exchange it pays (``mm-st-table``); ``mm-st-refresh`` reads the ledger again.

Status lines (``mm-ec-status``, ``mm-st-status``) say what happened or why not, in words.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as W
import pandas as pd

from matchmaker.inputs.instance import Round
from matchmaker.ledger.ec_draw import Draw, check_ec_draw, ec_draw, ec_draws
from matchmaker.ledger.money import statement
from matchmaker.ledger.steps import exchange_pipeline
from matchmaker.ledger.store import Ledger, LedgerError
from matchmaker.ui.click_safe import ClickSafe
from matchmaker.ui.exchange_widgets import frame_html, status_html
from matchmaker.ui.review_widgets import classed
from matchmaker.ui.wording import when

#: The statement's rows: column -> header.
STATEMENT_HEADERS = {"visitor_id": "visitor", "visitor_name": "visitor name", "host_id": "host",
                     "host_name": "host name", "mode": "mode", "state_words": "state", "lump_sum_eur": "lump sum (EUR)",
                     "money": "lump sum is", "reserved_eur": "reserved (EUR)", "committed_eur": "committed (EUR)",
                     "paid_eur": "paid (EUR)", "released_eur": "released (EUR)"}
#: The statement's totals, in order: key -> words.
TOTALS = {"budget_eur": "budget", "reserved_eur": "reserved (accepted, Financial Agreement not signed yet)",
          "committed_eur": "committed (Financial Agreement signed)", "paid_eur": "paid (reported)",
          "released_eur": "released (withdrawn)", "remaining_eur": "remaining for new exchanges"}


def draws_html(ledger: Ledger, draws: list[Draw]) -> str:
    """The recorded draws as a table, each re-run from its seed (same exchanges or not)."""
    if not draws:
        return "<p><i>no EC draw recorded yet</i></p>"
    rows = []
    for d in draws:
        same, _ = check_ec_draw(ledger, d.draw_id)
        drawn = ", ".join(f"{v} with {h}" for v, h in zip(d.drawn["visitor_id"], d.drawn["host_id"])) or "none"
        at = pd.Timestamp(d.drawn_at)
        at = at.tz_localize("UTC") if at.tzinfo is None else at
        rows.append({"draw": d.draw_id, "when": when(at), "by": d.drawn_by, "seed": d.seed,
                     "share": f"{d.share:.0%}", "how": "per Partnership" if d.by_partnership else "over all",
                     "candidates": len(d.candidates), "drawn": drawn,
                     "re-run from its seed": "same exchanges" if same else "OTHER exchanges: check the ledger"})
    return frame_html(pd.DataFrame(rows), "mm-ec-draws-table")


class EcDrawPanel(ClickSafe):
    """The Support Office's random draw of exchanges for validation by the European Commission.

    ``on_change`` (e.g. an :class:`~matchmaker.ui.exchange_building.ExchangePanel`'s ``refresh``)
    is called after a draw is recorded.
    """

    def __init__(self, ledger: Ledger, *, share: float = 0.1, seed: int = 0, by: str = "",
                 on_change: Callable[[], None] | None = None):
        self.ledger, self.on_change = ledger, on_change
        self.share_box = classed(W.BoundedFloatText(value=share, min=0.01, max=1.0, step=0.01,
                                                    description="Share", layout=W.Layout(width="200px")),
                                 "mm-ec-share")
        self.seed_box = classed(W.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="Seed",
                                                 layout=W.Layout(width="220px")), "mm-ec-seed")
        self.stratified_box = classed(W.Checkbox(value=True, indent=False, layout=W.Layout(width="auto"),
                                                 description="draw in each Partnership (at least one each)"),
                                      "mm-ec-stratified")
        self.by_box = classed(W.Text(value=by, description="Drawn by", placeholder="name or e-mail",
                                     layout=W.Layout(width="340px")), "mm-ec-by")
        self.run_button = classed(W.Button(description="Run the EC draw", icon="random", button_style="warning"),
                                  "mm-ec-run")
        self.status = classed(W.HTML(), "mm-ec-status")
        self.draws = classed(W.HTML(), "mm-ec-draws")
        self._init_click_safe(self._say)
        for w in (self.share_box, self.seed_box, self.stratified_box, self.by_box):
            w.observe(lambda _c: self._handled(lambda: None), names="value")
        self.run_button.on_click(lambda _b: self._on_click(self.draw))
        self.widget = classed(W.VBox([
            W.HTML("Share 0.1 draws 10 % of the exchanges not drawn before (rounded up, in each Partnership when "
                   "ticked). The same candidates, share and seed always draw the same exchanges."),
            W.HBox([self.share_box, self.seed_box, self.stratified_box]), self.by_box, self.run_button,
            self.status, W.HTML("<b>Draws recorded</b>"), self.draws]), "mm-ec")
        self.refresh()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _say(self, text: str, ok: bool = True) -> None:
        self.status.value = status_html(text, ok)

    def refresh(self) -> None:
        """Show the recorded draws again."""
        self.draws.value = draws_html(self.ledger, ec_draws(self.ledger))

    def draw(self) -> Draw | None:
        """Draw with the boxes' share, seed and stratification, and record it; ``None`` when refused."""
        try:
            d = ec_draw(self.ledger, self.share_box.value, int(self.seed_box.value),
                        by_partnership=self.stratified_box.value, by=self.by_box.value)
        except LedgerError as exc:
            self._say(f"no draw recorded: {exc}", ok=False)
            return None
        self._say(d.describe())
        self.refresh()
        if self.on_change is not None:
            self.on_change()
        return d


class StatementPanel(ClickSafe):
    """A Partnership's statement: its budget, reserved, committed, paid, released, remaining; one row per exchange.

    ``rnd`` (the round's data) gives each Partnership's budget (``partnerships.csv``'s ``budget_eur``).
    """

    def __init__(self, ledger: Ledger, rnd: Round | None = None, *, partnership: str | None = None):
        self.ledger = ledger
        self.budgets = ({} if rnd is None else
                        {str(k): float(v) for k, v in rnd.partnerships["budget_eur"].items() if pd.notna(v)})
        self.partnership_box = classed(W.Dropdown(description="Partnership", layout=W.Layout(width="340px")),
                                       "mm-st-partnership")
        self.refresh_button = classed(W.Button(description="Read the ledger again", icon="refresh",
                                               layout=W.Layout(width="220px")),
                                      "mm-st-refresh")
        self.summary = classed(W.HTML(), "mm-st-summary")
        self.table = classed(W.HTML(), "mm-st-table")
        self.status = classed(W.HTML(), "mm-st-status")
        self._init_click_safe(self._say)
        self.partnership_box.observe(lambda _c: self._handled(self.show), names="value")
        self.refresh_button.on_click(lambda _b: self._on_click(self.refresh))
        self.widget = classed(W.VBox([W.HBox([self.partnership_box, self.refresh_button]), self.summary,
                                      self.table, self.status]), "mm-statement")
        self.refresh(partnership)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _say(self, text: str, ok: bool = True) -> None:
        self.status.value = status_html(text, ok)

    def refresh(self, partnership: str | None = None) -> None:
        """Re-read the Partnerships that pay an exchange, and show the chosen one's statement."""
        options = sorted(set(exchange_pipeline(self.ledger)["partnership"].dropna().astype(str)))
        if partnership is not None and partnership not in options:
            if partnership in self.budgets:
                options = sorted([*options, partnership])
            else:  # said, not raised: the notebook goes on
                self._say(f"Partnership {partnership} pays no exchange and has no budget in the round (Partnerships "
                          f"paying an exchange: {', '.join(options) or 'none yet'})", ok=False)
        keep = partnership or self.partnership_box.value
        self.partnership_box.options = options
        self.partnership_box.value = keep if keep in options else (options[0] if options else None)
        self.show()

    def statement(self) -> dict | None:
        """The chosen Partnership's statement (:func:`matchmaker.ledger.money.statement`), or ``None``."""
        p = self.partnership_box.value
        return None if p is None else statement(self.ledger, p, budget_eur=self.budgets.get(p))

    def show(self) -> None:
        """Show the chosen Partnership's totals and its exchanges."""
        result = self.statement()
        if result is None:
            self.summary.value, self.table.value = "<i>no Partnership pays an exchange yet</i>", ""
            return
        rows = "".join(f"<tr><th style='text-align:left;padding-right:1.5em'>{html.escape(words)}</th>"
                       f"<td style='text-align:right'>{_eur(result[key])}</td></tr>" for key, words in TOTALS.items())
        self.summary.value = (f"<b>Partnership {html.escape(result['partnership'])}</b>"
                              f"<table class='mm-st-totals'>{rows}</table>")
        ex = result["exchanges"]
        if ex.empty:
            self.table.value = "<p><i>this Partnership pays no exchange yet</i></p>"
            return
        shown = ex[list(STATEMENT_HEADERS)].rename(columns=STATEMENT_HEADERS)
        self.table.value = frame_html(shown, "mm-st-exchanges")


def _eur(value: float) -> str:
    """EUR 1,234.50; 'not known' for a missing budget."""
    return "not known (no budget in the round's files)" if pd.isna(value) else f"EUR {value:,.2f}"


__all__ = ["EcDrawPanel", "StatementPanel", "draws_html"]
