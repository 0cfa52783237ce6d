"""A real JupyterLab, a real browser: a Partnership reviews round 1 by clicking, and downloads its list.

The test starts ``jupyter lab`` on 127.0.0.1 (free port, random token) over a temporary
copy of the notebooks with a prepared round (a small generated round, solved and
recorded in its ledger by :func:`matchmaker.ledger.carry_over.run_next_round`), opens
``notebooks/02_review_proposals.ipynb`` in headless Chromium driven by Playwright, runs
all cells from the Run menu, and then, as a reviewer does, step by step (each step a
function below, so that the flow reads as the issue's list):

1. round 1: the review panel shows the partnership with the most pairs;
2. accept, reject and lock three pairs by clicking (no pause between selecting, typing
   and clicking), each with a comment;
3. export the list and download it from the link under the panel: the file holds the
   accepted pair, with its decision;
4. no cell shows a traceback.

The ledger is then read: the three decisions, on the right pairs, with their reviewer
and comments.

Still to add when the stable re-solve (one Partnership's re-solve changes no other
Partnership's pairs) and cumulative decisions land (issue 11): ``step_resolve`` (click
*Re-solve around decisions*, wait for the progress bars to finish, compare every other
Partnership's pairs of round 2 with round 1: unchanged) and ``step_round_2`` (round 2's
list and its *accepted* filter still show the accepted pair; the export of round 2 holds
it). See the ``TODO`` in :func:`test_review_notebook_round_by_clicking`.

The browser is Debian's ``chromium`` (``$MATCHMAKER_CHROMIUM`` or on the PATH); nothing
is downloaded. Without it the test is skipped with the reason, unless
``MATCHMAKER_REQUIRE_BROWSER=1`` (set in CI by scripts/test.sh), where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from browser_helpers import (
    JupyterLab,
    cell_errors,
    chromium_path,
    launch_chromium,
    open_notebook,
    run_all_cells,
    tracebacks,
)

from matchmaker.common.locations import default_ledger_url
from matchmaker.ledger.store import Ledger

ROOT = Path(__file__).resolve().parents[2]
REVIEWER = "browser-test@clamtex.eu"
#: decision -> comment typed before clicking its button
COMMENTS = {"accept": "Good fit: same sector, short trip", "reject": "Host is full in June",
            "lock": "Agreed by phone with both"}


def _browser_or_skip() -> str:
    path = chromium_path()
    if path:
        return path
    reason = ("BROWSER TEST NOT RUN: no chromium found (set MATCHMAKER_CHROMIUM or install Debian's "
              "package: apt-get install chromium; scripts/test.sh does it when run as root)")
    if os.environ.get("MATCHMAKER_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " and MATCHMAKER_REQUIRE_BROWSER=1")
    pytest.skip(reason)


def test_missing_browser_is_a_loud_skip(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "chromium_path", lambda: None)
    monkeypatch.delenv("MATCHMAKER_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="BROWSER TEST NOT RUN.*apt-get install chromium"):
        _browser_or_skip()


def test_missing_browser_fails_when_required(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "chromium_path", lambda: None)
    monkeypatch.setenv("MATCHMAKER_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="MATCHMAKER_REQUIRE_BROWSER=1"):
        _browser_or_skip()


@pytest.fixture(scope="module")
def chromium():
    """The browser's executable (skips, or fails in CI, without one)."""
    if os.environ.get("MATCHMAKER_REQUIRE_BROWSER") != "1":
        pytest.importorskip("playwright.sync_api")
    return _browser_or_skip()


@pytest.fixture(scope="module")
def lab_root(chromium, tmp_path_factory):
    """notebooks/ and round 1, solved and recorded, in data/sample/ (its ledger beside it)."""
    from matchmaker.generator.generate import generate_round
    from matchmaker.ledger.carry_over import run_next_round

    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    round_dir = root / "data" / "sample"
    generate_round(round_dir, n_visitors=40, n_hosts=20, seed=11)
    result = run_next_round(round_dir, root / "out" / "sample-round", time_limit=10.0, verbose=False)
    assert result.round_id == 1, result.describe()
    return root


