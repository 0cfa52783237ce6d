"""The pieces of the review panel that need no widget: the pairs' table, search and
labels, and waiting for the widget updates sent before a click.

Used by :class:`matchmaker.ui.review.ReviewPanel`.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from matchmaker.ledger.exchanges import STATUS
from matchmaker.proposals.spec import BY_NAME, GRID_AFTER_DECISIONS, GRID_BEFORE_DECISIONS
from matchmaker.proposals.wording import schedule_text

#: The reviewers' columns of the grid (the cumulative list's status, the round that decided it, the
#: ledger's current decision), all text.
DECISION_TEXT_COLUMNS = ("status", "decided_in_round", "decision", "reviewer", "latest_comment")
#: Columns shown in the grid, in order (those present in the ledger's proposals): the
#: proposals' columns the specification marks ``grid``, with the decision columns before
#: those that follow the scores (``locked``).
GRID_COLUMNS = (*GRID_BEFORE_DECISIONS, *DECISION_TEXT_COLUMNS, *GRID_AFTER_DECISIONS)
#: Columns the search box looks in: the grid's text columns.
SEARCH_COLUMNS = tuple(c for c in GRID_COLUMNS if c in DECISION_TEXT_COLUMNS or BY_NAME[c].type in ("str", "code"))
#: The grid's date columns (shown as ISO text) and number columns (shown with 2 decimals).
DATE_COLUMNS = tuple(c for c in GRID_COLUMNS if c in BY_NAME and BY_NAME[c].type == "date")
NUMBER_COLUMNS = tuple(c for c in GRID_COLUMNS if c in BY_NAME and BY_NAME[c].type == "float")
#: Filter choices: label -> the pair's status kept (:func:`matchmaker.ledger.exchanges.exchange_list`).
STATUS_FILTERS = {"all": None, "open": "proposed", "accepted": "accepted", "rejected": "rejected", "locked": "locked",
                  "withdrawn": "withdrawn"}
#: A button's action runs once no widget update has been handled for this many seconds
#: (the updates sent before the click; see :mod:`matchmaker.ui.review`) ...
CLICK_DEFER_S = 0.3
#: ... or after this many seconds at most.
CLICK_MAX_WAIT_S = 5.0


def after_pending_updates(action: Callable[[], None], state: Callable[[], tuple[int, float]],
                          quiet: float = CLICK_DEFER_S,
                          max_wait: float = CLICK_MAX_WAIT_S, poll: float = 0.05) -> None:
    """Run ``action()`` once the widget updates sent before a click have been handled.

    ``state()`` returns ``(busy, last_update)``: how many widget updates are being
    handled now (in any kernel thread) and the monotonic time the last one started or
    ended. Inside a running event loop the action waits, without blocking the loop,
    until none is being handled and the last is ``quiet`` seconds old (at most
    ``max_wait`` seconds); outside one (tests, scripts) it runs at once.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        action()
        return
    start = time.monotonic()

    def attempt():
        busy, last = state()
        now = time.monotonic()
        if (busy or now - last < quiet) and now - start < max_wait:
            loop.call_later(poll, attempt)
        else:
            action()

    loop.call_later(poll, attempt)


def search_pairs(table: pd.DataFrame, text: str, status: str = "all") -> pd.DataFrame:
    """Rows of ``table`` whose text columns contain every word of ``text`` (case-insensitive).

    ``status`` is a key of :data:`STATUS_FILTERS` (``open``: no current decision).
    """
    if status not in STATUS_FILTERS:
        raise ValueError(f"status filter {status!r} must be one of {', '.join(STATUS_FILTERS)}")
    keep = np.ones(len(table), dtype=bool)
    cols = [c for c in SEARCH_COLUMNS if c in table.columns]
    if text.strip() and cols:
        hay = table[cols].astype(str).where(table[cols].notna(), "").agg(" ".join, axis=1).str.casefold()
        for word in text.casefold().split():
            keep &= hay.str.contains(word, regex=False).to_numpy()
    wanted = STATUS_FILTERS[status]
    if wanted is not None:
        keep &= (pair_status(table) == wanted).to_numpy()
    return table[keep]


def pair_status(table: pd.DataFrame) -> pd.Series:
    """Each pair's status (proposed, accepted, ...): the list's ``status``, else from its current ``decision``."""
    if "status" in table.columns:
        return table["status"].fillna("proposed").astype(str)
    decision = table["decision"] if "decision" in table.columns else pd.Series(None, index=table.index, dtype=object)
    return decision.map(STATUS).fillna("proposed").astype(str)


def pair_label(row: Mapping) -> str:
    """Text of a pair in the list: visitor -> host, score, current decision."""
    state = row.get("status") if isinstance(row.get("status"), str) else STATUS.get(row.get("decision"), "open")
    if isinstance(row.get("decided_in_round"), (int, np.integer)):
        state = f"{state} in round {row['decided_in_round']}"
    return (f"{row['visitor_id']} {row.get('visitor_name', '')} ({row.get('visitor_country', '')}) -> "
            f"{row['host_id']} {row.get('host_name', '')} ({row.get('host_country', '')}) | "
            f"score {float(row['score']):.1f} | {state}")


