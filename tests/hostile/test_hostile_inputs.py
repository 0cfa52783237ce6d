"""Hostile-input property suite (issue 10, part 4).

Small valid rounds are broken cell by cell, row by row, file by file, in their settings
and on the command line (:mod:`strategies`), and ``matchmaker`` is run in-process on each.
Every case must end in success with every registration accounted for, or in exit code
1 (bad round) / 2 (bad usage) with a message naming what is wrong: never an exception
escaping ``main``, never a traceback, never a silent drop (:mod:`oracle`).

About 1,200 generated cases in all (the ``max_examples`` below); derandomised, so a run
is repeatable and a failure's case is printed by Hypothesis.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from helpers import host, visitor
from hypothesis import HealthCheck, given, settings
from oracle import Outcome, accounting_problems, problems_with, registration_ids, run_cli
from strategies import (
    Case,
    CellEdit,
    CliCase,
    FileEdit,
    RoundSpec,
    SettingsEdit,
    cell_cases,
    cli_cases,
    file_cases,
    materialise,
    resolve_argv,
    row_cases,
    settings_cases,
    unwritable_dir,
    valid_rounds,
    write_spec,
)

#: Cases per property test; the sum is the suite's number of generated cases.
EXAMPLES = {
    "valid": 30, "registration_cells": 300, "reference_cells": 150, "rows": 100, "files": 150,
    "settings": 150, "solve": 100, "cli": 250,
}
SOLVE_FLAGS = ["--quiet", "--time-limit", "20", "--work-limit", "0.3"]
USABLE = re.compile(r"usable round: (\d+) visitors, (\d+) hosts")


def hostile(n: int):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example])


def fail_if(problems: list[str], *outcomes: Outcome, case=None) -> None:
    if problems:
        raise AssertionError("\n".join(problems) + f"\ncase: {case!r}"[:3000] + "\n"
                             + "\n---\n".join(o.describe() for o in outcomes))


def validate_problems(d: Path, o: Outcome, names) -> list[str]:
    """A validate run is acceptable, and when it says "usable" its counts are the file's."""
    found = problems_with(o, names)
    if o.rc == 0 and not found:
        m = USABLE.search(o.out)
        try:
            ids = registration_ids(d)
        except (UnicodeDecodeError, KeyError, OSError) as e:
            return [f"validate accepted a registrations file that cannot be read as UTF-8 CSV: {e!r}"]
        if not m:
            found.append("validate exit code 0 without 'usable round: N visitors, M hosts'")
        elif (int(m.group(1)), int(m.group(2))) != (len(ids["visitor"]), len(ids["host"])):
            found.append(f"silent drop: validate counts {m.group(1)} visitors, {m.group(2)} hosts; the file has "
                         f"{len(ids['visitor'])} visitors, {len(ids['host'])} hosts")
    return found


def solve_problems(d: Path, out: Path, o: Outcome, names) -> list[str]:
    found = problems_with(o, names)
    if o.rc == 0 and not found:
        found += accounting_problems(d, out)
    return found


def check_validate(case: Case) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = materialise(Path(tmp), case)
        o = run_cli(["validate", str(d)], Path(tmp))
        found = validate_problems(d, o, case.names())
        folders = [e for e in case.edits if isinstance(e, FileEdit) and e.kind == "folder"]
        if folders and o.rc != 1:
            found.append(f"{folders[0].file} is a folder, yet validate exits with {o.rc}")
        fail_if(found, o, case=case)


# --- the base rounds are valid ---------------------------------------------------------------

@hostile(EXAMPLES["valid"])
@given(valid_rounds())
def test_valid_base_rounds_validate_and_solve(spec):
    with tempfile.TemporaryDirectory() as tmp:
        d = write_spec(Path(tmp), spec)
        v = run_cli(["validate", str(d)], Path(tmp))
        assert v.rc == 0, v.describe()
        s = run_cli(["solve", str(d), "--out", str(Path(tmp) / "out"), *SOLVE_FLAGS], Path(tmp))
        assert s.rc == 0, s.describe()
        fail_if(accounting_problems(d, Path(tmp) / "out"), s, case=spec)


# --- broken rounds, validate ------------------------------------------------------------------

@hostile(EXAMPLES["registration_cells"])
@given(cell_cases(("registrations.csv",)))
def test_hostile_registration_cells_validate(case):
    check_validate(case)


