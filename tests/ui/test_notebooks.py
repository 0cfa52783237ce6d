"""The notebooks: committed without outputs, and every one runs top to bottom on the sample round.

The notebooks run in a temporary copy of the repository's layout (``notebooks/``,
``data/sample/``) so nothing is written into the repository: 01 runs headless with the
papermill command line (as the Support Office would on a server), 02 and 03 with
papermill's Python API, each with its parameters; 04 on a small round with accepted and
locked pairs in its ledger (:mod:`exchange_round`). The sample round is
``data/sample`` when present, else a small round from
:func:`matchmaker.generator.generate.generate_round`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from exchange_round import write_exchange_round

from matchmaker.ledger.store import Ledger
from matchmaker.report.html import SECTIONS

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = ["01_matching_round.ipynb", "02_review_proposals.ipynb", "03_round_report.ipynb",
            "04_exchange_building.ipynb"]
#: Solver seconds for the notebook run (the sample round is solved within it or stops with its gap).
TIME_LIMIT = 8.0


def test_the_notebooks_are_committed():
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; strip them before committing"
    assert "widgets" not in nb.metadata, f"{path.name}: saved widget state; strip it before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_a_papermill_parameters_cell_and_stays_thin(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: exactly one cell must be tagged 'parameters'"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code.index(tagged[0]) == 0, "the parameters cell is the first code cell"
    for c in code:  # thin: no function or class is defined in a notebook
        assert "def " not in c.source and "class " not in c.source, f"{path.name}: logic belongs in the package"


def _errors(nb) -> list[str]:
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A temporary copy: notebooks/ and data/sample/ (the committed sample or a generated round)."""
    root = tmp_path_factory.mktemp("nb")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    sample = ROOT / "data" / "sample"
    if (sample / "registrations.csv").is_file() or (sample / "registrations.xlsx").is_file():
        shutil.copytree(sample, root / "data" / "sample", ignore=shutil.ignore_patterns("ledger.sqlite*"))
    else:
        from matchmaker.generator.generate import generate_round
        generate_round(root / "data" / "sample", n_visitors=80, n_hosts=40, seed=7)
    return root


