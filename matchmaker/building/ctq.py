"""Commitment to Quality drafts for the accepted and locked pairs of the ledger (the notebook's and CLI's API).

* :func:`ctq_drafts`: the drafts of a round's accepted or locked pairs (all, or the ``pairs``
  asked for), from the ledger's cumulative list (:func:`~matchmaker.ledger.exchanges.exchange_list`)
  and the round's registrations (:func:`~matchmaker.inputs.loading.load_round`).
* :func:`write_draft` / :func:`write_drafts`: each draft as ``ctq_<visitor>_<host>.docx`` and
  ``.html``, each file written atomically (a temporary file renamed over it). A file that is
  already there is left alone when it holds exactly what would be written, and is never
  replaced otherwise (people may have edited or signed it) unless ``force``; every such
  refusal is found before anything is written (docs/decisions.md §40).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from matchmaker.building.ctq_content import draft_content
from matchmaker.building.ctq_docx import clean, docx_bytes
from matchmaker.building.ctq_html import html_text
from matchmaker.building.draft import CtqDraft
from matchmaker.inputs.instance import Round
from matchmaker.inputs.loading import load_round
from matchmaker.inputs.reference import load_vocabulary_labels
from matchmaker.ledger.ec_draw import ec_draws
from matchmaker.ledger.exchanges import exchange_list
from matchmaker.ledger.store import Ledger
from matchmaker.ledger.workflow import open_ledger

#: The pairs that get a draft: their status in the ledger's list.
DRAFTED_STATUSES = ("accepted", "locked")


class CtqError(ValueError):
    """A draft that cannot be made or written: a pair that is not accepted or locked, a file people may have edited."""


@dataclass
class WriteResult:
    """What :func:`write_drafts` did: the files per outcome (``new``, ``unchanged``, ``replaced``)."""

    folder: Path
    new: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    replaced: list[Path] = field(default_factory=list)


def co_visitors(committed: pd.DataFrame) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """For each pair, the other pairs' visitors at the same host, in the same mode, on overlapping dates.

    ``committed``: rows of the list (``visitor_id, visitor_name, host_id, mode, start_date,
    end_date``); pairs without dates overlap nothing.
    """
    rows = committed.assign(_s=pd.to_datetime(committed["start_date"]), _e=pd.to_datetime(committed["end_date"]))
    rows = rows[rows["_s"].notna() & rows["_e"].notna()]
    same = rows.merge(rows, on=["host_id", "mode"], suffixes=("", "_o"))
    same = same[(same["visitor_id"] != same["visitor_id_o"]) & (same["_s"] <= same["_e_o"])
                & (same["_s_o"] <= same["_e"])].sort_values(["visitor_id", "host_id", "visitor_id_o"])
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for v, h, vo, name in zip(same["visitor_id"], same["host_id"], same["visitor_id_o"], same["visitor_name_o"]):
        found.setdefault((str(v), str(h)), []).append((str(vo), str(name)))
    return found


def _selected(committed: pd.DataFrame, listed: pd.DataFrame, pairs: Iterable[tuple[str, str]] | None,
              rid: int) -> pd.DataFrame:
    if pairs is None:
        return committed
    keys = list(dict.fromkeys((str(v), str(h)) for v, h in pairs))
    status = dict(zip(zip(listed["visitor_id"], listed["host_id"]), listed["status"]))
    refused = [f"pair (visitor {v}, host {h}) is {status[(v, h)]}" if (v, h) in status else
               f"pair (visitor {v}, host {h}) is not in the list of round {rid}" for v, h in keys
               if status.get((v, h)) not in DRAFTED_STATUSES]
    if refused:
        raise CtqError("; ".join(refused) + ": only an accepted or locked pair gets a Commitment to Quality draft "
                       "(accept it first: `matchmaker decide ROUND_DIR --visitor ID --host ID --decision accept "
                       "--by NAME`)")
    index = pd.MultiIndex.from_frame(committed[["visitor_id", "host_id"]])
    return committed[index.isin(keys)]


def ec_drawn_pairs(ledger: Ledger) -> dict[tuple[str, str], bool]:
    """Every pair a recorded EC draw considered: ``True`` if drawn for random EC validation, else ``False``."""
    found: dict[tuple[str, str], bool] = {}
    for draw in ec_draws(ledger):
        for table, drawn in ((draw.candidates, False), (draw.drawn, True)):
            found.update({(str(v), str(h)): drawn for v, h in zip(table["visitor_id"], table["host_id"])})
    return found


def _labels() -> dict[tuple[str, str], str]:
    table = load_vocabulary_labels()
    return {(v, c): lab for v, c, lab in zip(table["vocabulary"], table["code"], table["label"]) if lab}


def drafts_from(rnd: Round, ledger: Ledger, pairs: Iterable[tuple[str, str]] | None = None, *,
                round_id: int | None = None, ec_drawn: Mapping[tuple[str, str], bool] | None = None) -> list[CtqDraft]:
    """:func:`ctq_drafts` on a loaded round and an open ledger."""
    rid = ledger.latest_round_id() if round_id is None else int(round_id)
    listed = exchange_list(ledger, round_id=rid)
    committed = listed[listed["status"].isin(DRAFTED_STATUSES)].sort_values(["visitor_id", "host_id"])
    chosen = _selected(committed, listed, pairs, rid)
    groups, labels = co_visitors(committed), _labels()
    drawn = ec_drawn_pairs(ledger) if ec_drawn is None else dict(ec_drawn)
    return [draft_content(row, rnd, round_id=rid, labels=labels, co_visitors=groups.get((v, h), ()),
                          ec_drawn=drawn.get((v, h)))
            for row, v, h in zip(chosen.to_dict("records"), chosen["visitor_id"], chosen["host_id"])]


def ctq_drafts(source: str | Path | tuple[Round, Ledger], pairs: Iterable[tuple[str, str]] | None = None, *,
               ledger_url: str | None = None, round_id: int | None = None, settings_file: str | Path | None = None,
               ec_drawn: Mapping[tuple[str, str], bool] | None = None) -> list[CtqDraft]:
    """The Commitment to Quality drafts of the accepted or locked pairs, sorted by visitor then host.

    Parameters
    ----------
    source : path-like or (Round, Ledger)
        A round's folder (its files, and its ledger at ``ledger_url``, default
        ``ROUND_DIR/ledger.sqlite``, never created here), or a loaded round and an open ledger.
    pairs : iterable of (visitor_id, host_id), optional
        Only these pairs (each must be accepted or locked); default: every accepted or locked pair.
    ledger_url : str, optional
    round_id : int, optional
        The ledger's round whose cumulative list is read (default: the latest).
    settings_file : path-like, optional
        Settings overriding the round's ``settings.toml``.
    ec_drawn : Mapping, optional
        ``(visitor_id, host_id) -> bool``: drawn for random EC validation (a pair left out: not known yet).
        Default: the ledger's recorded EC draws (:func:`ec_drawn_pairs`).

    Raises
    ------
    CtqError
        A pair asked for is not accepted or locked (its state is named).
    LedgerError
        No ledger or no round yet, or an unknown round.
    RoundDataError
        The round's files break a rule.
    """
    if isinstance(source, tuple):
        rnd, ledger = source
        return drafts_from(rnd, ledger, pairs, round_id=round_id, ec_drawn=ec_drawn)
    rnd = load_round(source, settings_file=settings_file)
    with open_ledger(source, ledger_url) as ledger:
        return drafts_from(rnd, ledger, pairs, round_id=round_id, ec_drawn=ec_drawn)


def rendered(draft: CtqDraft) -> dict[str, bytes]:
    """The draft's files: ``{".docx": ..., ".html": ...}`` (characters neither can hold shown as U+FFFD in both)."""
    return {".docx": docx_bytes(draft), ".html": clean(html_text(draft)).encode("utf-8")}


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_drafts(drafts: Sequence[CtqDraft], folder: str | Path, *, force: bool = False) -> WriteResult:
    """Write every draft's ``.docx`` and ``.html`` into ``folder`` (created if missing); see the module docstring.

    Raises
    ------
    CtqError
        Without ``force``, when a file there differs from its new draft (named, with what to do);
        nothing is written then.
    """
    out = Path(folder)
    planned = [(out / f"{d.file_stem}{suffix}", data) for d in drafts for suffix, data in rendered(d).items()]
    result = WriteResult(out)
    kept = [p for p, data in planned if p.is_file() and p.read_bytes() == data]
    differ = [p for p, data in planned if p.exists() and p not in kept]
    if differ and not force:
        names = ", ".join(p.name for p in differ[:10]) + (f" and {len(differ) - 10} more" if len(differ) > 10 else "")
        raise CtqError(f"{out}: {len(differ)} draft file(s) differ from the new drafts: {names}. People may have "
                       "edited or signed them, or the ledger changed since: move them away to keep them, or give "
                       "--force (force=True) to replace them. Nothing was written.")
    out.mkdir(parents=True, exist_ok=True)
    for path, data in planned:
        if path in kept:
            result.unchanged.append(path)
            continue
        (result.replaced if path in differ else result.new).append(path)
        _write_atomic(path, data)
    return result


def write_draft(draft: CtqDraft, folder: str | Path, *, force: bool = False) -> tuple[Path, Path]:
    """Write one draft (:func:`write_drafts`); return ``(docx_path, html_path)``."""
    write_drafts([draft], folder, force=force)
    out = Path(folder)
    return out / f"{draft.file_stem}.docx", out / f"{draft.file_stem}.html"


__all__ = ["DRAFTED_STATUSES", "CtqDraft", "CtqError", "WriteResult", "co_visitors", "ctq_drafts", "drafts_from",
           "ec_drawn_pairs",
           "rendered", "write_draft", "write_drafts"]
