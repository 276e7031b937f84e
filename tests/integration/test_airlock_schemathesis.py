"""schemathesis against the airlock's OpenAPI document: no input gives a server error (5xx).

Requests are generated from the document for every operation, sent by a researcher, a reviewer
and an admin, half of them aimed at requests and files that exist (a draft, a submitted, a
reviewed and a released request). Identity: no hub runs here (FixedIdentities).
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from airlock.domain import User
from airlock.enums import Decision
from tests.airlock_support import (
    USERS,
    make_airlock,
    make_app,
    make_settings,
    write_workspace_file,
)

SEEDED: dict[str, list[int]] = {}
ROOT = Path(tempfile.mkdtemp(prefix="airlock-schemathesis-"))


def seeded_app():
    """The app over a node with a draft, a submitted, a half-approved, a released request and
    one whose release failed (something else lies under its bundle's name in the outbox).
    Built at import: schemathesis reads the OpenAPI document when it collects the test."""
    settings_ = make_settings(ROOT / "node")
    airlock = make_airlock(settings_)
    researcher = User("researcher1", USERS["researcher1"])
    for stage in range(5):
        request = airlock.create_request(researcher, "nordic-gwas")
        if stage == 4:
            (airlock.bundle_path(request) / "files").mkdir(parents=True)
        ids = []
        for name, data in (("t.csv", b"variant,ALT_CT\n1:1:A:G,3\n"), ("x.txt", b"notes\n")):
            write_workspace_file(settings_, "researcher1", name, data)
            f = airlock.add_file(
                researcher, request.id, path=name, description="d", disclosure_control="c",
                exception="accepted by the data owner",
            )  # fmt: skip
            ids.append(f.id)
        if stage >= 1:
            airlock.submit(researcher, request.id)
        for reviewer in ("reviewer1", "reviewer2")[: max(0, stage - 1)]:
            airlock.decide(
                User(reviewer, USERS[reviewer]), request.id, Decision.APPROVE, acknowledge=ids
            )
        SEEDED[request.id] = ids
    return make_app(airlock), airlock


APP, AIRLOCK = seeded_app()
schema = schemathesis.openapi.from_asgi("/services/airlock/api/openapi.json", APP)
atexit.register(shutil.rmtree, ROOT, ignore_errors=True)
atexit.register(AIRLOCK.dal.engine.dispose)


SENDERS = ["researcher1", "reviewer2", "admin1", "both1"]


def _aim(case) -> str:
    """Choose who sends the case, and point half of the cases at a request and file that
    exist; deterministic in the case's contents, so hypothesis can shrink failures."""
    params = case.path_parameters or {}
    digest = hashlib.sha256(repr((case.body, sorted(params.items()))).encode()).digest()
    if "request_id" in params and digest[0] % 2:
        request_id = sorted(SEEDED)[digest[1] % len(SEEDED)]
        params["request_id"] = request_id
        if "file_id" in params:
            params["file_id"] = SEEDED[request_id][digest[2] % 2]
    return SENDERS[digest[3] % len(SENDERS)]


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_airlock_openapi__no_server_errors(case):
    user = _aim(case)
    case.call_and_validate(headers={"Authorization": f"token {user}"}, checks=[not_a_server_error])
