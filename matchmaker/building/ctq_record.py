"""Write Commitment to Quality drafts and record the step ``ctq_drafted`` in the ledger (one action).

Writing a draft (:func:`matchmaker.building.ctq.write_drafts`) does not by itself move the
exchange: the validation chain (:mod:`matchmaker.ledger.step_rules`) starts with the step
``ctq_drafted``, recorded by a person. :func:`draft_and_record` does both for the
notebook's *Draft the Commitment to Quality* button and ``matchmaker ctq --by NAME``: it
checks who records first, writes the drafts (nothing is recorded when the files are
refused), then records ``ctq_drafted`` for each pair whose chain allows it. A pair whose
draft was already recorded keeps its first record (the files are written again, the step
is not); any other refusal is said in words, per pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from matchmaker.building.ctq import CtqDraft, CtqError, WriteResult, drafts_from, write_drafts
from matchmaker.inputs.instance import Round
from matchmaker.ledger.engine import LedgerError
from matchmaker.ledger.steps import record_step
from matchmaker.ledger.store import Ledger

#: The step recorded once a draft is written.
DRAFTED = "ctq_drafted"


@dataclass(frozen=True)
class Recorded:
    """What recording ``ctq_drafted`` did for one pair: its step id (``None`` if not recorded) and why, in words."""

    visitor_id: str
    host_id: str
    step_id: int | None
    message: str
    already: bool = False


@dataclass(frozen=True)
class DraftedAndRecorded:
    """The drafts written (:attr:`written`) and, per pair, the step recorded (:attr:`recorded`)."""

    drafts: list[CtqDraft]
    written: WriteResult
    recorded: list[Recorded]

    def describe(self) -> str:
        """In a few words: how many steps recorded, already recorded, refused (with why)."""
        done = [r for r in self.recorded if r.step_id is not None]
        already = [r for r in self.recorded if r.already]
        refused = [r for r in self.recorded if r.step_id is None and not r.already]
        parts = [f"'Commitment to Quality drafted' recorded for {len(done)} exchange(s)"]
        if already:
            parts.append(f"{len(already)} already recorded before (kept)")
        text = "; ".join(parts)
        return text + "".join(f"\n  not recorded: {r.message}" for r in refused)


def record_drafted(ledger: Ledger, drafts: Sequence[CtqDraft], by: str) -> list[Recorded]:
    """Record ``ctq_drafted`` by ``by`` for each draft's pair; a refusal is kept in words, never raised."""
    out = []
    for d in drafts:
        try:
            step_id = record_step(ledger, d.visitor_id, d.host_id, DRAFTED, by)
        except LedgerError as exc:
            text = str(exc)
            out.append(Recorded(d.visitor_id, d.host_id, None, text, already="already" in text and "drafted" in text))
            continue
        out.append(Recorded(d.visitor_id, d.host_id, step_id,
                            f"visitor {d.visitor_id} with host {d.host_id}: Commitment to Quality drafted (step "
                            f"#{step_id}, by {by.strip()})"))
    return out


def draft_and_record(rnd: Round, ledger: Ledger, folder: str | Path, by: str,
                     pairs: Iterable[tuple[str, str]] | None = None, *, round_id: int | None = None,
                     force: bool = False) -> DraftedAndRecorded:
    """Write the drafts of ``pairs`` (default: every accepted or locked pair) and record ``ctq_drafted``.

    Parameters
    ----------
    rnd, ledger : Round, Ledger
        The round's registrations and its open ledger.
    folder : path-like
        Where the ``.docx`` and ``.html`` files go (:func:`~matchmaker.building.ctq.write_drafts`).
    by : str
        Who records the step (name or e-mail); required, checked before anything is written.
    pairs : iterable of (visitor_id, host_id), optional
    round_id : int, optional
        The ledger's round whose list is read (default: the latest).
    force : bool
        Replace draft files that differ from the new drafts.

    Raises
    ------
    LedgerError
        ``by`` is empty (nothing written).
    CtqError
        A pair is not accepted or locked, or a file differs without ``force`` (nothing written or recorded).
    """
    by = str(by or "").strip()
    if not by:
        raise LedgerError("who drafts must be given (a name or an e-mail address): it is recorded with the step "
                          "'Commitment to Quality drafted'")
    drafts = drafts_from(rnd, ledger, pairs, round_id=round_id)
    if not drafts:
        raise CtqError("no accepted or locked pair to draft: accept a pair first")
    written = write_drafts(drafts, folder, force=force)
    return DraftedAndRecorded(drafts, written, record_drafted(ledger, drafts, by))


__all__ = ["DRAFTED", "DraftedAndRecorded", "Recorded", "draft_and_record", "record_drafted"]
