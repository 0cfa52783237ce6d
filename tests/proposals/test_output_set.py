"""Output sets (issue 10, part 2): written all at once, checked by every reader, a failed run says so.

One regression test per case of the issue: a mixed set (new CSVs beside an old
``summary.json``), a 0-byte ``proposals.csv``, a failed re-run, a file that cannot be
written; and ``report`` on a damaged set names the file. The kill test is in
``test_output_set_kill.py``.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import host, visitor, write_round

from matchmaker.cli import main
from matchmaker.common.csv_safe import csv_bytes
from matchmaker.common.errors import OutputFolderError, OutputSetError
from matchmaker.inputs.loading import load_round
from matchmaker.ledger.carry_over import run_next_round
from matchmaker.ledger.store import Ledger
from matchmaker.proposals import output_set
from matchmaker.proposals.output_set import read_summary, summary_text, write_output_set
from matchmaker.proposals.reading import read_proposals
from matchmaker.proposals.solution import read_output_table, read_solution
from matchmaker.proposals.validator import check_proposals_file
from matchmaker.run import run_round
from matchmaker.ui.notebook import load_output

FLAGS = ["--quiet", "--time-limit", "20", "--work-limit", "0.3"]
FR = dict(country="FR", city="Lyon", latitude=45.764, longitude=4.8357)


def two_rounds(tmp_path: Path) -> tuple[Path, Path]:
    """Two valid rounds with different inputs (one more visitor in the second)."""
    a = write_round(tmp_path, [visitor(), visitor(**FR), host(), host(country="IT")], name="a")
    b = write_round(tmp_path, [visitor(), visitor(**FR), visitor(**FR), host(), host(country="IT", capacity=2,
                                                                                   max_visitors=2, grouped=True)],
                    name="b")
    return a, b


def solve(round_dir: Path, out: Path) -> int:
    return run_round(load_round(round_dir), out, time_limit=20, work_limit=0.3, verbose=False)


def verified(out: Path) -> dict:
    """The folder's summary after checking, independently of the product, that every file matches it."""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for name, want in summary["output_set"]["files"].items():
        data = (out / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == want["sha256"] and len(data) == want["bytes"], name
    return summary


def test_summary_names_the_input_hash_and_each_files_sha256(tmp_path):
    a, _ = two_rounds(tmp_path)
    assert solve(a, tmp_path / "out") == 0
    summary = verified(tmp_path / "out")
    record = summary["output_set"]
    assert record["outcome"] == "succeeded" and record["failure"] is None
    assert record["input_hash"] == summary["input_hash"] == load_round(a).input_hash
    assert set(record["files"]) == {"proposals.csv", "unmatched.csv"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "out"]  # no temporary folder left


def test_mixed_set_new_csvs_beside_an_old_summary_is_refused_by_check_report_and_notebook(tmp_path, capsys):
    a, b = two_rounds(tmp_path)
    solve(a, tmp_path / "old")
    solve(b, tmp_path / "new")
    mixed = tmp_path / "mixed"
    shutil.copytree(tmp_path / "old", mixed)
    for name in ("proposals.csv", "unmatched.csv"):  # what a kill used to leave
        shutil.copy(tmp_path / "new" / name, mixed / name)
    assert main(["check", str(b), str(mixed / "proposals.csv")]) == 1
    err = capsys.readouterr()
    assert "proposals.csv does not match summary.json" in err.out + err.err and "expected SHA-256" in err.out
    assert main(["report", str(mixed), "--round", str(b)]) == 1
    assert "does not match summary.json" in capsys.readouterr().err
    with pytest.raises(OutputSetError, match="run the round again"):
        load_output(mixed)
    with pytest.raises(OutputSetError, match="proposals.csv does not match"):
        Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}").record_round(load_round(b), mixed)


def test_zero_byte_proposals_csv_beside_old_files_is_refused(tmp_path):
    a, _ = two_rounds(tmp_path)
    solve(a, tmp_path / "out")
    (tmp_path / "out" / "proposals.csv").write_bytes(b"")
    with pytest.raises(OutputSetError, match=r"proposals.csv does not match summary.json.*\(0 bytes\)"):
        read_solution(tmp_path / "out")
    assert "does not match" in check_proposals_file(load_round(a), tmp_path / "out" / "proposals.csv")[0].message


