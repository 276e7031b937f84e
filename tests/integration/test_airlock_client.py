"""``tresor.airlock.submit`` against the real service process (uvicorn), no hub: tokens are
resolved by FixedIdentities (tests/hub/test_airlock_hub.py runs it in a real kernel)."""

from __future__ import annotations

import pytest

import tresor.airlock as client
from tests.airlock_support import Service, make_airlock, make_settings, write_workspace_file

CONTEXT = {"description": "allele counts per variant", "disclosure_control": "counts >= 10"}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    root = tmp_path_factory.mktemp("client") / "node"
    settings = make_settings(root)
    airlock = make_airlock(settings)
    with Service(settings) as running:
        yield running, settings, airlock
    airlock.dal.engine.dispose()


@pytest.fixture
def in_workspace(service, monkeypatch):
    _, settings, _ = service
    workspace = settings.workspaces_dir / "researcher1"
    (workspace / "results").mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("TRESOR_WORKSPACE", str(workspace))
    monkeypatch.chdir(workspace / "results")
    return workspace


def test_submit__one_call_from_a_notebook(service, in_workspace):
    running, settings, airlock = service
    write_workspace_file(settings, "researcher1", "results/freq.csv", b"variant,ALT_CT\nv1,20\n")
    write_workspace_file(settings, "researcher1", "results/ids.csv", b"sample_id\nS0001\n")
    result = client.submit(
        ["freq.csv", "ids.csv"],  # relative to the current directory inside the workspace
        context={
            "freq.csv": CONTEXT,
            "ids.csv": {**CONTEXT, "exception": "cohort labels, not people"},
        },
        url=running.url.removesuffix("api"),
        token="researcher1",
    )
    assert result.status == "submitted" and result.project == "nordic-gwas"
    # named by their path in the workspace
    assert result.verdicts == {"results/freq.csv": "pass", "results/ids.csv": "block"}
    assert result.findings["results/ids.csv"][0]["location"]["value"] is None  # not sent back
    assert result.url == f"/services/airlock/requests/{result.id}"
    stored = airlock.get_request(airlock_user("reviewer1"), result.id)
    assert {f.name: f.exception for f in stored.files} == {
        "results/freq.csv": None,
        "results/ids.csv": "cohort labels, not people",
    }
    again = client.status(result.id, url=running.url.removesuffix("api"), token="researcher1")
    assert again.status == "submitted"


def airlock_user(name):
    from airlock.domain import User
    from tests.airlock_support import USERS

    return User(name, USERS[name])


def test_submit__refusals_are_readable_and_leave_no_draft(service, in_workspace):
    running, _, airlock = service
    base = running.url.removesuffix("api")
    with pytest.raises(client.AirlockRequestError, match="disclosure"):
        client.submit("freq.csv", context={"description": "x"}, url=base, token="researcher1")
    with pytest.raises(client.AirlockRequestError, match="outside your workspace"):
        client.submit("/etc/passwd", context=CONTEXT, url=base, token="researcher1")
    before = {r.id for r in airlock.list_requests(airlock_user("researcher1"))}
    with pytest.raises(client.AirlockRequestError, match="does not exist"):
        client.submit("missing.csv", context=CONTEXT, url=base, token="researcher1")
    after = airlock.list_requests(airlock_user("researcher1"))
    new = [r for r in after if r.id not in before]
    assert [r.status.value for r in new] == ["withdrawn"]
    with pytest.raises(client.AirlockRequestError, match="403"):
        client.submit(
            "freq.csv", context=CONTEXT, project="uk-study", url=base, token="researcher1"
        )
    with pytest.raises(client.AirlockRequestError, match="no airlock session"):
        client.submit("freq.csv", context=CONTEXT, url=None, token=None)
