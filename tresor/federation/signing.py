"""Ed25519 keys and signatures of the federation, and the signed calls of node agents.

Three kinds of key, each with one use (the registry, :mod:`tresor.federation.registry`, names
their public halves):

- a node's **release key**: the airlock's bundle-signing key (``airlock_signing_key.pem``),
  held by the airlock alone; only it signs released bundles;
- a node's **agent key**: held by the agent, used only to sign its calls to the coordinator
  (polls and bundle uploads); a bundle signed with it is refused;
- the coordinator's **signing key**: signs request crates.

Private keys are PEM (PKCS #8) files of mode 0600; public keys are written
``ed25519:<base64 of the 32 raw bytes>`` in the registry.

A signed call carries ``X-Tresor-Node``, ``X-Tresor-Timestamp`` (seconds since the epoch),
``X-Tresor-Nonce`` (random, never reused), ``X-Tresor-Content-SHA256`` (of the body) and
``X-Tresor-Signature``: the node's agent key's signature of those values with the method and
path, so a signature cannot be moved to another call, another body or another moment.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tresor.core.bundles import key_fingerprint
from tresor.core.errors import ConfigError, TresorError
from tresor.core.secrets import check_private_file, write_private_file

KEY_PREFIX = "ed25519:"
CALL_SCHEME = "tresor-federation-call/1"
#: how far a call's timestamp may be from the coordinator's clock, in seconds
DEFAULT_MAX_SKEW = 300

HEADER_NODE = "X-Tresor-Node"
HEADER_TIMESTAMP = "X-Tresor-Timestamp"
HEADER_NONCE = "X-Tresor-Nonce"
HEADER_BODY = "X-Tresor-Content-SHA256"
HEADER_SIGNATURE = "X-Tresor-Signature"

_NONCE = re.compile(r"^[0-9a-f]{32}$")


class SignatureError(TresorError):
    """A signature, key or signed call is refused; the message says which and why."""


# -- keys -------------------------------------------------------------------------------------
def generate_private_key(path: Path) -> Ed25519PrivateKey:
    """A new key written to ``path`` (PEM, mode 0600); refuses to overwrite a key."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        write_private_file(path, pem)
    except FileExistsError:
        raise ConfigError(
            f"{path} exists already; a key is never overwritten (rotate by making a new key "
            "in a new file and adding it to the registry)"
        ) from None
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key (PEM) from a file only its owner can read."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"key file {path} does not exist; make one with `tresor federation keys new {path}`"
        )
    check_private_file(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{path} is not a PEM private key: {e}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key")
    return key


def public_key_text(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """``ed25519:<base64>``, as the registry writes public keys."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + base64.b64encode(raw).decode()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """The key of ``ed25519:<base64 of 32 bytes>``; ValueError says what is wrong."""
    if not text.startswith(KEY_PREFIX):
        raise ValueError(f"a public key is written {KEY_PREFIX}<base64>, not {text[:20]!r}")
    try:
        raw = base64.b64decode(text[len(KEY_PREFIX) :], validate=True)
    except binascii.Error:
        raise ValueError(f"{text[:20]}... is not base64") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key has 32 bytes, this one {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def read_public_key_file(path: Path) -> Ed25519PublicKey:
    """The public key of a PEM file: a public key (``*.pub``) or a private key."""
    data = Path(path).read_bytes()
    if b"PRIVATE KEY" in data:
        return load_private_key(Path(path)).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{path} is not a PEM key: {e}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path} is not an Ed25519 key")
    return key


def fingerprint(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """SHA-256 of the raw public key (hex), as bundle manifests name their signing key."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key_fingerprint(key)


# -- detached signatures ----------------------------------------------------------------------
def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    """The detached signature of ``data``, base64."""
    return base64.b64encode(key.sign(data)).decode()


def verifies(key: Ed25519PublicKey, data: bytes, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


@dataclasses.dataclass(frozen=True)
class SignedDocument:
    """Canonical bytes with a detached signature and the signing key's fingerprint, travelling
    as one JSON object: ``{"format": FORMAT, FIELD: <the bytes as text>, "signature",
    "signed_by"}``. Subclasses name the format and field and the error a bad one raises."""

    FORMAT: ClassVar[str]
    FIELD: ClassVar[str]

    data: bytes
    signature: str
    signed_by: str  # the key's fingerprint

    @classmethod
    def signed(cls, key: Ed25519PrivateKey, data: bytes) -> Self:
        return cls(data=data, signature=sign(key, data), signed_by=fingerprint(key))

    @classmethod
    def unreadable(cls, message: str) -> TresorError:
        """The error for a document that is not one of these (subclasses: their own)."""
        return SignatureError(message)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def to_json(self) -> dict[str, str]:
        return {
            "format": self.FORMAT,
            self.FIELD: self.data.decode(),
            "signature": self.signature,
            "signed_by": self.signed_by,
        }

    def to_bytes(self) -> bytes:
        """The document as a file's content."""
        return (json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_json(cls, document: Any) -> Self:
        if not isinstance(document, dict) or document.get("format") != cls.FORMAT:
            raise cls.unreadable(f"not a {cls.FIELD} signed as {cls.FORMAT}")
        try:
            return cls(document[cls.FIELD].encode(), document["signature"], document["signed_by"])
        except (KeyError, AttributeError) as e:
            raise cls.unreadable(f"the signed {cls.FIELD} lacks {e}") from None

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        try:
            return cls.from_json(json.loads(data))
        except ValueError as e:
            raise cls.unreadable(f"not a signed {cls.FIELD} (JSON): {e}") from None


# -- signed calls -----------------------------------------------------------------------------
def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def call_message(
    method: str, path: str, node: str, timestamp: str, nonce: str, body_sha256: str
) -> bytes:
    """The bytes an agent signs for one call."""
    return "\n".join(
        (CALL_SCHEME, method.upper(), path, node, timestamp, nonce, body_sha256)
    ).encode()


def sign_call(
    key: Ed25519PrivateKey,
    node: str,
    method: str,
    path: str,
    body: bytes,
    *,
    now: float | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers of a signed call of ``node`` (``path`` with its query string)."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = nonce or secrets.token_hex(16)
    body_sha = sha256_hex(body)
    signature = sign(key, call_message(method, path, node, timestamp, nonce, body_sha))
    return {
        HEADER_NODE: node,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_BODY: body_sha,
        HEADER_SIGNATURE: signature,
    }


@dataclasses.dataclass(frozen=True)
class SignedCall:
    """A call whose signature verified: who made it, when, and its nonce (to record)."""

    node: str
    timestamp: int
    nonce: str
    key_fingerprint: str


def verify_call(
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    *,
    keys_for: Callable[[str, float], Iterable[Ed25519PublicKey]],
    now: float | None = None,
    max_skew: int = DEFAULT_MAX_SKEW,
) -> SignedCall:
    """Check a signed call; ``keys_for(node, when)`` gives the node's agent keys valid then
    (none for a node the registry does not name). The nonce's first use is the caller's to
    check and record. Raises :class:`SignatureError` naming what is wrong."""
    now = time.time() if now is None else now
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        node = lower[HEADER_NODE.lower()]
        timestamp = lower[HEADER_TIMESTAMP.lower()]
        nonce = lower[HEADER_NONCE.lower()]
        body_sha = lower[HEADER_BODY.lower()]
        signature = lower[HEADER_SIGNATURE.lower()]
    except KeyError as e:
        raise SignatureError(
            f"the call is not signed: header {e.args[0]} is missing (nodes sign every call "
            "with their agent key)"
        ) from None
    if not timestamp.isdigit():
        raise SignatureError(f"{HEADER_TIMESTAMP} must be seconds since the epoch")
    if abs(now - int(timestamp)) > max_skew:
        raise SignatureError(
            f"the call's timestamp is {int(now - int(timestamp))} s away from the coordinator's "
            f"clock (at most {max_skew} s): check the node's clock (NTP), then retry"
        )
    if not _NONCE.match(nonce):
        raise SignatureError(f"{HEADER_NONCE} must be 32 lowercase hex digits")
    if body_sha != sha256_hex(body):
        raise SignatureError("the body does not match the signed SHA-256: changed on the way")
    keys = list(keys_for(node, int(timestamp)))
    if not keys:
        raise SignatureError(
            f"node {node!r} has no agent key valid at the call's time in the federation "
            "registry (not a member, or its keys are retired): the call is refused"
        )
    message = call_message(method, path, node, timestamp, nonce, body_sha)
    for key in keys:
        if verifies(key, message, signature):
            return SignedCall(node, int(timestamp), nonce, fingerprint(key))
    raise SignatureError(
        f"the signature does not verify with node {node}'s agent key: the call was changed, "
        "or signed with another key"
    )


class SignedCalls(httpx.Auth):
    """httpx authentication that signs every request of an agent (method, path, body)."""

    requires_request_body = True

    def __init__(self, node: str, key: Ed25519PrivateKey) -> None:
        self.node = node
        self.key = key

    def auth_flow(self, request: httpx.Request):
        path = request.url.raw_path.decode("ascii")
        request.headers.update(
            sign_call(self.key, self.node, request.method, path, request.content)
        )
        yield request