def test_report_on_truncated_summary_names_the_file(tmp_path, capsys):
    a, _ = two_rounds(tmp_path)
    solve(a, tmp_path / "out")
    text = (tmp_path / "out" / "summary.json").read_text()
    (tmp_path / "out" / "summary.json").write_text(text[: len(text) // 3])
    assert main(["report", str(tmp_path / "out"), "--round", str(a)]) == 1
    err = capsys.readouterr().err
    assert "summary.json is not valid JSON" in err and "line" in err and "run the round again" in err
    assert "Traceback" not in err


def test_report_on_empty_proposals_csv_names_the_file(tmp_path, capsys):
    a, _ = two_rounds(tmp_path)
    solve(a, tmp_path / "out")
    (tmp_path / "out" / "proposals.csv").write_text("")
    assert main(["report", str(tmp_path / "out"), "--round", str(a)]) == 1
    assert "proposals.csv does not match summary.json" in capsys.readouterr().err


def test_empty_proposals_csv_in_a_hand_made_folder_names_the_file(tmp_path):
    (tmp_path / "proposals.csv").write_text("")
    with pytest.raises(OutputSetError, match="proposals.csv is empty or not a CSV table"):
        read_solution(tmp_path)


def test_failed_rerun_does_not_leave_previous_results_looking_current(tmp_path, capsys):
    a, _ = two_rounds(tmp_path)
    out = tmp_path / "out"
    assert solve(a, out) == 0
    bad = write_round(tmp_path, [visitor(), host(), host()], name="bad",
                      decisions=[{"visitor_id": "V001", "host_id": "H001"}, {"visitor_id": "V001", "host_id": "H002"}])
    assert main(["solve", str(bad), "--out", str(out), *FLAGS]) == 1  # two locks on one visitor: infeasible
    capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]  # the old proposals are gone
    summary = json.loads((out / "summary.json").read_text())
    assert summary["solver"]["status"] == "infeasible" and summary["output_set"]["outcome"] == "failed"
    assert "decisions.csv" in summary["output_set"]["failure"]
    assert main(["report", str(out), "--round", str(bad)]) == 1
    assert "this run failed: infeasible" in capsys.readouterr().err
    with pytest.raises(OutputSetError, match="this run failed"):
        load_output(out)


def test_solve_of_a_round_that_cannot_be_loaded_leaves_a_failed_set(tmp_path, capsys):
    a, _ = two_rounds(tmp_path)
    out = tmp_path / "out"
    assert solve(a, out) == 0
    bad = write_round(tmp_path, [visitor(min_days=99), host()], name="unloadable")
    assert main(["solve", str(bad), "--out", str(out), *FLAGS]) == 1
    assert "min_days" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]  # the old proposals are gone
    summary = json.loads((out / "summary.json").read_text())
    assert summary["output_set"]["outcome"] == "failed"
    assert "could not be loaded" in summary["output_set"]["failure"]


def test_failed_round_command_also_leaves_a_failed_set(tmp_path):
    a, _ = two_rounds(tmp_path)
    out = tmp_path / "out"
    assert solve(a, out) == 0
    (a / "registrations.csv").write_text("org_id\n", encoding="utf-8")  # the round can no longer be loaded
    with pytest.raises(Exception, match="problem"):
        run_next_round(a, out, verbose=False)
    with pytest.raises(OutputSetError, match="this run failed: the round could not be loaded"):
        read_summary(out)


