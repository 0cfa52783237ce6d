"""A real JupyterLab, a real browser: a Partnership reviews round 1 by clicking, re-solves, reviews round 2.

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
4. *Re-solve around decisions*: the churn is shown before anything is recorded and says
   0 pairs of other Partnerships changed; *Record this re-solve* records it as round 2;
5. round 2's list, filtered on *accepted*, still shows the accepted pair ("accepted in
   round 1"), and the export of round 2, downloaded, holds it with its status;
6. no cell shows a traceback.

The ledger is then read: the three decisions, on the right pairs, with their reviewer
and comments, and every other Partnership's pairs of round 2 the same as round 1 (same
hosts, same dates). The re-solve runs for at most :data:`RESOLVE_S` seconds (the
notebook's parameter in the test's copy); the whole test takes about 25 seconds.

``test_exchange_notebook_drafted_to_financial_agreement_by_clicking`` opens
``notebooks/04_exchange_building.ipynb`` on a small round with accepted and locked pairs
(:mod:`exchange_round`) and moves one exchange (two Partnerships in charge) from accepted to
*Financial Agreement signed* by clicking: its Commitment to Quality drafted (the .docx
downloaded from the link), signed by both, validated by both Partnerships and the Support
Office, the agreement signed; the ledger then holds these steps, by the name typed, in that
order (about 30 seconds).

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
from exchange_round import write_exchange_round

from matchmaker.common.locations import default_ledger_url
from matchmaker.ledger import tables
from matchmaker.ledger.step_history import step_history
from matchmaker.ledger.store import Ledger

ROOT = Path(__file__).resolve().parents[2]
REVIEWER = "browser-test@clamtex.eu"
#: solver seconds of the re-solve in the notebook (its parameter, in the test's copy)
RESOLVE_S = 15.0
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
    nb = root / "notebooks" / "02_review_proposals.ipynb"  # the copy: a short re-solve keeps the test fast
    nb.write_text(nb.read_text(encoding="utf-8").replace("time_limit = 60.0", f"time_limit = {RESOLVE_S}"),
                  encoding="utf-8")
    round_dir = root / "data" / "sample"
    generate_round(round_dir, n_visitors=40, n_hosts=20, seed=11)
    result = run_next_round(round_dir, root / "out" / "sample-round", time_limit=10.0, verbose=False)
    assert result.round_id == 1, result.describe()
    return root


def _pair_of(label: str) -> tuple[str, str]:
    """(visitor id, host id) of a pair's line in the list: ``V name (CC) -> H name (CC) | ...``."""
    text = label.replace("\xa0", " ")
    return tuple(text.split(" -> ")[i].split(" ")[0] for i in (0, 1))


def step_round_1(page) -> str:
    """Round 1 is shown; pick the partnership with the most pairs (three are needed); return its id."""
    page.locator(".mm-round", has_text="Round 1").wait_for(timeout=90_000)
    select = page.locator(".mm-partnership select")
    labels = [o.inner_text() for o in select.locator("option").all()]  # spaces may be NBSP
    counts = [int(re.search(r"\((\d+)\s+pairs?\)", t).group(1)) for t in labels]
    best = labels[counts.index(max(counts))]
    assert max(counts) >= 3, f"no partnership has three pairs: {labels}"
    select.select_option(label=best)
    page.locator(".mm-pair-select select option").nth(2).wait_for(state="attached")
    return best.replace("\xa0", " ").split(" (")[0].strip()


def step_resolve(page) -> str:
    """Re-solve around the decisions: the churn is shown (0 pairs outside) before recording; record it."""
    page.locator("button.mm-resolve").click()
    page.locator(".mm-resolve-progress", has_text="ready to record").wait_for(timeout=120_000)
    churn = page.locator(".mm-status").inner_text()
    assert "0 of them in other Partnerships" in churn, churn
    assert page.locator(".mm-round", has_text="Round 1").count() == 1  # nothing recorded yet
    page.locator("button.mm-record-resolve").click()
    page.locator(".mm-status", has_text="re-solve recorded as round 2").wait_for(timeout=60_000)
    page.locator(".mm-round", has_text="Round 2").wait_for(timeout=30_000)
    return churn


def step_round_2(page, accepted: tuple[str, str]) -> None:
    """Round 2's list, filtered on *accepted*, still shows the accepted pair, decided in round 1."""
    from playwright.sync_api import expect

    page.locator(".mm-status-filter button", has_text="accepted").click()
    options = page.locator(".mm-pair-select select option")
    expect(options).to_have_count(1, timeout=30_000)  # the filter applied: only the accepted pair
    text = options.first.inner_text().replace("\xa0", " ")
    assert accepted[0] in text and accepted[1] in text and "accepted in round 1" in text, text
    page.locator(".mm-status-filter button", has_text="all").click()


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
            partnership = step_round_1(page)
            decided = step_decide(page)
            step_export_download(page, decided["accept"], lab_root)
            step_resolve(page)
            step_round_2(page, decided["accept"])
            (lab_root / "round_2").mkdir()
            text = step_export_download(page, decided["accept"], lab_root / "round_2")
            assert "decided_in_round" in text.splitlines()[0] and "accepted" in text
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
        before, after = ledger.proposals(1), ledger.proposals(2)
    got = {(r.visitor_id, r.host_id): (r.decision, r.reviewer, r.comment) for r in d.itertuples()}
    key = ["visitor_id", "host_id", "start_date", "end_date"]
    old = before[before["partnership"] != partnership][key].sort_values(key, ignore_index=True).astype(str)
    new = after[after["partnership"] != partnership][key].sort_values(key, ignore_index=True).astype(str)
    assert old.equals(new), f"other Partnerships' pairs changed:\n{old}\n{new}"
    assert got == {pair: (decision, REVIEWER, COMMENTS[decision]) for decision, pair in decided.items()}


