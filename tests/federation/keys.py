"""Keys and registries for the federation tests: every key real (Ed25519), every file real."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import tomli_w
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tresor.federation.registry import Registry, load_registry
from tresor.federation.signing import generate_private_key, public_key_text

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@dataclasses.dataclass
class NodeKeys:
    name: str
    country: str
    release: Ed25519PrivateKey
    agent: Ed25519PrivateKey
    #: keys retired before the current one: (key, valid_from, valid_until)
    retired_release: list[tuple[Ed25519PrivateKey, dt.datetime, dt.datetime]] = dataclasses.field(
        default_factory=list
    )


def key_entry(key: Ed25519PrivateKey, start: dt.datetime, end: dt.datetime | None = None) -> dict:
    entry = {"key": public_key_text(key), "valid_from": start}
    if end is not None:
        entry["valid_until"] = end
    return entry


def registry_document(
    federation: str, coordinator_url: str, coordinator: Ed25519PrivateKey, nodes: list[NodeKeys]
) -> dict:
    document = {
        "federation": federation,
        "coordinator": {"url": coordinator_url, "keys": [key_entry(coordinator, EPOCH)]},
        "nodes": {},
    }
    for node in nodes:
        retired = [key_entry(k, start, end) for k, start, end in node.retired_release]
        document["nodes"][node.name] = {
            "country": node.country,
            "release_keys": [*retired, key_entry(node.release, EPOCH + dt.timedelta(days=1))],
            "agent_keys": [key_entry(node.agent, EPOCH)],
        }
    return document


def write_registry(path: Path, document: dict) -> Registry:
    path.write_text(tomli_w.dumps(document))
    return load_registry(path)


def new_key(path: Path | None = None) -> Ed25519PrivateKey:
    return generate_private_key(path) if path else Ed25519PrivateKey.generate()
