"""Fingerprint the product's behaviour on fixed rounds, to prove a refactor changes nothing.

Runs the public command line only (``matchmaker generate`` and ``matchmaker solve``), so
it works the same before and after any change to the package's insides. For each case
it records the SHA-256 of ``proposals.csv`` and ``unmatched.csv`` and the objective,
bound, status and work spent from ``summary.json``. Every case runs under a fixed
*work limit* and a time limit far above it, so the clock never stops a phase and the
result is reproducible (the script fails if a run says otherwise).

Usage::

    # write the fingerprint of the current checkout
    .venv/bin/python scripts/behaviour_fingerprint.py --write reports/behaviour_fingerprint.json
    # compare the current checkout with a committed fingerprint (exit 1 on any difference)
    .venv/bin/python scripts/behaviour_fingerprint.py --check reports/behaviour_fingerprint.json

Cases: the committed sample (``data/sample``) at its default work limit (45 units), and
the solver benchmark's generated rounds (seed 1, budgets funding half the visitors) at
three quarters of their benchmark time limits: 500 x 250 (3.75 units), 2,000 x 1,000
(22.5 units) and, unless ``--cases`` leaves it out, 10,000 x 5,000 (90 units).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the command line of the package that this interpreter imports (PYTHONPATH can point it
# at another checkout, to fingerprint an older commit with the same environment)
MM = [sys.executable, "-m", "matchmaker.cli"]

CASES = {
    "sample": dict(round="data/sample", work_limit=45.0),
    "500x250": dict(generate=(500, 250, 1, 0.5), work_limit=3.75),
    "2000x1000": dict(generate=(2000, 1000, 1, 0.5), work_limit=22.5),
    "10000x5000": dict(generate=(10000, 5000, 1, 0.5), work_limit=90.0),
}
TIME_LIMIT = 3600.0  # never reached: the work limit ends every run


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_case(name: str, work: Path) -> dict:
    """Solve one case through the CLI and return its fingerprint."""
    case = CASES[name]
    if "generate" in case:
        v, h, seed, share = case["generate"]
        round_dir = work / f"round-{name}"
        subprocess.run([*MM, "generate", "--visitors", str(v), "--hosts", str(h), "--seed", str(seed),
                        "--budget-share", str(share), "--out", str(round_dir)], check=True, capture_output=True)
    else:
        round_dir = ROOT / case["round"]
    out = work / f"out-{name}"
    t0 = time.monotonic()
    # --no-record: the round's files alone; a recorded solve would read and grow data/sample/ledger.sqlite
    proc = subprocess.run([*MM, "solve", str(round_dir), "--out", str(out), "--quiet", "--no-record",
                           "--time-limit", str(TIME_LIMIT), "--work-limit", str(case["work_limit"])],
                          capture_output=True, text=True)
    seconds = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit(f"{name}: matchmaker solve failed (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    summary = json.loads((out / "summary.json").read_text())
    solver = summary.get("solver", summary)  # the split summary (docs/decisions.md §31), or a flat one of before
    officer = summary.get("round", summary)
    if not solver.get("reproducible", officer.get("reproducible", True)):
        sys.exit(f"{name}: the clock stopped the solver, so this run is not reproducible; nothing to compare")
    return dict(
        proposals_sha256=_sha256(out / "proposals.csv"),
        unmatched_sha256=_sha256(out / "unmatched.csv"),
        status=officer.get("status", solver.get("status")),
        objective=officer.get("objective", solver.get("objective")),
        bound=officer.get("bound", solver.get("bound")),
        work_spent=solver.get("work_spent"),
        seconds=round(seconds, 1),
    )


COMPARED = ("proposals_sha256", "unmatched_sha256", "status", "objective", "bound")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, help="write the fingerprint to this JSON file")
    group.add_argument("--check", type=Path, help="compare with this committed fingerprint")
    ap.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fingerprint-") as tmp:
        found = {}
        for name in args.cases:
            found[name] = run_case(name, Path(tmp))
            print(f"{name}: {json.dumps(found[name])}", flush=True)
    if args.write:
        args.write.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
        print(f"wrote {args.write}")
        return 0
    expected = json.loads(args.check.read_text())
    differences = [f"{name}.{key}: expected {expected[name][key]!r}, found {found[name][key]!r}"
                   for name in found if name in expected for key in COMPARED
                   if expected[name].get(key) != found[name].get(key)]
    missing = [name for name in found if name not in expected]
    for line in differences:
        print(f"DIFFERENT {line}")
    for name in missing:
        print(f"NOT IN {args.check}: {name}")
    if differences or missing:
        return 1
    print(f"identical: {', '.join(found)} ({', '.join(COMPARED)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
