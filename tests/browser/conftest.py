"""Browser helpers; the session's one Playwright and Chromium (``browser``, ``page``) are in
tests/conftest.py, because sync Playwright cannot run twice in one process."""

from __future__ import annotations


def login(page, node, user: str) -> None:
    """Log in through the hub's login form."""
    page.goto(node.url + "hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", node.passwords[user])
    page.click("#login_submit")
