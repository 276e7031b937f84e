"""The researcher's and the reviewer's day in Chromium, on the real embedded node (Playwright).

One journey, in the order a newcomer meets it: researcher1 signs in, accepts the node's data use
terms, finds the example GWAS notebook in their workspace, runs it with the "tresor (genomics)"
kernel (a progress bar, a Manhattan plot), submits the summary table and the plot with the file
browser's "Submit to airlock…" after seeing the checks' findings, and follows the request in the
Airlock panel; researcher2 sees neither that request nor researcher1's workspace; reviewer1 and
reviewer2 each see the findings grouped by rule and the preview, and approve; researcher1
downloads the released files, byte for byte what was submitted.

Each step's screenshot goes to test-artifacts/tutorial/, and to docs/tutorial/ (which
docs/tutorial.md shows) when TRESOR_TUTORIAL_SCREENSHOTS=1 is set: a test run does not rewrite
the repository's files unless asked.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.conftest import REPO

pytestmark = pytest.mark.slow

TUTORIAL = REPO / "docs" / "tutorial"
RESULTS = "notebooks/results"
TABLE, PLOT = "ldl_gwas_mac10.tsv", "ldl_manhattan.png"


class Shots:
    """Numbered screenshots, written for the tutorial and kept as test artefacts."""

    def __init__(self, artifacts: Path) -> None:
        self.artifacts = artifacts / "tutorial"
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.tutorial = os.environ.get("TRESOR_TUTORIAL_SCREENSHOTS") == "1"
        self.n = 0

    def __call__(self, page: Page, name: str, **kw) -> None:
        self.n += 1
        path = self.artifacts / f"{self.n:02d}-{name}.png"
        page.screenshot(path=str(path), **kw)
        if self.tutorial:
            TUTORIAL.mkdir(exist_ok=True)
            shutil.copyfile(path, TUTORIAL / path.name)


def new_page(browser) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def sign_in(page: Page, node, user: str, next_url: str = "") -> None:
    page.goto(f"{node.url}hub/login" + (f"?next={quote(next_url)}" if next_url else ""))
    page.fill("#username_input", user)
    page.fill("#password_input", node.passwords[user])
    page.click("#login_submit")


def accept_terms_and_open_lab(page: Page, shots: Shots | None) -> None:
    """The spawn page asks for the terms once; then JupyterLab opens."""
    terms = page.get_by_test_id("terms")
    expect(terms).to_contain_text("Data use terms of node")
    if shots:
        shots(page, "terms")
    page.check("#accept-terms")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r".*/lab.*"), timeout=120_000)
    page.locator(".jp-DirListing-content").wait_for(timeout=120_000)


def show_launcher(page: Page, node, user: str) -> None:
    """JupyterLab as on a first start: an earlier test's layout (open notebooks whose kernels
    have gone, with their kernel dialogs) is reset."""
    if not page.locator(".jp-Launcher").is_visible():
        page.goto(f"{node.url}user/{user}/lab?reset")
        page.locator(".jp-Launcher").wait_for(timeout=60_000)


def open_airlock_panel(page: Page):
    panel = page.locator("#tresor-airlock")
    if not panel.is_visible():  # clicking the open panel's tab would close it
        page.locator('.lm-TabBar-tab[data-id="tresor-airlock"]').click()
    expect(panel).to_be_visible()
    return panel


def researcher_runs_the_example(page: Page, node, shots: Shots) -> None:
    from tresor.node import terms

    sign_in(page, node, "researcher1")
    accept_terms_and_open_lab(page, shots)
    accepted = terms.latest(node.site)["researcher1"]  # recorded: version, text's hash, time
    current = terms.current(node.site)
    assert (accepted.version, accepted.sha256) == (current.version, current.sha256)
    show_launcher(page, node, "researcher1")
    # one launcher card per kernel: the tresor kernel, no console twins, no plain Python
    cards = page.locator(".jp-LauncherCard[data-category='Notebook']")
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("title", "tresor (genomics)")
    expect(page.locator(".jp-LauncherCard", has_text="Python 3")).to_have_count(0)
    expect(page.locator(".jp-LauncherCard[data-category='Console']:visible")).to_have_count(0)
    listing = page.locator(".jp-DirListing-content")
    page.locator(".jp-BreadCrumbs-home").click()  # the workspace's top
    expect(listing.get_by_text("README.md")).to_be_visible()
    shots(page, "workspace")
    # no way out but the airlock: no download or export entry in the File menu
    page.locator(".lm-MenuBar-item", has_text="File").click()
    labels = page.locator(".lm-Menu").first.locator(".lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    assert any(x.startswith("Save") for x in labels), labels
    assert not [x for x in labels if "Download" in x or "Export" in x], labels

    listing.get_by_text("notebooks", exact=True).dblclick()
    expect(page.locator(".jp-BreadCrumbs")).to_contain_text("notebooks")
    listing.get_by_text("gwas.ipynb", exact=True).dblclick()
    notebook = page.locator(".jp-NotebookPanel:visible")
    expect(notebook.locator(".jp-NotebookPanel-toolbar")).to_contain_text("tresor (genomics)")
    notebook.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
        timeout=120_000
    )
    page.locator(".lm-MenuBar-item", has_text="Run").click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
    # tqdm draws a widget progress bar (ipywidgets), not "IProgress not found"
    bar = notebook.locator(".jp-OutputArea-output .widget-hprogress").first
    bar.wait_for(timeout=300_000)
    bar.scroll_into_view_if_needed()
    shots(page, "progress")
    done = notebook.locator(".jp-OutputArea-output", has_text="variants with MAC >= 10")
    # a cell's error stops Run All: fail then, with the error, rather than at the timeout
    error = notebook.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    ).filter(has_text="Error")
    done.or_(error).first.wait_for(timeout=600_000)
    assert error.count() == 0, error.first.inner_text()
    expect(notebook.locator(".jp-OutputArea-output", has_text="IProgress")).to_have_count(0)
    plot = notebook.locator(".jp-RenderedImage img").first
    plot.scroll_into_view_if_needed()
    expect(plot).to_be_visible()
    shots(page, "manhattan")


DASHBOARD_CELL = """from dask.distributed import Client, LocalCluster
client = Client(LocalCluster(n_workers=1, processes=False, dashboard_address="127.0.0.1:0"))
client.submit(sum, range(10)).result()
print("dashboard at", client.dashboard_link)"""


def researcher_opens_the_dask_dashboard(page: Page, node, shots: Shots) -> None:
    """A LocalCluster in the kernel; its dashboard in JupyterLab's Dask panel, through the
    server's narrow dashboard route (the kernel's own port only)."""
    notebook = page.locator(".jp-NotebookPanel:visible")
    # the whole notebook ran (its last cell printed), so the kernel is free
    last = notebook.locator(".jp-OutputArea-output", has_text="Firth regressions:")
    last.wait_for(timeout=600_000)
    notebook.locator(".jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # a new code cell below (command mode)
    notebook.locator(".jp-Cell").last.locator(".cm-content").click()
    page.keyboard.type(DASHBOARD_CELL)
    page.keyboard.press("Shift+Enter")
    printed = notebook.locator(".jp-OutputArea-output", has_text="dashboard at").last
    printed.wait_for(timeout=180_000)
    link = re.search(r"dashboard at (\S+)", printed.inner_text()).group(1)
    assert re.fullmatch(r"/user/researcher1/tresor/dask/\d+/status", link), link
    plots = page.request.get(
        node.url.rstrip("/") + link.replace("/status", "/individual-plots.json")
    )
    assert plots.status == 200 and "Individual Progress" in plots.json(), plots.status
    page.locator('.lm-TabBar-tab[data-id="dask-dashboard-launcher"]').click()
    url = page.locator(".dask-URLInput-wrapper input")
    url.fill(link)
    url.press("Enter")
    progress = page.locator(".dask-DashboardListing-item").get_by_role(
        "button", name="Progress", exact=True
    )
    expect(progress).to_be_enabled(timeout=30_000)
    progress.click()
    panel = page.locator(".dask-DaskDashboard-widget:visible").first
    expect(panel).to_be_visible()
    expect(panel.locator("iframe")).to_have_attribute("src", re.compile(r"/tresor/dask/\d+/"))
    shots(page, "dask-dashboard")
    page.locator('.lm-TabBar-tab[data-id="filebrowser"]').click()


def _open_folder(page: Page, name: str) -> None:
    """Double-click a folder in the file browser and wait to be in it. The notebook has only
    just written it and the listing polls for changes, so a folder not listed yet is looked
    for again after a refresh (ci36: the listing was not showing 'results' for 60 s)."""
    listing = page.locator(".jp-DirListing-content")
    crumbs = page.locator(".jp-BreadCrumbs")
    for attempt in range(3):
        try:
            listing.get_by_text(name, exact=True).dblclick(timeout=20_000)
            expect(crumbs).to_contain_text(name, timeout=10_000)
            return
        except (PlaywrightTimeoutError, AssertionError):
            if name in crumbs.inner_text() or attempt == 2:
                expect(crumbs).to_contain_text(name)
                return
            page.locator('[data-command="filebrowser:refresh"]').first.click(timeout=5_000)


def researcher_submits(page: Page, shots: Shots) -> str:
    listing = page.locator(".jp-DirListing-content")
    page.locator(".jp-BreadCrumbs-home").click()
    _open_folder(page, "notebooks")  # not the top's own "results" (other tests')
    _open_folder(page, "results")
    listing.get_by_text(TABLE, exact=True).click()
    listing.get_by_text(PLOT, exact=True).click(modifiers=["Control"])
    listing.get_by_text(PLOT, exact=True).click(button="right")
    item = page.locator(".lm-Menu-item", has_text="Submit to airlock…")
    expect(item).to_be_visible()
    shots(page, "context-menu")
    item.click()
    dialog = page.locator(".jp-Dialog")
    for path, what, how in (
        (f"{RESULTS}/{TABLE}", "LDL GWAS summary statistics, dk demo cohort",
         "variants with a minor allele count of at least 10 only; 60 people per row"),
        (f"{RESULTS}/{PLOT}", "Manhattan and QQ plots of the LDL GWAS",
         "P values only, no individual data"),
    ):  # fmt: skip
        fieldset = dialog.locator(f'fieldset[data-path="{path}"]')
        fieldset.locator("textarea[name=description]").fill(what)
        fieldset.locator("textarea[name=disclosure_control]").fill(how)
    shots(page, "submit-form")
    dialog.get_by_role("button", name="Check files").click()
    findings = page.get_by_test_id("airlock-findings")
    expect(findings).to_contain_text(TABLE)
    expect(findings).to_contain_text(PLOT)
    shots(page, "findings")
    page.locator(".jp-Dialog").get_by_role("button", name="Submit for review").click()
    submitted = page.get_by_test_id("airlock-submitted")
    expect(submitted).to_contain_text("submitted")
    request_id = re.search(r"Request ([0-9a-f]{16})", submitted.inner_text()).group(1)
    page.locator(".jp-Dialog").get_by_role("button", name="Ok").click()
    panel = open_airlock_panel(page)
    entry = panel.locator(f'[data-testid="airlock-request"][data-id="{request_id}"]')
    expect(entry).to_contain_text("submitted")
    expect(entry.get_by_role("link")).to_have_attribute(
        "href", f"/services/airlock/requests/{request_id}"
    )
    shots(page, "airlock-panel")
    return request_id


def another_researcher_sees_nothing(browser, node, request_id: str) -> None:
    page = new_page(browser)
    try:
        sign_in(page, node, "researcher2")
        accept_terms_and_open_lab(page, None)
        show_launcher(page, node, "researcher2")
        panel = open_airlock_panel(page)
        expect(panel).to_contain_text("No requests yet.")
        expect(panel.locator(f'[data-id="{request_id}"]')).to_have_count(0)
        # their own workspace only: researcher1's server refuses them
        response = page.goto(f"{node.url}user/researcher1/lab")
        assert response.status == 403, response.status
        api = page.request.get(f"{node.url}user/researcher1/api/contents/notebooks")
        assert api.status == 403, api.status
    finally:
        page.context.close()


def reviewer_approves(browser, node, request_id: str, n: int, shots: Shots) -> None:
    page = new_page(browser)
    reviewer = f"reviewer{n}"
    try:
        sign_in(page, node, reviewer, f"/services/airlock/requests/{request_id}")
        page.wait_for_url(re.compile(rf".*/services/airlock/requests/{request_id}$"))
        groups = page.get_by_test_id("finding-group")
        expect(groups.first).to_be_visible()
        counts = page.get_by_test_id("finding-count").all_inner_texts()
        assert all(re.fullmatch(r"\d[\d,]*", c) for c in counts), counts
        image = page.get_by_test_id("inline-image")
        expect(image).to_be_visible()
        if n == 1:
            shots(page, "reviewer-request", full_page=True)
        page.locator(f'[data-testid="file"][data-name="{RESULTS}/{TABLE}"]').get_by_test_id(
            "open-preview"
        ).click()
        preview = page.get_by_test_id("preview")
        expect(preview.locator("table.data")).to_be_visible()
        # sorted by P, smallest first, by a link in the header
        preview.locator("th").get_by_role("link", name="P", exact=True).click()
        expect(preview.locator("th[aria-sort='ascending']")).to_contain_text("P")
        values = preview.locator("table.data tbody td[data-column='P']").all_inner_texts()
        numbers = [float(v) for v in values[:20]]
        assert numbers == sorted(numbers), numbers
        if n == 1:
            shots(page, "reviewer-preview")
        page.goto(f"{node.url}services/airlock/requests/{request_id}")
        review = page.get_by_test_id("review")
        expect(review.get_by_test_id("approve")).to_be_enabled()
        review.get_by_test_id("approve").click()
        expect(page.get_by_test_id("status")).to_have_text("in review" if n == 1 else "released")
        if n == 2:
            shots(page, "released-reviewer", full_page=True)
    finally:
        page.context.close()


def researcher_downloads(page: Page, node, request_id: str, shots: Shots) -> None:
    page.goto(f"{node.url}services/airlock/requests/{request_id}")
    expect(page.get_by_test_id("status")).to_have_text("released")
    workspace = node.state_dir / "workspaces" / "researcher1" / RESULTS
    for name in (TABLE, PLOT):
        card = page.locator(f'[data-testid="file"][data-name="{RESULTS}/{name}"]')
        with page.expect_download() as download:
            card.get_by_test_id("download").click()
        assert Path(download.value.path()).read_bytes() == (workspace / name).read_bytes(), name
    shots(page, "released", full_page=True)
    # the airlock's record: released by two reviewers, the files' hashes those of the workspace
    token = node.user_token("researcher1")
    r = httpx.get(
        f"{node.url}services/airlock/api/requests/{request_id}",
        headers={"Authorization": f"token {token}"},
        timeout=60,
    )
    r.raise_for_status()
    record = r.json()
    assert record["status"] == "released" and record["requester"] == "researcher1"
    approvers = {v["reviewer"] for v in record["reviews"] if v["decision"] == "approve"}
    assert approvers == {"reviewer1", "reviewer2"}
    assert {f["name"]: f["sha256"] for f in record["files"]} == {
        f"{RESULTS}/{name}": hashlib.sha256((workspace / name).read_bytes()).hexdigest()
        for name in (TABLE, PLOT)
    }


def test_researcher_and_reviewer_day(browser, local_node, artifacts_dir):
    node = local_node
    node.forget_terms("researcher1", "researcher2")  # as on their first day
    shots = Shots(artifacts_dir)
    page = new_page(browser)
    page.goto(f"{node.url}hub/login")
    expect(page.get_by_test_id("node-name")).to_contain_text(node.site.node_name)
    expect(page.locator("#terms-link")).to_be_visible()
    shots(page, "login")
    try:
        researcher_runs_the_example(page, node, shots)
        researcher_opens_the_dask_dashboard(page, node, shots)
        request_id = researcher_submits(page, shots)
        another_researcher_sees_nothing(browser, node, request_id)
        for n in (1, 2):
            reviewer_approves(browser, node, request_id, n, shots)
        researcher_downloads(page, node, request_id, shots)
    except Exception:
        page.screenshot(path=str(shots.artifacts / "failed.png"), full_page=True)
        (shots.artifacts / "failed-node.log").write_text(node.log_tail(400))
        raise
    finally:
        page.context.close()
