"""Regenerate reports/screenshots/*.png and reports/sample_round_report.html.

    .venv/bin/python scripts/screenshots.py            # everything (a few minutes)
    .venv/bin/python scripts/screenshots.py --time-limit 20
    .venv/bin/python scripts/screenshots.py --time-limit 0   # the settings' default (work limit 45, derived time)
    .venv/bin/python scripts/screenshots.py --only-04     # notebook 04's screenshots alone
    .venv/bin/python scripts/screenshots.py --only-quality  # the match quality's screenshots and the report

In a temporary copy of the notebooks and the sample round (nothing in the repository
changes except the files written below), it starts JupyterLab on loopback and, in
headless Chromium (Debian's ``chromium``; ``$MATCHMAKER_CHROMIUM`` overrides):

1. runs ``01_matching_round.ipynb`` from the Run menu (the solver's time limit set in the
   copy's parameters cell) and takes screenshots of the round picker, the validation,
   the settings widgets, the progress bar with the summary, and the plots;
2. runs ``02_review_proposals.ipynb``, accepts one pair and rejects another by
   clicking, and takes screenshots of the review panel, of the export with its download
   links and of the re-solve with its progress bars;
3. runs ``03_round_report.ipynb`` and takes screenshots of its headline, plots and tables;
4. writes the HTML report of the solved round to ``reports/sample_round_report.html``
   and takes screenshots of it;
5. accepts a few more pairs in the ledger and moves some exchanges along their chain in
   Python (:func:`prepare_exchanges`), runs ``04_exchange_building.ipynb``, drafts one
   exchange's Commitment to Quality and runs the EC draw by clicking, and takes screenshots
   of the pipeline, the steps, the draw and a Partnership's statement. ``--only-04`` takes
   these alone (the round solved in Python; the other screenshots are kept).

The match quality (issue 13) is shot with them: notebook 02's alternatives worth a look,
notebook 03's match quality, comparison and stability, and the same in the HTML report.
``--only-quality`` takes these alone and rewrites the report (the sample solved and recorded in
Python with ``--work-limit`` work units, 45 by default; the other screenshots are kept).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from matchmaker.solve.config import DEFAULT_WORK, derived_time_limit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ui"))

from browser_helpers import (  # noqa: E402
    JupyterLab,
    cell_errors,
    chromium_path,
    launch_chromium,
    open_notebook,
    run_all_cells,
    wait_for_cells,
)

SHOTS = ROOT / "reports" / "screenshots"
REPORT = ROOT / "reports" / "sample_round_report.html"
VIEWPORT = {"width": 1440, "height": 1000}


def set_parameters(path: Path, **values) -> None:
    """Replace assignments in the copy's ``parameters`` cell (``name = value`` lines)."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    lines = cell.source.splitlines()
    for name, value in values.items():
        for i, line in enumerate(lines):
            if line.split("=")[0].strip() == name:
                comment = line[line.index("#"):] if "#" in line else ""
                lines[i] = f"{name} = {value!r}".ljust(36) + comment
                break
        else:
            raise KeyError(f"{path.name}: no parameter {name!r}")
    cell.source = "\n".join(lines)
    nbformat.write(nb, path)


def shot(page, name: str, locator=None, offset: int = 0) -> Path:
    """Scroll ``locator`` to the top of the notebook (less ``offset`` px) and save the viewport."""
    if locator is not None:
        locator.first.evaluate("(el, off) => { el.scrollIntoView({block: 'start'}); "
                               "const s = el.closest('.jp-WindowedPanel-outer'); if (s) s.scrollTop -= off; }",
                               offset)
        page.wait_for_timeout(700)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    print("wrote", path.relative_to(ROOT), flush=True)
    return path


def cell(page, text: str):
    """The notebook cell whose input contains ``text``."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").filter(
        has=page.locator(".jp-InputArea", has_text=text))


def output_of(page, text: str):
    return cell(page, text).locator(".jp-OutputArea")


def wait_seconds(time_limit: float | None) -> float:
    """Seconds a notebook's solve may take before the script gives up (the derived limit when unset)."""
    return (time_limit if time_limit is not None else derived_time_limit(DEFAULT_WORK)) + 240


