"""Playwright driving Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import pytest

from tests.conftest import require_tool

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = require_tool("chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        context.close()


def login(page, node, user: str) -> None:
    """Log in through the hub's login form."""
    page.goto(node.url + "hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", node.passwords[user])
    page.click("#login_submit")
