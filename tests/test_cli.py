"""The command line's one error handler and its checks before any work (issue 10, part 3).

Project errors become one message on stderr with exit code 1 (the round) or 2 (usage);
a broken pipe ends quietly; Ctrl-C gives 130; anything else is a bug and keeps its
traceback, followed by a line asking to report it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import host, visitor, write_round

from matchmaker import __version__, cli
from matchmaker.common.errors import (
    OutputFolderError,
    OutputSetError,
    Problem,
    RoundDataError,
    SettingsError,
    UsageError,
)
from matchmaker.ledger.engine import LedgerError

ROOT = Path(__file__).resolve().parents[1]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """``matchmaker ARGV`` in-process: exit code (argparse's SystemExit included), stdout, stderr."""
    try:
        rc = cli.main(argv)
    except SystemExit as exc:
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def one_paragraph(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def raising(exc: BaseException):
    def command(args):
        raise exc
    return command


@pytest.fixture
def round_dir(tmp_path) -> Path:
    return write_round(tmp_path, [visitor(), host()])


# --- the handler -------------------------------------------------------------------------------

@pytest.mark.parametrize("exc, rc", [
    (UsageError("--out x: is a file, not a folder"), 2),
    (SettingsError("settings.toml: setting 'solver.seed' = -1: must be a whole number"), 1),
    (LedgerError("cannot reach the ledger database at 127.0.0.1:1"), 1),
    (PermissionError(13, "Permission denied", "/data/out/proposals.csv"), 1),
    (OutputSetError("out/summary.json is not valid JSON: re-run solve"), 1),
    (OutputFolderError("out is a file, not a folder: choose another output folder (--out)"), 2),
])
def test_a_project_error_is_one_message_with_its_exit_code(monkeypatch, capsys, round_dir, exc, rc):
    monkeypatch.setattr(cli, "_cmd_validate", raising(exc))
    code, out, err = run(["validate", str(round_dir)], capsys)
    assert code == rc
    line = one_paragraph(err)
    assert line.startswith("error: ")
    assert (exc.filename if isinstance(exc, OSError) else str(exc)) in line


def test_a_settings_error_naming_a_command_line_option_is_usage(monkeypatch, capsys, round_dir):
    monkeypatch.setattr(cli, "_cmd_solve", raising(SettingsError("time_limit (--time-limit) must be > 0")))
    code, _, err = run(["solve", str(round_dir), "--out", str(round_dir.parent / "o"), "--time-limit", "5"], capsys)
    assert code == 2 and "--time-limit" in one_paragraph(err)


def test_a_round_data_error_lists_each_problem_then_what_to_do(monkeypatch, capsys, round_dir):
    problems = [Problem("registrations.csv", 2, "min_days", "x", "must be a whole number"),
                Problem("countries.csv", None, None, "", "using the reference table", "warning")]
    monkeypatch.setattr(cli, "_cmd_validate", raising(RoundDataError(problems)))
    code, _, err = run(["validate", str(round_dir)], capsys)
    assert code == 1
    assert err.splitlines() == [str(p) for p in problems] + [
        f"{round_dir}: 1 error(s): not usable as it is; fix the problems above and run the command again"]


def test_an_unexpected_exception_keeps_its_traceback_and_asks_for_a_report(monkeypatch, capsys, round_dir):
    monkeypatch.setattr(cli, "_cmd_validate", raising(ZeroDivisionError("a bug")))
    with pytest.raises(ZeroDivisionError) as info:
        cli.main(["validate", str(round_dir)])
    note = " ".join(info.value.__notes__)
    assert "bug" in note and __version__ in note and f"matchmaker validate {round_dir}" in note
    assert capsys.readouterr().err == ""  # the interpreter prints the traceback, the note last


def test_keyboard_interrupt_exits_130_with_one_line(monkeypatch, capsys, round_dir):
    monkeypatch.setattr(cli, "_cmd_validate", raising(KeyboardInterrupt()))
    code, _, err = run(["validate", str(round_dir)], capsys)
    assert code == 130 and one_paragraph(err) == "matchmaker: interrupted"


def _python(code: str, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT, env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def test_a_bug_in_a_real_process_prints_the_traceback_then_the_report_line(round_dir):
    proc = _python("""
        import sys
        from matchmaker import cli
        def boom(args):
            raise RuntimeError("something the code did not expect")
        cli._cmd_validate = boom
        sys.exit(cli.main())
        """, "validate", str(round_dir))
    _, err = proc.communicate(timeout=60)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 1
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-2] == "RuntimeError: something the code did not expect"
    assert lines[-1].startswith(f"This is a bug in matchmaker {__version__}") and "please report" in lines[-1]
    assert lines[-1].endswith(f"matchmaker validate {round_dir}")


def test_broken_pipe_in_a_real_process_exits_quietly():
    # `matchmaker validate BIG | head -1`: far more output than a pipe buffer holds
    proc = _python("""
        import sys
        from matchmaker import cli
        def long_listing(args):
            for i in range(200_000):
                print(f"row {i}: a registration that cannot take part in any exchange")
            return 0
        cli._cmd_validate = long_listing
        sys.exit(cli.main())
        """, "validate", "anything")
    assert proc.stdout.readline().startswith(b"row 0")
    proc.stdout.close()  # the reader goes away
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert err == "" and proc.returncode == 1


# --- option values: argparse names the option, exit code 2 -------------------------------------

@pytest.mark.parametrize("argv, option", [
    (["solve", "R", "--out", "O", "--time-limit", "0"], "--time-limit"),
    (["solve", "R", "--out", "O", "--time-limit", "-1"], "--time-limit"),
    (["solve", "R", "--out", "O", "--time-limit", "nan"], "--time-limit"),
    (["solve", "R", "--out", "O", "--time-limit", "inf"], "--time-limit"),
    (["round", "R", "--out", "O", "--work-limit", "-1"], "--work-limit"),
    (["round", "R", "--out", "O", "--work-limit", "nan"], "--work-limit"),
    (["solve", "R", "--out", "O", "--seed", "1e3"], "--seed"),
    (["solve", "R", "--out", "O", "--seed", "99999999999999999999999"], "--seed"),
    (["rank", "R", "--org", "V001", "--top", "0"], "--top"),
    (["generate", "--visitors", "-1", "--hosts", "2", "--out", "O"], "--visitors"),
    (["generate", "--visitors", "2", "--hosts", "0", "--out", "O"], "--hosts"),
    (["generate", "--visitors", "2", "--hosts", "2", "--budget-share", "nan", "--out", "O"], "--budget-share"),
    (["export", "R", "--out", "O", "--round", "-1"], "--round"),
])
def test_bad_option_values_are_usage_errors_naming_the_option(capsys, argv, option):
    code, _, err = run(argv, capsys)
    assert code == 2 and f"argument {option}" in err and "Traceback" not in err


def test_good_limits_are_read_as_numbers():
    args = cli.build_parser().parse_args(["solve", "R", "--out", "O", "--time-limit", "2.5", "--work-limit", "0",
                                          "--seed", "7"])
    assert (args.time_limit, args.work_limit, args.seed) == (2.5, 0.0, 7)


# --- paths: checked before any work, exit code 2 naming the option and the path -------------------

def _bad_paths(tmp_path: Path) -> dict[str, str]:
    afile = tmp_path / "afile.txt"
    afile.write_text("x\n")
    return {"empty": "", "existing_file": str(afile), "under_a_file": str(afile / "sub"),
            "proc": "/proc", "sys": "/sys/kernel/x"}


@pytest.mark.parametrize("kind", ["empty", "existing_file", "under_a_file", "proc", "sys"])
@pytest.mark.parametrize("command", ["solve", "round", "export", "generate"])
def test_unusable_out_folder_is_a_usage_error_before_any_work(tmp_path, capsys, monkeypatch, command, kind):
    monkeypatch.chdir(tmp_path)
    out = _bad_paths(tmp_path)[kind]
    argv = {"generate": ["generate", "--visitors", "2", "--hosts", "2"]}.get(command, [command, "no_such_round"])
    before = sorted(tmp_path.iterdir())
    code, _, err = run([*argv, "--out", out], capsys)
    assert code == 2, err
    line = one_paragraph(err)
    assert line.startswith("error: --out") and out in line
    assert sorted(tmp_path.iterdir()) == before  # nothing written, not even the round's own complaint


def test_unwritable_out_folder_is_a_usage_error(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    target = locked / "x" if not os.access(locked, os.W_OK) else Path("/sys/kernel/x")  # root ignores modes
    code, _, err = run(["solve", "R", "--out", str(target)], capsys)
    assert code == 2 and str(target) in one_paragraph(err)


@pytest.mark.parametrize("kind", ["empty", "folder", "missing_folder", "sys"])
def test_unusable_output_file_is_a_usage_error(tmp_path, capsys, round_dir, kind):
    out = {"empty": "", "folder": str(round_dir), "missing_folder": str(tmp_path / "nope" / "pairs.csv"),
           "sys": "/sys/kernel/pairs.csv"}[kind]
    code, _, err = run(["score", str(round_dir), "--out", out], capsys)
    assert code == 2 and one_paragraph(err).startswith("error: --out") and out in err


def test_report_html_under_a_file_is_a_usage_error(tmp_path, capsys):
    afile = tmp_path / "afile.txt"
    afile.write_text("x\n")
    code, _, err = run(["report", str(tmp_path), "--html", str(afile / "r.html")], capsys)
    assert code == 2 and "--html" in one_paragraph(err)


@pytest.mark.parametrize("value", ["missing.toml", "."])
def test_settings_option_must_name_a_file(tmp_path, capsys, round_dir, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["validate", str(round_dir), "--settings", value], capsys)
    assert code == 2 and one_paragraph(err).startswith(f"error: --settings {value}")


@pytest.mark.parametrize("value, why", [("missing.csv", "no such file"), (".", "is a folder, not a file"),
                                        ("/dev/null", "is not a file")])
def test_check_needs_an_existing_proposals_file(tmp_path, capsys, round_dir, monkeypatch, value, why):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["check", str(round_dir), value], capsys)
    assert code == 2 and one_paragraph(err) == f"error: proposals file {value}: {why}; give an existing file"


@pytest.mark.parametrize("url", ["mysql://x", "not a url", ""])
def test_ledger_url_of_an_unsupported_kind_is_a_usage_error(tmp_path, capsys, round_dir, url):
    code, _, err = run(["export", str(round_dir), "--out", str(tmp_path / "o"), "--ledger", url], capsys)
    assert code == 2 and "--ledger" in one_paragraph(err)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv", [["round", "R", "--out", "{tmp}/new/out", "--ledger", "postgresql+psycopg://u:p@h/db"],
                                  ["report", "{tmp}", "--html", "{tmp}/reports/r.html"],
                                  ["generate", "--visitors", "1", "--hosts", "1", "--out", "{tmp}/new"]])
def test_good_paths_pass_the_checks_and_create_nothing(tmp_path, argv):
    args = cli.build_parser().parse_args([a.replace("{tmp}", str(tmp_path)) for a in argv])
    cli.check_paths(args)
    assert list(tmp_path.iterdir()) == []


def test_unknown_organisation_for_rank_is_a_usage_error(capsys, round_dir):
    code, _, err = run(["rank", str(round_dir), "--org", "NOPE"], capsys)
    assert code == 2 and "--org 'NOPE'" in one_paragraph(err)
