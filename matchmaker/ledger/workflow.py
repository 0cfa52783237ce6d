"""The round's life from the command line: open a round's ledger, and take a decision on a pair.

* :func:`open_ledger`: the ledger of a round, at ``--ledger URL`` or by default beside the
  round's files (:func:`matchmaker.common.locations.default_ledger_url`). Commands that
  only read or decide (``export``, ``decide``, the notebooks' review) open it with
  ``create=False``: a ledger that does not exist yet is never created empty, and the
  message says what to run (``matchmaker solve`` records the first round).
* :func:`decide_pair`: ``matchmaker decide``, the same :meth:`Ledger.decide
  <matchmaker.ledger.store.Ledger.decide>` and rules as the review notebook's buttons.

``matchmaker solve`` (:func:`matchmaker.ledger.carry_over.run_next_round`) solves a round
around the ledger's decisions and records it; docs/decisions.md §30 explains the choice.
"""

from __future__ import annotations

from pathlib import Path

from matchmaker.common.errors import UsageError
from matchmaker.common.locations import default_ledger_url
from matchmaker.inputs.loading import load_round
from matchmaker.ledger.engine import LedgerError, ledger_url
from matchmaker.ledger.store import Ledger

#: The decisions ``matchmaker decide`` takes -> the ledger's decision (``forbid`` is the ledger's ``reject``).
CLI_DECISIONS = {"accept": "accept", "reject": "reject", "forbid": "reject", "lock": "lock", "reopen": "reopen",
                 "comment": "comment"}

#: What each decision did, for the confirmation line.
DONE = {"accept": "accepted: the exchange goes ahead, its lump sum is reserved (committed when the Financial "
                  "Agreement is signed) and the visitor is not matched again",
        "reject": "rejected: the pair is never proposed again",
        "lock": "locked: the pair is kept in every later round",
        "reopen": "reopened: the pair is undecided again",
        "comment": "commented: the pair's state is unchanged"}


class NoLedgerYet(LedgerError):
    """A round's ledger that does not exist yet: no round of it has been recorded (:func:`open_ledger`)."""


def open_ledger(round_dir: str | Path, url: str | None = None, *, create: bool = False) -> Ledger:
    """The ledger of the round in ``round_dir``: at ``url``, default ``ROUND_DIR/ledger.sqlite``.

    With ``create=False`` (reading, deciding) a SQLite ledger file that does not exist is
    not created: :class:`NoLedgerYet` says so and what to run. ``create=True`` (recording
    a round) creates it.
    """
    text = url or default_ledger_url(round_dir)
    parsed = ledger_url(text)
    database = parsed.database or ""
    if not create and parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:") \
            and not Path(database).expanduser().exists():
        raise NoLedgerYet(f"there is no ledger yet for the round in {round_dir} (no file {database}): solve the "
                          f"round first, which records it in the ledger: `matchmaker solve {round_dir} --out "
                          "OUT_FOLDER`" + (f" --ledger {url}" if url else "")
                          + " (for the sample: `bash scripts/sample-round.sh`)")
    return Ledger(text)


def _checked(visitor_id: str, host_id: str, decision: str, by: str, comment: str) -> tuple[str, str, str, str]:
    """The command's arguments, cleaned; a :class:`UsageError` naming the option at fault."""
    if decision not in CLI_DECISIONS:
        raise UsageError(f"--decision {decision!r}: must be one of {', '.join(CLI_DECISIONS)}")
    for option, value in (("--visitor", visitor_id), ("--host", host_id)):
        if not str(value).strip():
            raise UsageError(f"{option} is empty: give the organisation's id (org_id in registrations.csv)")
    if not str(by).strip():
        raise UsageError("--by is empty: give who takes the decision (a name or an e-mail address)")
    if decision == "comment" and not str(comment or "").strip():
        raise UsageError("--decision comment needs the note itself: give --comment TEXT")
    return str(visitor_id).strip(), str(host_id).strip(), CLI_DECISIONS[decision], str(by).strip()


def decide_pair(round_dir: str | Path, visitor_id: str, host_id: str, decision: str, by: str, comment: str = "",
                *, round_id: int | None = None, url: str | None = None,
                settings_file: str | Path | None = None) -> str:
    """Record one decision on a pair in the round's ledger, as the review notebook does; return what was done.

    Parameters
    ----------
    round_dir : path-like
        The round's files: its default ledger is there, and a ``lock`` on a pair that was
        not proposed is checked against every rule of the scheme on them.
    visitor_id, host_id : str
        The pair.
    decision : {"accept", "reject", "forbid", "lock", "reopen", "comment"}
        ``forbid`` is the ledger's ``reject`` (never propose the pair again).
    by : str
        Who decides (name or e-mail).
    comment : str
        Free text (required for ``comment``).
    round_id : int, optional
        The round decided on (default: the ledger's latest round).
    url : str, optional
        Ledger URL (default: ``ROUND_DIR/ledger.sqlite``).
    settings_file : path-like, optional
        Settings overriding the round's ``settings.toml`` (for the rules a lock is checked against).

    Raises
    ------
    UsageError
        An empty or unknown argument.
    LedgerError
        No ledger or no round yet, an unknown round, or a decision the ledger's rules refuse
        (docs/ledger.md "Decisions"); the message says why and what to do.
    """
    visitor_id, host_id, stored, by = _checked(visitor_id, host_id, decision, by, comment)
    # a lock on a pair that was not proposed is checked against every rule of the scheme, on the round's files
    rnd = load_round(round_dir, settings_file=settings_file) if stored == "lock" else None
    with open_ledger(round_dir, url) as ledger:
        rid = ledger.latest_round_id() if round_id is None else int(round_id)
        ledger.decide(rid, visitor_id, host_id, stored, by, comment or "", rnd=rnd)
        name = str(ledger.round(rid)["name"])
    label = name if name == f"round {rid}" else f"{name} (round {rid})"
    return f"{label}: pair (visitor {visitor_id}, host {host_id}) {DONE[stored]} (by {by})"


__all__ = ["CLI_DECISIONS", "LedgerError", "NoLedgerYet", "decide_pair", "open_ledger"]