@hostile(EXAMPLES["reference_cells"])
@given(cell_cases(("partnerships.csv", "countries.csv", "decisions.csv")))
def test_hostile_partnership_country_decision_cells_validate(case):
    check_validate(case)


@hostile(EXAMPLES["rows"])
@given(row_cases())
def test_duplicated_rows_and_missing_columns_validate(case):
    check_validate(case)


@hostile(EXAMPLES["files"])
@given(file_cases())
def test_folders_truncated_and_undecodable_files_validate(case):
    check_validate(case)


# --- broken settings and rounds, validate then solve --------------------------------------------

def _solve_flags(case: Case) -> list[str]:
    keys = {k for e in case.edits if isinstance(e, SettingsEdit) for k in e.path}
    if "time_limit_s" in keys:
        return ["--quiet", "--work-limit", "0.3"]
    if "work_limit" in keys:
        return ["--quiet", "--time-limit", "20"]
    return SOLVE_FLAGS


def check_validate_then_solve(case: Case) -> None:
    """validate, then solve: an accepted round solves with every registration accounted for;
    a refused one is refused by solve too."""
    with tempfile.TemporaryDirectory() as tmp:
        d = materialise(Path(tmp), case)
        names = (*case.names(), *(n.replace("_", " ") for n in case.names()))
        v = run_cli(["validate", str(d)], Path(tmp))
        found = validate_problems(d, v, names)
        out = Path(tmp) / "out"
        s = run_cli(["solve", str(d), "--out", str(out), *_solve_flags(case)], Path(tmp))
        found += [f"solve: {p}" for p in solve_problems(d, out, s, names)]
        if not found and v.rc == 0 and s.rc != 0:
            found.append(f"validate said the round is usable, but solve exits with {s.rc}")
        if not found and v.rc != 0 and s.rc == 0:
            found.append(f"validate refused the round (exit code {v.rc}), but solve accepted it")
        fail_if(found, v, s, case=case)


@hostile(EXAMPLES["settings"])
@given(settings_cases())
def test_hostile_settings_validate_then_solve(case):
    check_validate_then_solve(case)


@hostile(EXAMPLES["solve"])
@given(cell_cases(("registrations.csv", "registrations.csv", "partnerships.csv", "countries.csv",
                   "decisions.csv")))
def test_hostile_cells_validate_then_solve(case):
    # one cell at a time keeps the share of rounds that still solve high
    case = Case(case.spec, case.edits[:1])
    check_validate_then_solve(case)


# --- command lines -----------------------------------------------------------------------------

def _paths(tmp: Path, case: CliCase) -> dict:
    d = write_spec(tmp, case.spec)
    afile = tmp / "afile.txt"
    afile.write_text("an existing file\n")
    paths = {"round": d, "out": tmp / "out", "file": afile, "missing": tmp / "missing.toml",
             "unwritable": unwritable_dir(tmp), "solved": tmp / "solved"}
    if case.with_solved:
        o = run_cli(["solve", str(d), "--out", str(tmp / "solved"), *SOLVE_FLAGS], tmp)
        assert o.rc == 0, o.describe()
    if case.with_ledger:
        o = run_cli(["round", str(d), "--out", str(tmp / "recorded"), *SOLVE_FLAGS], tmp)
        assert o.rc == 0, o.describe()
    return paths


@hostile(EXAMPLES["cli"])
@given(cli_cases())
def test_hostile_command_lines(case):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = _paths(tmp, case)
        argv = resolve_argv(case.argv, paths)
        names = resolve_argv(case.names, paths)
        o = run_cli(argv, tmp)
        found = problems_with(o, names)
        if not found and case.usage_error and o.rc != 2:
            found.append(f"bad usage (issue 10, part 3), yet exit code {o.rc}")
        if not found and o.rc == 0 and argv[0] in ("solve", "round"):
            out = Path(argv[argv.index("--out") + 1]) if argv[argv.index("--out") + 1] else tmp
            found += accounting_problems(paths["round"], tmp / out)
        fail_if(found, o, case=case)


def test_the_suite_tries_at_least_1000_cases():
    assert sum(EXAMPLES.values()) >= 1000


def test_cell_edits_reach_the_file(tmp_path):
    """The strategies really break the file (a guard against a suite that tests nothing)."""
    case = Case(RoundSpec((visitor(), host())), (CellEdit("registrations.csv", 0, "available_to", "9999-12-31"),))
    d = materialise(tmp_path, case)
    assert "9999-12-31" in (d / "registrations.csv").read_text()
