"""The web UI's own guarantees, page by page: sessions, CSRF, escaping, headers, refusals.

Identity: no hub runs here; a session cookie is made for a token that FixedIdentities resolves
(the OAuth login itself runs against the real hub in tests/hub and tests/browser).
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from airlock.domain import User
from airlock.enums import Decision
from airlock.exceptions import PermissionDenied
from airlock.web.sessions import SESSION_COOKIE
from tests.airlock_support import (
    USERS,
    database_dump,
    make_airlock,
    make_app,
    make_settings,
    write_workspace_file,
)

PREFIX = "/services/airlock/"
PASSES = b"variant,ALT_CT,OBS_CT\n1:1000:A:G,40,600\n"
BLOCKED = b"variant,ALT_CT,OBS_CT\n1:1000:A:G,40,600\n1:2000:C:T,3,600\n"  # minor allele count
EVIL = b'name,count\n<script>alert(1)</script>,20\n"=HYPERLINK(""http://x"")",30\n'
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>'
    b'<rect width="9" height="9"/></svg>'
)


@pytest.fixture
def web(tmp_path):
    settings = make_settings(tmp_path / "node")
    airlock = make_airlock(settings)
    app = make_app(airlock)

    def browser(name: str) -> TestClient:
        client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
        client.cookies.set(SESSION_COOKIE, app.state.sessions.encode(name), path=PREFIX)
        return client

    yield browser, airlock, settings
    airlock.dal.engine.dispose()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def submitted(airlock, settings, files):
    researcher = User("researcher1", USERS["researcher1"])
    request = airlock.create_request(researcher, "nordic-gwas")
    ids = {}
    for name, data in files.items():
        write_workspace_file(settings, "researcher1", name, data)
        ids[name] = airlock.add_file(
            researcher, request.id, path=name, description="<b>what</b>", disclosure_control="c"
        ).id
    airlock.submit(researcher, request.id)
    return request.id, ids


def test_airlock_web__no_session_redirects_to_hub_login(web):
    browser, _, _ = web
    anonymous = TestClient(browser("x").app, follow_redirects=False)
    r = anonymous.get(PREFIX)
    assert (
        r.status_code == 302 and r.headers["location"] == f"{PREFIX}login?next=/services/airlock/"
    )
    r = anonymous.post(f"{PREFIX}requests", data={"project": "nordic-gwas"})
    assert r.status_code == 401
    forged = TestClient(browser("x").app, follow_redirects=False)
    forged.cookies.set(SESSION_COOKIE, "not-a-session", path=PREFIX)
    assert forged.get(PREFIX).status_code == 302


def test_airlock_web__forms_need_the_csrf_token(web):
    browser, airlock, _ = web
    researcher = browser("researcher1")
    before = database_dump(airlock)
    r = researcher.post(f"{PREFIX}requests", data={"project": "nordic-gwas", "csrf": "guess"})
    assert r.status_code == 403 and "expired" in r.text
    assert database_dump(airlock) == before
    home = researcher.get(PREFIX)
    assert home.status_code == 200
    r = researcher.post(
        f"{PREFIX}requests", data={"project": "nordic-gwas", "csrf": csrf_of(home.text)}
    )
    assert r.status_code == 303 and re.search(r"/requests/[0-9a-f]{16}$", r.headers["location"])
    # another session's token does not work either
    other = browser("researcher1")
    r = other.post(f"{PREFIX}requests", data={"project": "nordic-gwas", "csrf": csrf_of(home.text)})
    assert r.status_code == 403


def test_airlock_web__preview_shows_content_as_text_never_markup(web):
    browser, airlock, settings = web
    rid, ids = submitted(airlock, settings, {"evil.csv": EVIL, "plot.svg": SVG})
    reviewer = browser("reviewer1")
    page = reviewer.get(f"{PREFIX}requests/{rid}/files/{ids['evil.csv']}")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>" not in page.text
    assert "&lt;b&gt;what&lt;/b&gt;" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    # an SVG is shown through <img> from a sandboxed, non-sniffable response
    svg_page = reviewer.get(f"{PREFIX}requests/{rid}/files/{ids['plot.svg']}")
    assert f"files/{ids['plot.svg']}/raw?inline=true" in svg_page.text
    raw = reviewer.get(f"{PREFIX}requests/{rid}/files/{ids['plot.svg']}/raw?inline=true")
    assert raw.content == SVG and raw.headers["content-type"] == "image/svg+xml"
    assert "sandbox" in raw.headers["content-security-policy"]
    # other files are always attachments
    raw = reviewer.get(f"{PREFIX}requests/{rid}/files/{ids['evil.csv']}/raw?inline=true")
    assert raw.headers["content-disposition"].startswith("attachment")
    # every view is in the audit log
    views = [
        e for e in airlock.audit_entries(User("admin1", USERS["admin1"]), request_id=rid)
        if e.type == "file_viewed"
    ]  # fmt: skip
    assert [(v.actor, v.details["how"]) for v in views] == [
        ("reviewer1", "preview"),
        ("reviewer1", "preview"),
        ("reviewer1", "raw"),
        ("reviewer1", "raw"),
    ]


def test_airlock_web__a_preview_that_fails_is_a_page_with_a_note(web):
    """A deeply nested .json or .ipynb used to give a 500 (RecursionError): the reviewer gets
    the file's page with its raw size and a note (issue 12, defect 4)."""
    browser, airlock, settings = web
    nested = b"[" * 50_000 + b"]" * 50_000
    files = {"deep.json": nested, "deep.ipynb": b'{"cells": ' + nested + b"}"}
    rid, ids = submitted(airlock, settings, files)
    reviewer = browser("reviewer1")
    for name, fid in ids.items():
        page = reviewer.get(f"{PREFIX}requests/{rid}/files/{fid}")
        assert page.status_code == 200, name
        assert f"{len(files[name])} bytes" in page.text and "No preview" in page.text
        assert f"files/{fid}/raw" in page.text  # the way to inspect it


