"""Browser helpers; the session's one Playwright and Chromium (``browser``, ``page``) are in
tests/conftest.py, because sync Playwright cannot run twice in one process."""

from __future__ import annotations


def login(page, node, user: str) -> None:
    """Log in through the hub's login form; accept the node's data use terms if the start
    page asks for them (until the user has accepted the current version)."""
    page.goto(node.url + "hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", node.passwords[user])
    page.click("#login_submit")
    page.wait_for_function(
        "() => document.querySelector('#accept-terms') || location.pathname.includes('/lab')",
        timeout=120_000,
    )
    if "/lab" not in page.url and page.locator("#accept-terms").is_visible():
        page.check("#accept-terms")
        page.get_by_role("button", name="Start").click()
