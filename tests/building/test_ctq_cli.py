"""``matchmaker ctq`` end to end, in process through ``cli.main``: generate -> solve -> decide -> ctq."""

from __future__ import annotations

import pandas as pd
import pytest

from matchmaker import cli
from matchmaker.building.ctq_docx import docx_text
from matchmaker.generator.generate import generate_round

FLAGS = ["--quiet", "--time-limit", "20", "--work-limit", "0.3"]


def run(argv: list, capsys) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """A generated round of 30 visitors and 15 hosts, solved and recorded as round 1."""
    base = tmp_path_factory.mktemp("ctq_cli")
    d = base / "round"
    generate_round(d, 30, 15, 3)
    assert cli.main(["solve", str(d), "--out", str(base / "out-1"), *FLAGS]) == 0
    return d, pd.read_csv(base / "out-1" / "proposals.csv", dtype=str)


def test_ctq_end_to_end(solved, tmp_path, capsys):
    d, props = solved
    first, second = props.iloc[0], props.iloc[1]
    out = tmp_path / "drafts"
    # nothing accepted yet: nothing to draft, nothing written
    code, text, _ = run(["ctq", d, "--out", out], capsys)
    assert code == 0 and "nothing to draft" in text and not out.exists()
    assert run(["decide", d, "--visitor", first.visitor_id, "--host", first.host_id, "--decision", "accept",
                "--by", "ana@example.eu"], capsys)[0] == 0
    code, text, _ = run(["ctq", d, "--out", out], capsys)
    stem = f"ctq_{first.visitor_id}_{first.host_id}"
    assert code == 0 and "1 Commitment to Quality draft(s)" in text and "2 file(s) new" in text and stem in text
    assert sorted(p.name for p in out.iterdir()) == [f"{stem}.docx", f"{stem}.html"]
    body = docx_text(out / f"{stem}.docx")
    assert f"{first.visitor_name} ({first.visitor_id})" in body and f"{first.host_name} ({first.host_id})" in body
    assert first.schedule + "." in body
    if first["mode"] == "virtual":
        assert "None: a virtual exchange has no lump sum." in body
    else:
        assert f"EUR {float(first.lump_sum_eur):,.2f} for the visitor" in body
    # again: unchanged; a file edited by people is refused (exit 1, nothing written), --force replaces it
    code, text, _ = run(["ctq", d, "--out", out], capsys)
    assert code == 0 and "2 unchanged" in text
    (out / f"{stem}.docx").write_bytes(b"edited")
    code, _, err = run(["ctq", d, "--out", out], capsys)
    assert code == 1 and err.startswith("error: ") and f"{stem}.docx" in err and "--force" in err
    assert (out / f"{stem}.docx").read_bytes() == b"edited"
    code, text, _ = run(["ctq", d, "--out", out, "--force"], capsys)
    assert code == 0 and "1 replaced" in text and (out / f"{stem}.docx").read_bytes() != b"edited"
    # one pair: only an accepted or locked one
    code, _, err = run(["ctq", d, "--visitor", second.visitor_id, "--host", second.host_id, "--out",
                        tmp_path / "one"], capsys)
    assert code == 1 and f"pair (visitor {second.visitor_id}, host {second.host_id}) is proposed" in err
    assert not (tmp_path / "one").exists()
    code, text, _ = run(["ctq", d, "--visitor", first.visitor_id, "--host", first.host_id, "--out",
                         tmp_path / "one"], capsys)
    assert code == 0 and len(list((tmp_path / "one").iterdir())) == 2


def test_ctq_usage_errors(solved, tmp_path, capsys):
    d, props = solved
    code, _, err = run(["ctq", d, "--visitor", props.iloc[0].visitor_id, "--out", tmp_path / "x"], capsys)
    assert code == 2 and "--visitor needs --host too" in err
    code, _, err = run(["ctq", d, "--out", tmp_path / "x", "--ledger", "mysql://nowhere/db"], capsys)
    assert code == 2 and err.startswith("error: --ledger")


def test_ctq_before_any_round_says_what_to_run(tmp_path, capsys):
    d = tmp_path / "fresh"
    generate_round(d, 10, 5, 1)
    code, _, err = run(["ctq", d, "--out", tmp_path / "drafts"], capsys)
    assert code == 1 and "matchmaker solve" in err and not (d / "ledger.sqlite").exists()