def test_airlock_web__a_failed_release_is_shown_retried_and_returned(web):
    browser, airlock, settings = web
    rid, _ = submitted(airlock, settings, {"t.csv": PASSES})
    stray = settings.outbox_dir / f"testnode-{rid}"
    stray.mkdir()
    for name in ("reviewer1", "reviewer2"):
        airlock.decide(User(name, USERS[name]), rid, Decision.APPROVE)
    reviewer = browser("reviewer3")
    page = reviewer.get(f"{PREFIX}requests/{rid}")
    assert "release failed" in page.text and "does not verify" in page.text
    assert 'data-testid="release-error"' in page.text
    assert "Finish release" in page.text and 'data-testid="return-release"' in page.text
    for viewer in (reviewer, browser("admin1")):
        home = viewer.get(PREFIX).text
        assert 'data-testid="failed-releases"' in home and rid in home and "does not verify" in home
    assert 'data-testid="failed-releases"' not in browser("researcher1").get(PREFIX).text
    csrf = csrf_of(page.text)
    r = reviewer.post(f"{PREFIX}requests/{rid}/release", data={"csrf": csrf})
    assert r.status_code == 303  # tried again; the page shows that it failed again
    r = reviewer.post(f"{PREFIX}requests/{rid}/return", data={"reason": "", "csrf": csrf})
    assert r.status_code == 422
    r = reviewer.post(
        f"{PREFIX}requests/{rid}/return", data={"reason": "resubmit, please", "csrf": csrf}
    )
    assert r.status_code == 303
    assert airlock.get_request(User("reviewer3", USERS["reviewer3"]), rid).status == "returned"


def test_airlock_web__refusals_are_pages_with_the_api_status(web):
    browser, airlock, settings = web
    rid, ids = submitted(airlock, settings, {"t.csv": PASSES})
    r = browser("researcher1").get(f"{PREFIX}requests/{rid}/files/{ids['t.csv']}")
    assert r.status_code == 403 and "leave the node only after release" in r.text
    r = browser("researcher2").get(f"{PREFIX}requests/{rid}")
    assert r.status_code == 403 and "may not see it" in r.text
    assert browser("reviewer1").get(f"{PREFIX}audit").status_code == 403
    assert browser("reviewer1").get(f"{PREFIX}requests/zz").status_code == 422