@pytest.fixture(scope="module")
def round_01(workspace):
    """Notebook 01 run headless with the papermill command line."""
    out_nb = workspace / "executed" / "01.ipynb"
    out_nb.parent.mkdir()
    papermill = Path(sys.executable).with_name("papermill")
    cmd = [str(papermill), str(workspace / "notebooks" / EXPECTED[0]), str(out_nb),
           "-p", "round_dir", "../data/sample", "-p", "out_dir", "../out/sample-round",
           "-p", "time_limit", str(TIME_LIMIT), "-p", "headless", "True",
           "--cwd", str(workspace / "notebooks"), "--no-progress-bar"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    nb = nbformat.read(out_nb, as_version=4) if out_nb.is_file() else None
    assert proc.returncode == 0, f"papermill failed:\n{proc.stderr[-4000:]}\n{_errors(nb) if nb else ''}"
    return nb


def _run(workspace, name: str, **parameters):
    import papermill as pm

    out_nb = workspace / "executed" / name
    pm.execute_notebook(str(workspace / "notebooks" / name), str(out_nb), parameters=parameters,
                        cwd=str(workspace / "notebooks"), progress_bar=False, kernel_name="python3")
    return nbformat.read(out_nb, as_version=4)


def _text(nb) -> str:
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            parts.append(o.get("text", ""))
            for mime in ("text/plain", "text/html"):
                parts.append("".join(o.get("data", {}).get(mime, "")))
    return "\n".join(parts)


@pytest.mark.slow
def test_notebook_01_solves_and_records_the_round_headless(round_01, workspace):
    assert not _errors(round_01)
    out = workspace / "out" / "sample-round"
    assert (out / "proposals.csv").is_file() and (out / "unmatched.csv").is_file()
    text = _text(round_01)
    assert "usable round" in text  # validation shown
    assert "gap" in text and "(done)" in text  # headless progress printed, its step in words
    assert "recorded as round" in text
    for developer_text in ("Highs", "Ledger(", "RoundRun(", "Traceback", "{'"):  # no solver log, repr, raw dict
        assert developer_text not in text, developer_text
    assert "can be repeated" in text  # the reproducibility note
    pngs = sum("image/png" in o.get("data", {}) for c in round_01.cells for o in c.get("outputs", []))
    assert pngs == 4  # budget, scores, flows, map
    with Ledger.for_round_dir(workspace / "data" / "sample") as ledger:
        assert ledger.latest_round_id() == 1
        assert len(ledger.proposals(1)) == sum(1 for _ in open(out / "proposals.csv", encoding="utf-8")) - 1


@pytest.mark.slow
def test_notebook_02_shows_the_review_panel(round_01, workspace):
    nb = _run(workspace, EXPECTED[1], reviewer="nb-test", resolve_dir="../out/resolved",
              export_dir="../out/exports")
    assert not _errors(nb)
    views = [o for c in nb.cells for o in c.get("outputs", [])
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views, "the review panel was not displayed"
    text = _text(nb)
    assert "Ledger(" not in text and "sqlite:" not in text and "input_hash" not in text
    assert not re.search(r"\d\d:\d\d:\d\d\.\d{6}", text), "a microsecond timestamp is shown"


@pytest.mark.slow
def test_notebook_03_shows_the_report_and_writes_it(round_01, workspace):
    nb = _run(workspace, EXPECTED[2], report_file="../reports/round_report.html")
    assert not _errors(nb)
    pngs = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert pngs == 6  # match quality, budget, scores, flows, map, unmatched
    text = _text(nb)
    assert "mm-headline" in text and "{'exchanges'" not in text  # the headline is a table, not a dict
    assert "visitors matched" in text and "Share of visitors matched per Partnership from" in text  # match quality
    assert "Share of visitors matched per organisation type from" in text and "share_matched" not in text
    assert "used_share" not in text and "budget used" in text
    # the comparison and the stability that notebook 01's solve wrote into summary.json (issue 13)
    assert "The same round matched each way." in text and "ranked-list picking, highest score first" in text
    assert "A blocking pair is a visitor and a host" in text and "blocking pair" in text
    # the stability and fairness settings the round was solved with, in words (review R13)
    assert "Stability option off ([solver] stability_weight = 0)" in text and "Fairness option off" in text
    for raw in ("total_score", "score_vs_ours", "visitor_gain", "PART_MISSING", "does not have it"):
        assert raw not in text, raw
    html = (workspace / "reports" / "round_report.html").read_text(encoding="utf-8")
    for key in SECTIONS:
        assert f'<section id="{key}">' in html


@pytest.mark.slow
def test_report_command_on_the_solved_sample_round(round_01, workspace):
    dest = workspace / "reports" / "cli_report.html"
    proc = subprocess.run([str(Path(sys.executable).with_name("matchmaker")), "report",
                           str(workspace / "out" / "sample-round"), "--round", str(workspace / "data" / "sample"),
                           "--html", str(dest)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    html = dest.read_text(encoding="utf-8")
    for key, title in SECTIONS.items():
        assert f'<section id="{key}"><h2>{title}</h2>' in html
    summary = json.loads((workspace / "out" / "sample-round" / "summary.json").read_text(encoding="utf-8"))
    assert isinstance(summary, dict)
    assert html.count("data:image/png;base64,") == 6


@pytest.mark.slow
def test_notebook_04_shows_the_exchanges_the_ec_draw_and_the_statement(workspace):
    write_exchange_round(workspace / "data", name="exchanges")
    (workspace / "executed").mkdir(exist_ok=True)
    nb = _run(workspace, EXPECTED[3], round_dir="../data/exchanges", by="nb-test", partnership="CLAMTEX",
              drafts_dir="../out/drafts")
    assert not _errors(nb)
    views = [o for c in nb.cells for o in c.get("outputs", [])
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 4  # the round picker, the exchanges, the EC draw, the statement
    warned = [o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert not [w for w in warned if "takes exactly one argument" in w or "matchmaker" in w], warned  # none of ours
    text = _text(nb) + json.dumps(nb.metadata.get("widgets", {}))  # the widgets' values are in their state
    assert "Ledger(" not in text and "sqlite:" not in text and "Traceback" not in text
    assert "accepted, no step yet" in text and "Commitment to Quality drafted" in text  # the counts
    assert "Partnership CLAMTEX" in text and "remaining for new exchanges" in text  # the statement
    assert "no EC draw recorded yet" in text
