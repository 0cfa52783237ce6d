"""A real JupyterLab, a real browser: a reviewer accepts one pair and rejects another by clicking.

The test starts ``jupyter lab`` on 127.0.0.1 (free port, random token) over a temporary
copy of the notebooks with a prepared round (a small generated round, solved and
recorded in its ledger by :func:`matchmaker.ledger.carry_over.run_next_round`), opens
``notebooks/02_review_proposals.ipynb`` in headless Chromium driven by Playwright,
runs all cells from the Run menu, picks pairs in the review panel, types the reviewer
and comments, clicks *Accept* and *Reject* (no pause between selecting, typing and
clicking), and then reads the ledger: both decisions, on the right pairs, with their
reviewer and comments.

The browser is Debian's ``chromium`` (``$MATCHMAKER_CHROMIUM`` or on the PATH); nothing
is downloaded. Without it the test is skipped with the reason, unless
``MATCHMAKER_REQUIRE_BROWSER=1`` (set in CI by scripts/test.sh), where it fails.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from browser_helpers import JupyterLab, cell_errors, chromium_path, launch_chromium, open_notebook, run_all_cells

from matchmaker.ledger.store import Ledger

ROOT = Path(__file__).resolve().parents[2]
REVIEWER = "browser-test@clamtex.eu"
ACCEPT_COMMENT = "Good fit: same sector, short trip"
REJECT_COMMENT = "Host is full in June"


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
    """notebooks/ and a solved, recorded round in data/sample/ (its ledger.sqlite beside it)."""
    from matchmaker.generator.generate import generate_round
    from matchmaker.ledger.carry_over import run_next_round

    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    round_dir = root / "data" / "sample"
    generate_round(round_dir, n_visitors=40, n_hosts=20, seed=11)
    result = run_next_round(round_dir, root / "out" / "sample-round", time_limit=10.0, verbose=False)
    assert result.round_id == 1, result.describe()
    return root


def test_review_notebook_accept_and_reject_by_clicking(chromium, lab_root):
    from playwright.sync_api import sync_playwright

    with JupyterLab(lab_root) as lab, sync_playwright() as pw:
        browser = launch_chromium(pw, chromium)
        page = None
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            open_notebook(page, lab, "notebooks/02_review_proposals.ipynb")
            run_all_cells(page)
            pairs = page.locator(".mm-pair-select select")
            pairs.wait_for(state="visible", timeout=90_000)
            assert pairs.locator("option").count() >= 2, "the partnership needs two pairs to review"
            # the list shows "VISITOR_ID name (CC) -> HOST_ID name (CC) | score | state" (spaces may be NBSP)
            first, second = (pairs.locator("option").nth(i).inner_text().replace("\xa0", " ") for i in (0, 1))

            # as fast as a script can: select, type, click, with no wait in between (the
            # kernel may handle the click before the selection and the comment: the panel
            # must still record the decision on the pair selected, with its comment)
            page.locator(".mm-reviewer input").fill(REVIEWER)
            pairs.select_option(index=0)
            page.locator(".mm-comment textarea").fill(ACCEPT_COMMENT)
            page.locator("button.mm-accept").click()
            page.locator(".mm-status", has_text="accept recorded").wait_for(timeout=30_000)

            pairs.select_option(index=1)
            page.locator(".mm-comment textarea").fill(REJECT_COMMENT)
            page.locator("button.mm-reject").click()
            page.locator(".mm-status", has_text="reject recorded").wait_for(timeout=30_000)
            assert not cell_errors(page), cell_errors(page)
        except Exception:
            if page is not None:
                page.screenshot(path=str(lab_root / "failure.png"))
            print(f"browser test failed; screenshot {lab_root / 'failure.png'}; jupyter log:\n{lab.log()[-4000:]}")
            raise
        finally:
            browser.close()

    first_pair = tuple(first.split(" -> ")[i].split(" ")[0] for i in (0, 1))
    second_pair = tuple(second.split(" -> ")[i].split(" ")[0] for i in (0, 1))
    with Ledger.for_round_dir(lab_root / "data" / "sample") as ledger:
        d = ledger.decisions(1)
    got = {(r.visitor_id, r.host_id): (r.decision, r.reviewer, r.comment) for r in d.itertuples()}
    assert got == {
        first_pair: ("accept", REVIEWER, ACCEPT_COMMENT),
        second_pair: ("reject", REVIEWER, REJECT_COMMENT),
    }
