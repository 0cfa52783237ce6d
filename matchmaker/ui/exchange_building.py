"""The exchange-building panel: the exchanges of the ledger, their validation chain, their drafts.

:class:`ExchangePanel` shows every exchange (a pair accepted or locked in the ledger) with
its state (:func:`matchmaker.ledger.steps.exchange_pipeline`) to the Partnerships and the
Support Office:

* a drop-down of the Partnerships in charge (``mm-ex-partnership``; *all Partnerships*
  first) and the count of exchanges in each state now (``mm-ex-counts``);
* the exchanges in an ipydatagrid ``DataGrid`` (``mm-ex-grid``) and in a list
  (``mm-ex-select``) that follows the grid's selected row;
* the selected exchange's details and the steps recorded so far (``mm-ex-details``);
* who records (``mm-ex-by``), a reason or comment (``mm-ex-reason``: required to
  withdraw) and one button per step allowed now (``mm-ex-steps``; each button has the
  class ``mm-step-<step>``, one *Validated by P* per Partnership still to validate).
  *Draft the Commitment to Quality* writes the exchange's draft (.docx to edit, .html to
  read) into ``drafts_dir`` and records the step, with the links to download them
  (``mm-ex-downloads``); ``mm-ex-draft-all`` does it for every exchange not drafted yet;
* a status line (``mm-ex-status``): what was recorded, or why the ledger refused it, in words.

Clicks act after the widget updates sent before them (:class:`~matchmaker.ui.click_safe.ClickSafe`),
as in the review panel. Every action is a method (:meth:`~ExchangePanel.select_exchange`,
:meth:`~ExchangePanel.record`, :meth:`~ExchangePanel.draft`): drivable without a browser.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import ipywidgets as W
import numpy as np
import pandas as pd
from ipydatagrid import DataGrid

from matchmaker.building.ctq import CtqError
from matchmaker.building.ctq_record import DraftedAndRecorded, draft_and_record
from matchmaker.building.draft import file_stem
from matchmaker.inputs.instance import Round
from matchmaker.inputs.loading import load_round
from matchmaker.ledger import tables
from matchmaker.ledger.step_history import done_steps, step_history
from matchmaker.ledger.step_rules import LABELS, missing_partnerships
from matchmaker.ledger.steps import as_exchange, exchange_pipeline, record_step
from matchmaker.ledger.store import Ledger, LedgerError
from matchmaker.ui.click_safe import ClickSafe
from matchmaker.ui.exchange_widgets import (
    GRID_HEADERS,
    STEP_BUTTONS,
    exchange_details_html,
    exchange_label,
    folder_text,
    pipeline_grid_frame,
    state_counts_html,
    status_html,
)
from matchmaker.ui.pairs_grid import selected_grid_pair, show_rows
from matchmaker.ui.review_widgets import classed
from matchmaker.ui.wording import download_html, ledger_text

#: The drop-down's value for every Partnership.
ALL = ""


class ExchangePanel(ClickSafe):
    """The exchanges of ``ledger`` and their steps (module docstring); display it in a notebook cell.

    Parameters
    ----------
    ledger : Ledger
    round_dir : path-like, optional
        The round's folder (its registrations fill the drafts); without it, *Draft the
        Commitment to Quality* records the step only.
    partnership : str, optional
        Show this Partnership's exchanges first (default: all).
    by : str
        Who records the steps (name or e-mail), editable in the panel.
    drafts_dir : path-like, optional
        Where the drafts are written (required to draft).
    """

    def __init__(self, ledger: Ledger, round_dir: str | Path | None = None, *, partnership: str | None = None,
                 by: str = "", drafts_dir: str | Path | None = None):
        self.ledger = ledger
        self.round_dir = None if round_dir is None else Path(round_dir)
        self.drafts_dir = None if drafts_dir is None else Path(drafts_dir)
        self._rnd: Round | None = None
        self._syncing = False
        self.last_drafts: DraftedAndRecorded | None = None
        #: Called after each step or draft recorded (e.g. a :class:`~matchmaker.ui.exchange_money.StatementPanel`'s
        #: ``refresh``), so other panels show the change.
        self.listeners: list[Callable[[], None]] = []
        self._make_widgets(by)
        self._init_click_safe(self._say)
        self.refresh(partnership=partnership)

    # -- widgets -----------------------------------------------------------------------
    def _make_widgets(self, by: str) -> None:
        self.round_label = classed(W.HTML(), "mm-ex-round")
        self.partnership_box = classed(W.Dropdown(description="Partnership", layout=W.Layout(width="340px")),
                                       "mm-ex-partnership")
        self.counts = classed(W.HTML(layout=W.Layout(margin="0 0 0 2em")), "mm-ex-counts")
        self.grid = classed(DataGrid(pd.DataFrame({"visitor": pd.Series(dtype=str)}), selection_mode="row",
                                     editable=False, base_column_size=120, base_row_size=24,
                                     layout=W.Layout(height="260px", width="100%")), "mm-ex-grid")
        self.select = classed(W.Select(rows=8, layout=W.Layout(width="100%")), "mm-ex-select")
        self.details = classed(W.HTML(), "mm-ex-details")
        self.by_box = classed(W.Text(value=by, description="Recorded by", placeholder="name or e-mail",
                                     style={"description_width": "initial"}, layout=W.Layout(width="340px")),
                              "mm-ex-by")
        self.reason_box = classed(W.Textarea(description="Reason", placeholder="why (required to withdraw; a "
                                             "comment otherwise)", layout=W.Layout(width="520px", height="60px")),
                                  "mm-ex-reason")
        self.steps_box = classed(W.HBox(layout=W.Layout(flex_flow="row wrap")), "mm-ex-steps")
        self.status = classed(W.HTML(), "mm-ex-status")
        self.draft_all_button = classed(W.Button(description="Draft every exchange not drafted yet", icon="file",
                                                 layout=W.Layout(width="300px")), "mm-ex-draft-all")
        self.downloads = classed(W.HTML(), "mm-ex-downloads")
        self.draft_all_button.on_click(lambda _b: self._on_click(self.draft_all))
        self.partnership_box.observe(lambda _c: None if self._syncing else self._handled(self._show_table),
                                     names="value")
        self.select.observe(lambda _c: None if self._syncing else self._handled(self._on_select), names="value")
        self.grid.observe(lambda c: self._handled(self._on_grid_selection, c), names="selections")
        for w in (self.by_box, self.reason_box):
            w.observe(lambda _c: self._handled(lambda: None), names="value")
        self.widget = classed(W.VBox([
            self.round_label,
            W.HBox([self.partnership_box, self.counts], layout=W.Layout(align_items="flex-start")), self.grid,
            W.HTML("<b>Exchanges</b> (select one; the grid's selected row selects it too)"), self.select,
            self.details, self.by_box, self.reason_box, self.steps_box, self.status, self.downloads,
            self.draft_all_button]), "mm-exchanges")

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _say(self, text: str, ok: bool = True) -> None:
        self.status.value = status_html(text, ok)

    @property
    def rnd(self) -> Round | None:
        """The round's data (loaded from ``round_dir`` on first use), or ``None``."""
        if self._rnd is None and self.round_dir is not None:
            self._rnd = load_round(self.round_dir)
        return self._rnd

    # -- data ----------------------------------------------------------------------------
    def _changed(self) -> None:
        self.refresh()
        for listener in self.listeners:
            listener()

    def refresh(self, partnership: str | None = None) -> None:
        """Re-read every exchange and its state from the ledger."""
        self.pipeline = exchange_pipeline(self.ledger)
        in_charge = sorted({p for text in self.pipeline["partnerships_in_charge"] for p in str(text).split(", ")
                            if p})
        if partnership is not None and partnership not in in_charge:  # said, not raised: the notebook goes on
            self._say(f"Partnership {partnership} is in charge of no exchange yet, so every exchange is shown "
                      f"(Partnerships in charge: {', '.join(in_charge) or 'none yet: accept pairs first'})", ok=False)
        keep = self.partnership_box.value if partnership is None else partnership
        counts = {p: sum(p in str(t).split(", ") for t in self.pipeline["partnerships_in_charge"]) for p in in_charge}
        self._syncing = True
        try:
            self.partnership_box.options = [(f"all Partnerships ({len(self.pipeline)} exchanges)", ALL)] + [
                (f"{p} ({n} exchanges)", p) for p, n in counts.items()]
            self.partnership_box.value = keep if keep in in_charge else ALL
        finally:
            self._syncing = False
        self.round_label.value = (f"<b>{len(self.pipeline)} exchange(s)</b> (pairs accepted or locked) &middot; "
                                  f"steps are kept in the {html.escape(ledger_text(self.ledger))}")
        self._show_table()

    def table(self) -> pd.DataFrame:
        """The exchanges shown: all, or those the chosen Partnership is in charge of."""
        p = self.partnership_box.value
        if not p:
            return self.pipeline.reset_index(drop=True)
        mine = [p in str(t).split(", ") for t in self.pipeline["partnerships_in_charge"]]
        return self.pipeline[mine].reset_index(drop=True)

    def _show_table(self) -> None:
        self._shown = self.table()
        self.counts.value = state_counts_html(self._shown)
        self._syncing = True
        try:
            show_rows(self.grid, self.select, pipeline_grid_frame(self._shown), self._shown, exchange_label)
        finally:
            self._syncing = False
        self._show_exchange()

    # -- selection ---------------------------------------------------------------------
    @property
    def selected(self) -> tuple[str, str] | None:
        """The selected exchange ``(visitor_id, host_id)``, or ``None``."""
        return self.select.value

    def select_exchange(self, visitor_id: str, host_id: str) -> None:
        """Select the exchange (visitor_id, host_id) among those shown."""
        pair = (str(visitor_id), str(host_id))
        if pair not in [v for _, v in self.select.options]:
            raise LedgerError(f"exchange (visitor {visitor_id}, host {host_id}) is not among the exchanges shown "
                              f"(Partnership: {self.partnership_box.value or 'all'})")
        self.select.value = pair

    def _on_select(self) -> None:
        self._show_exchange()
        pair = self.select.value
        if pair is None:
            return
        visible = self.grid.get_visible_data()
        if not {GRID_HEADERS["visitor_id"], GRID_HEADERS["host_id"]} <= set(visible.columns):
            return
        hit = np.flatnonzero((visible[GRID_HEADERS["visitor_id"]] == pair[0]).to_numpy()
                             & (visible[GRID_HEADERS["host_id"]] == pair[1]).to_numpy())
        if len(hit):
            self._syncing = True
            try:
                self.grid.select(int(hit[0]), 0, int(hit[0]), len(visible.columns) - 1, clear_mode="all")
            finally:
                self._syncing = False

    def _on_grid_selection(self, change) -> None:
        if self._syncing:
            return
        pair = selected_grid_pair(change, self.grid, GRID_HEADERS["visitor_id"], GRID_HEADERS["host_id"])
        if pair is not None and pair != self.select.value:
            self._syncing = True
            try:
                self.select.value = pair
            finally:
                self._syncing = False
            self._show_exchange()

    def _row(self) -> dict | None:
        pair = self.select.value
        if pair is None:
            return None
        rows = self._shown[(self._shown["visitor_id"] == pair[0]) & (self._shown["host_id"] == pair[1])]
        return rows.iloc[0].to_dict() if len(rows) else None

    def _show_exchange(self) -> None:
        row = self._row()
        if row is None:
            self.details.value = "<i>no exchange selected: accept pairs in notebook 02 first</i>"
            self.steps_box.children = ()
            self.downloads.value = ""
            return
        s = tables.exchange_steps.c
        with self.ledger.engine.connect() as conn:
            hist = step_history(conn, (s.visitor_id == row["visitor_id"]) & (s.host_id == row["host_id"]))
        self.details.value = exchange_details_html(row, hist)
        self.steps_box.children = tuple(self._step_buttons(row, hist))
        self.downloads.value = self._links(row["visitor_id"], row["host_id"])

    def _step_buttons(self, row: dict, hist: pd.DataFrame) -> list[W.Button]:
        """One button per step allowed now; one per Partnership still to validate."""
        buttons = []
        for step in row["next_steps"]:
            label, style = STEP_BUTTONS[step]
            who = (missing_partnerships(as_exchange(row), done_steps(hist)) if step == "validated_by_partnership"
                   else [None])
            for p in who:
                b = classed(W.Button(description=label.format(partnership=p), button_style=style,
                                     layout=W.Layout(width="auto")), f"mm-step-{step}")
                b.on_click(lambda _b, step=step, p=p: self._on_click(lambda: self._step_clicked(step, p)))
                buttons.append(b)
        return buttons

    def _links(self, visitor_id: str, host_id: str) -> str:
        if self.drafts_dir is None:
            return ""
        stem = file_stem(visitor_id, host_id)
        paths = [self.drafts_dir / f"{stem}{s}" for s in (".docx", ".html")]
        found = [p for p in paths if p.is_file()]
        return f"Commitment to Quality draft: {download_html(found)}" if found else ""

    # -- actions ---------------------------------------------------------------------------
    def _step_clicked(self, step: str, partnership: str | None) -> None:
        if step == "ctq_drafted" and self.round_dir is not None:
            self.draft()
        else:
            self.record(step, partnership)

    def record(self, step: str, partnership: str | None = None) -> int | None:
        """Record ``step`` on the selected exchange, by the *Recorded by* box, with the reason box's text.

        Returns the step's id, or ``None`` when the ledger refused (the status line says why, in words).
        """
        pair = self.select.value
        if pair is None:
            self._say("select an exchange first", ok=False)
            return None
        try:
            new_id = record_step(self.ledger, pair[0], pair[1], step, self.by_box.value, self.reason_box.value,
                                 partnership=partnership)
        except LedgerError as exc:
            self._say(f"not recorded: {exc}", ok=False)
            return None
        self.reason_box.value = ""
        self._changed()  # before the status line: once it says "recorded", the buttons are the new ones
        by = f" ({partnership})" if partnership else ""
        self._say(f"'{LABELS[step]}'{by} recorded for visitor {pair[0]} with host {pair[1]} by "
                  f"{self.by_box.value.strip()} (step #{new_id})")
        return new_id

    def draft(self, pairs: list[tuple[str, str]] | None = None) -> DraftedAndRecorded | None:
        """Write the drafts of ``pairs`` (default: the selected exchange) and record 'Commitment to Quality drafted'.

        Returns what was written and recorded, or ``None`` when nothing could be (the status says why).
        """
        pairs = pairs if pairs is not None else ([self.select.value] if self.select.value else [])
        if not pairs:
            self._say("select an exchange first", ok=False)
            return None
        if self.round_dir is None or self.drafts_dir is None:
            self._say("drafting needs round_dir and drafts_dir (set them in the notebook's parameters)", ok=False)
            return None
        try:
            done = draft_and_record(self.rnd, self.ledger, self.drafts_dir, self.by_box.value, pairs)
        except (CtqError, LedgerError) as exc:
            self._say(f"no draft written: {exc}", ok=False)
            return None
        self.last_drafts = done
        self._changed()
        self._say(f"{len(done.drafts)} Commitment to Quality draft(s) (.docx to edit, .html to read) in "
                  f"{folder_text(self.drafts_dir)}; {done.describe()}", ok=all(r.step_id is not None or r.already
                                                                  for r in done.recorded))
        return done

    def draft_all(self) -> DraftedAndRecorded | None:
        """:meth:`draft` every exchange shown whose next step is 'Commitment to Quality drafted'."""
        todo = [(v, h) for v, h, n in zip(self._shown["visitor_id"], self._shown["host_id"],
                                          self._shown["next_steps"]) if "ctq_drafted" in n]
        if not todo:
            self._say("every exchange shown has its Commitment to Quality drafted already", ok=True)
            return None
        return self.draft(todo)


__all__ = ["ALL", "ExchangePanel"]
