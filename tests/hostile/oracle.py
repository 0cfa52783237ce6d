"""Run the command line in-process and judge the outcome (issue 10, part 4).

An outcome is acceptable when the run ends in

* success (exit code 0) with every registration accounted for, or
* exit code 1 (bad round) or 2 (bad usage) with a message naming what is wrong,

and never in an exception escaping :func:`matchmaker.cli.main`, a traceback in the
output, or a registration silently dropped.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

from matchmaker.cli import main

#: First characters that make a spreadsheet read a cell as a formula (issue 10, part 3).
FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@dataclass
class Outcome:
    """What one in-process run of ``matchmaker`` did."""

    argv: list
    rc: object  # int, or None when an exception escaped main
    out: str
    err: str
    exception: str = ""

    @property
    def text(self) -> str:
        return self.out + "\n" + self.err

    def describe(self) -> str:
        return (f"argv={self.argv}\nrc={self.rc}\nexception={self.exception}\n"
                f"stdout={self.out[-1500:]!r}\nstderr={self.err[-1500:]!r}")


@contextlib.contextmanager
def working_dir(path: Path):
    """Run in ``path`` (``--out ""`` and relative paths then land there, not in the repository)."""
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_cli(argv: list[str], cwd: Path) -> Outcome:
    """``matchmaker ARGV`` in-process; an exception escaping ``main`` is recorded, not raised."""
    out, err = io.StringIO(), io.StringIO()
    rc, exc = None, ""
    with working_dir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            rc = main(list(argv))
        except SystemExit as e:  # argparse: 2 for bad usage, 0 for --help
            rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            if not isinstance(e.code, int) and e.code is not None:
                print(e.code, file=err)
        except BaseException as e:  # noqa: BLE001 - any escaping exception is the finding
            frames = traceback.extract_tb(e.__traceback__)
            own = [f for f in frames if "/matchmaker/" in f.filename and "/tests/" not in f.filename]
            where = own[-1] if own else frames[-1]
            exc = f"{type(e).__name__}: {str(e)[:300]} (raised at {where.filename}:{where.lineno}, last frame " \
                  f"{frames[-1].filename}:{frames[-1].lineno})"
    return Outcome(list(argv), rc, out.getvalue(), err.getvalue(), exc)


def problems_with(o: Outcome, names=()) -> list[str]:
    """Why ``o`` is not acceptable (empty when it is): exception, traceback, unknown exit code, no message.

    ``names``: when the run fails, its output must hold at least one of these words (case-insensitive).
    """
    found = []
    if o.exception:
        found.append(f"exception escaped main: {o.exception}")
        return found
    if "Traceback (most recent call last)" in o.text:
        found.append("a traceback was printed")
    if o.rc not in (0, 1, 2):
        found.append(f"exit code {o.rc!r} is none of 0, 1, 2")
    if o.rc in (1, 2):
        if not o.err.strip():
            found.append(f"exit code {o.rc} without a message on stderr")
        wanted = [n for n in names if n]
        if wanted and not any(n.lower() in o.text.lower() for n in wanted):
            found.append(f"the message names none of {wanted}")
    return found


def registration_ids(round_dir: Path) -> dict[str, list[str]]:
    """``{"visitor": [...], "host": [...]}``: the org_ids of each role as the registrations file holds them."""
    with open(round_dir / "registrations.csv", newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    out = {"visitor": [], "host": []}
    for r in rows:
        role = (r.get("role") or "").strip()
        if role in out:
            out[role].append((r.get("org_id") or "").strip())
    return out


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def strict_json(path: Path) -> dict:
    """``path`` parsed as strict JSON (``NaN``/``Infinity`` are errors, as in every other JSON reader)."""
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_constant)


def accounting_problems(round_dir: Path, out_dir: Path) -> list[str]:
    """After a successful solve: every visitor is in proposals.csv or unmatched.csv once, hosts counted.

    Also: ``summary.json`` is strict JSON and the CSV cells are injection-safe.
    """
    found = []
    ids = registration_ids(round_dir)
    for name in ("proposals.csv", "unmatched.csv", "summary.json"):
        if not (out_dir / name).is_file():
            found.append(f"{name} was not written to {out_dir}")
    if found:
        return found
    with open(out_dir / "proposals.csv", newline="", encoding="utf-8-sig") as fh:
        proposed = [r["visitor_id"] for r in csv.DictReader(fh)]
    with open(out_dir / "unmatched.csv", newline="", encoding="utf-8-sig") as fh:
        unmatched = [r["visitor_id"] for r in csv.DictReader(fh)]
    seen = sorted(_plain(x) for x in proposed + unmatched)
    if seen != sorted(ids["visitor"]):
        found.append(f"silent drop: visitors in the file {sorted(ids['visitor'])}, "
                     f"in proposals.csv + unmatched.csv {seen}")
    try:
        summary = strict_json(out_dir / "summary.json")
    except ValueError as e:
        found.append(f"summary.json is not valid JSON: {e}")
        return found
    visitors = summary.get("round", {}).get("visitors")  # the officer's part (docs/decisions.md §31)
    if visitors != len(ids["visitor"]):
        found.append(f"summary.json round.visitors = {visitors}, the file has {len(ids['visitor'])}")
    hosts = summary.get("solver", {}).get("catalogue", {}).get("hosts")
    if hosts != len(ids["host"]):
        found.append(f"summary.json solver.catalogue.hosts = {hosts}, the file has {len(ids['host'])}")
    for name in ("proposals.csv", "unmatched.csv"):
        found += [f"{name}: {c}" for c in formula_cells(out_dir / name)]
    return found


def _plain(cell: str) -> str:
    """A cell as the person typed it: an injection-safe writer's leading apostrophe removed."""
    return cell[1:] if cell.startswith("'") and cell[1:2] in FORMULA_FIRST else cell


def formula_cells(path: Path) -> list[str]:
    """Cells of a CSV file that a spreadsheet would run as a formula (not plain numbers)."""
    bad = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for i, row in enumerate(csv.reader(fh), start=1):
            for cell in row:
                if cell.startswith(FORMULA_FIRST) and not NUMBER.fullmatch(cell):
                    bad.append(f"row {i}: cell {cell[:40]!r} starts like a formula")
    return bad


def is_finite_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
