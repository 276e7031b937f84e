"""Whether a released bundle may be merged into a federated request: checked against the
registry and the request, never against anything the bundle says about itself alone.

In order, each refusal naming the check and why:

1. the manifest names a node of the registry (and, for an upload, the node whose agent key
   signed the call);
2. the signature verifies with one of that node's **release** keys; a signature by one of its
   agent keys is refused as such (an agent key can never sign a release);
3. the manifest's federation binding names this request and this crate's SHA-256 (a bundle
   replayed from another request is refused);
4. the key was valid at the release time the manifest states, and that time lies after the
   request was made and before now (so a retired key cannot sign anything new);
5. every file matches its SHA-256 and size, and nothing else is in the bundle;
6. two reviewers other than the requester approved the round that was released.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from tresor.core.bundles import MANIFEST, VerifiedBundle, signature_verifies, verify_bundle
from tresor.core.errors import TresorError
from tresor.federation.registry import Registry, as_utc

#: clock difference tolerated between a node and the coordinator, in seconds
CLOCK_SKEW = dt.timedelta(minutes=5)
#: the fewest distinct approvals a released round must show (the airlock's own least)
MIN_APPROVALS = 2


class BundleRefused(TresorError):
    """A bundle that cannot be merged into the request; the message says which check and why."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"bundle refused ({check}): {message}")
        self.check = check


def _manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((path / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise BundleRefused("format", f"{path.name} has no {MANIFEST}: not a bundle") from None
    except ValueError as e:
        raise BundleRefused("format", f"{MANIFEST} is not JSON: {e}") from None
    if not isinstance(manifest, dict):
        raise BundleRefused("format", f"{MANIFEST} is not a JSON object")
    return manifest


def verify_federated_bundle(
    path: Path,
    registry: Registry,
    *,
    request_id: str,
    crate_sha256: str,
    not_before: dt.datetime,
    poster: str | None = None,
    now: dt.datetime | None = None,
) -> VerifiedBundle:
    """Check bundle directory ``path`` as an answer to request ``request_id`` (made at
    ``not_before``) whose signed crate has SHA-256 ``crate_sha256``. ``poster``: the node whose
    agent uploaded it (None for a bundle imported as a file). Raises :class:`BundleRefused`."""
    path = Path(path)
    now = as_utc(now or dt.datetime.now(dt.UTC))
    manifest = _manifest(path)
    node = manifest.get("node")
    if not isinstance(node, str) or node not in registry.nodes:
        raise BundleRefused(
            "unknown node",
            f"the bundle comes from node {node!r}, which the registry of federation "
            f"{registry.federation!r} does not name (members: {', '.join(sorted(registry.nodes))})",
        )
    if poster is not None and poster != node:
        raise BundleRefused(
            "wrong node",
            f"node {poster} uploaded a bundle that node {node} released; a node sends only "
            "its own releases",
        )
    entry = registry.node(node)
    key = next((k for k in entry.release_keys if signature_verifies(path, k.public_key)), None)
    if key is None:
        if any(signature_verifies(path, k.public_key) for k in entry.agent_keys):
            raise BundleRefused(
                "agent key",
                f"the bundle is signed with node {node}'s agent key, which only authenticates "
                "the agent's calls and can never sign a release; only the node's airlock "
                "(its release key) signs bundles",
            )
        raise BundleRefused(
            "signature",
            f"the signature does not verify with any release key of node {node}: the manifest "
            "was changed after release (tampered), or someone else signed it",
        )
    binding = manifest.get("federation")
    if not isinstance(binding, dict):
        raise BundleRefused(
            "not federated",
            f"the bundle's manifest names no federated request: it was not released for "
            f"request {request_id}",
        )
    if binding.get("request_id") != request_id or binding.get("crate_sha256") != crate_sha256:
        raise BundleRefused(
            "replayed",
            f"the bundle answers request {binding.get('request_id')} (crate "
            f"{str(binding.get('crate_sha256'))[:16]}...), not request {request_id} (crate "
            f"{crate_sha256[:16]}...): a bundle released for another request is not accepted",
        )
    try:
        released_at = as_utc(dt.datetime.fromisoformat(manifest["released_at"]))
    except (KeyError, TypeError, ValueError):
        raise BundleRefused("release time", "the manifest has no valid released_at") from None
    if not key.valid_at(released_at):
        retired = key.valid_until is not None and released_at >= key.valid_until
        raise BundleRefused(
            "retired key" if retired else "key not yet valid",
            f"the bundle is signed with node {node}'s release key {key.describe()}, which was "
            f"{'retired' if retired else 'not yet valid'} at its release time "
            f"{released_at.isoformat()}",
        )
    if released_at < as_utc(not_before) - CLOCK_SKEW or released_at > now + CLOCK_SKEW:
        raise BundleRefused(
            "release time",
            f"the bundle says it was released at {released_at.isoformat()}, outside the life of "
            f"request {request_id} (made {as_utc(not_before).isoformat()}, now "
            f"{now.isoformat()}): it cannot answer this request",
        )
    report = verify_bundle(path, key.public_key)
    if not report.ok:
        raise BundleRefused("tampered", "; ".join(report.problems))
    _check_approvals(manifest)
    return VerifiedBundle(
        node=node,
        directory=path,
        manifest=manifest,
        manifest_sha256=hashlib.sha256((path / MANIFEST).read_bytes()).hexdigest(),
    )


def _check_approvals(manifest: dict[str, Any]) -> None:
    request = manifest.get("request") or {}
    round_ = request.get("round")
    approvers = {
        r.get("reviewer")
        for r in manifest.get("reviews") or []
        if r.get("round") == round_ and r.get("decision") == "approve"
    } - {request.get("requester")}
    if len(approvers) < MIN_APPROVALS:
        raise BundleRefused(
            "approvals",
            f"the released round shows {len(approvers)} approving reviewers; at least "
            f"{MIN_APPROVALS} other than the requester must approve",
        )
