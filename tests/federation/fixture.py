"""A federation on one machine: a coordinator and three nodes (dk, se, uk), all real processes.

- the coordinator: ``tresor federation serve`` (SQLite), a researcher account ``alice`` of
  project nordic-gwas;
- dk and se: each its own airlock service (``tests.airlock_server``: the real service, tokens
  resolved by tests.airlock_support.FixedIdentities, as in the airlock's own tests) and its own
  agent process (``tresor federation agent``);
- uk: a real local node (tests.hub.node.LocalNode: hub, proxy, airlock), whose hub starts the
  agent as a managed service and resolves every token;
- each node: its own state, airlock database, release key (the airlock's signing key), agent
  key, catalogue with one demo cohort (dk, se, uk, simulated once for the session), and a
  recording HTTP proxy (tests.federation.proxy) through which its agent reaches the
  coordinator;
- a registry naming the three nodes (dk also with a retired release key) and the coordinator;
- uk's store has REF and ALT exchanged (and every call's 0 and 1) at some sites that every node
  reports (:attr:`Federation.swapped`, in the other nodes' orientation), as a node whose
  pipeline chose the other allele as reference: the merge must flip uk's statistics there.
  ``Federation.cohorts`` keeps the stores as simulated, for the pooled references.

Reviewers act through each airlock's API with their own tokens (:meth:`Federation.approve_all`).
The agent and coordinator run ``tests.federation.run_tresor``: ``tresor`` with the STUB analyses
and merge of tests.federation.stubs where the real ones are not installed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psutil
import tomli_w

from airlock.bundles import load_or_create_signing_key
from airlock.config import Settings
from tests.airlock_support import AGENT_TOKEN, Service
from tests.federation.keys import EPOCH, NodeKeys, registry_document, write_registry
from tests.federation.proxy import RecordingProxy
from tests.postgres import free_port
from tresor.core.catalogue import load_catalogue
from tresor.core.paths import REPO_ROOT
from tresor.core.site import SiteConfig, load_site_config
from tresor.demo import register_cohorts
from tresor.federation.registry import Registry
from tresor.federation.signing import generate_private_key
from tresor.io import open_store

FEDERATION = "tresor-test"
PROJECT = "nordic-gwas"
ANALYSES = ["allele_counts", "hwe_counts", "linear_gwas_sufficient_statistics",
            "gwas_summary_statistics", "allele_frequency_summary"]  # fmt: skip
RUNNER = [sys.executable, "-m", "tests.federation.run_tresor"]
KEY = ["#CHROM", "POS", "REF", "ALT"]
SWAPPED_NODE = "uk"


def wait_until(check: Callable[[], Any], what: str, timeout: float = 180, every: float = 0.5):
    """``check()``'s first true value; AssertionError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@dataclasses.dataclass
class Node:
    name: str
    site: SiteConfig
    keys: NodeKeys
    proxy: RecordingProxy
    airlock_url: str = ""  # .../services/airlock/
    reviewers: dict[str, str] = dataclasses.field(default_factory=dict)  # name -> token
    airlock: Service | None = None
    agent: subprocess.Popen | None = None
    hub: Any = None  # tests.hub.node.LocalNode

    @property
    def state(self) -> Path:
        return self.site.state_path

    def airlock_api(self, method: str, path: str, token: str, **kw) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.airlock_url}api{path}",
            headers={"Authorization": f"token {token}"},
            timeout=120,
            **kw,
        )

    @property
    def agent_log(self) -> Path:
        return self.state / "agent.log"


