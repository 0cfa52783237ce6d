"""What the notebooks show, in the users' words: ledgers, rounds, decisions, tables, notes, links.

No repr, raw dict, snake_case code, microsecond timestamp or bare country code reaches a
cell: :func:`ledger_text` names a ledger by its file (or database), :func:`when` writes
a moment as ``4 Dec 2026, 19:50 UTC``, :func:`readable` turns a table's column names into
words, its moments into such dates, its shares into percentages, its reason codes into
words and its country codes into names; :func:`headline_html` is a round's figures as a
small table, :func:`proof_html` the proof of how close to the best possible its proposals are,
:func:`reproducibility_html` the note on whether a run can be repeated, and
:func:`download_html` a link that downloads a file from the browser (a ``data:`` URI, so
it works whatever folder JupyterLab serves).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import mimetypes
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from matchmaker.common.locations import project_dir
from matchmaker.ledger.store import Ledger
from matchmaker.report import tables as T

#: Column names shown differently from their words (``snake_case`` -> words otherwise).
COLUMN_WORDS = {"id": "round", "n_proposals": "proposals", "created_at": "recorded", "source": "round folder",
                "decided_at": "decided", "round_id": "round", "org_id": "organisation", "used_share": "budget used",
                "lump_sum_eur": "lump sum (EUR)", "budget_eur": "budget (EUR)", "distance_km": "distance (km)",
                "reason_code": "reason", "latest_comment": "latest comment"}
#: Columns never shown to people (internal fingerprints).
HIDDEN_COLUMNS = ("input_hash",)
#: Parts of a summary.json that may hold the officer's or the solver's figures.
SUMMARY_PARTS = ("officer", "solver", "run")
#: Largest file offered as a download link (a data: URI in the page).
DOWNLOAD_MAX_BYTES = 20_000_000


def summary_value(summary: dict, key: str, default: Any = None) -> Any:
    """``summary[key]``, or the same key in one of its parts (``officer``, ``solver``, ...).

    ``summary.json`` keeps the officer's figures and the solver's internals apart (or, in
    older rounds, side by side at the top): this reads a value from either layout.
    """
    if key in summary:
        return summary[key]
    for part in (*SUMMARY_PARTS, *summary):
        value = summary.get(part)
        if isinstance(value, dict) and key in value:
            return value[key]
    return default


def proof_html(summary: dict) -> str:
    """How close to the best possible the proposals are, as the solver proved it, in a sentence
    (``summary.json``'s ``proof``, :func:`matchmaker.proposals.summary.proof_text`): "Optimal: the
    solver proved that no valid set of proposals does better", or the gap it proved; empty without one."""
    proof = summary_value(summary, "proof")
    if not isinstance(proof, str) or not proof.strip():
        return ""
    head, sep, rest = proof.partition(": ")
    text = (f"<b>{html.escape(head[:1].upper() + head[1:])}</b>: {html.escape(rest)}" if sep
            else html.escape(proof[:1].upper() + proof[1:]))
    return f"<p class='mm-proof-note'>{text}.</p>"


def reproducibility_html(summary: dict) -> str:
    """A note saying whether the same input, settings and seed give the same proposals again."""
    reproducible = summary_value(summary, "reproducible")
    if reproducible is False:
        return ("<p class='mm-reproducible-note' style='color:#8a4b00'><b>&#9888; This run cannot be repeated "
                "exactly</b>: the clock stopped the solver before its work limit (a short time limit, or a slow or "
                "busy machine), so the same files, settings and seed may give other proposals. For a run that can "
                "be repeated, give the solver more time (Solver &rarr; time_limit_s) or less work "
                "(Solver &rarr; work_limit).</p>")
    if reproducible is True:
        return ("<p class='mm-reproducible-note' style='color:#2e7d32'>This run can be repeated: the same files, "
                "settings and seed give the same proposals.</p>")
    return ""


def ledger_text(ledger: Ledger) -> str:
    """The ledger in words: its file (relative to the project when inside it) or its database."""
    url = ledger.url
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        try:
            path = path.resolve().relative_to(project_dir())
        except ValueError:
            pass
        return f"ledger file {path}"
    where = f" on {url.host}" if url.host else ""
    return f"ledger database {url.database}{where}"


def when(value: Any) -> str:
    """A moment as ``4 Dec 2026, 19:50 UTC`` (a date alone as ``4 Dec 2026``); empty when missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    stamp = pd.Timestamp(value)
    day = f"{stamp.day} {stamp:%b %Y}"
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return day
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
        return f"{day}, {stamp:%H:%M} UTC"
    return f"{day}, {stamp:%H:%M}" if (stamp.hour, stamp.minute, stamp.second) != (0, 0, 0) else day


def words(code: Any) -> str:
    """A ``snake_case`` code in words (``no_eligible_host`` -> ``no eligible host``)."""
    return "" if code is None or (not isinstance(code, str) and pd.isna(code)) else str(code).replace("_", " ")


def country_label(code: Any, names: dict[str, str]) -> str:
    """``Portugal (PT)`` for a code with a known name, else the code."""
    text = "" if code is None or (not isinstance(code, str) and pd.isna(code)) else str(code)
    return f"{names[text]} ({text})" if text in names else text


def readable(df: pd.DataFrame, countries: pd.DataFrame | None = None) -> pd.DataFrame:
    """A copy of ``df`` for people: dates written out, shares in percent, codes in words.

    ``countries`` (``Round.countries``: index ``country``, column ``name``) turns the
    codes of any ``*country`` column into ``Name (CC)``.
    """
    names = {str(k): str(v) for k, v in countries["name"].items()} if countries is not None else {}
    # with the names known, "Spain (ES)" in the country column says what a *_country_name column would
    named = [c for c in df.columns if names and str(c).endswith("_country_name") and str(c)[:-5] in df.columns]
    out = df.drop(columns=[c for c in (*HIDDEN_COLUMNS, *named) if c in df.columns]).copy()
    for c in out.columns:
        col = out[c]
        if pd.api.types.is_datetime64_any_dtype(col) or c.endswith("_at"):
            out[c] = col.map(when)
        elif c.endswith("_share") or c == "share":
            out[c] = col.map(lambda v: "" if pd.isna(v) else f"{float(v):.1%}")
        elif c in ("reason_code", "rule", "decision", "status", "mode"):
            out[c] = col.map(words)
        elif c.endswith("country") and names:
            out[c] = col.map(lambda v: country_label(v, names))
    named = [COLUMN_WORDS.get(str(c), _in_words(str(c))) for c in out.columns]
    # two columns with the same words (reason_code and reason): keep the one already in words
    keep = [i for i, (c, n) in enumerate(zip(out.columns, named)) if named.count(n) == 1 or str(c) == n
            or (n not in map(str, out.columns) and named.index(n) == i)]
    out = out.iloc[:, keep]
    out.columns = [named[i] for i in keep]
    return out


def _in_words(column: str) -> str:
    """A column name in words: ``remaining_eur`` -> ``remaining (EUR)``, ``visitor_name`` -> ``visitor name``."""
    for suffix, unit in (("_eur", "EUR"), ("_km", "km")):
        if column.endswith(suffix):
            return f"{column[:-len(suffix)].replace('_', ' ')} ({unit})"
    return column.replace("_", " ")


def rounds_table(ledger: Ledger) -> pd.DataFrame:
    """The ledger's rounds for people: round, name, recorded, status, proposals, round folder."""
    rounds = ledger.rounds()
    keep = [c for c in ("id", "name", "created_at", "status", "n_proposals", "source") if c in rounds.columns]
    return readable(rounds[keep])


def decisions_table(decisions: pd.DataFrame, last: int | None = 20) -> pd.DataFrame:
    """A round's decisions for people (newest last; the last ``last`` ones)."""
    keep = [c for c in ("decided_at", "partnership", "visitor_id", "host_id", "decision", "reviewer", "comment")
            if c in decisions.columns]
    shown = decisions[keep] if last is None else decisions[keep].tail(last)
    return readable(shown.rename(columns={"visitor_id": "visitor", "host_id": "host"}))


def headline_html(head: dict) -> str:
    """A round's figures (:func:`matchmaker.report.tables.headline`) as a small two-column table."""
    rows = "".join(f"<tr><th style='text-align:left;padding-right:1.5em'>{html.escape(k)}</th>"
                   f"<td style='text-align:right'>{html.escape(v)}</td></tr>" for k, v in T.headline_text(head))
    return f"<table class='mm-headline'>{rows}</table>"


def download_html(paths: Iterable[str | Path]) -> str:
    """Links that download each file from the browser (``data:`` URIs; class ``mm-download``)."""
    links = []
    for p in map(Path, paths):
        data = p.read_bytes()
        if len(data) > DOWNLOAD_MAX_BYTES:
            links.append(f"<span>{html.escape(p.name)} is too large to download here: it is in "
                         f"{html.escape(str(p.parent))}</span>")
            continue
        mime = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
        uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        links.append(f"<a class='mm-download' href='{uri}' download='{html.escape(p.name, quote=True)}' "
                     f"style='margin-right:1.5em'>&#11015; Download {html.escape(p.name)}</a>")
    return " ".join(links)
