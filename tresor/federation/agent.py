"""The node's federation agent (``tresor federation agent``): outbound only.

Each cycle it polls the coordinator (a call signed with the node's agent key, carrying the
statuses of its requests), and for every new request:

1. verifies the crate's signature with the coordinator's keys in the registry;
2. applies the node's policy and the requesting project's grant (:mod:`.policy`);
3. runs the registered analysis over the local store (Dask, read-only) into the federation
   account's workspace;
4. submits the outputs to the node's own airlock as the federation account, bound to the
   request (its id and the crate's SHA-256), with the context taken from the crate;
5. follows the airlock request; once two reviewers have released it, downloads the signed
   bundle, checks it as the coordinator will, and uploads it (a signed call).

It reports ``running``, ``in_review`` and ``refused`` (with the reason) with its polls; a
bundle the coordinator verifies makes the node's part ``released``. Nothing connects to the
node. Offline (``--offline --inbox DIR --outbox DIR``), crates arrive as ``*.crate.json`` files
and bundles leave as ``<node>-<request>.bundle.tar`` files, refusals as
``<request>.refused.json`` signed with the agent key (:mod:`.refusal`), carried by people.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from tresor.core.bundles import pack_bundle_bytes
from tresor.core.catalogue import load_catalogue
from tresor.core.errors import ConfigError, TresorError
from tresor.core.site import SiteConfig
from tresor.federation.crate import CrateError, FederatedRequest, SignedCrate, verify_signed_crate
from tresor.federation.policy import Accepted, Refused, decide
from tresor.federation.refusal import Refusal, sign_refusal
from tresor.federation.registry import Registry, load_registry
from tresor.federation.signing import SignedCalls, fingerprint, load_private_key
from tresor.federation.verify import BundleRefused, verify_federated_bundle

log = logging.getLogger("tresor.federation.agent")

WAITING, RUNNING, IN_REVIEW, RELEASED, REFUSED = (
    "waiting",
    "running",
    "in_review",
    "released",
    "refused",
)
#: airlock request status -> what the agent reports
AIRLOCK_STATUS = {
    "draft": IN_REVIEW,
    "submitted": IN_REVIEW,
    "in_review": IN_REVIEW,
    "approved": IN_REVIEW,
    "released": RELEASED,
    "rejected": REFUSED,
    "withdrawn": REFUSED,
    "returned": REFUSED,
}


@dataclasses.dataclass
class Record:
    """What the agent knows of one request; kept in ``<state>/federation/requests.json``."""

    request_id: str
    crate_sha256: str
    created_at: str
    status: str = WAITING
    reason: str = ""
    airlock_request: str | None = None
    reported: bool = False  # the coordinator has the current status
    sent: bool = False  # the bundle (or the refusal file, offline) has left


class Records:
    """The agent's records, written atomically after every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = json.loads(path.read_text()) if path.exists() else {}
        self.items = {k: Record(**v) for k, v in data.items()}

    def save(self) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".requests.", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump({k: dataclasses.asdict(v) for k, v in self.items.items()}, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def set(self, record: Record, status: str, reason: str = "") -> None:
        if (record.status, record.reason) != (status, reason):
            record.status, record.reason, record.reported = status, reason, False
        self.save()


class Agent:
    """One node's agent. ``coordinator`` is an httpx client for online mode (None offline)."""

    def __init__(
        self,
        site: SiteConfig,
        *,
        registry: Registry,
        airlock_url: str,
        airlock_token: str,
        outbox: Path | None = None,
    ) -> None:
        if not site.federation.enabled:
            raise ConfigError(
                "this node is not in a federation: set [federation] enabled = true in the site "
                "config (docs/federation.md)"
            )
        self.site = site
        self.node = site.node_name
        self.registry = registry
        self.registry.node(self.node)  # refuses a node the registry does not name
        self.key = load_private_key(site.federation_agent_key_path)
        now = dt.datetime.now(dt.UTC)
        if fingerprint(self.key) not in {
            k.fingerprint for k in registry.agent_keys_at(self.node, now)
        }:
            raise ConfigError(
                f"the agent key {site.federation_agent_key_path} is not an agent key of node "
                f"{self.node} valid now in the registry; send its public key (tresor federation "
                "keys public) to the federation's admins"
            )
        self.airlock_url, self.airlock_token = airlock_url, airlock_token
        self.outbox = outbox
        self.records = Records(site.federation_state_path / "requests.json")
        for record in list(self.records.items.values()):  # a run a stop interrupted: again
            if record.status in (WAITING, RUNNING) and not record.airlock_request:
                del self.records.items[record.request_id]
        self.records.save()
        self.workspace = site.workspaces_path / site.federation.account
        self.coordinator = None
        if outbox is None:
            import httpx

            self.coordinator = httpx.Client(
                base_url=registry.coordinator.url.rstrip("/") + "/",
                auth=SignedCalls(self.node, self.key),
                timeout=600,
                trust_env=True,  # the node's egress proxy (HTTPS_PROXY), if it has one
            )

    # -- the loop ---------------------------------------------------------------------------
    def run(self, *, once: bool = False, inbox: Path | None = None) -> None:
        while True:
            try:
                self.cycle(inbox=inbox)
            except Exception:  # one bad cycle (network, airlock) must not stop the agent
                log.exception("federation agent cycle failed; retrying in the next cycle")
            if once:
                return
            time.sleep(self.site.federation.poll_seconds)

    def cycle(self, *, inbox: Path | None = None) -> None:
        crates = self.read_inbox(inbox) if inbox is not None else self.poll()
        for signed in crates:
            self.take(signed)
        self.follow()
        if self.coordinator is not None and any(
            not r.reported for r in self.records.items.values()
        ):
            self.poll()  # report what changed now rather than a poll interval later

    # -- talking to the coordinator -----------------------------------------------------------
    def poll(self) -> list[SignedCrate]:
        """One signed poll: statuses out, the node's unanswered signed crates in."""
        unreported = [r for r in self.records.items.values() if not r.reported]
        body = {
            "statuses": [
                {"request_id": r.request_id, "status": r.status, "reason": r.reason[:2000]}
                for r in unreported
                if r.status in (RUNNING, IN_REVIEW, REFUSED)
            ]
        }
        response = self.coordinator.post("api/node/poll", json=body)
        if response.status_code != 200:
            raise TresorError(f"the coordinator refused the poll ({response.status_code}): "
                              f"{response.text[:500]}")  # fmt: skip
        answer = response.json()
        for r in unreported:
            r.reported = True
        self.records.save()
        for line in answer.get("ignored", []):
            log.warning("the coordinator ignored a status: %s", line)
        return [SignedCrate.from_json(p["crate"]) for p in answer["requests"]]

    def read_inbox(self, inbox: Path) -> list[SignedCrate]:
        crates = []
        for path in sorted(Path(inbox).glob("*.crate.json")):
            try:
                crates.append(SignedCrate.read(path))
            except CrateError as e:
                log.error("%s: %s", path, e)
        return crates

    # -- a new request ------------------------------------------------------------------------
    def take(self, signed: SignedCrate) -> None:
        """Verify, decide, run and submit a request not seen before."""
        known = {r.crate_sha256 for r in self.records.items.values()}
        if signed.sha256 in known:
            return
        try:
            request = verify_signed_crate(signed, self.registry)
        except CrateError as e:
            log.error("refusing a request crate: %s", e)
            from tresor.federation.crate import read_request

            try:  # say so, if the crate at least names a request
                request_id = read_request(signed.data).request_id
            except CrateError:
                return
            if request_id in self.records.items:
                return
            record = Record(request_id, signed.sha256, "")
            self.records.items[request_id] = record
            self.records.set(record, REFUSED, f"node {self.node} refused the crate: {e}")
            return
        if request.request_id in self.records.items:
            return
        record = Record(request.request_id, signed.sha256, request.created_at.isoformat())
        self.records.items[request.request_id] = record
        self.records.save()
        try:
            accepted = decide(request, self.site, load_catalogue(self.site.catalogue_path))
            self.records.set(record, RUNNING)
            if self.coordinator is not None:
                self.poll_quietly()  # say it is running before the long part
            paths = self.run_analysis(request, accepted)
            record.airlock_request = self.submit(request, accepted, paths, signed.sha256)
        except Refused as e:
            log.info("request %s refused: %s", request.request_id, e)
            self.records.set(record, REFUSED, str(e))
            return
        except Exception as e:
            log.exception("request %s failed at node %s", request.request_id, self.node)
            self.records.set(record, REFUSED, f"node {self.node} could not run it: {e}"[:2000])
            return
        self.records.set(record, IN_REVIEW)

    def poll_quietly(self) -> None:
        try:
            self.poll()
        except Exception as e:
            log.warning("could not report to the coordinator now: %s", e)

    def run_analysis(self, request: FederatedRequest, accepted: Accepted) -> list[Path]:
        """Run the registered analysis over the dataset into the account's workspace."""
        from tresor.federation.runs import run_on_dataset

        entry = accepted.entry
        out_dir = self.workspace / "federation" / request.request_id
        if out_dir.exists():  # a run a crash interrupted: start again
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True, mode=0o750)  # the airlock reads it through the group
        log.info("running %s on %s for request %s", request.analysis, entry.id, request.request_id)
        files = run_on_dataset(
            accepted.analysis,
            entry,
            accepted.parameters,
            node=self.node,
            thresholds=self.site.airlock.checks,
            out_dir=out_dir,
        )
        if not files:
            raise TresorError(f"analysis {request.analysis} wrote no output")
        return files

    def submit(
        self, request: FederatedRequest, accepted: Accepted, paths: list[Path], crate_sha256: str
    ) -> str:
        """The outputs as one airlock request of the federation account, bound to the crate."""
        import tresor.airlock

        analysis = accepted.analysis
        about = (
            f"output of registered analysis {analysis.name} {analysis.version} on dataset "
            f"{accepted.entry.id}, for federated request {request.request_id} of coordinator "
            f"project {request.project} (local project {accepted.local_project}), asked by "
            f"{request.requester} through federation {request.federation}"
        )
        control = getattr(analysis, "disclosure_control", None) or (
            "a registered analysis: aggregates only; per-variant statistics only where the "
            "node's minor allele count threshold "
            f"({self.site.airlock.checks.min_minor_allele_count}) is reached"
        )
        what = getattr(analysis, "description", "") or "output"
        out_dir = self.workspace / "federation" / request.request_id
        context = {
            str(p): {
                "description": f"{p.name}: {what}; {about}",
                "disclosure_control": control,
                "name": p.relative_to(out_dir).as_posix(),  # the outputs as the analysis named them
            }
            for p in paths
        }
        submission = tresor.airlock.submit(
            [str(p) for p in paths],
            context=context,
            project=accepted.local_project,
            url=self.airlock_url,
            token=self.airlock_token,
            workspace=self.workspace,
            federation={"request_id": request.request_id, "crate_sha256": crate_sha256},
        )
        log.info("request %s is airlock request %s", request.request_id, submission.id)
        return submission.id

    # -- following the airlock ----------------------------------------------------------------
    def follow(self) -> None:
        """Move requests in review on as the airlock decides; send released bundles."""
        import tresor.airlock

        for record in list(self.records.items.values()):
            if record.status == IN_REVIEW and record.airlock_request:
                now = tresor.airlock.status(
                    record.airlock_request, url=self.airlock_url, token=self.airlock_token
                ).status
                mapped = AIRLOCK_STATUS.get(now, IN_REVIEW)
                if mapped == REFUSED:
                    self.records.set(record, REFUSED, self._why_not(record, now))
                elif mapped == RELEASED:
                    self.send(record)
            if record.status == REFUSED and self.outbox is not None and not record.sent:
                self._write(self.outbox / f"{record.request_id}.refused.json", self.refusal(record))
                record.sent = True
                self.records.save()

    def refusal(self, record: Record) -> bytes:
        """The refusal as a file the coordinator imports: a statement signed with the agent key."""
        return sign_refusal(
            Refusal(
                federation=self.registry.federation,
                request_id=record.request_id,
                crate_sha256=record.crate_sha256,
                node=self.node,
                reason=record.reason,
                refused_at=dt.datetime.now(dt.UTC),
            ),
            self.key,
        ).to_bytes()

    def _why_not(self, record: Record, status: str) -> str:
        import tresor.airlock

        if status == "returned":  # the agent cannot change its outputs: withdraw
            client = tresor.airlock.AirlockClient(self.airlock_url, self.airlock_token)
            try:
                client.call("POST", f"requests/{record.airlock_request}/withdraw")
            finally:
                client.close()
        return f"the airlock reviewers of node {self.node} did not release it ({status})"

    def send(self, record: Record) -> None:
        """Download the released bundle, check it as the coordinator will, send it."""
        import tresor.airlock

        with tempfile.TemporaryDirectory(dir=self.site.federation_state_path) as tmp:
            bundle = tresor.airlock.download_bundle(
                record.airlock_request, tmp, url=self.airlock_url, token=self.airlock_token
            )
            try:
                verify_federated_bundle(
                    bundle,
                    self.registry,
                    request_id=record.request_id,
                    crate_sha256=record.crate_sha256,
                    not_before=dt.datetime.fromisoformat(record.created_at),
                    poster=self.node,
                )
            except BundleRefused as e:
                self.records.set(record, REFUSED, f"node {self.node}'s own check: {e}")
                return
            archive = pack_bundle_bytes(bundle)
        if self.outbox is not None:
            self._write(self.outbox / f"{self.node}-{record.request_id}.bundle.tar", archive)
        else:
            response = self.coordinator.post(
                f"api/node/requests/{record.request_id}/bundle",
                content=archive,
                headers={"Content-Type": "application/x-tar"},
            )
            if response.status_code == 409 and "already answered" in response.text:
                pass  # sent before a crash; the coordinator has it
            elif response.status_code != 200:
                detail = response.json().get("detail") if response.content else ""
                self.records.set(record, REFUSED, f"the coordinator refused the bundle: {detail}")
                return
        record.sent = True
        record.status, record.reason, record.reported = RELEASED, "", True
        self.records.save()
        log.info("request %s: bundle sent", record.request_id)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)


def from_site(site: SiteConfig, *, outbox: Path | None = None) -> Agent:
    """The agent as ``tresor federation agent`` starts it: the registry and key from the site
    config, the airlock and its token from the environment the hub (or systemd) gives."""
    registry_path = site.federation_registry_path
    if registry_path is None:
        raise ConfigError("set [federation] registry in the site config")
    token = os.environ.get("JUPYTERHUB_API_TOKEN")
    if not token:
        raise ConfigError(
            "the agent needs its hub service token (JUPYTERHUB_API_TOKEN): the hub sets it for "
            "the federation-agent service; in production the systemd unit's environment file"
        )
    return Agent(
        site,
        registry=load_registry(registry_path),
        airlock_url=os.environ.get("TRESOR_AIRLOCK_URL") or site.airlock_service_url,
        airlock_token=token,
        outbox=outbox,
    )
