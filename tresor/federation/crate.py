"""A federated request as a Five Safes RO-Crate, signed by the coordinator.

The crate follows the Five Safes RO-Crate profile 0.4 (https://w3id.org/5s-crate/0.4), written
with the ``rocrate`` library: the root dataset ``conformsTo`` the profile, names the request
(``identifier``), the responsible project (``sourceOrganization``, a ``Project``) and the
registered analysis (``mainEntity``); a ``CreateAction`` (``mentions``) has the researcher as
``agent``, the analysis and its version as ``instrument`` (a ``SoftwareApplication``) and as
``object`` the parameters (``PropertyValue``) and the targets: one ``Dataset`` per (node,
dataset), published by the node (an ``Organization``).

What is signed are the crate's canonical bytes (JSON with sorted keys, no spaces, UTF-8); its
SHA-256 names the crate everywhere (a node's airlock binds its release to it). A signed crate
travels as one JSON document (:class:`SignedCrate`): the canonical text, the signature and the
fingerprint of the key that made it; nodes verify it with the coordinator's keys in the registry
(:func:`verify_signed_crate`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import warnings
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tresor.core.errors import TresorError
from tresor.federation.registry import Registry, as_utc
from tresor.federation.signing import SignedDocument, verifies

PROFILE = "https://w3id.org/5s-crate/0.4"
SIGNED_FORMAT = "tresor-signed-crate/1"
POTENTIAL = "http://schema.org/PotentialActionStatus"
#: how far in the future a crate's creation time may be (clock differences), in seconds
FUTURE_SKEW = 300
#: how old a crate may be when a node first reads it: bounds what a leaked, retired
#: coordinator key could still sign with a back-dated creation time
MAX_AGE = dt.timedelta(days=30)

_ID = re.compile(r"^[0-9a-f]{32}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class CrateError(TresorError):
    """A crate is refused or cannot be read; the message says which and why."""


@dataclasses.dataclass(frozen=True, order=True)
class Target:
    """One place a request runs: a dataset of a node's catalogue."""

    node: str
    dataset: str

    def __post_init__(self) -> None:
        for what, value in (("node", self.node), ("dataset", self.dataset)):
            if not _NAME.match(value):
                raise CrateError(f"target {what} {value!r} is not a valid name")


@dataclasses.dataclass(frozen=True)
class FederatedRequest:
    """What a crate says: who asks what, where, on behalf of which project."""

    request_id: str
    federation: str
    coordinator_url: str
    created_at: dt.datetime
    requester: str
    project: str
    analysis: str
    analysis_version: str
    parameters: dict[str, Any]
    targets: tuple[Target, ...]

    def __post_init__(self) -> None:
        if not _ID.match(self.request_id):
            raise CrateError(f"request id {self.request_id!r} is not 32 hex digits")
        if not self.targets:
            raise CrateError("a request names at least one target (node and dataset)")
        if len({t.node for t in self.targets}) != len(self.targets):
            raise CrateError("a request names each node once")

    def datasets_of(self, node: str) -> list[str]:
        return [t.dataset for t in self.targets if t.node == node]


