"""The federation registry: who is in the federation, and which keys speak for each member.

One TOML file, written by the federation's admins and shipped to every node and to the
coordinator (for example with Ansible). It names the federation, the coordinator's URL and
signing keys, and per node its country, its airlock's release keys and its agent's keys, each
key with the moment it starts to count (``valid_from``) and, once retired, the moment it stops
(``valid_until``). It holds no node address: nothing ever connects to a node. Nothing the
registry does not name is trusted, and unknown keys in the file are errors::

    federation = "tresor-demo"

    [coordinator]
    url = "https://coordinator.example.org"
    [[coordinator.keys]]
    key = "ed25519:..."
    valid_from = 2026-01-01T00:00:00Z

    [nodes.dk]
    country = "DK"
    [[nodes.dk.release_keys]]
    key = "ed25519:..."
    valid_from = 2026-01-01T00:00:00Z
    valid_until = 2026-06-01T00:00:00Z   # retired: rotated to the next key
    [[nodes.dk.release_keys]]
    key = "ed25519:..."
    valid_from = 2026-05-25T00:00:00Z
    [[nodes.dk.agent_keys]]
    key = "ed25519:..."
    valid_from = 2026-01-01T00:00:00Z

Rotation: add the new key with its start, give the old one its end. A signature counts only if
its key was valid at the moment it claims (a bundle's release time, a crate's creation time,
a call's timestamp); the verifiers also bound those moments by what they know (a request's
creation, their own clock), so a retired key cannot sign anything new.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tresor.core.errors import ConfigError
from tresor.federation.signing import fingerprint, parse_public_key

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
KeyRole = Literal["release", "agent", "coordinator"]


def as_utc(value: dt.datetime | dt.date | float | int) -> dt.datetime:
    """A moment in UTC: an aware datetime, a date (its midnight UTC) or epoch seconds."""
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(), dt.UTC)
    if value.tzinfo is None:
        raise ValueError(
            f"{value.isoformat()} has no UTC offset; write one, e.g. {value.isoformat()}Z"
        )
    return value.astimezone(dt.UTC)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeyPeriod(_Strict):
    """A public key and the period in which signatures by it count."""

    key: str = Field(description="ed25519:<base64 of the 32-byte public key>")
    valid_from: dt.datetime
    valid_until: dt.datetime | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        parse_public_key(v)
        return v

    @field_validator("valid_from", "valid_until", mode="before")
    @classmethod
    def _utc(cls, v):
        return None if v is None else as_utc(v)

    @model_validator(mode="after")
    def _ordered(self) -> KeyPeriod:
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError(
                f"key {self.key[:20]}... ends ({self.valid_until}) before it starts "
                f"({self.valid_from})"
            )
        return self

    @property
    def public_key(self) -> Ed25519PublicKey:
        return parse_public_key(self.key)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def valid_at(self, when: dt.datetime) -> bool:
        return self.valid_from <= when and (self.valid_until is None or when < self.valid_until)

    def describe(self) -> str:
        end = f" until {self.valid_until.isoformat()}" if self.valid_until else ""
        return f"{self.fingerprint[:16]} (valid from {self.valid_from.isoformat()}{end})"


class NodeEntry(_Strict):
    """A member node: its country, its airlock's release keys and its agent's keys."""

    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    description: str = ""
    release_keys: list[KeyPeriod] = Field(min_length=1)
    agent_keys: list[KeyPeriod] = Field(min_length=1)


class CoordinatorEntry(_Strict):
    url: str = Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    keys: list[KeyPeriod] = Field(min_length=1)


class UnknownNode(ConfigError):
    """A node name the registry does not list."""


class Registry(_Strict):
    """The federation registry (see the module docstring for the file)."""

    federation: str = Field(min_length=1, max_length=64)
    coordinator: CoordinatorEntry
    nodes: dict[str, NodeEntry] = Field(min_length=1)

    @field_validator("nodes")
    @classmethod
    def _names(cls, nodes: dict[str, NodeEntry]) -> dict[str, NodeEntry]:
        for name in nodes:
            if not _NAME.match(name):
                raise ValueError(
                    f"node name {name!r}: use 1-32 lowercase letters, digits, '-' or '_', "
                    "starting with a letter (the node_name of its site config)"
                )
        return nodes

    @model_validator(mode="after")
    def _one_use_per_key(self) -> Registry:
        seen: dict[str, str] = {}
        for owner, role, period in self.all_keys():
            where = f"{role} key of {owner}"
            if (other := seen.get(period.key)) and other != where:
                raise ValueError(
                    f"the same key is the {other} and the {where}: each key has one owner and "
                    "one use (an agent key can never sign a release); make a new key"
                )
            seen[period.key] = where
        return self

    # -- lookups ---------------------------------------------------------------------------
    def all_keys(self) -> list[tuple[str, KeyRole, KeyPeriod]]:
        """Every key: (owner, role, period); the coordinator's owner is "coordinator"."""
        keys: list[tuple[str, KeyRole, KeyPeriod]] = [
            ("coordinator", "coordinator", k) for k in self.coordinator.keys
        ]
        for name, node in self.nodes.items():
            keys += [(name, "release", k) for k in node.release_keys]
            keys += [(name, "agent", k) for k in node.agent_keys]
        return keys

    def node(self, name: str) -> NodeEntry:
        try:
            return self.nodes[name]
        except KeyError:
            raise UnknownNode(
                f"node {name!r} is not a member of federation {self.federation!r}: the registry "
                f"names {', '.join(sorted(self.nodes))}"
            ) from None

    def release_keys_at(self, node: str, when) -> list[KeyPeriod]:
        """The node's release keys valid at ``when`` (more than one while rotating)."""
        when = as_utc(when)
        return [k for k in self.node(node).release_keys if k.valid_at(when)]

    def agent_keys_at(self, node: str, when) -> list[KeyPeriod]:
        when = as_utc(when)
        return [k for k in self.node(node).agent_keys if k.valid_at(when)]

    def coordinator_keys_at(self, when) -> list[KeyPeriod]:
        when = as_utc(when)
        return [k for k in self.coordinator.keys if k.valid_at(when)]

    def agent_public_keys(self, node: str, when) -> list[Ed25519PublicKey]:
        """For :func:`tresor.federation.signing.verify_call`: none for an unknown node."""
        if node not in self.nodes:
            return []
        return [k.public_key for k in self.agent_keys_at(node, when)]


def load_registry(path: str | os.PathLike) -> Registry:
    """Read and validate a registry file; errors name the file and the entry to fix."""
    path = Path(path).expanduser()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"federation registry {path} does not exist; the federation's admins ship it to "
            "every node and to the coordinator (docs/federation.md)"
        ) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"federation registry {path} is not valid TOML: {e}") from None
    try:
        return Registry.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in e.errors()
        )
        raise ConfigError(f"federation registry {path} is invalid: {problems}") from None


def registry_toml(registry: Registry) -> str:
    """The registry as TOML (what `tresor federation keys` prints entries for)."""
    import tomli_w

    return tomli_w.dumps(registry.model_dump(exclude_none=True))