class Federation:
    def __init__(self, root: Path, cohorts: dict) -> None:
        self.root = root
        self.cohorts = cohorts
        self.coordinator_port = free_port()
        self.coordinator_url = f"http://127.0.0.1:{self.coordinator_port}"
        self.coordinator_key_path = root / "coordinator" / "signing_key.pem"
        self.data_dir = root / "coordinator" / "data"
        self.registry_path = root / "registry.toml"
        self.nodes: dict[str, Node] = {}
        self.processes: list[subprocess.Popen] = []
        self.coordinator: subprocess.Popen | None = None
        self.researcher_token = ""
        self.registry: Registry | None = None
        self.monitor: ConnectionMonitor | None = None
        self.swapped = pd.DataFrame(columns=KEY)  # the sites swapped in uk's store

    # -- building ----------------------------------------------------------------------------
    def build(self) -> Federation:
        coordinator_key = generate_private_key(self.coordinator_key_path)
        for name in ("dk", "se", "uk"):
            self.nodes[name] = self._node(name)
        dk = self.nodes["dk"].keys
        retired = generate_private_key(self.root / "dk-retired-release.pem")
        dk.retired_release.append((retired, EPOCH, EPOCH + dt.timedelta(days=2)))
        document = registry_document(
            FEDERATION,
            self.coordinator_url,
            coordinator_key,
            [n.keys for n in self.nodes.values()],
        )
        self.registry = write_registry(self.registry_path, document)
        self._start_coordinator()
        for node in self.nodes.values():
            if node.name == "uk":
                self._start_hub_node(node)
            else:
                self._start_airlock_node(node)
        return self

    def _site_text(self, name: str, *, hub: bool) -> str:
        base = self.root / name
        document: dict[str, Any] = {
            "node_name": name,
            "state_dir": str(base / "state"),
            "catalogue_dir": str(base / "catalogue"),
            "hub": {
                "port": free_port(),
                "hub_port": free_port(),
                "proxy_api_port": free_port(),
            },
            "accounts": {
                "researchers": ["federation", *(["researcher1"] if hub else [])],
                "airlock_reviewers": ["reviewer1", "reviewer2"],
                "admins": ["admin1"],
            },
            "projects": {PROJECT: {"members": ["federation", *(["researcher1"] if hub else [])]}},
            "demo": {"enabled": False},
            "airlock": {"port": free_port()},
            "federation": {
                "enabled": True,
                "registry": str(self.registry_path),
                "poll_seconds": 1,
                "analyses": ANALYSES,
                "datasets": [name],
                "projects": {PROJECT: PROJECT},
            },
        }
        return tomli_w.dumps(document)

    def _node(self, name: str) -> Node:
        base = self.root / name
        base.mkdir(parents=True)
        (base / "site.toml").write_text(self._site_text(name, hub=name == "uk"))
        site = load_site_config(base / "site.toml")
        cohort = self.cohorts[name]
        if name == SWAPPED_NODE:
            store = base / "swapped" / cohort.store.name
            self.swapped = swap_alleles(cohort.store, store, self._sites_to_swap(site))
            cohort = dataclasses.replace(cohort, store=store)
        register_cohorts([cohort], site.catalogue_path, {name: [PROJECT]})
        agent = generate_private_key(site.federation_agent_key_path)
        release = load_or_create_signing_key(
            site.state_path / "secrets" / "airlock_signing_key.pem"
        )
        keys = NodeKeys(name, name.upper() if name != "uk" else "GB", release, agent)
        return Node(name=name, site=site, keys=keys, proxy=RecordingProxy(name))

    def _sites_to_swap(self, site: SiteConfig, count: int = 40) -> pd.DataFrame:
        """Sites every node reports with room to spare (minor allele count at least twice the
        threshold in each cohort), not strand-ambiguous (A/T, C/G: never flipped), spread
        over the genome: KEY columns in the simulated orientation."""
        from tests.federation.stubs import allele_counts

        threshold = 2 * site.airlock.checks.min_minor_allele_count
        common = None
        for cohort in self.cohorts.values():
            counts = allele_counts(open_store(cohort.store))
            minor = np.minimum(counts["ALT_CTS"], counts["OBS_CT"] - counts["ALT_CTS"])
            keys = counts.loc[minor >= threshold, KEY]
            common = keys if common is None else common.merge(keys)
        pair = common["REF"] + common["ALT"]
        plain = common[~pair.isin(["AT", "TA", "CG", "GC"])].reset_index(drop=True)
        assert len(plain) >= count, "too few common variants in the demo cohorts to swap"
        return plain.iloc[:: len(plain) // count].head(count).reset_index(drop=True)

    def _coordinator_args(self) -> list[str]:
        return [
            "--registry", str(self.registry_path),
            "--signing-key", str(self.coordinator_key_path),
            "--data-dir", str(self.data_dir),
        ]  # fmt: skip

    def tresor(self, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
        """``tresor ARGS`` (with the test stubs) on the coordinator's machine."""
        result = subprocess.run(
            [*RUNNER, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, **kw
        )
        if check and result.returncode != 0:
            raise AssertionError(f"tresor {' '.join(args)} failed:\n{result.stderr}")
        return result

    def _start_coordinator(self) -> None:
        added = self.tresor(
            "federation", "users", "add", "alice", "--project", PROJECT, *self._coordinator_args()
        )
        self.researcher_token = added.stdout.strip().splitlines()[-1]
        log = open(self.root / "coordinator.log", "wb")  # noqa: SIM115 - the process keeps it
        self.coordinator = subprocess.Popen(
            [*RUNNER, "federation", "serve", *self._coordinator_args(), "--port",
             str(self.coordinator_port)],
            cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.processes.append(self.coordinator)
        self.monitor = ConnectionMonitor(self.coordinator.pid, self.coordinator_port)

        def ready():
            if self.coordinator.poll() is not None:
                raise AssertionError(f"the coordinator exited:\n{self.log('coordinator')}")
            with contextlib.suppress(httpx.TransportError):
                return httpx.get(f"{self.coordinator_url}/api/federation", timeout=5).is_success
            return False

        wait_until(ready, "the coordinator to answer", timeout=120)

    @contextlib.contextmanager
    def another_coordinator(self, *options: str):
        """A second ``tresor federation serve`` over the same registry and data (released
        summaries included), with ``options`` (``--beacon-...``); yields its URL."""
        port = free_port()
        process = subprocess.Popen(
            [*RUNNER, "federation", "serve", *self._coordinator_args(), "--port", str(port),
             *options],
            cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"

        def ready():
            assert process.poll() is None, f"tresor federation serve {options} exited"
            with contextlib.suppress(httpx.TransportError):
                return httpx.get(f"{url}/api/federation", timeout=5).is_success
            return False

        try:
            wait_until(ready, "the second coordinator to answer", timeout=120)
            yield url
        finally:
            process.terminate()
            process.wait(30)

    def _agent_env(self, node: Node) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k.upper() not in ("NO_PROXY",)}
        env.update(
            TRESOR_SITE_CONFIG=str(node.site.source),
            JUPYTERHUB_API_TOKEN=AGENT_TOKEN,
            TRESOR_AIRLOCK_URL=node.airlock_url,
            HTTP_PROXY=node.proxy.url,
            http_proxy=node.proxy.url,
        )
        return env

    def _start_airlock_node(self, node: Node) -> None:
        settings = Settings.from_site(node.site, base_url="/services/airlock/")
        settings.store_dir.parent.mkdir(parents=True, exist_ok=True)
        node.airlock = Service(settings)
        self.processes.append(node.airlock.process)
        node.airlock_url = node.airlock.url.removesuffix("api")
        node.reviewers = {"reviewer1": "reviewer1", "reviewer2": "reviewer2"}
        self.start_agent(node)

    def start_agent(self, node: Node) -> None:
        log = open(node.agent_log, "ab")  # noqa: SIM115 - the process keeps it
        node.agent = subprocess.Popen(
            [*RUNNER, "federation", "agent"],
            cwd=REPO_ROOT,
            env=self._agent_env(node),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(node.agent)

    def stop_agent(self, node: Node) -> None:
        if node.agent is not None and node.agent.poll() is None:
            node.agent.send_signal(signal.SIGTERM)
            node.agent.wait(30)
        node.agent = None

    def _start_hub_node(self, node: Node) -> None:
        from tests.hub.node import LocalNode
        from tresor.node.start import prepare

        passwords = prepare(node.site)
        node.hub = LocalNode(site=node.site, passwords=passwords, admin_token=secrets.token_hex(32))
        node.hub.start(
            timeout=120,
            env={
                "HTTP_PROXY": node.proxy.url,
                "http_proxy": node.proxy.url,
                "TRESOR_TEST_FEDERATION_AGENT": "1",
            },
        )
        node.airlock_url = node.site.airlock_service_url
        node.reviewers = {name: node.hub.user_token(name) for name in ("reviewer1", "reviewer2")}

    # -- using ---------------------------------------------------------------------------------
    def log(self, name: str) -> str:
        path = self.root / "coordinator.log" if name == "coordinator" else None
        if path is None:
            node = self.nodes[name]
            path = node.agent_log if node.hub is None else node.hub.log_path
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""

    def client_kw(self) -> dict[str, str]:
        return {"url": self.coordinator_url, "token": self.researcher_token}

    def queue(self, node: Node, request_id: str) -> list[dict]:
        """The node's review queue entries that answer federated request ``request_id``."""
        token = next(iter(node.reviewers.values()))
        r = node.airlock_api("GET", "/queue", token)
        assert r.status_code == 200, r.text
        return [q for q in r.json()["requests"] if (q.get("federation") or {}).get("request_id")
                == request_id]  # fmt: skip

    def wait_in_review(self, request_id: str, nodes: list[str], timeout: float = 240) -> dict:
        """Each node's airlock request answering ``request_id``, once its agent submitted it."""
        found = {}
        for name in nodes:
            node = self.nodes[name]
            try:
                found[name] = wait_until(
                    lambda node=node: self.queue(node, request_id),
                    f"node {name}'s agent to submit request {request_id} to its airlock",
                    timeout=timeout,
                )[0]
            except AssertionError as e:
                raise AssertionError(f"{e}\n--- {name} log:\n{self.log(name)}") from None
        return found

    def approve_all(self, name: str, request_id: str | None = None) -> list[dict]:
        """Both reviewers of node ``name`` approve every request waiting in its queue (those
        answering ``request_id`` only, when given); returns the released requests."""
        node = self.nodes[name]
        first = next(iter(node.reviewers.values()))
        queue = node.airlock_api("GET", "/queue", first).json()["requests"]
        if request_id is not None:
            queue = [
                q for q in queue if (q.get("federation") or {}).get("request_id") == request_id
            ]
        released = []
        for entry in queue:
            detail = node.airlock_api("GET", f"/requests/{entry['id']}", first).json()
            blocked = [f["id"] for f in detail["files"] if f["verdict"] == "block"]
            for reviewer, token in node.reviewers.items():
                r = node.airlock_api(
                    "POST",
                    f"/requests/{entry['id']}/reviews",
                    token,
                    json={"decision": "approve", "acknowledge_exceptions": blocked},
                )
                assert r.status_code == 200, (name, reviewer, r.text)
            assert r.json()["status"] == "released", r.json()
            released.append(r.json())
        return released

    def node_ports(self) -> set[int]:
        """Every port a node listens on (hub, proxy, airlock): none is the coordinator's to
        connect to."""
        ports = set()
        for node in self.nodes.values():
            hub = node.site.hub
            ports |= {hub.port, hub.hub_port, hub.proxy_api_port, node.site.airlock.port}
            if node.airlock is not None:
                ports.add(node.airlock.port)
        return ports

    def catalogue_entry(self, name: str):
        return load_catalogue(self.nodes[name].site.catalogue_path)[name]

    def close(self) -> None:
        for node in self.nodes.values():
            if node.hub is not None:
                node.hub.stop()
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(30)
        for node in self.nodes.values():
            node.proxy.stop()
        if self.monitor is not None:
            self.monitor.stop()


def swap_alleles(source: Path, target: Path, sites: pd.DataFrame) -> pd.DataFrame:
    """Copy VCF Zarr store ``source`` to ``target`` with REF and ALT exchanged at ``sites``
    (KEY columns): the alleles, each call's 0 and 1, and the variant ID. Returns ``sites``."""
    import zarr

    shutil.copytree(source, target)
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    root = zarr.open_group(target, mode="r+")
    contigs = np.asarray(root["contig_id"][:]).astype(object)
    alleles = np.asarray(root["variant_allele"][:])
    index = pd.DataFrame(
        {
            "#CHROM": contigs[np.asarray(root["variant_contig"][:])],
            "POS": np.asarray(root["variant_position"][:]),
            "REF": alleles[:, 0].astype(object),
            "ALT": alleles[:, 1].astype(object),
        }
    )
    index["row"] = np.arange(len(index))
    rows = np.sort(index.merge(sites, on=KEY)["row"].to_numpy())
    assert len(rows) == len(sites), "a site to swap is not in the store"
    alleles[rows, 0], alleles[rows, 1] = alleles[rows, 1], alleles[rows, 0]
    root["variant_allele"][:] = alleles
    ids = np.asarray(root["variant_id"][:])
    ids[rows] = [f"{c}:{p}:{a[0]}:{a[1]}" for c, p, a in zip(
        index["#CHROM"].to_numpy()[rows], index["POS"].to_numpy()[rows], alleles[rows],
        strict=True)]  # fmt: skip
    root["variant_id"][:] = ids
    calls = np.asarray(root["call_genotype"][:])
    part = calls[rows]
    calls[rows] = np.where(part == 0, 1, np.where(part == 1, 0, part))
    root["call_genotype"][:] = calls
    return sites


class ConnectionMonitor:
    """Samples the coordinator process's sockets: every one must be its listening socket or a
    connection accepted on it (local port = its port); anything else is an outgoing one."""

    def __init__(self, pid: int, port: int, every: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.port = port
        self.every = every
        self.accepted = 0
        self.outgoing: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        seen: set[tuple] = set()
        while not self._stop.is_set():
            try:
                connections = self.process.net_connections(kind="inet")
            except psutil.NoSuchProcess:
                return
            for c in connections:
                if c.status == psutil.CONN_LISTEN and c.laddr.port == self.port:
                    continue
                key = (c.laddr, c.raddr)
                if c.laddr and c.laddr.port == self.port:
                    if key not in seen:
                        seen.add(key)
                        self.accepted += 1
                else:
                    self.outgoing.append(f"{c.laddr} -> {c.raddr} ({c.status})")
            time.sleep(self.every)

    def to_ports(self, ports: set[int]) -> list[str]:
        """The recorded outgoing connections whose far end is one of ``ports``."""
        return [c for c in self.outgoing if any(f"port={p})" in c for p in ports)]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