# -- writing ----------------------------------------------------------------------------------
def _parameter(name: str, value: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {"@type": "PropertyValue", "name": name}
    if isinstance(value, str | bool | int | float):
        entity["value"] = value
    else:  # lists and tables: JSON text, read back exactly
        entity["value"] = json.dumps(value, sort_keys=True, separators=(",", ":"))
        entity["encodingFormat"] = "application/json"
    return entity


def build_metadata(request: FederatedRequest) -> dict[str, Any]:
    """The crate's ``ro-crate-metadata.json`` as a dict (through the rocrate library)."""
    from rocrate.model import ContextEntity, Person
    from rocrate.rocrate import ROCrate

    crate = ROCrate(version="1.2")
    add = crate.add

    def entity(identifier: str, properties: dict[str, Any]):
        return add(ContextEntity(crate, identifier, properties=properties))

    coordinator = entity(
        request.coordinator_url,
        {"@type": "Organization", "name": f"coordinator of federation {request.federation}"},
    )
    project = entity(
        f"#project-{request.project}",
        {"@type": "Project", "name": request.project, "identifier": request.project},
    )
    researcher = add(
        Person(
            crate,
            f"#researcher-{request.requester}",
            properties={"name": request.requester, "memberOf": project},
        )
    )
    analysis = entity(
        f"#analysis-{request.analysis}-{request.analysis_version}",
        {
            "@type": "SoftwareApplication",
            "name": request.analysis,
            "identifier": request.analysis,
            "version": request.analysis_version,
            "description": "a registered analysis of tresor (tresor.federation.analyses)",
        },
    )
    inputs = [
        entity(f"#parameter-{name}", _parameter(name, value))
        for name, value in sorted(request.parameters.items())
    ]
    for target in sorted(request.targets):
        node = entity(f"#node-{target.node}", {"@type": "Organization", "name": target.node})
        inputs.append(
            entity(
                f"#target-{target.node}-{target.dataset}",
                {
                    "@type": "Dataset",
                    "name": f"dataset {target.dataset} of node {target.node}",
                    "identifier": target.dataset,
                    "publisher": node,
                },
            )
        )
    action = entity(
        f"#request-{request.request_id}",
        {
            "@type": "CreateAction",
            "name": f"run {request.analysis} {request.analysis_version} for project "
            f"{request.project}",
            "actionStatus": POTENTIAL,
            "agent": researcher,
            "instrument": analysis,
            "object": inputs,
        },
    )
    root = crate.root_dataset
    root["conformsTo"] = {"@id": PROFILE}
    entity(PROFILE, {"@type": "Profile", "name": "Five Safes RO-Crate profile"})
    root["name"] = f"Federated request {request.request_id}"
    root["identifier"] = request.request_id
    root["datePublished"] = as_utc(request.created_at).isoformat()
    root["publisher"] = coordinator
    root["isPartOf"] = {"@id": f"#federation-{request.federation}"}
    entity(
        f"#federation-{request.federation}",
        {"@type": "Organization", "name": request.federation},
    )
    root["mentions"] = action
    root["mainEntity"] = analysis
    root["sourceOrganization"] = project
    return crate.metadata.generate()


def canonical_bytes(metadata: dict[str, Any]) -> bytes:
    """The bytes that are hashed and signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# -- reading ----------------------------------------------------------------------------------
def _ref(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("@id"), str):
        return value["@id"]
    raise CrateError(f"expected a reference {{'@id': ...}}, found {value!r}")


def _refs(value: Any) -> list[str]:
    return [_ref(v) for v in (value if isinstance(value, list) else [value])]


def read_request(data: bytes) -> FederatedRequest:
    """The request a crate's bytes describe (read with the rocrate library); CrateError
    says what is missing."""
    from rocrate.rocrate import ROCrate

    try:
        metadata = json.loads(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            crate = ROCrate(source=metadata)
    except Exception as e:
        raise CrateError(f"the request crate is not RO-Crate metadata: {e}") from None
    by_id = {e.id: e.properties() for e in crate.get_entities()}
    by_id["./"] = crate.root_dataset.properties()
    root = by_id["./"]

    def get(identifier: str, kind: str) -> dict[str, Any]:
        entity = by_id.get(identifier)
        types = entity.get("@type") if entity else None
        if entity is None or kind not in (types if isinstance(types, list) else [types]):
            raise CrateError(f"the request crate has no {kind} {identifier!r}")
        return entity

    try:
        if _ref(root.get("conformsTo")) != PROFILE:
            raise CrateError(f"the request crate does not conform to {PROFILE}")
        action = get(_ref(root.get("mentions")), "CreateAction")
        analysis = get(_ref(action.get("instrument")), "SoftwareApplication")
        project = get(_ref(root.get("sourceOrganization")), "Project")
        researcher = get(_ref(action.get("agent")), "Person")
        federation = get(_ref(root.get("isPartOf")), "Organization")
        parameters: dict[str, Any] = {}
        targets = []
        for ref in _refs(action.get("object", [])):
            entity = by_id.get(ref) or {}
            if entity.get("@type") == "PropertyValue":
                value = entity.get("value")
                if entity.get("encodingFormat") == "application/json":
                    value = json.loads(value)
                parameters[entity["name"]] = value
            elif entity.get("@type") == "Dataset":
                node = get(_ref(entity.get("publisher")), "Organization")
                targets.append(Target(node=node["name"], dataset=entity["identifier"]))
            else:
                raise CrateError(f"the request's object {ref!r} is not a parameter or a target")
        return FederatedRequest(
            request_id=root["identifier"],
            federation=federation["name"],
            coordinator_url=_ref(root.get("publisher")),
            created_at=as_utc(dt.datetime.fromisoformat(root["datePublished"])),
            requester=researcher["name"],
            project=project["name"],
            analysis=analysis["name"],
            analysis_version=str(analysis["version"]),
            parameters=parameters,
            targets=tuple(sorted(targets)),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise CrateError(f"the request crate is incomplete: {e!r}") from None


# -- signing ----------------------------------------------------------------------------------
class SignedCrate(SignedDocument):
    """A crate's canonical bytes with the coordinator's detached signature."""

    FORMAT = SIGNED_FORMAT
    FIELD = "crate"

    @classmethod
    def unreadable(cls, message: str) -> CrateError:
        return CrateError(message)

    def write(self, path: Path) -> Path:
        """A ``.crate.json`` file, for nodes that receive requests as files (offline)."""
        Path(path).write_bytes(self.to_bytes())
        return Path(path)

    @classmethod
    def read(cls, path: Path) -> SignedCrate:
        try:
            return cls.from_bytes(Path(path).read_bytes())
        except CrateError as e:
            raise CrateError(f"{path}: {e}") from None


def sign_request(request: FederatedRequest, key: Ed25519PrivateKey) -> SignedCrate:
    """The coordinator writes the request as a crate and signs its canonical bytes."""
    return SignedCrate.signed(key, canonical_bytes(build_metadata(request)))


def verify_signed_crate(
    signed: SignedCrate,
    registry: Registry,
    *,
    now: dt.datetime | None = None,
    max_age: dt.timedelta | None = MAX_AGE,
) -> FederatedRequest:
    """Check the coordinator's signature with the registry's coordinator keys valid when the
    crate was made, and that it belongs to this federation; returns the request. Refusals
    (CrateError) say which and why. ``max_age=None``: any age (a node runs no crate older than
    :data:`MAX_AGE`; a merge of an old request's bundles still needs its crate)."""
    now = as_utc(now or dt.datetime.now(dt.UTC))
    keys = {k.fingerprint: k for k in registry.coordinator.keys}
    period = keys.get(signed.signed_by)
    if period is None or not verifies(period.public_key, signed.data, signed.signature):
        valid = [
            k
            for k in registry.coordinator.keys
            if verifies(k.public_key, signed.data, signed.signature)
        ]
        if not valid:
            raise CrateError(
                "the request crate's signature does not verify with any coordinator key of the "
                f"registry of federation {registry.federation}: it was changed after signing, "
                "or signed by someone else; refused"
            )
        period = valid[0]
    request = read_request(signed.data)
    if request.federation != registry.federation:
        raise CrateError(
            f"the request crate belongs to federation {request.federation!r}, this node to "
            f"{registry.federation!r}; refused"
        )
    if not period.valid_at(request.created_at):
        raise CrateError(
            f"the request crate was signed with coordinator key {period.describe()}, which was "
            f"not valid when the crate says it was made ({request.created_at.isoformat()}); "
            "refused"
        )
    if (request.created_at - now).total_seconds() > FUTURE_SKEW:
        raise CrateError(
            f"the request crate says it was made at {request.created_at.isoformat()}, in the "
            "future; check the clocks; refused"
        )
    if max_age is not None and now - request.created_at > max_age:
        raise CrateError(
            f"the request crate was made at {request.created_at.isoformat()}, more than "
            f"{max_age.days} days ago; ask the coordinator for a new request; refused"
        )
    return request