#: The exchange moved in notebook 04: physical, accepted, CLAMTEX pays and BRILLIANT hosts.
EXCHANGE = ("V004", "H002")


@pytest.fixture(scope="module")
def exchange_lab_root(chromium, tmp_path_factory):
    """notebooks/ and a round with accepted and locked pairs in data/sample/ (its ledger beside it)."""
    root = tmp_path_factory.mktemp("lab04")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    write_exchange_round(root / "data", name="sample")
    return root


def click_step(page, css: str, says: str) -> None:
    """Click the step button ``css`` and wait until the status line says ``says``."""
    page.locator(f".mm-ex-steps button.{css}").first.click()
    page.locator(".mm-ex-status", has_text=says).wait_for(timeout=30_000)


def steps_04(page, dest: Path) -> list[str]:
    """Select the exchange, type the name, then click from 'drafted' to 'Financial Agreement signed'."""
    select = page.locator(".mm-ex-select select")
    labels = [o.inner_text().replace("\xa0", " ") for o in select.locator("option").all()]
    select.select_option(index=next(i for i, t in enumerate(labels) if t.startswith(f"{EXCHANGE[0]} ")))
    page.locator(".mm-ex-details", has_text="Milano Lighting Cluster").wait_for()
    page.locator(".mm-ex-by input").fill(REVIEWER)
    click_step(page, "mm-step-ctq_drafted", "recorded for 1 exchange(s)")
    link = page.locator(".mm-ex-downloads a.mm-download", has_text=".docx")
    with page.expect_download(timeout=30_000) as info:
        link.click()
    info.value.save_as(dest / info.value.suggested_filename)
    assert (dest / f"ctq_{EXCHANGE[0]}_{EXCHANGE[1]}.docx").read_bytes()[:2] == b"PK"  # a Word file
    click_step(page, "mm-step-signed_by_host", "'signed by the host' recorded")
    click_step(page, "mm-step-signed_by_visitor", "'signed by the visitor' recorded")
    validated = []
    for _ in range(2):  # one button per Partnership in charge still to validate
        button = page.locator(".mm-ex-steps button.mm-step-validated_by_partnership").first
        validated.append(button.inner_text().strip().removeprefix("Validated by "))
        click_step(page, "mm-step-validated_by_partnership", f"({validated[-1]}) recorded")
    click_step(page, "mm-step-validated_by_support_office", "'validated by the Support Office' recorded")
    click_step(page, "mm-step-fa_signed", "'Financial Agreement signed' recorded")
    page.locator(".mm-ex-details", has_text="Financial Agreement signed").wait_for()
    return validated


def test_exchange_notebook_drafted_to_financial_agreement_by_clicking(chromium, exchange_lab_root):
    from playwright.sync_api import sync_playwright

    root = exchange_lab_root
    with JupyterLab(root) as lab, sync_playwright() as pw:
        browser = launch_chromium(pw, chromium)
        page = None
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.set_default_timeout(60_000)
            open_notebook(page, lab, "notebooks/04_exchange_building.ipynb")
            run_all_cells(page)
            page.locator(".mm-ex-select select option").nth(3).wait_for(state="attached", timeout=90_000)
            page.locator(".mm-st-summary", has_text="remaining for new exchanges").wait_for(timeout=90_000)
            validated = steps_04(page, root)
            assert not cell_errors(page), cell_errors(page)
            assert not tracebacks(page), tracebacks(page)
        except Exception:
            if page is not None:
                page.screenshot(path=str(root / "failure.png"))
            print(f"browser test failed; screenshot {root / 'failure.png'}; jupyter log:\n{lab.log()[-4000:]}")
            raise
        finally:
            browser.close()

    assert sorted(validated) == ["BRILLIANT", "CLAMTEX"]
    with Ledger(default_ledger_url(root / "data" / "sample")) as ledger, ledger.engine.connect() as conn:
        s = tables.exchange_steps.c
        hist = step_history(conn, (s.visitor_id == EXCHANGE[0]) & (s.host_id == EXCHANGE[1]))
    assert list(hist["step"]) == ["ctq_drafted", "signed_by_host", "signed_by_visitor", "validated_by_partnership",
                                  "validated_by_partnership", "validated_by_support_office", "fa_signed"]
    assert set(hist["actor"]) == {REVIEWER} and list(hist["partnership"].dropna()) == validated
    assert (root / "out" / "drafts" / f"ctq_{EXCHANGE[0]}_{EXCHANGE[1]}.html").is_file()
