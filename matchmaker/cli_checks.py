"""The command line's checks of option values and paths, before any work is done.

argparse ``type=`` functions (a bad value is a usage error naming the option) and the
checks of ``--out``, ``--settings``, the proposals file and ``--ledger`` (a bad path is a
:class:`~matchmaker.common.errors.UsageError` naming the option and the path).
:mod:`matchmaker.cli` uses them; they import nothing of the package's machinery.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from collections.abc import Callable
from pathlib import Path

from matchmaker.common.errors import UsageError
from matchmaker.ledger.engine import LedgerURLError, ledger_url

#: Folders of the kernel: nothing can be written there, even as root.
SYSTEM_FOLDERS = (Path("/proc"), Path("/sys"))
#: Largest solver seed (HiGHS and CP-SAT take 32-bit seeds).
MAX_SEED = 2**31 - 1


# --- option values (argparse ``type=``: a bad value is a usage error naming the option) ----------

def number(least: float, strict: bool) -> Callable[[str], float]:
    def check(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and (value > least if strict else value >= least)):
            raise argparse.ArgumentTypeError(f"{text!r}: must be a finite number {'>' if strict else '>='} {least:g}")
        return value
    return check


def whole(least: int, most: int | None = None) -> Callable[[str], int]:
    def check(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number") from None
        if value < least or (most is not None and value > most):
            upper = f" and <= {most}" if most is not None else ""
            raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number >= {least}{upper}")
        return value
    return check


positive_float, nonnegative_float = number(0, strict=True), number(0, strict=False)
positive_int, seed_int = whole(1), whole(0, MAX_SEED)

#: ``--sep`` values: a name, or the character itself.
SEPARATORS = {"comma": ",", "semicolon": ";", ",": ",", ";": ";"}
SEP_METAVAR = "{comma,semicolon}"
SEP_HELP = ("column separator of the CSV files: comma (default), or semicolon for spreadsheets set up for a country "
            "with a decimal comma, whose numbers are then written with a decimal comma (',' and ';' work too)")


def separator(text: str) -> str:
    """A ``--sep`` value (``comma``, ``semicolon``, ``,`` or ``;``, any case) as the character."""
    sep = SEPARATORS.get(text.strip().lower())
    if sep is None:
        raise argparse.ArgumentTypeError(f"{text!r}: must be comma or semicolon (or ',' or ';')")
    return sep


# --- paths (checked before any work; a bad one is a usage error naming the option and the path) --

def _system_folder(path: Path) -> Path | None:
    full = path.resolve()
    return next((s for s in SYSTEM_FOLDERS if full == s or s in full.parents), None)


def check_output(option: str, value: str, folder: bool, new_folders: bool = False) -> None:
    """Refuse an output ``value`` that cannot be written: :class:`UsageError` naming ``option`` and the path.

    ``folder``: an output folder (created if missing), else an output file: in an existing folder,
    or, with ``new_folders``, in one that the command creates.
    """
    what = "folder" if folder else "file"
    if not value.strip():
        raise UsageError(f"{option} is empty: give the {what} to write to")
    path = Path(value)
    where = f"{option} {value}"
    system = _system_folder(path)
    if system is not None:
        raise UsageError(f"{where}: {system} is a system folder where nothing can be written; give another {what}")
    if folder and path.exists() and not path.is_dir():
        raise UsageError(f"{where}: is a file, not a folder; give a folder (it is created if missing)")
    if not folder and path.is_dir():
        raise UsageError(f"{where}: is a folder; give a file name in it, for example {path / 'out.csv'}")
    if not folder and not new_folders and not path.resolve().parent.is_dir():
        raise UsageError(f"{where}: folder {path.resolve().parent} does not exist; create it first or give "
                         "another file")
    existing = path.resolve() if folder else path.resolve().parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{where}: {existing} is a file, so no folder can be made under it; give another {what}")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise UsageError(f"{where}: cannot write in {existing} ({exc.strerror or exc}); check its permissions or "
                         f"give another {what}") from None


def check_input_file(option: str, value: str) -> None:
    """Refuse an input file option that is not an existing file (:class:`UsageError`)."""
    path = Path(value)
    if not path.is_file():
        why = "is a folder, not a file" if path.is_dir() else "is not a file" if path.exists() else "no such file"
        raise UsageError(f"{option} {value}: {why}; give an existing file")


def check_ledger_url(value: str) -> None:
    """Refuse a ``--ledger`` URL of a database the ledger does not support (:class:`UsageError`).

    The ledger's own check (:func:`matchmaker.ledger.engine.ledger_url`) decides, so the
    supported databases are listed in one place.
    """
    try:
        ledger_url(value)
    except LedgerURLError as exc:
        raise UsageError(f"--ledger: {exc}") from None


def check_paths(args: argparse.Namespace) -> None:
    """Every path option of the command, checked before it starts (see :func:`check_output`)."""
    for attr, (option, kind) in getattr(args, "paths", {}).items():
        value = getattr(args, attr)
        if value is None:
            continue
        if kind == "ledger":
            check_ledger_url(value)
        elif kind == "input":
            check_input_file(option, value)
        else:
            check_output(option, value, folder=kind == "folder", new_folders=kind == "file in new folders")
