"""A solved round's output set: ``proposals.csv``, ``unmatched.csv`` and ``summary.json``, all or nothing.

**Writing** (:func:`write_output_set`). The whole set is written into a new hidden folder
beside the output folder (``.OUT.matchmaker-new-<pid>-<random>``, same file system), each
file flushed to disk, then swapped in with one atomic ``renameat2(RENAME_EXCHANGE)`` (Linux;
elsewhere: the old folder is renamed aside, then the new one in) and the old set deleted.
At every instant the output folder is the previous complete set or the new complete set
(docs/decisions.md §29). ``summary.json`` ends with ``output_set``: the format, the
``outcome`` (``succeeded`` or ``failed`` and why), the input hash and each file's SHA-256
and size. A failed run swaps in a set with only ``summary.json``, so the previous
results never stay behind looking current. ``summary.json`` is strict JSON: NaN and
infinities are written as ``null``.

The output folder belongs to matchmaker: a folder holding files that are not part of an
output set (other than a report written into it, hidden files and office lock files) is
refused, never replaced.

**Reading** (:func:`read_summary`). The readers (``check``, ``report``, the ledger, the
notebooks) refuse a set whose files do not match its ``summary.json`` (which file, the
expected and found SHA-256 and size), a ``summary.json`` that is not valid JSON, and the set
of a failed run ("this run failed: ..."); each message says to run the round again. A folder
whose ``summary.json`` has no ``output_set`` (made by hand, or by matchmaker before this
check) is read as it is.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import math
import os
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from matchmaker.common.errors import OutputFolderError, OutputSetError

SUMMARY = "summary.json"
TABLES = ("proposals.csv", "unmatched.csv")
#: The report's default file (``matchmaker report OUT``): part of the folder, replaced with the set.
REPORT = "round_report.html"
OWN_FILES = (*TABLES, SUMMARY, REPORT)
FORMAT = 1
RERUN = "run the round again (matchmaker solve ROUND --out OUT, or matchmaker round)"
_TAG = ".matchmaker-"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _plain(value: object) -> object:
    """``value`` as strict JSON values: NaN/inf -> None, NumPy scalars plain, dates ISO, others text."""
    if isinstance(value, Mapping):
        return {k if isinstance(k, (str, int, float, bool)) or k is None else str(k): _plain(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float)):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def summary_text(summary: Mapping) -> str:
    """``summary`` as strict JSON text (indented; NaN and infinities as ``null``)."""
    return json.dumps(_plain(summary), indent=2, allow_nan=False) + "\n"


def _foreign(out: Path) -> list[str]:
    """Entries of ``out`` that no output set holds (hidden files and office lock files are not counted)."""
    return sorted(p.name + ("/" if p.is_dir() else "") for p in out.iterdir()
                  if p.name not in OWN_FILES and not p.name.startswith((".", "~$")))


def target_folder(out_dir: str | Path) -> Path:
    """The absolute output folder for a new set, checked before any work is done.

    Its parent folders are created. Raises :class:`OutputFolderError` (an
    :class:`OutputSetError` and a ``UsageError``: exit code 2) when ``out_dir`` is empty, a
    file, under a file, not writable, or a folder holding other files.
    """
    if str(out_dir).strip() == "":
        raise OutputFolderError("the output folder is empty text: give a folder name (for example --out out/round-1)")
    out = Path(os.path.abspath(out_dir))
    if out.is_symlink():
        out = out.resolve()  # swap the folder the link points to; the link stays
    if out == out.parent:
        raise OutputFolderError(f"{out} is a file system's root: choose an output folder inside it (--out)")
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"{out} is a file, not a folder: choose another output folder (--out)")
    if out.is_dir() and (foreign := _foreign(out)):
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise OutputFolderError(f"{out} holds files that are not part of a matchmaker output set ({shown}): every "
                             "run replaces the whole output folder, so matchmaker will not write into this one; "
                             "choose a new or empty folder for the output (--out), or move those files out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFolderError(f"cannot create the output folder {out}: {exc.strerror or exc} "
                             f"({exc.filename or out.parent}); choose another output folder (--out)") from exc
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise OutputFolderError(f"cannot write into {out.parent} (permission denied): choose an output folder "
                             "(--out) in a folder you can write to")
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _clean_leftovers(out: Path) -> None:
    """Delete the temporary folders of runs into ``out`` that were killed (their process is gone)."""
    prefix = f".{out.name}{_TAG}"
    for p in out.parent.iterdir():
        if p.name.startswith(prefix) and p.is_dir() and not p.is_symlink():
            pid = p.name[len(prefix):].split("-")[1:2]
            if pid and pid[0].isdigit() and int(pid[0]) != os.getpid() and not _alive(int(pid[0])):
                shutil.rmtree(p, ignore_errors=True)


def _new_sibling(out: Path, kind: str) -> Path:
    return out.parent / f".{out.name}{_TAG}{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically (Linux ``renameat2``); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        rename2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    if rename2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(new: Path, out: Path) -> None:
    """Make ``new`` the folder ``out`` in one step; delete the set it replaces."""
    if not os.path.lexists(out):
        try:
            os.rename(new, out)
            _fsync_dir(out.parent)
            return
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise  # created meanwhile by another run: swap with it below
    if _exchange(new, out):
        old = new  # the new folder's name now holds the previous set
    else:
        old = _new_sibling(out, "old")
        os.rename(out, old)
        os.rename(new, out)
    _fsync_dir(out.parent)
    shutil.rmtree(old, ignore_errors=True)


def write_output_set(out_dir: str | Path, tables: Mapping[str, bytes], summary: Mapping,
                     failure: str | None = None) -> Path:
    """Write ``tables`` (file name -> bytes) and ``summary.json`` as one set into ``out_dir``, atomically.

    ``summary`` gets ``output_set`` (format, outcome, failure, input hash, each file's
    SHA-256 and size). With ``failure`` the set says the run failed and why. Returns the
    absolute output folder; raises :class:`OutputSetError` (with ``out_dir`` unchanged)
    when the folder is refused or a file cannot be written.
    """
    out = target_folder(out_dir)
    _clean_leftovers(out)
    record = dict(format=FORMAT, outcome="failed" if failure else "succeeded", failure=failure,
                  input_hash=summary.get("input_hash"),
                  files={name: dict(sha256=sha256(data), bytes=len(data)) for name, data in tables.items()})
    files = {**tables, SUMMARY: summary_text({**summary, "output_set": record}).encode("utf-8")}
    new = _new_sibling(out, "new")
    try:
        os.mkdir(new)
        for name, data in files.items():
            _write_synced(new / name, data)
        _fsync_dir(new)
        if out.is_dir():
            shutil.copymode(out, new)  # the folder keeps its permissions
        _swap_in(new, out)
    except OSError as exc:
        shutil.rmtree(new, ignore_errors=True)
        raise OutputSetError(f"the output files could not be written to {out}: {exc.strerror or exc}"
                             f"{f' ({exc.filename})' if exc.filename else ''}; nothing in {out} was changed. "
                             "Free some space or choose another output folder (--out), then run the round "
                             "again") from exc
    return out


def record_failure(out_dir: str | Path, failure: str, summary: Mapping | None = None) -> bool:
    """Swap into ``out_dir`` a set saying that the run failed and why (``summary.json`` only).

    For a run that stopped before it could solve (a round that cannot be loaded, a ledger
    out of reach): the previous results then no longer look current. Returns False
    (and changes nothing) when the folder cannot take a set; the caller reports its own error.
    """
    try:
        write_output_set(out_dir, {}, dict(summary or {}), failure)
    except OutputSetError:
        return False
    return True


def _load_json(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OutputSetError(f"{path} cannot be read ({exc}): {RERUN}") from exc
    try:
        return json.loads(text, parse_constant=lambda name: math.nan)
    except json.JSONDecodeError as exc:
        raise OutputSetError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): "
                             f"the file is damaged or was not completely written; {RERUN}") from exc


def check_files(out: Path, record: object) -> None:
    """Raise :class:`OutputSetError` unless every file ``record`` lists matches its SHA-256 and size."""
    files = record.get("files") if isinstance(record, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        raise OutputSetError(f"{out / SUMMARY}: its 'output_set' entry is damaged (no list of files with "
                             f"their SHA-256): {RERUN}")
    for name, want in files.items():
        path = out / name
        if not path.is_file():
            raise OutputSetError(f"{path} is missing, but {SUMMARY} lists it: the folder does not hold the "
                                 f"complete output of one run; {RERUN}")
        data = path.read_bytes()
        found = sha256(data)
        if found != want.get("sha256") or len(data) != want.get("bytes"):
            raise OutputSetError(
                f"{path} does not match {SUMMARY}: expected SHA-256 {str(want.get('sha256'))[:16]}... "
                f"({want.get('bytes')} bytes), found {found[:16]}... ({len(data)} bytes); the folder holds files "
                f"of different runs, or the file was changed after the run: {RERUN} (to check or report an "
                "edited proposals file, save it outside the output folder)")


def read_summary(out_dir: str | Path) -> dict | None:
    """``summary.json`` of an output folder, once the set is checked; ``None`` when there is none.

    Raises :class:`OutputSetError` when the folder is missing, ``summary.json`` is not
    valid JSON, the run failed, or a file does not match the summary.
    """
    out = Path(out_dir)
    if not out.is_dir():
        what = "is a file, not an output folder" if out.exists() else "does not exist"
        raise OutputSetError(f"{out} {what}: give the output folder of a solved round (the folder with "
                             "proposals.csv, unmatched.csv and summary.json that matchmaker solve --out wrote)")
    path = out / SUMMARY
    if not os.path.lexists(path):
        return None
    summary = _load_json(path)
    if not isinstance(summary, dict):
        raise OutputSetError(f"{path} does not hold a run's summary (a JSON object): {RERUN}")
    record = summary.get("output_set")
    if record is None:
        return summary  # a folder made by hand, or by matchmaker before output sets were checked
    if isinstance(record, dict) and record.get("outcome") == "failed":
        raise OutputSetError(f"{out}: this run failed: {record.get('failure') or 'no reason recorded'}. The folder "
                             "holds no proposals; fix what the message says, then run the round again")
    check_files(out, record)
    return summary