def prepare(root: Path, time_limit: float | None) -> None:
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "data" / "sample", root / "data" / "sample",
                    ignore=shutil.ignore_patterns("ledger.sqlite*"))
    set_parameters(root / "notebooks" / "01_matching_round.ipynb", time_limit=time_limit)
    set_parameters(root / "notebooks" / "02_review_proposals.ipynb", reviewer="ana.silva@clamtex.eu",
                   partnership="CLAMTEX", time_limit=time_limit)
    set_parameters(root / "notebooks" / "04_exchange_building.ipynb", by="ana.silva@clamtex.eu")


def run_notebook(page, lab, name: str, timeout_ms: int) -> None:
    open_notebook(page, lab, f"notebooks/{name}")
    page.keyboard.press("Control+b")  # hide the file browser: more room for the notebook
    run_all_cells(page)
    wait_for_cells(page, timeout_ms)
    errors = cell_errors(page)
    if errors:
        raise RuntimeError(f"{name} raised:\n" + "\n".join(errors))


def notebook_01(page, lab, time_limit: float | None) -> None:
    run_notebook(page, lab, "01_matching_round.ipynb", int(wait_seconds(time_limit) * 1000))
    shot(page, "01_matching_round-0-round", cell(page, "ui.RoundPicker("), 40)
    shot(page, "01_matching_round-1-validation", cell(page, "ui.validate_round(picker.round_dir)"), 40)
    shot(page, "01_matching_round-2-settings", cell(page, "ui.SettingsPanel(rnd.settings)"), 10)
    shot(page, "01_matching_round-3-solve", cell(page, "ui.SolveProgress("), 10)
    plots = output_of(page, "ui.show_results(").locator("img")
    shot(page, "01_matching_round-4-budget", plots.nth(0), 10)
    shot(page, "01_matching_round-5-map", plots.nth(3), 10)


def notebook_02(page, lab, timeout_ms: int) -> None:
    run_notebook(page, lab, "02_review_proposals.ipynb", 120_000)
    pairs = page.locator(".mm-pair-select select")
    pairs.wait_for(state="visible")
    pairs.select_option(index=0)
    page.locator(".mm-comment textarea").fill("Prior contact at the Porto fair; good fit")
    page.locator("button.mm-accept").click()
    page.locator(".mm-status", has_text="accept recorded").wait_for()
    pairs.select_option(index=1)
    page.locator(".mm-comment textarea").fill("Host cannot take a visitor in June")
    page.locator("button.mm-reject").click()
    page.locator(".mm-status", has_text="reject recorded").wait_for()
    pairs.select_option(index=2)
    shot(page, "02_review_proposals-1-grid", page.locator(".mm-review"), 60)
    shot(page, "02_review_proposals-2-decisions", page.locator(".mm-pair-select"), 120)
    page.locator(".mm-xlsx input").check()
    page.locator("button.mm-export").click()
    page.locator(".mm-downloads a.mm-download").first.wait_for()
    shot(page, "02_review_proposals-3-export", page.locator(".mm-status"), 420)
    page.locator("button.mm-resolve").click()
    page.locator(".mm-resolve-progress", has_text="record").wait_for(timeout=timeout_ms)  # ready / not recordable
    shot(page, "02_review_proposals-4-resolve", page.locator(".mm-status"), 420)
    if page.locator("button.mm-record-resolve").is_visible():
        page.locator("button.mm-record-resolve").click()
        page.locator(".mm-status", has_text="re-solve recorded").wait_for(timeout=timeout_ms)


def notebook_03(page, lab) -> None:
    run_notebook(page, lab, "03_round_report.ipynb", 240_000)
    shot(page, "03_round_report-0-headline", cell(page, 'tables["headline"]'), 60)
    shot(page, "03_round_report-1-budget", cell(page, 'ui.show(figures["budget"])'), 60)
    shot(page, "03_round_report-2-scores", cell(page, 'ui.show(figures["scores"])'), 60)
    shot(page, "03_round_report-3-flows", cell(page, 'ui.show(figures["flows"])'), 60)
    shot(page, "03_round_report-4-unmatched", cell(page, 'ui.show(figures["unmatched"])'), 60)


