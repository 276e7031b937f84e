"""A researcher logs in with a browser and sees JupyterLab with the tresor kernel."""

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import login

pytestmark = pytest.mark.slow


def test_researcher_login__jupyterlab_with_tresor_kernel(local_node, page, artifacts_dir):
    login(page, local_node, "researcher1")
    page.wait_for_url("**/user/researcher1/lab**", timeout=120_000)
    card = page.locator('.jp-LauncherCard[title="tresor (genomics)"]').first
    card.wait_for(state="visible", timeout=120_000)
    # open a notebook with the kernel and run a cell
    card.click()
    page.locator(".jp-Notebook").first.wait_for()
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(
        timeout=120_000
    )
    cell = page.locator(".jp-Cell .cm-content").first
    cell.click()
    page.keyboard.type('import tresor; print(sorted(tresor.datasets()["id"]))')
    # A run sent before the kernel connection settles is dropped (the prompt stays "[ ]"):
    # run the same cell again (Ctrl+Enter stays on it) until the prompt shows it ran.
    prompt = page.locator(".jp-InputPrompt").first
    for _ in range(10):
        cell.click()
        page.keyboard.press("Control+Enter")
        try:
            page.wait_for_function(
                "el => /\\[(\\*|\\d+)\\]/.test(el.innerText)",
                arg=prompt.element_handle(),
                timeout=6_000,
            )
            break
        except PlaywrightTimeout:
            continue
    try:
        page.locator(".jp-OutputArea-output", has_text="['dk', 'se', 'uk']").wait_for()
        assert re.fullmatch(r"\[\d+\]:", prompt.inner_text().strip())
        assert page.locator(".jp-NotebookPanel-toolbar", has_text="tresor (genomics)").is_visible()
        # no egress: JupyterLab must not offer to fetch news
        assert page.get_by_text("official Jupyter news").count() == 0
        # no way out but the airlock: no download or export entry, in the File menu or on a
        # file in the file browser (the notebook image's page config, on the local profile too)
        file_menu = menu_labels(
            page, lambda: page.locator(".lm-MenuBar-item", has_text="File").click()
        )
        assert any(label.startswith("Save") for label in file_menu), file_menu
        assert not [x for x in file_menu if "Download" in x or "Export" in x], file_menu
        on_file = menu_labels(
            page,
            lambda: page.locator(".jp-DirListing-item", has_text=".ipynb").first.click(
                button="right"
            ),
        )
        assert any(label.startswith("Rename") for label in on_file), on_file
        assert not [x for x in on_file if "Download" in x or "Export" in x], on_file
    finally:
        page.screenshot(path=str(artifacts_dir / "jupyterlab-researcher1.png"))


def menu_labels(page, open_menu) -> list[str]:
    """The item labels of the menu ``open_menu`` opens (then closed with Escape)."""
    open_menu()
    menu = page.locator(".lm-Menu").first
    menu.wait_for()
    labels = [x.strip() for x in menu.locator(".lm-Menu-itemLabel").all_inner_texts()]
    page.keyboard.press("Escape")
    return [x for x in labels if x]
