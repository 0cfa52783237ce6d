"""``matchmaker step | ec-draw | statement`` end to end through ``cli.main`` (issue 14).

A generated round is solved once (round 1 in its default ledger); each test works on a copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from matchmaker import cli
from matchmaker.common.locations import default_ledger_path
from matchmaker.generator.generate import generate_round
from matchmaker.ledger.store import Ledger

FLAGS = ["--quiet", "--time-limit", "20", "--work-limit", "0.3"]


def run(argv: list, capsys) -> tuple[int, str, str]:
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("solved") / "round"
    generate_round(d, 30, 15, 3)
    assert cli.main(["solve", str(d), "--out", str(d.parent / "out"), *FLAGS]) == 0
    return d


@pytest.fixture
def round_dir(solved, tmp_path) -> Path:
    d = tmp_path / "round"
    shutil.copytree(solved, d)
    return d


def _accepted(round_dir: Path, n: int = 2) -> list[tuple[str, str, str, str]]:
    """Accept ``n`` physical proposals with different visitors; (visitor, host, paying Partnership, mode)."""
    with Ledger(f"sqlite:///{default_ledger_path(round_dir)}") as led:
        props = led.proposals(1)
        props = props[props["mode"] == "physical"].drop_duplicates("visitor_id").head(n)
        for v, h in zip(props["visitor_id"], props["host_id"]):
            led.decide(1, v, h, "accept", reviewer="ana")
        return list(zip(props["visitor_id"], props["host_id"], props["partnership"], props["mode"]))


def _partnerships(round_dir: Path, v: str, h: str) -> list[str]:
    with Ledger(f"sqlite:///{default_ledger_path(round_dir)}") as led:
        regs = led.registrations(1).set_index(["role", "org_id"])["partnership"]
    return list(dict.fromkeys([regs[("visitor", v)], regs[("host", h)]]))


def test_an_exchange_from_drafted_to_paid_by_the_command_line(round_dir, tmp_path, capsys):
    (v, h, paying, _), _ = _accepted(round_dir)
    base = ["step", round_dir, "--visitor", v, "--host", h, "--by", "office@cxc.eu"]
    code, out, err = run([*base, "--to", "signed_by_host"], capsys)
    assert code == 1 and out == ""
    assert err == (f"error: ledger: exchange (visitor {v}, host {h}) cannot be signed by the host before its "
                   "Commitment to Quality is drafted\n")
    code, out, _ = run([*base, "--to", "ctq_drafted"], capsys)
    assert code == 0 and "Commitment to Quality drafted (by office@cxc.eu)" in out
    assert "next: signed_by_host, signed_by_visitor, withdrawn" in out
    for step in ("signed-by-visitor", "signed_by_host"):
        assert run([*base, "--to", step], capsys)[0] == 0
    for p in _partnerships(round_dir, v, h):
        assert run([*base, "--to", "validated_by_partnership", "--partnership", p], capsys)[0] == 0
    for step in ("validated_by_support_office", "fa_signed", "started", "completed", "reported"):
        code, out, err = run([*base, "--to", step], capsys)
        assert code == 0, err
    assert "now: reported; next: none" in out
    csv = tmp_path / "statement.csv"
    code, out, err = run(["statement", round_dir, "--partnership", paying, "--out", csv], capsys)
    assert code == 0, err
    table = pd.read_csv(csv)
    assert out.startswith(f"Partnership {paying}: budget EUR ") and f"written to {csv}" in out
    row = table.set_index("visitor_id").loc[v]
    assert row["money"] == "paid" and row["paid_eur"] == row["lump_sum_eur"] > 0
    assert table.iloc[-1]["visitor_id"] == "total"


def test_ec_draw_by_the_command_line_is_recorded_and_reproducible(round_dir, capsys):
    _accepted(round_dir, 4)
    code, out, err = run(["ec-draw", round_dir, "--share", "0.5", "--seed", "42", "--by", "office"], capsys)
    assert code == 0, err
    assert out.startswith("EC draw 1 (seed 42, share 0.5, stratified by Partnership, by office): ")
    code, _, err = run(["ec-draw", round_dir, "--share", "0.5", "--seed", "42"], capsys)
    assert code == 1 and "no exchange to draw" in err


def test_ec_draw_check_re_runs_a_recorded_draw_from_the_command_line(round_dir, capsys):
    _accepted(round_dir, 4)
    code, out, err = run(["ec-draw", round_dir, "--share", "0.5", "--seed", "42"], capsys)
    assert code == 0 and "matchmaker ec-draw ROUND_DIR --check 1" in out, err
    drawn = out.splitlines()[0]
    code, out, err = run(["ec-draw", round_dir, "--check", "1"], capsys)
    assert code == 0, err
    assert out.startswith("EC draw 1 re-run from seed 42, share 0.5: the same exchanges") and drawn in out
    code, out, err = run(["ec-draw", round_dir, "--check", "2"], capsys)
    assert code == 1 and "there is no EC draw 2 in the ledger" in err
    code, out, err = run(["ec-draw", round_dir, "--check", "1", "--seed", "42"], capsys)
    assert code == 2 and "leave out --seed" in err


@pytest.mark.parametrize("argv, words", [
    (["step", "--visitor", "V", "--host", "H", "--by", "x", "--to", "dancing"], "--to 'dancing': not a step"),
    (["step", "--visitor", "V", "--host", "H", "--by", "x", "--to", "withdrawn"], "needs the reason"),
    (["step", "--visitor", "V", "--host", "H", "--by", "x", "--to", "started", "--partnership", "P"],
     "--partnership goes with --to validated_by_partnership only"),
    (["ec-draw", "--share", "1.5", "--seed", "1"], "--share 1.5: give a share above 0 and at most 1"),
    (["ec-draw", "--share", "0.1", "--seed", "-3"], "--seed"),
    (["ec-draw", "--seed", "1"], "give --share to draw (or --check DRAW to re-run a recorded draw)"),
    (["ec-draw", "--check", "first"], "--check 'first': give the number of a recorded EC draw"),
    (["statement", "--partnership", "NOPE"], "--partnership 'NOPE' is not in the round's partnerships.csv"),
])
def test_bad_usage_is_exit_code_2(round_dir, capsys, argv, words):
    code, out, err = run([argv[0], round_dir, *argv[1:]], capsys)
    assert code == 2 and words in err and out == ""


def test_a_pair_that_is_no_exchange_is_refused_with_exit_code_1(round_dir, capsys):
    code, _, err = run(["step", round_dir, "--visitor", "V-none", "--host", "H-none", "--by", "x", "--to",
                        "ctq_drafted"], capsys)
    assert code == 1 and "is not an exchange: only a pair accepted or locked" in err
