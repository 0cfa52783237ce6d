"""The exchange-building panels' pieces without panel state: click safety, step buttons, tables in words.

Used by :mod:`matchmaker.ui.exchange_building` and :mod:`matchmaker.ui.exchange_money`:

* :data:`STEP_BUTTONS`: each step's button, in the users' words, and its CSS class
  ``mm-step-<step>``;
* :func:`state_counts_html`, :func:`pipeline_grid_frame`, :func:`exchange_label`,
  :func:`exchange_details_html`, :func:`frame_html`: the pipeline for people.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from matchmaker.common.locations import project_dir
from matchmaker.ledger.step_rules import LABELS, STEPS
from matchmaker.proposals.wording import schedule_text
from matchmaker.ui.wording import when

#: step -> (button label, button style); ``validated_by_partnership`` gets one button per Partnership left.
STEP_BUTTONS = {
    "ctq_drafted": ("Draft the Commitment to Quality", "info"),
    "signed_by_host": ("Signed by the host", ""),
    "signed_by_visitor": ("Signed by the visitor", ""),
    "validated_by_partnership": ("Validated by {partnership}", ""),
    "validated_by_support_office": ("Validated by the Support Office", ""),
    "validated_by_ec": ("Validated by the European Commission", ""),
    "fa_signed": ("Financial Agreement signed", "success"),
    "started": ("Exchange started", ""),
    "completed": ("Exchange completed", ""),
    "reported": ("Exchange reported", "success"),
    "withdrawn": ("Withdraw (give the reason)", "danger"),
}
#: Current states in the order of the chain, as counted in the pipeline.
STATE_ORDER = ("accepted", "locked", *STEPS)
#: A current state in words (``accepted``/``locked``: no step yet).
STATE_LABELS = {"accepted": "accepted, no step yet", "locked": "locked, no step yet", **LABELS}
#: The pipeline's grid: column -> header.
GRID_HEADERS = {"visitor_id": "visitor", "visitor_name": "visitor name", "host_id": "host", "host_name": "host name",
                "partnerships_in_charge": "Partnerships in charge", "mode": "mode", "start_date": "start",
                "end_date": "end", "lump_sum_eur": "lump sum (EUR)", "state_words": "state",
                "next_words": "next steps", "ec": "EC validation", "last_by": "last step by",
                "last_on": "last step on"}


def status_html(text: str, ok: bool = True) -> str:
    """A status line: green when done, red when refused (new lines kept)."""
    colour = "#2e7d32" if ok else "#b00020"
    return f"<span style='color:{colour}'>{html.escape(text).replace(chr(10), '<br>')}</span>"


def next_words(next_steps: list[str]) -> str:
    """The steps that may be recorded now, in words (withdrawal left out: always possible before completion)."""
    shown = [LABELS[s] for s in next_steps if s != "withdrawn"]
    return "; ".join(shown) if shown else "none"


def state_counts_html(pipeline: pd.DataFrame) -> str:
    """How many exchanges are in each state now, in the chain's order (``mm-ex-counts``' table)."""
    counts = pipeline["state"].value_counts()
    rows = "".join(f"<tr><td style='padding-right:1.5em'>{html.escape(STATE_LABELS[s])}</td>"
                   f"<td style='text-align:right'>{int(counts.get(s, 0))}</td></tr>" for s in STATE_ORDER
                   if counts.get(s, 0) or s not in ("locked", "validated_by_ec"))
    return (f"<table class='mm-ex-counts-table'><tr><th style='text-align:left'>state now</th>"
            f"<th style='text-align:right'>exchanges</th></tr>{rows}<tr><th style='text-align:left'>all</th>"
            f"<th style='text-align:right'>{len(pipeline)}</th></tr></table>")


def pipeline_grid_frame(pipeline: pd.DataFrame) -> pd.DataFrame:
    """The exchanges as shown in the grid (:data:`GRID_HEADERS`): text and numbers only, no codes."""
    df = pipeline.copy()
    df["next_words"] = df["next_steps"].map(next_words)
    df["ec"] = df["drawn_for_ec"].map(lambda d: "drawn" if d else "")
    df["last_on"] = df["last_at"].map(when)
    df["last_by"] = df["last_by"].astype(object).where(df["last_by"].notna(), "")
    for c in ("start_date", "end_date"):
        df[c] = pd.to_datetime(df[c]).dt.strftime("%Y-%m-%d").fillna("")
    df["lump_sum_eur"] = pd.to_numeric(df["lump_sum_eur"], errors="coerce").fillna(0.0).round(2)
    out = df[list(GRID_HEADERS)].astype({c: object for c in GRID_HEADERS if c != "lump_sum_eur"})
    out = out.fillna("").rename(columns=GRID_HEADERS)
    out.index = pd.RangeIndex(1, len(out) + 1, name="#")
    return out


def exchange_label(row: Mapping) -> str:
    """An exchange in the list: ``V001 name -> H001 name | state``."""
    return (f"{row['visitor_id']} {row.get('visitor_name') or ''} -> {row['host_id']} {row.get('host_name') or ''}"
            f" | {row['state_words']}")


def _text(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def exchange_details_html(row: Mapping, history: pd.DataFrame) -> str:
    """One exchange: organisations, mode, dates, lump sum, Partnerships, EC draw, state; then its steps."""
    mode = _text(row.get("mode"))
    dates = (schedule_text(mode, row["start_date"], row["end_date"], row["working_days"])
             if _text(row.get("start_date")) and pd.notna(row.get("working_days")) else "not proposed")
    lump = pd.to_numeric(row.get("lump_sum_eur"), errors="coerce")
    fields = [("visitor", f"{row['visitor_id']} {_text(row.get('visitor_name'))}"),
              ("host", f"{row['host_id']} {_text(row.get('host_name'))}"),
              ("mode", mode or "not proposed"), ("dates", dates),
              ("lump sum", "none (virtual exchange)" if mode == "virtual" else
               f"EUR {0.0 if pd.isna(lump) else float(lump):,.2f}, paid by {_text(row.get('partnership'))}"),
              ("Partnerships in charge", _text(row.get("partnerships_in_charge"))),
              ("EC validation", "drawn: the European Commission validates it" if row.get("drawn_for_ec")
               else "not drawn"),
              ("state", _text(row.get("state_words"))), ("next steps", next_words(list(row.get("next_steps") or [])))]
    rows = "".join(f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
                   f"<td>{html.escape(v)}</td></tr>" for k, v in fields)
    steps = "".join(
        f"<li>{html.escape(LABELS[s])}{' (' + html.escape(_text(p)) + ')' if _text(p) else ''} by "
        f"{html.escape(_text(a))}, {html.escape(when(t))}{': ' + html.escape(_text(c)) if _text(c) else ''}</li>"
        for s, p, a, t, c in zip(history["step"], history["partnership"], history["actor"], history["done_at"],
                                 history["comment"]))
    said = f"<ol class='mm-ex-history'>{steps}</ol>" if steps else "<p><i>no step recorded yet</i></p>"
    return f"<table>{rows}</table><b>Steps recorded</b>{said}"


def frame_html(df: pd.DataFrame, css: str = "mm-table") -> str:
    """A small table for a widget: escaped, padded cells, ids on one line, amounts right-aligned with two decimals."""
    cell = "padding:2px 10px;border-bottom:1px solid #e0e0e0;vertical-align:top"
    head = "".join(f"<th style='{cell};text-align:left'>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        tds = []
        for c, v in zip(df.columns, rec):
            number = isinstance(v, (int, float)) and not isinstance(v, bool)
            text = "" if v is None or (number and pd.isna(v)) else (f"{v:,.2f}" if isinstance(v, float) else str(v))
            align = ";text-align:right;white-space:nowrap" if number else (
                ";white-space:nowrap" if str(c) in ("visitor", "host", "draw", "when") else "")
            tds.append(f"<td style='{cell}{align}'>{html.escape(text)}</td>")
        rows.append(f"<tr>{''.join(tds)}</tr>")
    return (f"<table class='{css}' style='border-collapse:collapse'><tr>{head}</tr>"
            f"{''.join(rows)}</table>")


def folder_text(path: Path) -> str:
    """A folder for people: relative to the project when inside it."""
    try:
        return str(Path(path).resolve().relative_to(project_dir()))
    except ValueError:
        return str(path)
