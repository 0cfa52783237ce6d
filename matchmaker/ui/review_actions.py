"""What the review panel's buttons do, without widgets: decide, re-solve, export.

:class:`matchmaker.ui.review.ReviewPanel` calls these functions with the values of its
boxes and shows the :class:`Outcome` they return in its status line:

* :func:`record_decision` writes a reviewer's decision on a pair to the ledger
  (:meth:`matchmaker.ledger.store.Ledger.decide`);
* :func:`resolve_next_round` solves the next round around the ledger's decisions and
  records it (:func:`matchmaker.ledger.carry_over.run_next_round`), into
  :func:`next_round_dir`;
* :func:`propose_partnership_resolve` solves a Partnership's stable re-solve
  (:func:`matchmaker.ledger.resolve.propose_resolve`) without recording it, and says its
  churn in words (:func:`churn_words`); :func:`record_proposed` records it once the
  reviewer confirms (:func:`matchmaker.ledger.resolve.record_resolve`);
* :func:`write_partnership_list` writes a partnership's pairs as a formula-safe CSV and,
  if asked, an .xlsx (:mod:`matchmaker.report.exports`).

What the ledger or the round's files refuse is not raised: the outcome says why, in
words for the reviewer, and carries no value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from matchmaker.common.errors import OutputSetError, RoundDataError, SettingsError
from matchmaker.inputs.instance import Round
from matchmaker.ledger.carry_over import run_next_round
from matchmaker.ledger.resolve import Resolve, ResolveRefusedError, propose_resolve, record_resolve
from matchmaker.ledger.store import Ledger, LedgerError
from matchmaker.report.exports import export_csv, export_xlsx


@dataclass(frozen=True)
class Outcome:
    """What an action did, for the panel's status line.

    Attributes
    ----------
    value : object
        The action's result (a decision id, a :class:`~matchmaker.ledger.carry_over.NextRound`,
        the paths written), or ``None`` when it could not run.
    message : str
        What happened, or why not, in one line for the reviewer.
    ok : bool
        False when the action was refused or did not succeed.
    """

    value: Any
    message: str
    ok: bool = True


def record_decision(ledger: Ledger, round_id: int, pair: tuple[str, str], decision: str, reviewer: str,
                    comment: str, rnd: Round | None = None) -> Outcome:
    """Record ``decision`` on ``pair`` (visitor id, host id) of round ``round_id``.

    ``rnd`` (the round's data) lets the ledger check a lock against the rules. The
    outcome's value is the ledger's decision id, or ``None`` when the ledger refused.
    """
    try:
        new_id = ledger.decide(round_id, pair[0], pair[1], decision, reviewer, comment, rnd=rnd)
    except LedgerError as exc:
        return Outcome(None, f"not recorded: {exc}", ok=False)
    who = reviewer.strip()
    return Outcome(new_id, f"{decision} recorded for visitor {pair[0]} and host {pair[1]} by {who} "
                           f"(decision #{new_id})")


def next_round_dir(ledger: Ledger, resolve_dir: Path) -> Path:
    """Where the next round's outputs go: ``resolve_dir/round_<latest round id + 1>``."""
    return resolve_dir / f"round_{ledger.latest_round_id() + 1}"


def resolve_next_round(ledger: Ledger, round_dir: Path, out_dir: Path, time_limit: float | None = None,
                       progress: Callable[[dict], None] | None = None) -> Outcome:
    """Solve the next round of ``round_dir`` around ``ledger``'s decisions and record it.

    The outcome's value is the :class:`~matchmaker.ledger.carry_over.NextRound` (``ok``
    when it was recorded), or ``None`` when the round's files, its settings or the
    ledger stopped it before solving. ``progress`` receives the solver's progress reports
    (a :class:`~matchmaker.ui.progress.SolveProgress`).
    """
    url = ledger.url.render_as_string(hide_password=False)
    try:
        result = run_next_round(round_dir, out_dir, ledger_url=url, time_limit=time_limit, verbose=False,
                                progress=progress)
    except RoundDataError as exc:
        return Outcome(None, "cannot re-solve: " + "; ".join(str(p) for p in exc.problems), ok=False)
    except (SettingsError, LedgerError, OutputSetError) as exc:  # OutputSetError: the output folder
        return Outcome(None, f"cannot re-solve: {exc}", ok=False)
    if result.round_id is None:
        return Outcome(result, result.describe(), ok=False)
    return Outcome(result, result.describe().replace("\n", " | "))


#: What a refused Partnership's re-solve needs, in the reviewer's words.
GLOBAL_NEEDED = "the Support Office must re-solve the whole round"


def churn_words(res: Resolve) -> str:
    """A proposed re-solve in words: pairs changed per Partnership (0 outside the deciding one), or the refusal.

    One line per point; nothing is recorded yet.
    """
    text = res.describe()
    if not res.recordable:
        for needed in ("a global re-solve by the Support Office is needed (matchmaker resolve ROUND_DIR "
                       "without --partnership)", "a global re-solve by the Support Office is needed"):
            text = text.replace(needed, GLOBAL_NEEDED + "; nothing was recorded")
        return text if GLOBAL_NEEDED in text else f"{text}\n{GLOBAL_NEEDED}; nothing was recorded"
    return f'{text}\nnot recorded yet: press "Record this re-solve" to record it as the next round'


def propose_partnership_resolve(ledger: Ledger, round_dir: Path, out_dir: Path, partnership: str | None,
                                time_limit: float | None = None,
                                progress: Callable[[dict], None] | None = None,
                                work_limit: float | None = None) -> Outcome:
    """Solve ``partnership``'s stable re-solve of ``round_dir`` into ``out_dir``; record nothing.

    The outcome's value is the :class:`~matchmaker.ledger.resolve.Resolve` (``ok`` when it
    can be recorded), or ``None`` when the round's files, settings or the ledger stopped it.
    """
    try:
        res = propose_resolve(round_dir, out_dir, ledger, partnership, time_limit=time_limit, work_limit=work_limit,
                              progress=progress)
    except RoundDataError as exc:
        return Outcome(None, "cannot re-solve: " + "; ".join(str(p) for p in exc.problems), ok=False)
    except (SettingsError, LedgerError, OutputSetError) as exc:
        return Outcome(None, f"cannot re-solve: {exc}", ok=False)
    return Outcome(res, churn_words(res), ok=res.recordable)


def record_proposed(ledger: Ledger, res: Resolve) -> Outcome:
    """Record a proposed re-solve as the ledger's next round; the outcome's value is its id, or ``None``."""
    try:
        new_id = record_resolve(ledger, res)
    except ResolveRefusedError:
        return Outcome(None, "not recorded: " + churn_words(res).replace("\n", "; "), ok=False)
    except (LedgerError, OutputSetError) as exc:
        return Outcome(None, f"not recorded: {exc}", ok=False)
    return Outcome(new_id, f"re-solve recorded as round {new_id}")


def write_partnership_list(table: pd.DataFrame, export_dir: Path, round_id: int, partnership: str, *,
                           sep: str = ",", xlsx: bool = False) -> Outcome:
    """Write a partnership's pairs as ``round_<id>_<partnership>.csv`` (and ``.xlsx``).

    CSV in UTF-8 with BOM, separated by ``sep``, formula-safe
    (:func:`matchmaker.report.exports.export_csv`). The outcome's value is the list
    of paths written.
    """
    stem = f"round_{round_id}_{partnership}"
    export_dir.mkdir(parents=True, exist_ok=True)
    written = [export_csv(table, export_dir / f"{stem}.csv", sep=sep)]
    if xlsx:
        written.append(export_xlsx(table, export_dir / f"{stem}.xlsx", sheet_name=str(partnership)))
    return Outcome(written, f"exported {len(table)} pairs of {partnership}: " + ", ".join(str(p) for p in written))
