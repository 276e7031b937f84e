"""The federation's trust anchors: the registry, keys, signed calls and signed request crates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import stat

import pytest

from tests.federation.keys import EPOCH, NodeKeys, new_key, registry_document, write_registry
from tresor.core.errors import ConfigError
from tresor.federation import signing
from tresor.federation.crate import (
    CrateError,
    FederatedRequest,
    SignedCrate,
    Target,
    read_request,
    sign_request,
    verify_signed_crate,
)
from tresor.federation.registry import UnknownNode, load_registry

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def world(tmp_path):
    coordinator = new_key()
    dk = NodeKeys("dk", "DK", new_key(), new_key())
    old = new_key()
    dk.retired_release.append((old, EPOCH, EPOCH + dt.timedelta(days=30)))
    se = NodeKeys("se", "SE", new_key(), new_key())
    document = registry_document("demo", "https://coord.example", coordinator, [dk, se])
    registry = write_registry(tmp_path / "registry.toml", document)
    return registry, coordinator, {"dk": dk, "se": se}, document


def request(**changes) -> FederatedRequest:
    fields = dict(
        request_id="a" * 32,
        federation="demo",
        coordinator_url="https://coord.example",
        created_at=NOW,
        requester="alice",
        project="nordic-gwas",
        analysis="allele_counts",
        analysis_version="1",
        parameters={"min_af": 0.01, "strata": ["sex"], "phenotype": "ldl"},
        targets=(Target("dk", "dk"), Target("se", "se")),
    )
    return FederatedRequest(**{**fields, **changes})


# -- the registry ---------------------------------------------------------------------------
def test_registry__rotation_keys_valid_at_a_moment(world):
    registry, _, nodes, _ = world
    old_key = nodes["dk"].retired_release[0][0]
    day = dt.timedelta(days=1)
    at_start = registry.release_keys_at("dk", EPOCH + day * 0.5)
    assert [k.fingerprint for k in at_start] == [signing.fingerprint(old_key)]
    overlap = registry.release_keys_at("dk", EPOCH + day * 10)
    assert len(overlap) == 2  # both while rotating
    after = registry.release_keys_at("dk", EPOCH + day * 31)
    assert [k.fingerprint for k in after] == [signing.fingerprint(nodes["dk"].release)]
    assert registry.coordinator_keys_at(NOW) and registry.agent_keys_at("se", NOW)
    with pytest.raises(UnknownNode, match="'fi' is not a member of federation 'demo'"):
        registry.release_keys_at("fi", NOW)
    assert registry.agent_public_keys("fi", NOW) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["nodes"]["dk"].update(url="https://dk.example"), "nodes.dk.url: Extra"),
        (
            lambda d: d["nodes"]["dk"]["agent_keys"].append(d["nodes"]["dk"]["release_keys"][-1]),
            "the same key is the release key of dk and the agent key of dk",
        ),
        (
            lambda d: d["nodes"]["se"]["release_keys"][0].update(
                valid_from=dt.datetime(2026, 1, 1)
            ),
            "has no UTC offset",
        ),
        (
            lambda d: d["coordinator"]["keys"][0].update(key="ed25519:AAAA"),
            "an Ed25519 public key has 32 bytes",
        ),
        (lambda d: d["nodes"].update(DK=d["nodes"]["dk"]), "node name 'DK'"),
    ],
    ids=["node-address", "key-in-two-roles", "naive-time", "short-key", "bad-name"],
)
def test_registry__refuses_what_it_cannot_trust(tmp_path, world, change, message):
    document = world[3]
    change(document)
    with pytest.raises(ConfigError, match=message):
        write_registry(tmp_path / "bad.toml", document)


def test_registry__missing_file_says_who_ships_it(tmp_path):
    with pytest.raises(ConfigError, match="federation's admins ship it"):
        load_registry(tmp_path / "none.toml")


# -- keys -------------------------------------------------------------------------------------
def test_keys__private_0600_never_overwritten_public_text_round_trips(tmp_path):
    path = tmp_path / "keys" / "agent.pem"
    key = signing.generate_private_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ConfigError, match="never overwritten"):
        signing.generate_private_key(path)
    text = signing.public_key_text(key)
    assert signing.fingerprint(signing.parse_public_key(text)) == signing.fingerprint(key)
    assert signing.fingerprint(signing.load_private_key(path)) == signing.fingerprint(key)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        signing.load_private_key(path)


# -- signed calls -----------------------------------------------------------------------------
def test_signed_call__verifies_and_binds_method_path_body_time(world):
    registry, _, nodes, _ = world
    key = nodes["dk"].agent
    now = NOW.timestamp()
    headers = signing.sign_call(key, "dk", "POST", "/api/node/poll", b"{}", now=now)

    def check(method="POST", path="/api/node/poll", body=b"{}", at=now, h=headers):
        return signing.verify_call(
            h, method, path, body, keys_for=registry.agent_public_keys, now=at
        )

    call = check()
    assert call.node == "dk" and call.key_fingerprint == signing.fingerprint(key)
    for kwargs, message in [
        ({"method": "GET"}, "does not verify with node dk's agent key"),
        ({"path": "/api/node/requests/x/bundle"}, "does not verify"),
        ({"body": b'{"x":1}'}, "body does not match the signed SHA-256"),
        ({"at": now + 3600}, "away from the coordinator's clock"),
        ({"h": {**headers, "X-Tresor-Node": "se"}}, "does not verify with node se's agent key"),
        ({"h": {**headers, "X-Tresor-Node": "fi"}}, "'fi' has no agent key valid"),
        ({"h": {k: v for k, v in headers.items() if k != "X-Tresor-Nonce"}}, "not signed"),
    ]:
        with pytest.raises(signing.SignatureError, match=message):
            check(**kwargs)
    # the release key cannot make a call in the agent's name
    forged = signing.sign_call(nodes["dk"].release, "dk", "POST", "/api/node/poll", b"{}", now=now)
    with pytest.raises(signing.SignatureError, match="agent key"):
        check(h=forged)


# -- request crates ---------------------------------------------------------------------------
def test_crate__five_safes_round_trip_signed_and_verified(world):
    registry, coordinator, _, _ = world
    original = request()
    signed = sign_request(original, coordinator)
    received = SignedCrate.from_json(signed.to_json())
    assert received.sha256 == signed.sha256
    assert verify_signed_crate(received, registry, now=NOW) == original
    import json

    graph = {e["@id"]: e for e in json.loads(signed.data)["@graph"]}
    root = graph["./"]
    assert root["conformsTo"] == {"@id": "https://w3id.org/5s-crate/0.4"}
    action = graph[root["mentions"]["@id"]]
    assert action["@type"] == "CreateAction"
    assert graph[action["agent"]["@id"]]["name"] == "alice"
    assert graph[action["instrument"]["@id"]]["version"] == "1"
    assert graph[root["sourceOrganization"]["@id"]]["@type"] == "Project"
    assert read_request(signed.data).parameters["strata"] == ["sex"]


def test_crate__bad_signature_other_federation_retired_key_are_refused(tmp_path, world):
    registry, coordinator, _, document = world
    signed = sign_request(request(), coordinator)
    tampered = SignedCrate(
        signed.data.replace(b'"allele_counts"', b'"hwe_counts"'),
        signed.signature,
        signed.signed_by,
    )
    with pytest.raises(CrateError, match="signature does not verify with any coordinator key"):
        verify_signed_crate(tampered, registry, now=NOW)
    stranger = sign_request(request(), new_key())
    with pytest.raises(CrateError, match="signature does not verify"):
        verify_signed_crate(stranger, registry, now=NOW)
    other = sign_request(request(federation="other"), coordinator)
    with pytest.raises(CrateError, match="belongs to federation 'other'"):
        verify_signed_crate(other, registry, now=NOW)
    document["coordinator"]["keys"][0]["valid_until"] = NOW - dt.timedelta(days=1)
    retired = write_registry(tmp_path / "rotated.toml", document)
    with pytest.raises(CrateError, match="not valid when the crate says it was made"):
        verify_signed_crate(signed, retired, now=NOW)
    with pytest.raises(CrateError, match="more than 30 days ago"):
        verify_signed_crate(signed, registry, now=NOW + dt.timedelta(days=31))


# -- refusals of nodes that work offline --------------------------------------------------
def test_refusal__signed_by_the_agent_key_and_bound_to_the_request_and_crate(tmp_path, world):
    from tresor.federation.refusal import (
        Refusal,
        RefusalNotAccepted,
        SignedRefusal,
        sign_refusal,
        verify_refusal,
    )

    registry, coordinator, nodes, document = world
    crate = sign_request(request(), coordinator)
    said = Refusal("demo", "a" * 32, crate.sha256, "dk", "dk does not offer dataset se", NOW)
    signed = sign_refusal(said, nodes["dk"].agent)

    def check(refusal, reg=registry, now=NOW + dt.timedelta(hours=1)):
        received = SignedRefusal.from_bytes(refusal.to_bytes())
        return verify_refusal(received, reg, request_id="a" * 32, crate_sha256=crate.sha256,
                              not_before=NOW, now=now)  # fmt: skip

    assert check(signed) == said

    def refused(refusal, check_name, message, **kw):
        with pytest.raises(RefusalNotAccepted, match=message) as e:
            check(refusal, **kw)
        assert e.value.check == check_name and f"({check_name})" in str(e.value)

    changed = SignedRefusal(
        signed.data.replace(b"does not offer", b"offers"), signed.signature, signed.signed_by
    )
    refused(changed, "signature", "does not verify with any agent key of node dk")
    refused(sign_refusal(said, nodes["dk"].release), "signature", "any agent key of node dk")
    refused(sign_refusal(said, nodes["se"].agent), "signature", "any agent key of node dk")
    other_crate = dataclasses.replace(said, crate_sha256="0" * 64)
    refused(sign_refusal(other_crate, nodes["dk"].agent), "other crate", "never judged this")
    other_request = dataclasses.replace(said, request_id="b" * 32)
    refused(sign_refusal(other_request, nodes["dk"].agent), "replayed", "not request aaaa")
    stranger = dataclasses.replace(said, node="fi")
    refused(sign_refusal(stranger, new_key()), "unknown node", "'fi', which the registry")
    early = dataclasses.replace(said, refused_at=NOW - dt.timedelta(hours=1))
    refused(sign_refusal(early, nodes["dk"].agent), "refusal time", "outside the life")
    document["nodes"]["dk"]["agent_keys"][0]["valid_until"] = NOW - dt.timedelta(days=1)
    rotated = write_registry(tmp_path / "rotated.toml", document)
    refused(signed, "retired key", "was not valid at its time", reg=rotated)
    with pytest.raises(
        RefusalNotAccepted,
        match=r"\(format\): not a statement signed as",
    ):
        SignedRefusal.from_bytes(crate.data)


def test_tresor_federation_keys__new_and_public_print_registry_entries(tmp_path):
    from click.testing import CliRunner

    from airlock.bundles import load_or_create_signing_key
    from tresor.cli import cli

    runner = CliRunner()
    made = runner.invoke(cli, ["federation", "keys", "new", str(tmp_path / "agent.pem")])
    assert made.exit_code == 0, made.output
    text = made.output.strip()
    assert signing.parse_public_key(text)  # what the registry takes
    again = runner.invoke(cli, ["federation", "keys", "public", str(tmp_path / "agent.pem")])
    assert again.output.strip() == text
    refused = runner.invoke(cli, ["federation", "keys", "new", str(tmp_path / "agent.pem")])
    assert refused.exit_code == 1 and "never overwritten" in refused.output
    # the airlock's release key: its published .pub file
    release = load_or_create_signing_key(tmp_path / "airlock_signing_key.pem")
    shown = runner.invoke(
        cli, ["federation", "keys", "public", str(tmp_path / "airlock_signing_key.pub")]
    )
    assert shown.output.strip() == signing.public_key_text(release)


def test_docs__node_states_diagram_is_generated_from_the_table():
    from pathlib import Path

    from tresor.federation.coordinator import states

    assert set(states.VALID_TRANSITIONS) == set(states.TargetStatus)
    assert states.REPORTABLE | {states.TargetStatus.RELEASED} == (
        set(states.TargetStatus) - {states.TargetStatus.WAITING}
    )
    text = (Path(__file__).resolve().parents[2] / "docs" / "federation.md").read_text()
    assert states.block() in text, "paste tresor.federation.coordinator.states.block() there"
