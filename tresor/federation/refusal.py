"""A node's refusal of a federated request, signed with its agent key: how a node that works
offline says no (online, refusals travel in the agent's signed polls).

A refusal is a statement of the agent, not a release: it carries no data, only the federation,
the request, the SHA-256 of the crate the node saw, the node, the reason and the time, signed
with one of the node's **agent** keys (never a release key). It travels as one JSON document
(``<request>.refused.json``: the canonical statement, the signature, the key's fingerprint),
and the coordinator imports it (``tresor federation import``) only after
:func:`verify_refusal`: then the node's part of the request is ``refused``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tresor.core.errors import TresorError
from tresor.federation.registry import Registry, as_utc
from tresor.federation.signing import SignedDocument, verifies
from tresor.federation.verify import CLOCK_SKEW

FORMAT = "tresor-federation-refusal/1"
#: the longest reason kept (as for a refusal reported with a poll)
MAX_REASON = 2000


class RefusalNotAccepted(TresorError):
    """A refusal the coordinator cannot take; the message says which check and why."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"refusal not accepted ({check}): {message}")
        self.check = check


@dataclasses.dataclass(frozen=True)
class Refusal:
    """What the agent states: node ``node`` refuses request ``request_id`` (crate
    ``crate_sha256``) of ``federation`` for ``reason``."""

    federation: str
    request_id: str
    crate_sha256: str
    node: str
    reason: str
    refused_at: dt.datetime

    def canonical_bytes(self) -> bytes:
        statement = {
            "format": FORMAT,
            **dataclasses.asdict(self),
            "reason": self.reason[:MAX_REASON],
            "refused_at": as_utc(self.refused_at).isoformat(),
        }
        return json.dumps(
            statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Refusal:
        try:
            statement = json.loads(data)
            if statement.pop("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} statement")
            statement["refused_at"] = as_utc(dt.datetime.fromisoformat(statement["refused_at"]))
            return cls(**statement)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise RefusalNotAccepted(
                "format", f"the refusal statement cannot be read: {e}"
            ) from None


class SignedRefusal(SignedDocument):
    """A refusal's canonical bytes with the agent key's detached signature."""

    FORMAT = FORMAT
    FIELD = "statement"

    @classmethod
    def unreadable(cls, message: str) -> RefusalNotAccepted:
        return RefusalNotAccepted("format", message)

    @property
    def refusal(self) -> Refusal:
        return Refusal.from_bytes(self.data)


def sign_refusal(refusal: Refusal, key: Ed25519PrivateKey) -> SignedRefusal:
    """The agent signs its refusal with its agent key."""
    return SignedRefusal.signed(key, refusal.canonical_bytes())


def verify_refusal(
    signed: SignedRefusal,
    registry: Registry,
    *,
    request_id: str,
    crate_sha256: str,
    not_before: dt.datetime,
    now: dt.datetime | None = None,
) -> Refusal:
    """Check a refusal as an answer to request ``request_id`` (made at ``not_before``, crate
    ``crate_sha256``): a node of the registry, signed with one of its agent keys valid when it
    says it refused, within the request's life, about this request and its crate. Raises
    :class:`RefusalNotAccepted`."""
    now = as_utc(now or dt.datetime.now(dt.UTC))
    refusal = signed.refusal
    if refusal.federation != registry.federation:
        raise RefusalNotAccepted(
            "other federation",
            f"the refusal is for federation {refusal.federation!r}, not {registry.federation!r}",
        )
    if refusal.node not in registry.nodes:
        raise RefusalNotAccepted(
            "unknown node",
            f"the refusal comes from node {refusal.node!r}, which the registry of federation "
            f"{registry.federation!r} does not name",
        )
    entry = registry.node(refusal.node)
    key = next(
        (k for k in entry.agent_keys if verifies(k.public_key, signed.data, signed.signature)),
        None,
    )
    if key is None:
        raise RefusalNotAccepted(
            "signature",
            f"the signature does not verify with any agent key of node {refusal.node}: the "
            "refusal was changed after signing, or someone else signed it",
        )
    if refusal.request_id != request_id:
        raise RefusalNotAccepted(
            "replayed",
            f"the refusal answers request {refusal.request_id}, not request {request_id}",
        )
    if refusal.crate_sha256 != crate_sha256:
        raise RefusalNotAccepted(
            "other crate",
            f"node {refusal.node} refused a crate with SHA-256 {refusal.crate_sha256[:16]}..., "
            f"not request {request_id}'s crate ({crate_sha256[:16]}...): it never judged this "
            "request (a forged or changed crate is refused by the node, and that says nothing "
            "about the real one); send the node the request's crate again",
        )
    if not key.valid_at(refusal.refused_at):
        raise RefusalNotAccepted(
            "retired key",
            f"the refusal is signed with node {refusal.node}'s agent key {key.describe()}, which "
            f"was not valid at its time {refusal.refused_at.isoformat()}",
        )
    if not (as_utc(not_before) - CLOCK_SKEW <= refusal.refused_at <= now + CLOCK_SKEW):
        raise RefusalNotAccepted(
            "refusal time",
            f"the refusal says it was made at {refusal.refused_at.isoformat()}, outside the life "
            f"of request {request_id} (made {as_utc(not_before).isoformat()}, now "
            f"{now.isoformat()})",
        )
    return refusal
