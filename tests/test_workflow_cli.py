"""The round's whole life by the command line alone (issue 11), in process through ``cli.main``.

generate -> solve (records round 1 in the round's default ledger) -> export -> decide
(accept, forbid, lock; refusals) -> resolve (the deciding Partnership's re-solve, recorded
as round 2) -> solve again (the next round, round 3, around the decisions) -> export. And
the edges: reading before any round is recorded creates no ledger and says what to run;
``--no-record`` touches no ledger; ``round`` is ``solve``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matchmaker import cli
from matchmaker.common.locations import default_ledger_path
from matchmaker.generator.generate import generate_round
from matchmaker.ledger.store import Ledger
from matchmaker.ui import notebook as ui

FLAGS = ["--quiet", "--time-limit", "20", "--work-limit", "0.3"]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_paragraph(err: str) -> bool:
    return err.count("\n") == 1 and err.startswith("error: ")


@pytest.fixture
def round_dir(tmp_path) -> Path:
    d = tmp_path / "round"
    generate_round(d, 30, 15, 3)
    return d


def _three_pairs(ledger: Ledger, round_id: int) -> list[tuple[str, str]]:
    """Three proposals of round ``round_id`` with three different visitors."""
    props = ledger.proposals(round_id).drop_duplicates("visitor_id")
    assert len(props) >= 3
    return list(zip(props["visitor_id"][:3], props["host_id"][:3]))


def test_the_whole_flow_by_the_command_line(round_dir, tmp_path, capsys):
    code, out, err = run(["solve", round_dir, "--out", tmp_path / "out1", *FLAGS], capsys)
    assert code == 0, err
    assert "recorded as round 1" in out and default_ledger_path(round_dir).is_file()
    code, out, err = run(["export", round_dir, "--out", tmp_path / "ex1"], capsys)
    assert code == 0, err
    assert (tmp_path / "ex1" / "round_1.csv").is_file()

    with Ledger(f"sqlite:///{default_ledger_path(round_dir)}") as led:
        (v1, h1), (v2, h2), (v3, h3) = _three_pairs(led, 1)
        partnership = led.proposals(1).set_index("visitor_id").at[v1, "partnership"]
    decide = ["decide", round_dir, "--by", "ana@clamtex.eu"]
    code, out, err = run([*decide, "--visitor", v1, "--host", h1, "--decision", "accept", "--comment", "by phone"],
                         capsys)
    assert code == 0, err
    assert f"pair (visitor {v1}, host {h1}) accepted" in out
    assert "its lump sum is reserved (committed when the Financial Agreement is signed)" in out  # as the statement says
    assert run([*decide, "--visitor", v2, "--host", h2, "--decision", "forbid"], capsys)[0] == 0
    assert run([*decide, "--visitor", v3, "--host", h3, "--decision", "lock"], capsys)[0] == 0
    # the ledger's rules, as in the notebook: one exchange per visitor
    code, _, err = run([*decide, "--visitor", v1, "--host", h2, "--decision", "lock"], capsys)
    assert code == 1 and one_paragraph(err) and "reject or reopen that pair first" in err
    code, _, err = run([*decide, "--visitor", v1, "--host", h1, "--decision", "accept", "--round", "7"], capsys)
    assert code == 1 and one_paragraph(err) and "round 7 is not in the ledger" in err

    code, out, err = run(["resolve", round_dir, "--partnership", partnership, "--out", tmp_path / "resolved",
                          *FLAGS], capsys)
    assert code == 0, err
    assert f"re-solve of {partnership}" in out and "0 of them in other Partnerships" in out
    assert "recorded as round 2" in out

    code, out, err = run(["solve", round_dir, "--out", tmp_path / "out2", *FLAGS], capsys)
    assert code == 0, err
    assert "1 visitor(s) skipped" in out and "1 locked pair(s) kept" in out and "1 rejected pair(s) forbidden" in out
    assert "of lump sums already taken off the budgets (accepted exchanges reserved, committed or paid" in out
    assert "recorded as round 3" in out
    with Ledger(f"sqlite:///{default_ledger_path(round_dir)}") as led:
        second = led.proposals(3)
        pairs = set(zip(second["visitor_id"], second["host_id"]))
        assert v1 not in set(second["visitor_id"]) and (v2, h2) not in pairs and (v3, h3) in pairs
        history = led.decisions()
        assert list(history["decision"]) == ["accept", "reject", "lock"]
        assert set(history["reviewer"]) == {"ana@clamtex.eu"} and history["comment"].iloc[0] == "by phone"
    unmatched = pd.read_csv(tmp_path / "out2" / "unmatched.csv", dtype=str)
    assert v1 in set(unmatched["visitor_id"])
    code, out, err = run(["export", round_dir, "--out", tmp_path / "ex2"], capsys)
    assert code == 0, err
    assert "round 3" in out and (tmp_path / "ex2" / "round_3.csv").is_file()


def test_reading_before_any_round_creates_no_ledger_and_says_what_to_run(round_dir, tmp_path, capsys):
    for argv in (["export", round_dir, "--out", tmp_path / "ex"],
                 ["decide", round_dir, "--visitor", "V", "--host", "H", "--decision", "accept", "--by", "ana"]):
        code, _, err = run(argv, capsys)
        assert code == 1 and one_paragraph(err), err
        assert f"matchmaker solve {round_dir} --out" in err and "sample-round.sh" in err
    assert not list(round_dir.glob("ledger.sqlite*"))


def test_a_ledger_without_a_round_says_what_to_run(round_dir, tmp_path, capsys):
    Ledger(f"sqlite:///{default_ledger_path(round_dir)}").close()  # an empty ledger, as older versions left one
    code, _, err = run(["export", round_dir, "--out", tmp_path / "ex"], capsys)
    assert code == 1 and one_paragraph(err)
    assert "holds no round yet" in err and "matchmaker solve" in err and "Ledger(" not in err


def test_solve_no_record_touches_no_ledger(round_dir, tmp_path, capsys):
    code, _, err = run(["solve", round_dir, "--out", tmp_path / "out", "--no-record", *FLAGS], capsys)
    assert code == 0, err
    assert (tmp_path / "out" / "proposals.csv").is_file() and not list(round_dir.glob("ledger.sqlite*"))
    code, _, err = run(["solve", round_dir, "--out", tmp_path / "out", "--no-record", "--ledger",
                        f"sqlite:///{tmp_path / 'l.sqlite'}", *FLAGS], capsys)
    assert code == 2 and "--no-record" in err and not (tmp_path / "l.sqlite").exists()


def test_round_is_solve_and_a_given_ledger_is_used(round_dir, tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    code, out, err = run(["round", round_dir, "--out", tmp_path / "out", "--ledger", url, "--name", "spring",
                          *FLAGS], capsys)
    assert code == 0, err
    assert "recorded as round 1" in out and not list(round_dir.glob("ledger.sqlite*"))
    with Ledger(url) as led:
        assert list(led.rounds()["name"]) == ["spring"]


@pytest.mark.parametrize("extra, words", [
    (["--by", " "], "--by is empty"),
    (["--by", "ana", "--visitor", " "], "--visitor is empty"),
    (["--by", "ana", "--decision", "comment"], "--comment TEXT"),
])
def test_decide_bad_usage_is_exit_code_2(round_dir, capsys, extra, words):
    argv = ["decide", round_dir, "--visitor", "V", "--host", "H", "--decision", "accept", *extra]
    code, _, err = run(argv, capsys)
    assert code == 2 and words in err and one_paragraph(err)


def test_the_review_notebook_creates_no_ledger_before_the_first_round(round_dir):
    with pytest.raises(ui.NotUsable, match=f"matchmaker solve {round_dir} --out"):
        ui.open_ledger(round_dir)
    assert not list(round_dir.glob("ledger.sqlite*"))
