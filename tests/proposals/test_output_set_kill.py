"""Kill test (issue 10, part 4): ``kill -9`` during ``matchmaker solve`` and ``matchmaker round``.

Each run writes into a folder that holds an earlier complete set and is killed (SIGKILL,
real processes) at a seeded random moment: half of the runs at a random point of the
whole run, half just after the new set's temporary folder appears, while the files are
being written and swapped in (the moment the old writer left mixed folders). Afterwards
the folder must be the old complete set or the new complete set: every file matches the
SHA-256 of its ``summary.json``, no file is missing or extra, and ``matchmaker check``
accepts the proposals against the set's round. Never a mix. A failing re-run (an
infeasible round) then leaves a set that says it failed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from helpers import host, visitor, write_big_round, write_round

from matchmaker.cli import main

FLAGS = ["--quiet", "--time-limit", "20", "--work-limit", "0.3"]
RUNS = 9  # per command


def _start(command: str, round_dir: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "matchmaker.cli", command, str(round_dir), "--out", str(out),
                             *FLAGS], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_when_writing(proc: subprocess.Popen, out: Path, extra: float, limit: float) -> None:
    """SIGKILL ``proc`` ``extra`` seconds after its temporary set folder appears (or at ``limit``)."""
    prefix = f".{out.name}.matchmaker-new-{proc.pid}-"
    end = time.monotonic() + limit
    while time.monotonic() < end and proc.poll() is None:
        if any(name.startswith(prefix) for name in os.listdir(out.parent)):
            time.sleep(extra)
            break
        time.sleep(0.0005)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)


def state(out: Path, before: bytes, target: Path) -> str:
    """``old``, ``new`` (of ``target``), or what else the folder holds."""
    if not out.is_dir():
        return "missing"
    summary_bytes = (out / "summary.json").read_bytes()
    summary = json.loads(summary_bytes)
    record = summary["output_set"]
    if sorted(p.name for p in out.iterdir()) != sorted([*record["files"], "summary.json"]):
        return "mixed (files missing or extra)"
    for name, want in record["files"].items():
        data = (out / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != want["sha256"] or len(data) != want["bytes"]:
            return f"mixed ({name} does not match summary.json)"
    if summary_bytes == before:
        return "old"
    if summary["round_dir"] == str(target) and record["outcome"] == "succeeded":
        return "new"
    return f"other ({record['outcome']}, {summary['round_dir']})"


def kill_runs(tmp_path: Path, command: str, seed: int) -> Counter:
    a = write_big_round(tmp_path, 60, 30, seed=1, name="a")
    b = write_big_round(tmp_path, 60, 30, seed=2, name="b")
    out = tmp_path / "out"
    t0 = time.monotonic()
    assert main([command, str(a), "--out", str(out), *FLAGS]) == 0
    whole = max(1.0, 1.6 * (time.monotonic() - t0))  # a subprocess also imports the package
    rng = random.Random(seed)
    counts: Counter = Counter()
    for i in range(RUNS):
        target = b if i % 2 == 0 else a
        before = (out / "summary.json").read_bytes()
        proc = _start(command, target, out)
        if i % 2 == 0:
            time.sleep(rng.uniform(0.2, 1.1) * whole)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        else:
            _kill_when_writing(proc, out, rng.uniform(0.0, 0.02), limit=3 * whole)
        rc = proc.wait()
        assert rc in (0, -signal.SIGKILL), proc.stderr.read().decode()
        proc.stderr.close()
        found = state(out, before, target)
        counts[found] += 1
        counts["killed" if rc else "finished"] += 1
        assert found in ("old", "new"), f"run {i} ({command}, rc {rc}): the folder is {found}"
        checked_round = json.loads((out / "summary.json").read_text())["round_dir"]
        assert main(["check", checked_round, str(out / "proposals.csv")]) == 0
    assert main([command, str(a), "--out", str(out), *FLAGS]) == 0  # the next run cleans what the kills left
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    return counts


def _assert_failed_rerun_says_so(tmp_path: Path, command: str, capsys: pytest.CaptureFixture) -> None:
    bad = write_round(tmp_path, [visitor(), host(), host()], name="bad",
                      decisions=[{"visitor_id": "V001", "host_id": "H001"}, {"visitor_id": "V001", "host_id": "H002"}])
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "matchmaker.cli", command, str(bad), "--out", str(out), *FLAGS],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]
    assert summary["output_set"]["outcome"] == "failed" and summary["solver"]["status"] == "infeasible"
    capsys.readouterr()
    assert main(["report", str(out), "--round", str(bad)]) == 1
    assert "this run failed" in capsys.readouterr().err


def test_kill_during_solve_leaves_old_or_new_set(tmp_path, capsys):
    counts = kill_runs(tmp_path, "solve", seed=10)
    with capsys.disabled():
        print(f"\nkill test, solve: {RUNS} runs: {dict(counts)}")
    assert counts["killed"] >= RUNS // 2  # most runs really were killed
    _assert_failed_rerun_says_so(tmp_path, "solve", capsys)


def test_kill_during_round_leaves_old_or_new_set(tmp_path, capsys):
    counts = kill_runs(tmp_path, "round", seed=11)
    with capsys.disabled():
        print(f"\nkill test, round: {RUNS} runs: {dict(counts)}")
    assert counts["killed"] >= RUNS // 2
    _assert_failed_rerun_says_so(tmp_path, "round", capsys)