def grid_frame(table: pd.DataFrame, countries: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The pairs as shown in the grid: :data:`GRID_COLUMNS`, dates as text, no missing text.

    A virtual pair's distance reads ``virtual`` (it has none); ``decided_in_round`` reads
    ``round N``; with ``countries`` (code -> name) a country reads ``Spain (ES)``.
    """
    cols = [c for c in GRID_COLUMNS if c in table.columns]
    df = table[cols].copy()
    if "decided_in_round" in df.columns:
        df["decided_in_round"] = [f"round {r}" if pd.notna(r) else "" for r in df["decided_in_round"]]
    for c in ("visitor_country", "host_country"):
        if countries and c in df.columns:
            df[c] = [f"{countries[v]} ({v})" if v in countries else v for v in df[c]]
    for c in DATE_COLUMNS:
        if c in df.columns:
            df[c] = pd.to_datetime(df[c]).dt.strftime("%Y-%m-%d")
    for c in DECISION_TEXT_COLUMNS:
        if c in df.columns:
            df[c] = df[c].astype(object).where(df[c].notna(), "").astype(str)
    for c in NUMBER_COLUMNS:
        if c in df.columns:
            df[c] = df[c].astype(float).round(2)
    if "distance_km" in df.columns:
        df["distance_km"] = df["distance_km"].astype(object).where(df["distance_km"].notna(), "virtual")
    df.index = pd.RangeIndex(1, len(df) + 1, name="#")
    return df


def _distance(row: Mapping) -> str:
    """The distance in words: none for a virtual exchange (``proposals.csv`` leaves it empty)."""
    km = pd.to_numeric(row.get("distance_km"), errors="coerce")
    return "none (virtual exchange)" if pd.isna(km) else f"{float(km):,.0f} km"


def pair_details_html(row: Mapping) -> str:
    """An HTML table of one pair: organisations, mode, dates, distance, lump sum, score, decision."""
    fields = [("visitor", f"{row['visitor_id']} {row.get('visitor_name', '')} ({row.get('visitor_country', '')})"),
              ("host", f"{row['host_id']} {row.get('host_name', '')} ({row.get('host_country', '')})"),
              ("mode", row.get("mode")),
              ("dates", schedule_text(str(row.get("mode")), row["start_date"], row["end_date"], row["working_days"])),
              ("distance", _distance(row)),
              ("lump sum", f"EUR {float(row['lump_sum_eur']):,.2f}"),
              ("score", f"{float(row['score']):.2f}"),
              ("locked by the round", "yes" if bool(row.get("locked")) else "no")]
    decision = row.get("decision")
    if isinstance(decision, str) and decision:
        fields.append(("decision", f"{decision} by {row.get('reviewer')} (round {row.get('decision_round_id')})"))
    comment = row.get("latest_comment")
    if isinstance(comment, str) and comment:
        fields.append(("latest comment", comment))
    rows = "".join(f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
                   f"<td>{html.escape(str(v))}</td></tr>" for k, v in fields)
    return f"<table>{rows}</table>"


#: Decision buttons: ledger decision -> (label, button style, CSS class).
BUTTONS = {
    "accept": ("Accept", "success", "mm-accept"),
    "reject": ("Reject", "danger", "mm-reject"),
    "lock": ("Lock", "warning", "mm-lock"),
    "reopen": ("Reopen", "", "mm-reopen"),
    "comment": ("Comment only", "info", "mm-comment-button"),
}


def show_rows(grid: object, select: object, data: pd.DataFrame, rows: pd.DataFrame,
              label: Callable[[dict], str]) -> None:
    """Show ``data`` in ``grid`` and ``rows``' pairs in the drop-down ``select``, keeping its pair if still there.

    Each option is ``(label(row), (visitor_id, host_id))``; the first is selected when the
    selected pair is no longer among ``rows``.
    """
    selected = select.value
    grid.clear_selection()
    grid.data = data
    options = [(label(r), (r["visitor_id"], r["host_id"])) for r in rows.to_dict("records")]
    select.options = options
    values = [v for _, v in options]
    select.value = selected if selected in values else (values[0] if values else None)


def selected_grid_pair(change: Mapping, grid: object, visitor_column: str,
                       host_column: str) -> tuple[str, str] | None:
    """The ``(visitor_id, host_id)`` of the grid row a selection ``change`` selected, or ``None``."""
    if not change["new"]:
        return None
    row = change["new"][-1].get("r1")
    visible = grid.get_visible_data()
    if row is None or not 0 <= row < len(visible):
        return None
    return visible[visitor_column].iloc[row], visible[host_column].iloc[row]