def html_report(page, root: Path, first_shots: bool = True) -> None:
    from matchmaker.report.html import write_report

    out = root / "out" / "sample-round"
    write_report(out, REPORT, round_dir=ROOT / "data" / "sample", title="Matching round report: sample round")
    text = REPORT.read_text(encoding="utf-8").replace(str(ROOT) + "/", "")  # no machine paths in the file
    REPORT.write_text(text, encoding="utf-8")
    print("wrote", REPORT.relative_to(ROOT), flush=True)
    page.goto(REPORT.as_uri())
    if not first_shots:
        return
    shot(page, "report-1-summary")
    for i, section in enumerate(("budget", "map", "unmatched"), start=2):
        page.locator(f"#{section}").scroll_into_view_if_needed()
        page.evaluate(f"document.getElementById('{section}').scrollIntoView({{block: 'start'}})")
        shot(page, f"report-{i}-{section}")


def alternatives_02(page) -> None:
    """Notebook 02's alternatives worth a look (notebook 02 already run)."""
    shot(page, "02_review_proposals-5-alternatives", cell(page, "AlternativesPanel(review)"), 60)


def quality_03(page) -> None:
    """Notebook 03's match quality, the comparison and the stability (notebook 03 already run)."""
    shot(page, "03_round_report-5-quality", cell(page, "T.quality_of("), 60)
    shot(page, "03_round_report-6-comparison", cell(page, "T.extra_frames(comparison)"), 250)
    shot(page, "03_round_report-7-stability", cell(page, "T.extra_frames(stability)"), 170)


def quality_report(page) -> None:
    """The HTML report's match quality: its headline, the comparison and the stability (the report open)."""
    for name, where in (("report-5-quality", "document.getElementById('quality')"),
                        ("report-6-comparison", "[...document.querySelectorAll('#quality h3')].find("
                                                "h => h.textContent.startsWith('The same round'))"),
                        ("report-7-stability", "[...document.querySelectorAll('#quality h3')].find("
                                               "h => h.textContent.startsWith('Stability'))")):
        page.evaluate(f"({where}).scrollIntoView({{block: 'start'}})")
        page.wait_for_timeout(300)
        shot(page, name)


#: The screenshots of the match quality (``--only-quality`` rewrites these alone).
QUALITY_SHOTS = {f"{n}.png" for n in ("02_review_proposals-5-alternatives", "03_round_report-5-quality",
                                       "03_round_report-6-comparison", "03_round_report-7-stability",
                                       "report-5-quality", "report-6-comparison", "report-7-stability")}


def only_quality(page, lab, root: Path, work_limit: float) -> None:
    """The sample solved and recorded in Python, then notebooks 02 and 03 and the report: the quality's shots."""
    from matchmaker.common.locations import default_ledger_url
    from matchmaker.ledger.carry_over import run_next_round

    round_dir = root / "data" / "sample"
    run_next_round(round_dir, root / "out" / "sample-round", default_ledger_url(round_dir), work_limit=work_limit,
                   verbose=False)
    run_notebook(page, lab, "02_review_proposals.ipynb", 120_000)
    alternatives_02(page)
    run_notebook(page, lab, "03_round_report.ipynb", 240_000)
    quality_03(page)
    html_report(page, root, first_shots=False)
    quality_report(page)


#: Who records the steps in the screenshots of notebook 04.
OFFICER = "ana.silva@clamtex.eu"