def test_airlock_web__review_flow_and_admin_pages(web):
    browser, airlock, settings = web
    rid, ids = submitted(airlock, settings, {"t.csv": BLOCKED})
    for name in ("reviewer1", "reviewer2"):
        reviewer = browser(name)
        page = reviewer.get(f"{PREFIX}requests/{rid}")
        assert 'name="acknowledge"' in page.text and "disabled" in page.text  # no exception yet
        r = reviewer.post(
            f"{PREFIX}requests/{rid}/review",
            data={"decision": "approve", "acknowledge": [ids["t.csv"]], "csrf": csrf_of(page.text)},
        )
        assert r.status_code == 409  # blocked, no exception written
    page = browser("reviewer1").get(f"{PREFIX}requests/{rid}")
    r = browser("reviewer1").post(
        f"{PREFIX}requests/{rid}/review",
        data={"decision": "return", "reason": "", "csrf": csrf_of(page.text)},
    )
    assert r.status_code == 403  # that session's csrf token belongs to another cookie
    reviewer = browser("reviewer1")
    page = reviewer.get(f"{PREFIX}requests/{rid}")
    r = reviewer.post(
        f"{PREFIX}requests/{rid}/review",
        data={"decision": "return", "reason": "", "csrf": csrf_of(page.text)},
    )
    assert r.status_code == 422 and "reason" in r.text
    r = reviewer.post(
        f"{PREFIX}requests/{rid}/review",
        data={
            "decision": "return",
            "reason": "explain the flagged cell",
            "csrf": csrf_of(page.text),
        },
    )
    assert r.status_code == 303
    assert airlock.get_request(User("reviewer1", USERS["reviewer1"]), rid).status == "returned"

    admin = browser("admin1")
    audit = admin.get(f"{PREFIX}audit")
    assert audit.status_code == 200 and 'data-testid="audit-ok"' in audit.text
    config = admin.get(f"{PREFIX}config")
    assert "<title>Configuration · tresor" in config.text  # the page's title is only its name
    assert config.text.count('value="add">Add reviewer') == 1
    r = admin.post(
        f"{PREFIX}config",
        data={"approvals_required": 3, "max_file_mb": 8, "max_files_per_request": 20,
              "csrf": csrf_of(config.text)},
    )  # fmt: skip
    assert r.status_code == 303
    assert airlock.config().approvals_required == 3 and airlock.config().max_file_bytes == 8 << 20
    r = admin.post(
        f"{PREFIX}config",
        data={"approvals_required": 1, "max_file_mb": 8, "max_files_per_request": 20,
              "csrf": csrf_of(config.text)},
    )  # fmt: skip
    assert r.status_code == 422 and airlock.config().approvals_required == 3


def test_airlock_web__queue_and_status_pages(web):
    browser, airlock, settings = web
    rid, _ = submitted(airlock, settings, {"t.csv": PASSES})
    home = browser("reviewer1").get(PREFIX).text
    assert 'data-testid="queue-count">1<' in home and rid in home
    assert 'data-testid="queue-count">1<' in browser("both1").get(PREFIX).text
    mine = browser("researcher1").get(PREFIX).text
    assert rid in mine and "submitted" in mine and "queue-count" not in mine
    airlock.decide(User("reviewer1", USERS["reviewer1"]), rid, Decision.APPROVE)
    airlock.decide(User("reviewer2", USERS["reviewer2"]), rid, Decision.APPROVE)
    assert 'data-testid="queue-count">0<' in browser("reviewer1").get(PREFIX).text
    page = browser("researcher1").get(f"{PREFIX}requests/{rid}").text
    assert 'data-testid="download"' in page and "released" in page


