"""``matchmaker step``, ``matchmaker ec-draw`` and ``matchmaker statement``: exchanges from the command line.

* :func:`step_command` records one step of an exchange's validation chain
  (:func:`matchmaker.ledger.steps.record_step`);
* :func:`ec_draw_command` draws exchanges for validation by the European Commission
  (:func:`matchmaker.ledger.ec_draw.ec_draw`); :func:`ec_check_command` re-runs a recorded
  draw (``--check DRAW``) and says whether the same exchanges come out;
* :func:`statement_command` prints (and writes as CSV) a Partnership's statement
  (:func:`matchmaker.ledger.money.statement`), its budget read from the round's files.

Each returns the text to print; a refused step or draw is a :class:`LedgerError` (exit 1),
a bad option a :class:`UsageError` (exit 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matchmaker.common.csv_safe import write_csv
from matchmaker.common.errors import UsageError
from matchmaker.inputs.loading import load_round
from matchmaker.ledger.ec_draw import MAX_SEED, check_ec_draw, ec_draw, ec_draws
from matchmaker.ledger.engine import LedgerError
from matchmaker.ledger.money import describe_statement, statement, statement_table
from matchmaker.ledger.step_history import when_text
from matchmaker.ledger.step_rules import LABELS, STEPS
from matchmaker.ledger.steps import exchange_pipeline, record_step
from matchmaker.ledger.workflow import open_ledger


def _step_name(to: str) -> str:
    """``--to``'s value as a step (``signed-by-host`` and ``signed_by_host`` alike); UsageError if unknown."""
    step = str(to).strip().lower().replace("-", "_").replace(" ", "_")
    if step not in STEPS:
        raise UsageError(f"--to {to!r}: not a step of an exchange; give one of {', '.join(STEPS)}")
    return step


def step_command(round_dir: str | Path, visitor: str, host: str, to: str, by: str, reason: str = "",
                 partnership: str | None = None, *, url: str | None = None) -> str:
    """Record step ``to`` of exchange (``visitor``, ``host``) in the round's ledger; return what was done."""
    step = _step_name(to)
    for option, value in (("--visitor", visitor), ("--host", host), ("--by", by)):
        if not str(value or "").strip():
            raise UsageError(f"{option} is empty")
    if step == "withdrawn" and not str(reason or "").strip():
        raise UsageError("--to withdrawn needs the reason: give --reason TEXT")
    if partnership and step != "validated_by_partnership":
        raise UsageError(f"--partnership goes with --to validated_by_partnership only, not with --to {step}")
    with open_ledger(round_dir, url) as ledger:
        record_step(ledger, visitor, host, step, by, reason or "", partnership)
        pipe = exchange_pipeline(ledger)
    row = pipe[(pipe["visitor_id"] == str(visitor).strip()) & (pipe["host_id"] == str(host).strip())].iloc[0]
    nxt = ", ".join(row["next_steps"]) or "none (the exchange's chain is over)"
    return (f"exchange (visitor {row['visitor_id']}, host {row['host_id']}): {LABELS[step]} (by {str(by).strip()}); "
            f"now: {row['state_words']}; next: {nxt}")


def ec_check_command(round_dir: str | Path, draw: str, *, url: str | None = None) -> str:
    """Re-run recorded EC draw number ``draw`` and say whether the same exchanges come out (records nothing).

    Raises
    ------
    UsageError
        ``draw`` is not a whole number from 1.
    LedgerError
        No such draw, or the re-run draws other exchanges than recorded (the draw is not confirmed).
    """
    text = str(draw).strip()
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"--check {draw!r}: give the number of a recorded EC draw (1, 2, ...)")
    with open_ledger(round_dir, url) as ledger:
        same, words = check_ec_draw(ledger, int(text))
        recorded = next(d for d in ec_draws(ledger) if d.draw_id == int(text))
    if not same:
        raise LedgerError(words)
    return f"{words}\nrecorded on {when_text(recorded.drawn_at)}: {recorded.describe()}"


def ec_draw_command(round_dir: str | Path, share: float | None, seed: int | None, by: str = "Support Office",
                    by_partnership: bool = True, *, url: str | None = None) -> str:
    """Draw ``share`` of the exchanges for EC validation with ``seed`` and record it; return the draw in words."""
    missing = [o for o, v in (("--share", share), ("--seed", seed)) if v is None]
    if missing:
        raise UsageError(f"give {' and '.join(missing)} to draw (or --check DRAW to re-run a recorded draw)")
    if not 0 < float(share) <= 1:
        raise UsageError(f"--share {share}: give a share above 0 and at most 1 (0.1 draws 10 %)")
    if not 0 <= int(seed) <= MAX_SEED:
        raise UsageError(f"--seed {seed}: give a whole number from 0 to {MAX_SEED}")
    with open_ledger(round_dir, url) as ledger:
        draw = ec_draw(ledger, share, seed, by_partnership=by_partnership, by=by)
    return draw.describe() + (f"\nanyone can re-run it from its seed {seed}, share {share:g} and the candidates "
                              f"kept in the ledger: matchmaker ec-draw ROUND_DIR --check {draw.draw_id}")


def statement_command(round_dir: str | Path, partnership: str, out: str | Path | None = None, *,
                      url: str | None = None, settings_file: str | Path | None = None) -> str:
    """A Partnership's statement (budget from the round's partnerships.csv); written to ``out`` as CSV if given."""
    rnd = load_round(round_dir, settings_file=settings_file)
    known = [str(p) for p in rnd.partnerships.index]
    if str(partnership) not in known:
        raise UsageError(f"--partnership {partnership!r} is not in the round's partnerships.csv "
                         f"(known: {', '.join(sorted(known))})")
    budget = float(rnd.partnerships.at[str(partnership), "budget_eur"])
    with open_ledger(round_dir, url) as ledger:
        result = statement(ledger, str(partnership), budget)
    text = describe_statement(result)
    if out is not None:
        path = write_csv(statement_table(result), Path(out))
        text += f"\nwritten to {path}"
    return text


def run_exchange_command(args: argparse.Namespace) -> str:
    """Run ``matchmaker step | ec-draw | statement`` from its parsed arguments; return the text to print."""
    if args.command == "step":
        return step_command(args.round_dir, args.visitor, args.host, args.to, args.by, args.reason or "",
                            args.partnership, url=args.ledger)
    if args.command == "ec-draw" and args.check is not None:
        given = [o for o, v in (("--share", args.share), ("--seed", args.seed)) if v is not None]
        given += ["--not-by-partnership"] if args.not_by_partnership else []
        if given:
            raise UsageError(f"--check re-runs a recorded draw with its own settings: leave out {', '.join(given)}")
        return ec_check_command(args.round_dir, args.check, url=args.ledger)
    if args.command == "ec-draw":
        return ec_draw_command(args.round_dir, args.share, args.seed, args.by, not args.not_by_partnership,
                               url=args.ledger)
    return statement_command(args.round_dir, args.partnership, args.out, url=args.ledger, settings_file=args.settings)
