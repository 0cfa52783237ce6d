"""The review panel of a partnership: its proposed pairs, their scores, its decisions.

:class:`ReviewPanel` shows one round of the ledger (:class:`matchmaker.ledger.store.Ledger`)
to a partnership's reviewer:

* a drop-down of the partnerships that have proposals (``mm-partnership``), a search
  box (``mm-search``) and a decision filter (``mm-status-filter``);
* the pairs in an ipydatagrid ``DataGrid`` (``mm-grid``: sort and filter by column in
  its header menus), and the same pairs in a list (``mm-pair-select``) that stays in
  sync with the grid's selected row;
* the selected pair's details and score breakdown (``mm-pair-details``,
  ``mm-breakdown``);
* reviewer and comment boxes (``mm-reviewer``, ``mm-comment``) and buttons
  ``mm-accept``, ``mm-reject``, ``mm-lock``, ``mm-reopen``, ``mm-comment-button``,
  each recording a decision in the ledger with the reviewer's name;
* the Partnership's stable re-solve around the decisions (``mm-resolve``, with its progress
  bars ``mm-resolve-progress``): its churn or refusal is shown before anything is recorded,
  and ``mm-record-resolve`` records it as the next round; exporting the partnership's list (``mm-export``, with
  download links ``mm-downloads``);
* a status line (``mm-status``) that says what happened, or why not.

Clicks act once no widget update is being handled and none was for :data:`CLICK_DEFER_S`
seconds: ipykernel 7 handles widget updates in a subshell thread and clicks in the main
one, and a decision must never go to the previous pair or lose its comment (regression
test ``test_click_waits_for_a_pair_selection_still_being_handled``, and the browser test).

The CSS classes are stable (the browser test and the screenshots use them). Every action
is also a method (:meth:`~ReviewPanel.select_pair`, :meth:`~ReviewPanel.decide`, :meth:`~ReviewPanel.resolve`,
:meth:`~ReviewPanel.record_resolve`, :meth:`~ReviewPanel.export`): drivable without a browser.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import ipywidgets as W
import numpy as np
import pandas as pd

from matchmaker.inputs.instance import Round
from matchmaker.inputs.loading import load_round
from matchmaker.ledger.exchanges import exchange_list
from matchmaker.ledger.resolve import Resolve
from matchmaker.ledger.store import Ledger, LedgerError
from matchmaker.report import plots
from matchmaker.ui.click_safe import ClickSafe
from matchmaker.ui.pairs_grid import (
    BUTTONS,
    STATUS_FILTERS,
    grid_frame,
    pair_details_html,
    pair_label,
    search_pairs,
    selected_grid_pair,
    show_rows,
)
from matchmaker.ui.review_actions import (
    next_round_dir,
    propose_partnership_resolve,
    record_decision,
    record_proposed,
    write_partnership_list,
)
from matchmaker.ui.review_widgets import GRID_HEADERS, action_widgets, classed, make_grid
from matchmaker.ui.wording import download_html, ledger_text

__all__ = ["ReviewPanel", "STATUS_FILTERS", "search_pairs", "pair_label"]

_VISITOR, _HOST = GRID_HEADERS["visitor_id"], GRID_HEADERS["host_id"]


class ReviewPanel(ClickSafe):
    """A partnership's review of one round of the ledger (see the module docstring).

    Parameters
    ----------
    ledger : Ledger or str
        The ledger or its URL.
    round_id : int, optional
        Round to review; default the ledger's latest.
    reviewer : str
        Name or e-mail recorded with each decision (editable in the panel).
    partnership : str, optional
        Partnership shown first; default the first with proposals.
    round_dir : path-like, optional
        The round's files: needed to re-solve, and to check a lock against the rules.
    resolve_dir : path-like, optional
        Where re-solved rounds write their outputs (``resolve_dir/round_N``).
    export_dir : path-like, optional
        Where exported lists go.
    time_limit, work_limit : float, optional
        Solver seconds, and deterministic work units (reproducible), when re-solving.
    """

    def __init__(self, ledger: Ledger | str, round_id: int | None = None, *, reviewer: str = "",
                 partnership: str | None = None, round_dir: str | Path | None = None,
                 resolve_dir: str | Path | None = None, export_dir: str | Path | None = None,
                 time_limit: float | None = None, work_limit: float | None = None):
        self.ledger = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
        self.round_id = int(round_id) if round_id is not None else self.ledger.latest_round_id()
        self.round_dir = Path(round_dir) if round_dir is not None else None
        self.resolve_dir = Path(resolve_dir) if resolve_dir is not None else None
        self.export_dir = Path(export_dir) if export_dir is not None else None
        self.time_limit, self.work_limit = time_limit, work_limit
        self._rnd, self._syncing, self._quiet = None, False, False
        self.last_result = None
        self._init_click_safe(self._say, time.monotonic(), "Something went wrong, nothing was changed by it")

        self.partnership_box = classed(W.Dropdown(description="Partnership", layout=W.Layout(width="340px")),
                                        "mm-partnership")
        self.search_box = classed(W.Text(description="Search", placeholder="name, id, country, decision...",
                                          continuous_update=True, layout=W.Layout(width="340px")), "mm-search")
        self.status_filter = classed(W.ToggleButtons(options=list(STATUS_FILTERS), value="all",
                                                      style={"button_width": "80px"}), "mm-status-filter")
        self.round_label = classed(W.HTML(), "mm-round")
        self.grid = make_grid()
        self.pair_select = classed(W.Select(rows=10, layout=W.Layout(width="100%")), "mm-pair-select")
        self.details = classed(W.HTML(), "mm-pair-details")
        self.breakdown = classed(W.Image(format="png", layout=W.Layout(max_width="520px")), "mm-breakdown")
        self.reviewer_box = classed(W.Text(value=reviewer, description="Reviewer", placeholder="name or e-mail",
                                            layout=W.Layout(width="340px")), "mm-reviewer")
        self.comment_box = classed(W.Textarea(description="Comment", placeholder="why (optional)",
                                               layout=W.Layout(width="520px", height="60px")), "mm-comment")
        self.buttons = {}
        for kind, (label, style, css) in BUTTONS.items():
            b = classed(W.Button(description=label, button_style=style), css)
            b.on_click(lambda _b, kind=kind: self._on_click(lambda: self.decide(kind)))
            self.buttons[kind] = b
        self._make_action_widgets()

        self.partnership_box.observe(lambda _c: None if self._quiet else self._handled(self._show_table),
                                     names="value")
        self.search_box.observe(lambda _c: self._handled(self._show_table), names="value")
        self.status_filter.observe(lambda _c: self._handled(self._show_table), names="value")
        self.pair_select.observe(lambda c: self._handled(self._on_select, c), names="value")
        self.grid.observe(lambda c: self._handled(self._on_grid_selection, c), names="selections")
        for w in (self.comment_box, self.reviewer_box, self.sep_box, self.xlsx_box):
            w.observe(lambda _c: self._handled(lambda: None), names="value")

        self.refresh(partnership=partnership)
        self.widget = classed(W.VBox([
            self.round_label,
            W.HBox([self.partnership_box, self.search_box]),
            self.status_filter,
            self.grid,
            W.HTML("<b>Pairs</b> (select one; the grid's selected row selects it too)"),
            self.pair_select,
            W.HBox([W.VBox([self.details], layout=W.Layout(width="50%")), self.breakdown]),
            self.reviewer_box,
            self.comment_box,
            W.HBox(list(self.buttons.values())),
            self.status,
            W.HBox([self.sep_box, self.xlsx_box, self.export_button, self.resolve_button, self.record_button]),
            self.downloads,
            self.progress.widget,
        ]), "mm-review")

    # -- display ---------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _make_action_widgets(self) -> None:
        for name, widget in action_widgets(self.time_limit).items():
            setattr(self, name, widget)
        self.resolve_button.on_click(lambda _b: self._on_click(self.resolve))
        self.record_button.on_click(lambda _b: self._on_click(self.record_resolve))
        self.export_button.on_click(lambda _b: self._on_click(self.export))

    def _say(self, text: str, ok: bool = True) -> None:
        colour = "#2e7d32" if ok else "#b00020"
        self.status.value = f"<span style='color:{colour}'>{html.escape(text).replace(chr(10), '<br>')}</span>"

    @property
    def rnd(self) -> Round | None:
        """The round's data (loaded from ``round_dir`` on first use), or ``None``."""
        if self._rnd is None and self.round_dir is not None:
            self._rnd = load_round(self.round_dir)
        return self._rnd

    # -- data --------------------------------------------------------------------------
    def refresh(self, partnership: str | None = None) -> None:
        """Re-read the round's proposals and current decisions from the ledger."""
        self.proposals = exchange_list(self.ledger, None, self.round_id)
        counts = self.proposals["partnership"].value_counts().sort_index()
        options = [(f"{p} ({n} pairs)", p) for p, n in counts.items()]
        keep = partnership or self.partnership_box.value
        if partnership is not None and partnership not in counts.index:
            raise LedgerError(f"partnership {partnership!r} has no proposals in round {self.round_id} "
                              f"(partnerships with proposals: {', '.join(counts.index) or 'none'})")
        self._quiet = True
        try:
            self.partnership_box.options = options
            self.partnership_box.value = keep if keep in counts.index else (options[0][1] if options else None)
        finally:
            self._quiet = False
        name = str(self.ledger.round(self.round_id).get("name") or "")
        named = f"{html.escape(name)}, " if name.casefold() != f"round {self.round_id}" else ""
        self.round_label.value = (f"<b>Round {self.round_id}</b> ({named}{len(self.proposals)} proposals) "
                                  "&middot; decisions are kept in the "
                                  f"{html.escape(ledger_text(self.ledger))}")
        self._show_table()

    def partnership_table(self) -> pd.DataFrame:
        """The selected partnership's cumulative list, best score first (a decision does not move its row)."""
        p = self.proposals[self.proposals["partnership"] == self.partnership_box.value]
        return p.sort_values(["score", "visitor_id"], ascending=[False, True]).reset_index(drop=True)

    def table(self) -> pd.DataFrame:
        """The pairs shown: the partnership's, filtered by the search box and the decision filter."""
        return search_pairs(self.partnership_table(), self.search_box.value, self.status_filter.value)

    def _show_table(self) -> None:
        table = self.table()
        self._shown = table.reset_index(drop=True)
        self._syncing = True
        try:
            names = dict(self.rnd.countries["name"]) if self.round_dir is not None else None
            show_rows(self.grid, self.pair_select, grid_frame(self._shown, names).rename(columns=GRID_HEADERS),
                      self._shown, pair_label)
        finally:
            self._syncing = False
        self._show_pair()

    # -- selection ------------------------------------------------------------------
    def select_pair(self, visitor_id: str, host_id: str) -> None:
        """Select the pair (visitor_id, host_id) among those shown."""
        pair = (str(visitor_id), str(host_id))
        values = [v for _, v in self.pair_select.options]
        if pair not in values:
            raise LedgerError(f"pair (visitor {visitor_id}, host {host_id}) is not among the pairs shown "
                              f"(partnership {self.partnership_box.value}, search {self.search_box.value!r})")
        self.pair_select.value = pair

    @property
    def selected(self) -> tuple[str, str] | None:
        """The selected pair ``(visitor_id, host_id)``, or ``None``."""
        return self.pair_select.value

    def _on_select(self, _change) -> None:
        if self._syncing:
            return
        self._show_pair()
        pair = self.pair_select.value
        if pair is None:
            return
        try:  # mirror the choice in the grid (its visible order may be sorted or filtered)
            visible = self.grid.get_visible_data()
            same = (visible[_VISITOR] == pair[0]).to_numpy() & (visible[_HOST] == pair[1]).to_numpy()
            hit = np.flatnonzero(same)
            if len(hit):
                self._syncing = True
                try:
                    self.grid.select(int(hit[0]), 0, int(hit[0]), len(visible.columns) - 1, clear_mode="all")
                finally:
                    self._syncing = False
        except (KeyError, AttributeError, ValueError):
            pass

    def _on_grid_selection(self, change) -> None:
        if self._syncing:
            return
        pair = selected_grid_pair(change, self.grid, _VISITOR, _HOST)
        if pair is not None and pair != self.pair_select.value:
            self._syncing = True
            try:
                self.pair_select.value = pair
            finally:
                self._syncing = False
            self._show_pair()

    def _show_pair(self) -> None:
        pair = self.pair_select.value
        if pair is None:
            self.details.value = "<i>no pair selected</i>"
            self.breakdown.value = b""
            return
        row = self._shown[(self._shown["visitor_id"] == pair[0]) & (self._shown["host_id"] == pair[1])].iloc[0]
        self.details.value = pair_details_html(row)
        self.breakdown.value = plots.figure_png(plots.breakdown_figure(row), dpi=80)

    # -- actions (what they do is in matchmaker.ui.review_actions) ----------------------
    def decide(self, decision: str) -> int | None:
        """Record ``decision`` on the selected pair with the reviewer and comment boxes.

        Returns the ledger's decision id, or ``None`` when the ledger refused (the
        reason is shown in the status line).
        """
        pair = self.pair_select.value
        if pair is None:
            self._say("select a pair first", ok=False)
            return None
        rnd = self.rnd if decision == "lock" else None
        done = record_decision(self.ledger, self.round_id, pair, decision, self.reviewer_box.value,
                               self.comment_box.value, rnd=rnd)
        if done.ok:
            self.comment_box.value = ""
            self._show_after_change()
        self._say(done.message, ok=done.ok)
        return done.value

    def _show_after_change(self) -> None:
        keep = self.pair_select.value
        self.proposals = exchange_list(self.ledger, None, self.round_id)
        self._show_table()
        if keep in [v for _, v in self.pair_select.options]:
            self.pair_select.value = keep

    def resolve(self) -> Resolve | None:
        """Solve the selected Partnership's stable re-solve and show its churn; record nothing.

        Returns the :class:`~matchmaker.ledger.resolve.Resolve` (kept in :attr:`last_result`;
        :meth:`record_resolve` records it), or ``None`` when it could not run (the status says why).
        """
        if self.round_dir is None or self.resolve_dir is None:
            self._say("re-solving needs round_dir and resolve_dir (set them in the notebook's parameters)", ok=False)
            return None
        out, self.last_result = next_round_dir(self.ledger, self.resolve_dir), None
        self.record_button.layout.display = "none"
        self._say(f"re-solving {self.partnership_box.value}'s pairs around its decisions ...")
        self.progress.reset(self.time_limit)
        self.progress.widget.layout.display = None
        done = propose_partnership_resolve(self.ledger, self.round_dir, out, self.partnership_box.value,
                                           time_limit=self.time_limit, progress=self.progress,
                                           work_limit=self.work_limit)
        if done.value is None:
            self.progress.not_started(done.message)
        else:
            self.progress.finish("ready to record" if done.ok else "not recordable")
            self.last_result = done.value
        self.record_button.layout.display = None if done.ok else "none"
        self._say(done.message, ok=done.ok)
        return done.value

    def record_resolve(self) -> int | None:
        """Record the re-solve shown (:meth:`resolve`) as the next round and review it; return its id."""
        if self.last_result is None:
            self._say("re-solve first: nothing to record", ok=False)
            return None
        done = record_proposed(self.ledger, self.last_result)
        self.record_button.layout.display = "none"
        if done.ok:
            self.round_id, self.last_result = done.value, None
            self.progress.finish("recorded")
            self.downloads.value = ""  # the links were the previous round's lists
            self.refresh()
        self._say(done.message, ok=done.ok)
        return done.value

    def export(self) -> list[Path]:
        """Write the selected partnership's list (all its pairs, current decisions) safely.

        CSV (UTF-8 with BOM, the chosen separator, formula-safe) and, when ticked,
        .xlsx, named ``round_<id>_<partnership>``. Returns the paths written.
        """
        if self.export_dir is None:
            self._say("exporting needs export_dir (set it in the notebook's parameters)", ok=False)
            return []
        done = write_partnership_list(self.partnership_table(), self.export_dir, self.round_id,
                                      self.partnership_box.value, sep=self.sep_box.value, xlsx=self.xlsx_box.value)
        self._say(done.message, ok=done.ok)
        self.downloads.value = download_html(done.value) if done.ok else ""
        return done.value