def test_unwritable_output_file_leaves_no_mixed_set(tmp_path, monkeypatch):
    a, b = two_rounds(tmp_path)
    out = tmp_path / "out"
    solve(a, out)
    real = output_set._write_synced

    def disk_full_for_unmatched(path: Path, data: bytes) -> None:
        if path.name == "unmatched.csv":
            raise OSError(28, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(output_set, "_write_synced", disk_full_for_unmatched)
    with pytest.raises(OutputSetError, match="No space left on device.*now holds only a summary.json"):
        solve(b, out)
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]  # never new proposals beside old files
    with pytest.raises(OutputSetError, match="this run failed: the output files could not be written"):
        read_summary(out)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_unwritable_folder_leaves_the_old_set_untouched(tmp_path, monkeypatch):
    a, b = two_rounds(tmp_path)
    out = tmp_path / "out"
    solve(a, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(output_set, "_write_synced", lambda path, data: (_ for _ in ()).throw(
        PermissionError(13, "Permission denied", str(path))))
    with pytest.raises(OutputSetError, match="Permission denied.*nothing in .* was changed"):
        solve(b, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    verified(out)


def test_out_folder_holding_other_files_is_refused_and_left_alone(tmp_path):
    a, _ = two_rounds(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(OutputFolderError, match=r"holds files that are not part of a matchmaker output set \(notes"):
        solve(a, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    with pytest.raises(OutputFolderError, match="registrations.csv"):  # the round's own folder is never replaced
        solve(a, a)


def test_report_and_hidden_files_do_not_block_a_new_run(tmp_path):
    a, b = two_rounds(tmp_path)
    out = tmp_path / "out"
    solve(a, out)
    assert main(["report", str(out), "--round", str(a)]) == 0
    (out / ".DS_Store").write_text("")
    assert solve(b, out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["proposals.csv", "summary.json", "unmatched.csv"]


def test_leftovers_of_a_killed_run_are_cleaned_by_the_next_run(tmp_path):
    a, _ = two_rounds(tmp_path)
    dead = tmp_path / ".out.matchmaker-new-999999999-abcd"
    dead.mkdir()
    (dead / "proposals.csv").write_text("half")
    solve(a, tmp_path / "out")
    assert not dead.exists()


def test_summary_json_is_strict_json_without_nan_or_infinity(tmp_path):
    text = summary_text({"a": math.nan, "b": [math.inf, -math.inf], "c": np.float64("nan"), "d": np.int64(3)})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(c)) == {"a": None, "b": [None, None], "c": None,
                                                                       "d": 3}
    out = write_output_set(tmp_path / "out", {}, {"time_limit_s": math.inf})
    assert json.loads((out / "summary.json").read_text())["time_limit_s"] is None


def test_neutralised_cells_read_back_as_the_original_text(tmp_path):
    ids = ["=V1", "+V2", "-V3", "@V4", "'=V5", "V6"]
    df = pd.DataFrame({"visitor_id": ids, "reason": ["=1+1", "x", "y", "z", "w", "v"], "score": [-1.5, 2, 3, 4, 5, 6]})
    data = csv_bytes(df)
    assert b"\n'=V1," in data and b"\n''=V5," in data and b",-1.5\n" in data  # numbers stay numbers
    (tmp_path / "unmatched.csv").write_bytes(data)
    back = read_output_table(tmp_path / "unmatched.csv")
    assert back["visitor_id"].tolist() == ids and back["reason"][0] == "=1+1"


def test_hostile_ids_round_trip_through_solve_check_and_ledger(tmp_path):
    rows = [visitor(org_id="-V1", name="=HYPERLINK(1)"), visitor(org_id="@V2", **FR), host(org_id="+H1"),
            host(org_id="=H2", country="IT")]
    d = write_round(tmp_path, rows)
    rnd = load_round(d)
    assert solve(d, tmp_path / "out") == 0
    text = (tmp_path / "out" / "proposals.csv").read_text()
    assert "\n'-V1," in text or "\n'@V2," in text
    assert check_proposals_file(rnd, tmp_path / "out" / "proposals.csv") == []
    assert set(read_proposals(tmp_path / "out" / "proposals.csv")["visitor_id"]) <= {"-V1", "@V2"}
    with Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}") as led:
        rid = led.record_round(rnd, tmp_path / "out")
        assert set(led.proposals(rid)["host_id"]) <= {"+H1", "=H2"}
