"""``matchmaker resolve``: a re-solve from the command line, proposed, shown, then recorded.

``matchmaker resolve ROUND_DIR`` is the Support Office's global re-solve;
``--partnership ID`` is that Partnership's stable re-solve (:mod:`matchmaker.ledger.resolve`).
:func:`resolve_round` proposes it, prints its churn (pairs changed per Partnership against
the ledger's latest round) and records it unless ``--dry-run`` was given or it is refused.
"""

from __future__ import annotations

from pathlib import Path

from matchmaker.common.locations import out_folder
from matchmaker.ledger.resolve import propose_resolve, record_resolve
from matchmaker.ledger.workflow import open_ledger


def default_resolve_dir(round_dir: str | Path, next_id: int, partnership: str | None) -> Path:
    """``PROJECT/out/resolved/<round folder>-round-<N>[-<partnership>]``: where a re-solve's set goes by default."""
    tail = f"-{partnership}" if partnership else ""
    return out_folder("resolved") / f"{Path(round_dir).expanduser().resolve().name}-round-{next_id}{tail}"


def resolve_round(round_dir: str | Path, out_dir: str | Path | None = None, partnership: str | None = None, *,
                  ledger_url: str | None = None, name: str | None = None, dry_run: bool = False,
                  time_limit: float | None = None, work_limit: float | None = None, seed: int | None = None,
                  settings_file: str | Path | None = None, verbose: bool = True,
                  prove: bool | None = None) -> tuple[int, str]:
    """Propose a re-solve of ``round_dir``, and record it when it may be; return ``(exit code, text)``.

    The text is the re-solve's summary (:meth:`Resolve.describe
    <matchmaker.ledger.resolve.Resolve.describe>`) and what was recorded. Exit code 0 when it
    was recorded (or, with ``dry_run``, solved and recordable), 1 when it was refused or
    not solved (nothing recorded). ``prove``: prove mode (:func:`matchmaker.run.run_round`).
    """
    with open_ledger(round_dir, ledger_url) as ledger:
        base = ledger.latest_round_id()
        out = Path(out_dir) if out_dir is not None else default_resolve_dir(round_dir, base + 1, partnership)
        res = propose_resolve(round_dir, out, ledger, partnership, time_limit=time_limit, work_limit=work_limit,
                              seed=seed, settings_file=settings_file, verbose=verbose, prove=prove)
        text = res.describe()
        if not res.recordable:
            return 1, text + "\nnothing recorded in the ledger"
        if dry_run:
            return 0, text + f"\ndry run: nothing recorded; the proposals are in {out}"
        round_id = record_resolve(ledger, res, name=name)
        return 0, text + f"\nrecorded as round {round_id} in the ledger; proposals in {out}"
