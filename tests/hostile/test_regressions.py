"""One regression test per case of issue 10, part 3, named after the case.

Each bad round must end in exit code 1 and each bad usage in exit code 2, with a
one-paragraph message naming the file/row/column/value/rule or the option, and never a
traceback. ``validate`` must refuse what ``solve`` would refuse. The CSV files the
product writes are injection-safe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from helpers import host, visitor, write_big_round, write_round
from oracle import formula_cells, run_cli, strict_json
from strategies import HUGE_TEXT, unwritable_dir

SOLVE_FLAGS = ["--quiet", "--time-limit", "20", "--work-limit", "0.3"]
ES_PT = [{"partnership_id": "CLAMTEX", "member_countries": "ES;PT"}]


def assert_message(o, rc: int, *words: str) -> None:
    """Exit code ``rc``, no traceback, no exception escaping main, stderr naming every one of ``words``."""
    assert not o.exception, f"exception escaped main:\n{o.describe()}"
    assert "Traceback" not in o.text, o.describe()
    assert o.rc == rc, o.describe()
    for w in words:
        assert w.lower() in o.err.lower(), f"the message does not name {w!r}:\n{o.describe()}"


def base_rows():
    return [visitor(), visitor(country="FR"), host(), host(country="IT")]


# --- tracebacks instead of messages --------------------------------------------------------------

@pytest.mark.parametrize("column", ["available_from", "available_to"])
def test_date_in_year_9999_is_a_message_not_a_traceback(tmp_path, column):
    d = write_round(tmp_path, [visitor(**{column: "9999-12-31"}), host()])
    o = run_cli(["validate", str(d)], tmp_path)
    assert_message(o, 1, "registrations.csv", "row 2", column, "9999-12-31")


@pytest.mark.parametrize("column", ["available_from", "available_to"])
def test_date_in_year_0001_is_a_message_not_a_traceback(tmp_path, column):
    d = write_round(tmp_path, [visitor(**{column: "0001-01-01"}), host()])
    o = run_cli(["validate", str(d)], tmp_path)
    assert_message(o, 1, "registrations.csv", "row 2", column, "0001-01-01")


def test_date_just_inside_pandas_range_is_not_silently_changed(tmp_path):
    # found by the hostile suite: 1677-09-22 loads, and the window is then reported as 2262-04-11..
    d = write_round(tmp_path, [visitor(available_from="1677-09-22"), host()])
    o = run_cli(["validate", str(d)], tmp_path)
    assert "2262" not in o.text, o.describe()
    assert not o.exception and o.rc in (0, 1), o.describe()


def test_budget_1e17_is_refused_by_validate(tmp_path):
    d = write_round(tmp_path, base_rows(), partnerships=[ES_PT[0] | {"budget_eur": 1e17}])
    o = run_cli(["validate", str(d)], tmp_path)
    assert_message(o, 1, "partnerships.csv", "budget_eur")


def test_budget_1e17_solve_is_a_message_not_a_traceback(tmp_path):
    d = write_round(tmp_path, base_rows(), partnerships=[ES_PT[0] | {"budget_eur": 1e17}])
    o = run_cli(["solve", str(d), "--out", str(tmp_path / "out"), *SOLVE_FLAGS], tmp_path)
    assert_message(o, 1, "partnerships.csv", "budget_eur")


def test_programme_budget_1e300_is_refused_by_validate(tmp_path):
    d = write_round(tmp_path, base_rows(), settings={"solver": {"programme_budget_eur": 1e300}})
    o = run_cli(["validate", str(d)], tmp_path)
    assert_message(o, 1, "settings", "programme_budget_eur")


def test_programme_budget_1e300_solve_is_a_message_not_a_traceback(tmp_path):
    d = write_round(tmp_path, base_rows(), settings={"solver": {"programme_budget_eur": 1e300}})
    o = run_cli(["solve", str(d), "--out", str(tmp_path / "out"), *SOLVE_FLAGS], tmp_path)
    assert_message(o, 1, "settings", "programme_budget_eur")


NAN_INF_SETTINGS = [(sec, key, val) for sec, key in (("scoring.weights", "sectors"), ("solver", "time_limit_s"),
                                                       ("solver", "work_limit"))
                    for val in (float("nan"), float("inf"))]


def _nested(section: str, key: str, value) -> dict:
    out: dict = {key: value}
    for part in reversed(section.split(".")):
        out = {part: out}
    return out


@pytest.mark.parametrize("section, key, value", NAN_INF_SETTINGS, ids=[f"{k}={v}" for _, k, v in NAN_INF_SETTINGS])
def test_nan_or_inf_in_settings_is_refused_by_validate(tmp_path, section, key, value):
    d = write_round(tmp_path, base_rows(), settings=_nested(section, key, value))
    o = run_cli(["validate", str(d)], tmp_path)
    assert_message(o, 1, "settings", key)


@pytest.mark.parametrize("section, key, value", NAN_INF_SETTINGS, ids=[f"{k}={v}" for _, k, v in NAN_INF_SETTINGS])
def test_nan_or_inf_in_settings_solve_is_a_message_not_a_traceback(tmp_path, section, key, value):
    d = write_round(tmp_path, base_rows(), settings=_nested(section, key, value))
    o = run_cli(["solve", str(d), "--out", str(tmp_path / "out"), "--quiet"], tmp_path)
    assert_message(o, 1, "settings", key)


def test_time_limit_inf_never_writes_infinity_into_summary_json(tmp_path):
    d = write_round(tmp_path, base_rows(), settings={"solver": {"time_limit_s": float("inf")}})
    o = run_cli(["solve", str(d), "--out", str(tmp_path / "out"), "--quiet", "--work-limit", "0.3"], tmp_path)
    assert not o.exception and o.rc in (0, 1), o.describe()
    if (tmp_path / "out" / "summary.json").exists():
        strict_json(tmp_path / "out" / "summary.json")


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_time_limit_0_minus_1_or_nan_on_command_line_is_usage_error(tmp_path, value):
    d = write_round(tmp_path, base_rows())
    o = run_cli(["solve", str(d), "--out", str(tmp_path / "out"), "--quiet", "--time-limit", value], tmp_path)
    assert_message(o, 2, "--time-limit")


def test_time_limit_nan_on_command_line_is_usage_error(tmp_path):
    d = write_round(tmp_path, base_rows())
    o = run_cli(["solve", str(d), "--out", str(tmp_path / "out"), "--quiet", "--time-limit", "nan",
                 "--work-limit", "0.3"], tmp_path)
    assert_message(o, 2, "--time-limit", "nan")


@pytest.mark.parametrize("value", ["-1", "nan"])
def test_work_limit_minus_1_or_nan_on_command_line_is_usage_error(tmp_path, value):
    d = write_round(tmp_path, base_rows())
    o = run_cli(["solve", str(d), "--out", str(tmp_path / "out"), "--quiet", "--work-limit", value], tmp_path)
    assert_message(o, 2, "--work-limit")


@pytest.mark.parametrize("option", ["--time-limit", "--work-limit"])
def test_infinite_limit_on_command_line_never_writes_infinity_into_summary_json(tmp_path, option):
    d = write_round(tmp_path, base_rows())
    other = ["--work-limit", "0.3"] if option == "--time-limit" else ["--time-limit", "20"]
    o = run_cli(["solve", str(d), "--out", str(tmp_path / "out"), "--quiet", option, "inf", *other], tmp_path)
    assert not o.exception and o.rc in (0, 2), o.describe()
    if o.rc == 0:
        strict_json(tmp_path / "out" / "summary.json")


def _out_paths(tmp_path: Path) -> dict:
    afile = tmp_path / "afile.txt"
    afile.write_text("an existing file\n")
    return {"existing_file": afile, "under_a_file": afile / "sub", "not_writable": unwritable_dir(tmp_path) / "x",
            "proc": Path("/proc"), "proc_child": Path("/proc/matchmaker_out"), "sys": Path("/sys/matchmaker_out")}


@pytest.mark.parametrize("kind", ["existing_file", "under_a_file", "not_writable", "proc", "proc_child", "sys"])
def test_solve_out_that_is_unusable_is_usage_error(tmp_path, kind):
    d = write_round(tmp_path, base_rows())
    out = _out_paths(tmp_path)[kind]
    o = run_cli(["solve", str(d), "--out", str(out), *SOLVE_FLAGS], tmp_path)
    assert_message(o, 2, "--out", str(out))


def test_solve_out_empty_string_is_usage_error_and_writes_nothing(tmp_path):
    d = write_round(tmp_path, base_rows())
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    o = run_cli(["solve", str(d), "--out", "", *SOLVE_FLAGS], cwd)
    assert_message(o, 2, "--out")
    assert list(cwd.iterdir()) == []


def _recorded_round(tmp_path: Path) -> Path:
    d = write_round(tmp_path, base_rows())
    o = run_cli(["round", str(d), "--out", str(tmp_path / "recorded"), *SOLVE_FLAGS], tmp_path)
    assert o.rc == 0, o.describe()
    return d


def test_export_out_that_is_a_file_is_usage_error(tmp_path):
    d = _recorded_round(tmp_path)
    afile = tmp_path / "afile.txt"
    afile.write_text("x\n")
    o = run_cli(["export", str(d), "--out", str(afile)], tmp_path)
    assert_message(o, 2, "--out", str(afile))


def test_round_out_that_is_a_file_is_usage_error(tmp_path):
    d = write_round(tmp_path, base_rows())
    afile = tmp_path / "afile.txt"
    afile.write_text("x\n")
    o = run_cli(["round", str(d), "--out", str(afile), *SOLVE_FLAGS], tmp_path)
    assert_message(o, 2, "--out", str(afile))


def _ledger_argv(command: str, d: Path, tmp_path: Path, url: str) -> list[str]:
    argv = [command, str(d), "--out", str(tmp_path / "out"), "--ledger", url]
    return argv + (SOLVE_FLAGS if command == "round" else [])


@pytest.mark.parametrize("command", ["export", "round"])
def test_unknown_ledger_url_scheme_mysql_is_usage_error(tmp_path, command):
    d = write_round(tmp_path, base_rows())
    o = run_cli(_ledger_argv(command, d, tmp_path, "mysql://x"), tmp_path)
    assert_message(o, 2, "--ledger", "mysql")


@pytest.mark.parametrize("command", ["export", "round"])
def test_unreachable_postgresql_ledger_is_a_message_not_a_traceback(tmp_path, command):
    d = write_round(tmp_path, base_rows())
    o = run_cli(_ledger_argv(command, d, tmp_path, "postgresql://127.0.0.1:1/x"), tmp_path)
    assert not o.exception, o.describe()
    assert o.rc in (1, 2), o.describe()
    assert_message(o, o.rc, "ledger", "127.0.0.1")


@pytest.mark.parametrize("command", ["export", "round"])
def test_sqlite_ledger_url_pointing_at_a_csv_is_a_message_not_a_traceback(tmp_path, command):
    d = write_round(tmp_path, base_rows())
    csv_file = d / "registrations.csv"
    o = run_cli(_ledger_argv(command, d, tmp_path, f"sqlite:///{csv_file}"), tmp_path)
    assert not o.exception, o.describe()
    assert o.rc in (1, 2), o.describe()
    assert_message(o, o.rc, "ledger", str(csv_file))


def test_validate_piped_into_head_has_no_broken_pipe_traceback(tmp_path):
    d = write_big_round(tmp_path, 3000, 200)
    text = (d / "registrations.csv").read_text().replace(",sme,", ",other,")  # every row refused: a long table
    (d / "registrations.csv").write_text(text)
    code = "import sys; from matchmaker.cli import main; sys.exit(main())"
    proc = subprocess.Popen([sys.executable, "-c", code, "validate", str(d)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=tmp_path, env=os.environ.copy())
    proc.stdout.readline()  # `| head -1`: read one line, then close the pipe
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err[-2000:]


# --- poor messages to mend --------------------------------------------------------------------

def test_1mb_unquoted_description_gives_one_clear_error_without_cascade(tmp_path):
    rows = [visitor(description=HUGE_TEXT), visitor(), host(), host()]
    decisions = [{"visitor_id": "V001", "host_id": "H001"}, {"visitor_id": "V002", "host_id": "H002"},
                 {"visitor_id": "V001", "host_id": "H002", "decision": "forbid"},
                 {"visitor_id": "V002", "host_id": "H001", "decision": "forbid"}]
    d = write_round(tmp_path, rows, decisions=decisions)
    assert '"' not in (d / "registrations.csv").read_text()[:2000]  # the 1 MB cell is unquoted
    o = run_cli(["validate", str(d)], tmp_path)
    assert not o.exception and "Traceback" not in o.text, o.describe()
    assert "check the quotes" not in o.err, o.describe()  # nothing is wrong with the quotes
    assert "no data rows" not in o.err and "no visitor" not in o.text, o.describe()  # no false cascade
    assert "decisions.csv" not in o.err, o.describe()
    if o.rc != 0:
        assert_message(o, 1, "registrations.csv", "row 2", "description")


def test_xlsx_formula_without_stored_value_says_formula(tmp_path):
    d = write_round(tmp_path, [visitor(), host()], fmt="xlsx")
    wb = openpyxl.load_workbook(d / "registrations.xlsx")
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("min_days") + 1, value="=2+3")  # no cached value is stored
    wb.save(d / "registrations.xlsx")
    o = run_cli(["validate", str(d)], tmp_path)
    assert_message(o, 1, "registrations.xlsx", "row 2", "min_days", "formula")
    assert "required value is missing" not in o.err, o.describe()


def test_registrations_csv_that_is_a_folder_says_folder_not_missing(tmp_path):
    d = write_round(tmp_path, [visitor(), host()])
    (d / "registrations.csv").unlink()
    (d / "registrations.csv").mkdir()
    o = run_cli(["validate", str(d)], tmp_path)
    assert_message(o, 1, "registrations.csv")
    assert "folder" in o.err.lower() or "directory" in o.err.lower(), o.describe()
    assert "missing" not in o.err.lower(), o.describe()


def test_settings_toml_that_is_a_folder_is_an_error_not_ignored(tmp_path):
    # found by the hostile suite: a folder named settings.toml is silently skipped today
    d = write_round(tmp_path, [visitor(), host()])
    (d / "settings.toml").mkdir()
    o = run_cli(["validate", str(d)], tmp_path)
    assert_message(o, 1, "settings.toml")


def test_settings_toml_with_non_utf8_bytes_is_a_message_not_a_traceback(tmp_path):
    # found by the hostile suite: UnicodeDecodeError from tomllib
    d = write_round(tmp_path, [visitor(), host()])
    (d / "settings.toml").write_bytes(b"[solver]\ntime_limit_s = \xff\n")
    o = run_cli(["validate", str(d)], tmp_path)
    assert_message(o, 1, "settings.toml", "UTF-8")


def _solved(tmp_path: Path) -> Path:
    d = write_round(tmp_path, base_rows())
    out = tmp_path / "out"
    o = run_cli(["solve", str(d), "--out", str(out), *SOLVE_FLAGS], tmp_path)
    assert o.rc == 0, o.describe()
    return out


def test_report_on_truncated_summary_json_names_the_file(tmp_path):
    out = _solved(tmp_path)
    text = (out / "summary.json").read_text()
    (out / "summary.json").write_text(text[: len(text) // 2])
    o = run_cli(["report", str(out)], tmp_path)
    assert_message(o, 1, "summary.json")


def test_report_on_empty_proposals_csv_names_the_file(tmp_path):
    out = _solved(tmp_path)
    (out / "proposals.csv").write_text("")
    o = run_cli(["report", str(out)], tmp_path)
    assert_message(o, 1, "proposals.csv")


# --- validate must catch what solve later refuses -------------------------------------------------

def _lock_round(tmp_path: Path, rows, decisions, partnerships=None) -> tuple[Path, object, object]:
    d = write_round(tmp_path, rows, partnerships=partnerships, decisions=decisions)
    v = run_cli(["validate", str(d)], tmp_path)
    s = run_cli(["solve", str(d), "--out", str(tmp_path / "out"), *SOLVE_FLAGS], tmp_path)
    assert s.rc == 1 and not s.exception, s.describe()  # solve refuses the round today: validate must too
    return d, v, s


def test_validate_refuses_locked_same_country_pair(tmp_path):
    _, v, _ = _lock_round(tmp_path, [visitor(), host(country="ES")], [{"visitor_id": "V001", "host_id": "H001"}])
    assert_message(v, 1, "decisions.csv", "V001", "H001", "countr")


def test_validate_refuses_two_locks_on_one_visitor(tmp_path):
    _, v, _ = _lock_round(tmp_path, [visitor(), host(), host()],
                          [{"visitor_id": "V001", "host_id": "H001"}, {"visitor_id": "V001", "host_id": "H002"}])
    assert_message(v, 1, "decisions.csv", "V001", "H001", "H002")


def test_validate_refuses_locks_that_overfill_a_host(tmp_path):
    _, v, _ = _lock_round(tmp_path, [visitor(), visitor(), host()],
                          [{"visitor_id": "V001", "host_id": "H001"}, {"visitor_id": "V002", "host_id": "H001"}])
    assert_message(v, 1, "decisions.csv", "H001", "max_visitors")


def test_validate_refuses_locks_over_a_budget(tmp_path):
    _, v, _ = _lock_round(tmp_path, [visitor(), host()], [{"visitor_id": "V001", "host_id": "H001"}],
                          partnerships=[ES_PT[0] | {"budget_eur": 100}])
    assert_message(v, 1, "decisions.csv", "CLAMTEX", "budget")


# --- CSV injection ------------------------------------------------------------------------------

INJECTED = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0", "\t=1"]


def _injection_round(tmp_path: Path) -> Path:
    rows = [visitor(name=INJECTED[0], description=INJECTED[4]), visitor(name=INJECTED[1], city=INJECTED[2]),
            visitor(name=INJECTED[3], sectors="water"), visitor(name=INJECTED[5], country="FR"),
            host(name=INJECTED[2]), host(name=INJECTED[4], country="IT")]
    return write_round(tmp_path, rows)


def test_proposals_csv_cells_are_injection_safe(tmp_path):
    d = _injection_round(tmp_path)
    o = run_cli(["solve", str(d), "--out", str(tmp_path / "out"), *SOLVE_FLAGS], tmp_path)
    assert o.rc == 0, o.describe()
    assert formula_cells(tmp_path / "out" / "proposals.csv") == []


def test_unmatched_csv_cells_are_injection_safe(tmp_path):
    d = _injection_round(tmp_path)
    o = run_cli(["solve", str(d), "--out", str(tmp_path / "out"), *SOLVE_FLAGS], tmp_path)
    assert o.rc == 0, o.describe()
    text = (tmp_path / "out" / "unmatched.csv").read_text()
    assert "@SUM" in text or "SUM" in text  # the visitor in water has no host: it is listed
    assert formula_cells(tmp_path / "out" / "unmatched.csv") == []


def test_injection_safe_proposals_still_pass_check(tmp_path):
    d = _injection_round(tmp_path)
    o = run_cli(["solve", str(d), "--out", str(tmp_path / "out"), *SOLVE_FLAGS], tmp_path)
    assert o.rc == 0, o.describe()
    c = run_cli(["check", str(d), str(tmp_path / "out" / "proposals.csv")], tmp_path)
    assert c.rc == 0 and not c.exception, c.describe()
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["round"]["exchanges"] >= 1


def test_three_bad_settings_are_all_named_by_validate_and_solve_in_one_run(tmp_path):
    # review: two bad settings were reported one run at a time; every one must come at once
    d = write_round(tmp_path, base_rows(), settings={"solver": {"fairness_by": "planet", "stability_weight": 99.0},
                                                     "rules": {"max_working_days": 30}})
    for argv in (["validate", str(d)], ["solve", str(d), "--out", str(tmp_path / "out"), "--no-record", *SOLVE_FLAGS]):
        o = run_cli(argv, tmp_path)
        assert_message(o, 1, "settings.toml", "solver.fairness_by", "'planet'", "solver.stability_weight", "99.0",
                       "rules.max_working_days", "30", "at most 23 working days")
        assert o.err.count("error: settings.toml:") == 3, o.describe()
