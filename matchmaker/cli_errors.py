"""The command line's one error handler: the project's own errors as messages and exit codes.

:func:`explain` prints a project error for the user (the problems of a round, a usage error,
a settings error, an output set, the ledger, the disk) and returns its exit code: 1 the round
or its ledger, 2 bad usage. Anything else is a bug: ``None``, and :func:`matchmaker.cli.main`
keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys

from matchmaker.common.errors import OutputSetError, RoundDataError, SettingsError, UsageError


def say(text: str) -> None:
    """Print ``text`` for the user on stderr."""
    print(text, file=sys.stderr)


def explain(exc: Exception, args: argparse.Namespace, argv: list[str]) -> int | None:
    """Print one of the project's own errors for the user; its exit code, or ``None`` for a bug."""
    if isinstance(exc, RoundDataError):
        for p in exc.problems:
            say(str(p))
        n = sum(p.severity == "error" for p in exc.problems)
        where = getattr(args, "round_dir", None) or getattr(args, "out_dir", None) or "the round"
        say(f"{where}: {n} error(s): not usable as it is; fix the problems above and run the command again")
        return 1
    if isinstance(exc, UsageError):
        say(f"error: {exc}")
        return 2
    if isinstance(exc, SettingsError):  # an option given on the command line is usage, a settings file the round
        say(f"error: {exc}")
        return 2 if any(a.startswith("--") and f"({a})" in str(exc) for a in argv) else 1
    if isinstance(exc, OutputSetError):  # an output set that cannot be written or read as a whole
        say(f"error: {exc}")
        return 1
    ledger = sys.modules.get("matchmaker.ledger.engine")
    if ledger is not None and isinstance(exc, ledger.LedgerError):
        say(f"error: ledger: {exc}")
        return 1
    if isinstance(exc, OSError):  # the disk, the permissions, a file that went away: not a bug of ours
        what = f"{exc.filename}: " if exc.filename else ""
        say(f"error: {what}{exc.strerror or exc}; check the path, its permissions and the free disk space, "
             "then run the command again")
        return 1
    return None