def test_airlock_web__reviewer_page_groups_findings_sorts_and_says_why_approve_cannot(web):
    """A genome-wide table's findings come as one group per rule with its count and first
    rows; the table preview sorts by a column; images are inline; Approve is disabled with the
    reason while no approval can succeed (issue 19)."""
    browser, airlock, settings = web
    rows = "".join(f"1:{1000 + i}:A:G,{3 + i % 4},{600 - i}\n" for i in range(30))
    table = ("variant,ALT_CT,OBS_CT\n" + rows).encode()
    rid, ids = submitted(airlock, settings, {"t.csv": table, "plot.svg": SVG})
    reviewer = browser("reviewer1")
    page = reviewer.get(f"{PREFIX}requests/{rid}").text
    article = page[page.index('data-name="t.csv"') : page.index('data-name="plot.svg"')]
    groups = re.findall(r'data-testid="finding-group" data-rule="([^"]+)"', article)
    counts = re.findall(r'data-testid="finding-count">([\d,]+)<', article)
    report = airlock.get_request(User("reviewer1", USERS["reviewer1"]), rid).files[0].report
    expected = {}
    for f in report["findings"]:
        expected[f["rule"]] = expected.get(f["rule"], 0) + 1
    assert dict(zip(groups, map(int, counts), strict=True)) == expected
    assert max(expected.values()) >= 20  # one group stands for many findings
    assert article.count('class="finding finding-') == 3 * len(groups)  # the first rows only
    assert f"and {max(expected.values()) - 3} more of this rule" in article
    assert f'src="{PREFIX}requests/{rid}/files/{ids["plot.svg"]}/raw?inline=true"' in page
    assert 'data-testid="inline-image"' in page
    refusal = re.search(r'data-testid="approval-refusal">([^<]+)<', page).group(1)
    assert "t.csv" in refusal and "no exception" in refusal
    approve = re.search(r'<button[^>]*data-testid="approve"[^>]*>', page).group(0)
    assert " disabled" in approve and 'accesskey="a"' in approve

    # sorted by OBS_CT (column 3), smallest first, then largest first; flagged cells stay marked
    base = f"{PREFIX}requests/{rid}/files/{ids['t.csv']}"
    for query, descending in (("?sort=3", False), ("?sort=3&desc=true", True)):
        sorted_page = reviewer.get(base + query).text
        values = [int(v) for v in re.findall(r'<td data-column="OBS_CT"[^>]*>(\d+)<', sorted_page)]
        assert values == sorted((600 - i for i in range(30)), reverse=descending)
        assert 'data-testid="flagged-cell"' in sorted_page
    assert 'href="?sort=3&amp;desc=true"' in reviewer.get(base + "?sort=3").text

    # an exception written: approval can succeed, the button is enabled
    researcher = User("researcher1", USERS["researcher1"])
    reviewer1 = User("reviewer1", USERS["reviewer1"])
    airlock.decide(reviewer1, rid, Decision.RETURN, reason="explain the counts")
    for name in ids:  # the SVG's script blocks it too
        airlock.update_file(researcher, rid, ids[name], exception="aggregated over 600 people")
    airlock.submit(researcher, rid)
    page = browser("reviewer2").get(f"{PREFIX}requests/{rid}").text
    approve = re.search(r'<button[^>]*data-testid="approve"[^>]*>', page).group(0)
    assert " disabled" not in approve and 'data-testid="approval-refusal"' not in page


def test_airlock_web__a_request_that_comes_back_shows_what_changed(web):
    """Round 2 against round 1: which files changed, were added or removed, and a changed
    file's difference line by line (read from round 1's snapshot, audited)."""
    browser, airlock, settings = web
    rid, ids = submitted(airlock, settings, {"a.csv": PASSES, "b.csv": PASSES, "c.csv": PASSES})
    researcher = User("researcher1", USERS["researcher1"])
    reviewer1 = User("reviewer1", USERS["reviewer1"])
    page = browser("reviewer1").get(f"{PREFIX}requests/{rid}").text
    assert 'data-testid="round-changes"' not in page  # the first round: nothing to compare
    airlock.decide(reviewer1, rid, Decision.RETURN, reason="add the second variant")
    changed = PASSES + b"1:3000:G:A,55,600\n"
    write_workspace_file(settings, "researcher1", "a.csv", changed)
    airlock.update_file(researcher, rid, ids["a.csv"], refresh=True)
    airlock.remove_file(researcher, rid, ids["c.csv"])
    write_workspace_file(settings, "researcher1", "d.csv", PASSES)
    d = airlock.add_file(researcher, rid, path="d.csv", description="d", disclosure_control="c")
    airlock.submit(researcher, rid)

    reviewer = browser("reviewer2")
    page = reviewer.get(f"{PREFIX}requests/{rid}").text
    summary = re.search(r'data-testid="round-changes">(.*?)</p>', page, re.S).group(1)
    assert "Since round 1: 1 changed, 1 new, 1 unchanged; removed: <code>c.csv</code>" in summary
    badges = re.findall(r'data-name="([^"]+)".*?data-testid="round-change">([^<]+)<', page, re.S)
    assert badges == [
        ("a.csv", "changed since round 1"),
        ("b.csv", "unchanged since round 1"),
        ("d.csv", "added since round 1"),
    ]
    diff = reviewer.get(f"{PREFIX}requests/{rid}/files/{ids['a.csv']}").text
    lines = re.findall(r'<span class="diff-(add|remove)">([^<]*)</span>', diff)
    assert lines == [("add", "+1:3000:G:A,55,600")]
    for fid in (ids["b.csv"], d.id):  # unchanged and new: no difference, no old bytes read
        assert 'data-testid="diff"' not in reviewer.get(f"{PREFIX}requests/{rid}/files/{fid}").text
    views = [
        (e.actor, e.details["how"])
        for e in airlock.audit_entries(User("admin1", USERS["admin1"]), request_id=rid)
        if e.type == "file_viewed"
    ]
    assert ("reviewer2", "round 1") in views and views.count(("reviewer2", "round 1")) == 1
    # the requester does not reach the old bytes
    with pytest.raises(PermissionDenied):
        airlock.previous_version(researcher, rid, ids["a.csv"])