def prepare_exchanges(root: Path, time_limit: float | None) -> None:
    """A solved round in the ledger (solved here if there is none), more pairs accepted, exchanges moved along."""
    from matchmaker.common.locations import default_ledger_url
    from matchmaker.ledger.carry_over import run_next_round
    from matchmaker.ledger.exchanges import exchange_list
    from matchmaker.ledger.steps import record_step
    from matchmaker.ledger.store import Ledger

    round_dir = root / "data" / "sample"
    with Ledger(default_ledger_url(round_dir)) as ledger:
        if not len(ledger.rounds()):
            run_next_round(round_dir, root / "out" / "sample-round", ledger, time_limit=time_limit, verbose=False)
        rid = ledger.latest_round_id()
        listed = exchange_list(ledger, round_id=rid)
        open_ = listed[(listed["status"] == "proposed") & (listed["mode"] == "physical")]
        for v, h in list(zip(open_["visitor_id"], open_["host_id"]))[:7]:
            ledger.decide(rid, v, h, "accept", reviewer=OFFICER, comment="good fit")
        accepted = exchange_list(ledger, round_id=rid)
        accepted = accepted[accepted["status"] == "accepted"]
        pairs = list(zip(accepted["visitor_id"], accepted["host_id"]))
        walks = [["ctq_drafted", "signed_by_host", "signed_by_visitor"], ["ctq_drafted", "signed_by_host"],
                 ["ctq_drafted"], ["withdrawn"]]
        for (v, h), steps in zip(pairs[1:], walks):
            for step in steps:
                record_step(ledger, v, h, step, OFFICER, reason="the visitor cannot travel in March"
                            if step == "withdrawn" else "")


def notebook_04(page, lab) -> None:
    run_notebook(page, lab, "04_exchange_building.ipynb", 180_000)
    select = page.locator(".mm-ex-select select")
    select.wait_for(state="visible")
    labels = [o.inner_text().replace("\xa0", " ") for o in select.locator("option").all()]
    select.select_option(index=next(i for i, t in enumerate(labels) if t.endswith("accepted, no step yet")))
    page.locator("button.mm-step-ctq_drafted").first.click()
    page.locator(".mm-ex-downloads a.mm-download").first.wait_for()
    shot(page, "04_exchange_building-1-pipeline", page.locator(".mm-exchanges"), 60)
    shot(page, "04_exchange_building-2-steps", page.locator(".mm-ex-select"), 60)
    page.locator("button.mm-ec-run").click()
    page.locator(".mm-ec-draws", has_text="same exchanges").wait_for()
    shot(page, "04_exchange_building-3-ec-draw", cell(page, "EcDrawPanel("), 60)
    shot(page, "04_exchange_building-4-statement", cell(page, "StatementPanel("), 60)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=30.0,
                        help="solver seconds in notebooks 01 and 02 (0: the settings' default, "
                        "the work limit with its derived time limit)")
    parser.add_argument("--only-04", action="store_true", help="only notebook 04's screenshots (others kept)")
    parser.add_argument("--only-quality", action="store_true",
                        help="only the match quality's screenshots of notebooks 02 and 03 and of the report, with the "
                             "report itself (the sample solved in Python with --work-limit; others kept)")
    parser.add_argument("--work-limit", type=float, default=45.0, help="work units of --only-quality's solve")
    args = parser.parse_args(argv)
    if args.time_limit <= 0:
        args.time_limit = None
    executable = chromium_path()
    if executable is None:
        print("screenshots: no chromium (apt-get install chromium, or set MATCHMAKER_CHROMIUM)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("04_exchange_building-*.png" if args.only_04 else "*.png"):
        if not args.only_quality or old.name in QUALITY_SHOTS:
            old.unlink()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mm-shots-") as tmp:
        root = Path(tmp)
        prepare(root, args.time_limit)
        with JupyterLab(root) as lab, sync_playwright() as pw:
            browser = launch_chromium(pw, executable)
            try:
                page = browser.new_page(viewport=VIEWPORT)
                page.set_default_timeout(120_000)
                if args.only_quality:
                    only_quality(page, lab, root, args.work_limit)
                    return 0
                if not args.only_04:
                    notebook_01(page, lab, args.time_limit)
                    notebook_02(page, lab, int(wait_seconds(args.time_limit) * 1000))
                    alternatives_02(page)
                    notebook_03(page, lab)
                    quality_03(page)
                    html_report(page, root)
                    quality_report(page)
                prepare_exchanges(root, args.time_limit)
                notebook_04(page, lab)
            finally:
                browser.close()
    print(f"screenshots: done in {time.monotonic() - t0:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
