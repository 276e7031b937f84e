"""The airlock in a browser (Playwright + Debian's Chromium) on a real local node.

A researcher submits a file from their workspace through the airlock's pages, two reviewers sign
in through the hub, see the findings next to the preview and approve, and the researcher
downloads the released file. Screenshots go to test-artifacts/airlock-*.png.

The file is written into the researcher's workspace by the test, as an analysis would leave it;
tests/hub/test_airlock_hub.py submits from a real kernel.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

TABLE = "variant,ALT_CT,OBS_CT\n1:10177:A:AC,41,120\n1:10352:T:TA,3,120\n1:11008:C:G,57,120\n"


def sign_in(browser, node, user: str):
    """A fresh browser session signed in through the hub's login form, landing in the airlock."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{node.url}hub/login?next={quote('/services/airlock/')}")
    page.fill("#username_input", user)
    page.fill("#password_input", node.passwords[user])
    page.click("#login_submit")
    page.wait_for_url(re.compile(r".*/services/airlock/$"))
    expect(page.get_by_test_id("signed-in-as")).to_have_text(user)
    return context, page


def test_airlock_browser__submit_review_twice_download(browser, local_node, artifacts_dir):
    node = local_node
    workspace = node.state_dir / "workspaces" / "researcher1"
    (workspace / "results").mkdir(parents=True, exist_ok=True)
    (workspace / "results" / "allele_counts.csv").write_text(TABLE)

    # the researcher starts a request, adds the file with its context, submits
    researcher, page = sign_in(browser, node, "researcher1")
    page.get_by_role("button", name="Start a request").click()
    page.wait_for_url(re.compile(r".*/services/airlock/requests/[0-9a-f]{16}$"))
    request_url = page.url
    form = page.get_by_test_id("add-file")
    form.get_by_label("Path in your workspace").fill("results/allele_counts.csv")
    form.get_by_label("What it is").fill("Alternate allele counts for three variants, dk cohort")
    form.get_by_label("How disclosure was controlled").fill("counts over 120 people")
    form.get_by_label("Exception").fill("the count of 3 is an allele count in 120 people")
    form.get_by_role("button", name="Add file").click()
    expect(page.get_by_test_id("file")).to_have_count(1)
    page.screenshot(path=artifacts_dir / "airlock-1-researcher-draft.png", full_page=True)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("status")).to_have_text("submitted")

    # two reviewers: the queue, the findings beside the preview, the approval
    for n, reviewer in enumerate(("reviewer1", "reviewer2"), start=1):
        context, rpage = sign_in(browser, node, reviewer)
        expect(rpage.get_by_test_id("queue-count")).to_have_text("1")
        rpage.screenshot(path=artifacts_dir / f"airlock-{n + 1}-{reviewer}-queue.png")
        rpage.get_by_test_id("queue").get_by_role("link").first.click()
        rpage.get_by_test_id("open-preview").click()
        preview = rpage.get_by_test_id("preview")
        expect(preview.locator("table.data")).to_be_visible()
        expect(preview.locator("table.data tbody tr")).to_have_count(3)
        expect(preview).to_contain_text("1:10352:T:TA")
        # the checks block the minor allele count of 3: that cell is marked, the finding beside
        flagged = preview.get_by_test_id("flagged-cell")
        expect(flagged).to_have_count(1)
        expect(flagged).to_have_text("3")
        findings = rpage.get_by_test_id("findings")
        expect(findings).to_contain_text("minor-allele-count")
        expect(findings).to_contain_text("row 2 column ALT_CT")
        rpage.screenshot(
            path=artifacts_dir / f"airlock-{n + 1}-{reviewer}-preview.png", full_page=True
        )
        rpage.goto(request_url)
        review = rpage.get_by_test_id("review")
        for box in review.locator("input[name=acknowledge]").all():
            box.check()
        review.get_by_test_id("approve").click()
        expected = "in review" if n == 1 else "released"
        expect(rpage.get_by_test_id("status")).to_have_text(expected)
        rpage.screenshot(
            path=artifacts_dir / f"airlock-{n + 1}-{reviewer}-approved.png", full_page=True
        )
        context.close()

    # the researcher downloads the released file
    page.goto(request_url)
    expect(page.get_by_test_id("status")).to_have_text("released")
    with page.expect_download() as download:
        page.get_by_test_id("download").click()
    assert Path(download.value.path()).read_text() == TABLE
    page.screenshot(path=artifacts_dir / "airlock-4-researcher-released.png", full_page=True)
    researcher.close()
