"""``matchmaker ctq ROUND_DIR [--visitor ID --host ID] --out DIR [--by NAME] [--ledger URL] [--round N] [--force]``.

Writes the Commitment to Quality drafts (``.docx`` and ``.html``) of the ledger's accepted
and locked pairs, or of one pair, into ``--out``; see :mod:`matchmaker.building.ctq` for
what is written and when a file already there is kept, refused or replaced. With ``--by
NAME`` it also records the step 'Commitment to Quality drafted' by NAME for each pair
(:func:`matchmaker.building.ctq_record.record_drafted`; a pair recorded before keeps its
first record); without it, the drafts only, and the output says how to record the step.
"""

from __future__ import annotations

from pathlib import Path

from matchmaker.building.ctq import CtqError, drafts_from, write_drafts
from matchmaker.building.ctq_record import DraftedAndRecorded, record_drafted
from matchmaker.common.errors import UsageError
from matchmaker.inputs.loading import load_round
from matchmaker.ledger.engine import LedgerError
from matchmaker.ledger.workflow import open_ledger

#: Said when the drafts are written without --by.
NOT_RECORDED = ("the step 'Commitment to Quality drafted' is not recorded: give --by NAME to record it with the "
                "drafts, or `matchmaker step ROUND_DIR --visitor ID --host ID --to ctq_drafted --by NAME`")


def _pairs(visitor: str | None, host: str | None) -> list[tuple[str, str]] | None:
    """The one pair asked for, or ``None`` for all; :class:`UsageError` when only one side is given."""
    given = [(o, v) for o, v in (("--visitor", visitor), ("--host", host)) if v is not None]
    if not given:
        return None
    if len(given) == 1:
        other = "--host" if given[0][0] == "--visitor" else "--visitor"
        raise UsageError(f"{given[0][0]} needs {other} too: give both ids of the pair, or neither for every "
                         "accepted or locked pair")
    for option, value in given:
        if not str(value).strip():
            raise UsageError(f"{option} is empty: give the organisation's id (org_id in registrations.csv)")
    return [(str(visitor).strip(), str(host).strip())]


def ctq_command(round_dir: str | Path, out: str | Path, *, visitor: str | None = None, host: str | None = None,
                ledger_url: str | None = None, round_id: int | None = None, force: bool = False,
                settings_file: str | Path | None = None, by: str | None = None) -> tuple[int, str]:
    """Run ``matchmaker ctq``; return ``(exit code, text to print)``.

    Exit code 0 when the drafts were written (or there is nothing to draft) and, with ``by``,
    every step recorded (or recorded before); 1 when a pair is not accepted or locked, the
    ledger refuses, or a file in ``out`` differs from its new draft without ``force`` (nothing
    is written then). :class:`UsageError` when ``by`` is given empty.
    """
    pairs = _pairs(visitor, host)
    if by is not None and not str(by).strip():
        raise UsageError("--by is empty: give your name or e-mail address (it is recorded with the step)")
    try:
        rnd = load_round(round_dir, settings_file=settings_file)
        with open_ledger(round_dir, ledger_url) as ledger:
            drafts = drafts_from(rnd, ledger, pairs, round_id=round_id)
            if not drafts:
                return 0, ("no accepted or locked pair in the ledger's list: nothing to draft (accept a pair first: "
                           "`matchmaker decide ROUND_DIR --visitor ID --host ID --decision accept --by NAME`)")
            result = write_drafts(drafts, out, force=force)
            done = DraftedAndRecorded(drafts, result, record_drafted(ledger, drafts, by)) if by else None
    except (CtqError, LedgerError) as exc:
        return 1, f"error: {exc}"
    lines = [f"round {drafts[0].round_id}: {len(drafts)} Commitment to Quality draft(s) (.docx to edit, .html to "
             f"read) in {result.folder}: {len(result.new)} file(s) new, {len(result.replaced)} replaced, "
             f"{len(result.unchanged)} unchanged"]
    for d in drafts:
        lines.append(f"  {d.file_stem}: visitor {d.visitor_id} with host {d.host_id}, {d.status}, {d.mode}, "
                     f"{d.form}; {len(d.to_complete())} part(s) marked [to complete: ...]")
    lines.append(done.describe() if done else NOT_RECORDED)
    refused = done is not None and any(r.step_id is None and not r.already for r in done.recorded)
    return (1 if refused else 0), "\n".join(lines)


__all__ = ["ctq_command"]