def _pair_of(label: str) -> tuple[str, str]:
    """(visitor id, host id) of a pair's line in the list: ``V name (CC) -> H name (CC) | ...``."""
    text = label.replace("\xa0", " ")
    return tuple(text.split(" -> ")[i].split(" ")[0] for i in (0, 1))


def step_round_1(page) -> None:
    """Round 1 is shown; pick the partnership with the most pairs (three are needed)."""
    page.locator(".mm-round", has_text="Round 1").wait_for(timeout=90_000)
    select = page.locator(".mm-partnership select")
    labels = [o.inner_text() for o in select.locator("option").all()]  # spaces may be NBSP
    counts = [int(re.search(r"\((\d+)\s+pairs?\)", t).group(1)) for t in labels]
    best = labels[counts.index(max(counts))]
    assert max(counts) >= 3, f"no partnership has three pairs: {labels}"
    select.select_option(label=best)
    page.locator(".mm-pair-select select option").nth(2).wait_for(state="attached")


def step_decide(page) -> dict[str, tuple[str, str]]:
    """Accept, reject and lock the first three pairs by clicking, as fast as a script can.

    The kernel may handle a click before the selection and the comment typed just before
    it: the panel must still record the decision on the pair selected, with its comment.
    """
    pairs = page.locator(".mm-pair-select select")
    page.locator(".mm-reviewer input").fill(REVIEWER)
    decided = {}
    for index, decision in enumerate(COMMENTS):
        decided[decision] = _pair_of(pairs.locator("option").nth(index).inner_text())
        pairs.select_option(index=index)
        page.locator(".mm-comment textarea").fill(COMMENTS[decision])
        page.locator(f"button.mm-{decision}").click()
        page.locator(".mm-status", has_text=f"{decision} recorded").wait_for(timeout=30_000)
    return decided


def step_export_download(page, accepted: tuple[str, str], dest: Path) -> str:
    """Export the list, download it from the link under the panel; the file holds the accepted pair."""
    page.locator("button.mm-export").click()
    link = page.locator(".mm-downloads a.mm-download").first
    link.wait_for(timeout=30_000)
    with page.expect_download(timeout=30_000) as info:
        link.click()
    download = info.value
    path = dest / download.suggested_filename
    download.save_as(path)
    text = path.read_bytes().decode("utf-8-sig")
    rows = [line for line in text.splitlines() if accepted[0] in line and accepted[1] in line]
    assert download.suggested_filename.endswith(".csv") and rows, f"{accepted} not in the download:\n{text[:2000]}"
    assert "accept" in rows[0], rows[0]
    return text


def test_review_notebook_round_by_clicking(chromium, lab_root):
    from playwright.sync_api import sync_playwright

    with JupyterLab(lab_root) as lab, sync_playwright() as pw:
        browser = launch_chromium(pw, chromium)
        page = None
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.set_default_timeout(60_000)
            open_notebook(page, lab, "notebooks/02_review_proposals.ipynb")
            run_all_cells(page)
            page.locator(".mm-pair-select select").wait_for(state="visible", timeout=90_000)
            step_round_1(page)
            decided = step_decide(page)
            step_export_download(page, decided["accept"], lab_root)
            # TODO(issue 11, stable re-solve and cumulative decisions): step_resolve(page) - click
            # button.mm-resolve, wait for ".mm-resolve-progress" to say "recorded" and ".mm-round" to say
            # "Round 2", then compare every other partnership's pairs of rounds 1 and 2 in the ledger
            # (unchanged); step_round_2(page) - the accepted pair is still in round 2's list (filter
            # "accepted") and step_export_download of round 2 holds it.
            assert not cell_errors(page), cell_errors(page)
            assert not tracebacks(page), tracebacks(page)
        except Exception:
            if page is not None:
                page.screenshot(path=str(lab_root / "failure.png"))
            print(f"browser test failed; screenshot {lab_root / 'failure.png'}; jupyter log:\n{lab.log()[-4000:]}")
            raise
        finally:
            browser.close()

    with Ledger(default_ledger_url(lab_root / "data" / "sample")) as ledger:
        d = ledger.decisions(1)
    got = {(r.visitor_id, r.host_id): (r.decision, r.reviewer, r.comment) for r in d.itertuples()}
    assert got == {pair: (decision, REVIEWER, COMMENTS[decision]) for decision, pair in decided.items()}
