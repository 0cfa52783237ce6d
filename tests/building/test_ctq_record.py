"""Drafting records the step 'Commitment to Quality drafted' (issue 14): `matchmaker ctq --by`, draft_and_record."""

from __future__ import annotations

import shutil

import pytest

from matchmaker import cli
from matchmaker.building.ctq import CtqError
from matchmaker.building.ctq_record import draft_and_record
from matchmaker.inputs.loading import load_round
from matchmaker.ledger.engine import LedgerError
from matchmaker.ledger.steps import exchange_pipeline
from matchmaker.ledger.store import Ledger


@pytest.fixture
def round_copy(ctq_round, tmp_path):
    """A copy of the module's round with its ledger (these tests write steps)."""
    d = shutil.copytree(ctq_round[0], tmp_path / "round")
    return d, f"sqlite:///{d / 'ledger.sqlite'}"


def states(url: str) -> dict[tuple[str, str], tuple[str, str | None]]:
    with Ledger(url) as led:
        p = exchange_pipeline(led)
    return {(v, h): (s, b) for v, h, s, b in zip(p["visitor_id"], p["host_id"], p["state"], p["last_by"])}


def run(argv, capsys) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_ctq_by_records_the_step_and_without_by_says_how(round_copy, tmp_path, capsys):
    d, url = round_copy
    code, out, _ = run(["ctq", d, "--out", tmp_path / "drafts"], capsys)
    assert code == 0 and "the step 'Commitment to Quality drafted' is not recorded: give --by NAME" in out
    assert {s for s, _ in states(url).values()} == {"accepted", "locked"}
    code, out, _ = run(["ctq", d, "--out", tmp_path / "drafts", "--visitor", "V001", "--host", "H001",
                        "--by", "ana@clamtex.eu"], capsys)
    assert code == 0 and "'Commitment to Quality drafted' recorded for 1 exchange(s)" in out
    assert states(url)[("V001", "H001")] == ("ctq_drafted", "ana@clamtex.eu")
    code, out, _ = run(["ctq", d, "--out", tmp_path / "drafts", "--by", "jan@blues.eu"], capsys)
    assert code == 0 and "recorded for 3 exchange(s); 1 already recorded before (kept)" in out
    assert states(url)[("V001", "H001")] == ("ctq_drafted", "ana@clamtex.eu")  # the first record is kept
    assert {s for s, _ in states(url).values()} == {"ctq_drafted"}


def test_ctq_with_an_empty_by_is_bad_usage_and_writes_nothing(round_copy, tmp_path, capsys):
    d, _ = round_copy
    code, _, err = run(["ctq", d, "--out", tmp_path / "drafts", "--by", " "], capsys)
    assert code == 2 and "--by is empty" in err and not (tmp_path / "drafts").exists()


def test_draft_and_record_refuses_before_writing(round_copy, tmp_path):
    d, url = round_copy
    with Ledger(url) as led:
        rnd = load_round(d)
        with pytest.raises(LedgerError, match="who drafts must be given"):
            draft_and_record(rnd, led, tmp_path / "drafts", "  ")
        with pytest.raises(CtqError, match="pair \\(visitor V005, host H003\\) is proposed"):
            draft_and_record(rnd, led, tmp_path / "drafts", "ana", [("V005", "H003")])
        assert not (tmp_path / "drafts").exists()
        (tmp_path / "drafts").mkdir()
        (tmp_path / "drafts" / "ctq_V001_H001.docx").write_bytes(b"signed by hand")
        with pytest.raises(CtqError, match="differ"):
            draft_and_record(rnd, led, tmp_path / "drafts", "ana", [("V001", "H001")])
    assert {s for s, _ in states(url).values()} == {"accepted", "locked"}  # nothing recorded
