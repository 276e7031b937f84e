"""The node's site configuration: one TOML file that says how this node runs.

``jupyterhub_config.py``, ``tresor node start`` and the airlock all read it. The path comes from
``TRESOR_SITE_CONFIG``; without it, the embedded local default in ``config/site.local.toml``.
Unknown keys are errors, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ByteSize,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tresor.core.airlock_config import AirlockConfig, CheckThresholds, MiB, ReviewLimits
from tresor.core.errors import ConfigError
from tresor.core.paths import DEFAULT_SITE_CONFIG, default_state_dir

#: Hub groups with a fixed meaning; each has a least-privilege role (tresor.node.roles).
ROLE_GROUPS = ("researchers", "airlock-reviewers", "admins")
#: the airlock's path, on the hub's public URL and on the service itself
AIRLOCK_PREFIX = "/services/airlock/"
#: the hub service of the node's federation agent; the airlock lets its token act as the
#: federation account (airlock.api.deps)
FEDERATION_SERVICE = "federation-agent"
#: the hub service of the node's own Beacon ([discovery] enabled), at /services/beacon/
BEACON_SERVICE = "beacon"

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _check_name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"{what} {value!r} is not allowed: use 1-32 lowercase letters, digits, '-' or '_', "
            "starting with a letter"
        )
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSettings(_Section):
    """Where the hub and its proxy listen. The local profile only ever binds loopback."""

    ip: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535, description="public proxy port (the URL users open)")
    hub_port: int = Field(8081, ge=1, le=65535, description="hub's internal API port")
    proxy_api_port: int = Field(8001, ge=1, le=65535, description="proxy's REST API port")
    idle_timeout_seconds: int = Field(3600, ge=60, description="idle single-user servers stop")


class AccountsSettings(_Section):
    """Local accounts (local profile) and who holds which role."""

    researchers: list[str] = []
    airlock_reviewers: list[str] = []
    admins: list[str] = []

    @field_validator("researchers", "airlock_reviewers", "admins")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        return [_check_name(n, "user name") for n in names]

    @property
    def role_groups(self) -> dict[str, list[str]]:
        return {
            "researchers": list(self.researchers),
            "airlock-reviewers": list(self.airlock_reviewers),
            "admins": list(self.admins),
        }

    @property
    def all_users(self) -> list[str]:
        return sorted({*self.researchers, *self.airlock_reviewers, *self.admins})


class ProjectSettings(_Section):
    """A project: a hub group of researchers; dataset grants name projects."""

    description: str = ""
    members: list[str] = []


class DemoSettings(_Section):
    """Simulated demo cohorts created at first start of a local node."""

    enabled: bool = True
    samples_per_cohort: int = Field(300, ge=20)
    contigs: int = Field(2, ge=1, le=22)
    contig_length: int = Field(2_000_000, ge=10_000)
    seed: int = 42
    #: dataset id -> groups (projects) granted access
    grants: dict[str, list[str]] = {}


class AirlockSettings(ReviewLimits):
    """The airlock service, registered with the hub as a managed service (``airlock/``).

    Paths left empty live under ``<state_dir>/airlock``; relative paths are relative to the site
    config file. A database password never goes here: set ``TRESOR_AIRLOCK_DATABASE_URL`` in the
    service's environment instead. The limits (``approvals_required``, ``max_file_mb``,
    ``max_summary_statistics_mb``, ``max_files_per_request``, and ``[airlock.checks]``) are
    declared, with their bounds, in
    :mod:`tresor.core.airlock_config`; ``config`` is them as the airlock reads them.
    """

    port: int = Field(8090, ge=1, le=65535)
    ip: str | None = Field(
        None,
        description="address the service listens on; default: 127.0.0.1 in the local profile, "
        "docker.airlock_hostname (its address on the internal network) in the docker profile",
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite in the state dir"
    )
    store_dir: Path | None = Field(None, description="content-addressed snapshots of submissions")
    outbox_dir: Path | None = Field(None, description="released, signed bundles")
    signing_key: Path | None = Field(
        None, description="the node's Ed25519 private key (PEM, mode 0600), made at first start"
    )
    #: ``[airlock.checks]``: disclosure-check thresholds
    checks: CheckThresholds = CheckThresholds()

    @model_validator(mode="before")
    @classmethod
    def _file_size_in_mib(cls, data):
        """The file writes the size limits in MiB (``max_file_mb``,
        ``max_summary_statistics_mb``); they are settings of the whole airlock, so
        ``[airlock.checks]`` does not have them."""
        if not isinstance(data, dict):
            return data
        checks = data.get("checks")
        if isinstance(checks, dict) and "max_file_bytes" in checks:
            raise ValueError(
                "airlock.checks.max_file_bytes is now one setting of the whole airlock (files "
                "above it need a reviewer's close look): write it as [airlock] max_file_mb"
            )
        data = dict(data)
        for mb_key, key in (
            ("max_file_mb", "max_file_bytes"),
            ("max_summary_statistics_mb", "max_summary_statistics_bytes"),
        ):
            if mb_key not in data:
                continue
            mb = data.pop(mb_key)
            low, high = AirlockConfig.bounds(key)
            if isinstance(mb, bool) or not isinstance(mb, int) or not low <= mb * MiB <= high:
                raise ValueError(
                    f"airlock.{mb_key} must be a whole number of MiB from {max(1, low // MiB)} "
                    f"to {high // MiB}, not {mb!r}"
                )
            data[key] = mb * MiB
        return data

    @property
    def config(self) -> AirlockConfig:
        """Every limit of the airlock, from this section and ``[airlock.checks]``."""
        return AirlockConfig.of(self, self.checks)

    @field_validator("ip")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        if v is None or _HOSTNAME.match(v):
            return v
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            raise ValueError(f"airlock.ip {v!r} is neither an IP address nor a host name") from None


class TermsSettings(_Section):
    """The node's data use terms (the "safe people" declaration): every researcher accepts the
    current version before their first server starts, and again when ``version`` changes
    (tresor.node.terms). Change ``version`` whenever the text changes."""

    version: str = Field("1", min_length=1, max_length=64)
    #: a text file with the terms (relative paths: to the site config); default: tresor's own
    file: Path | None = None


class FederationSettings(_Section):
    """This node as a member of a federation (docs/federation.md): the agent and its policy.

    The agent (``tresor federation agent``, a hub-managed service here, a systemd unit in
    production) polls the coordinator named in the registry, runs the registered analyses this
    node accepts on the datasets it accepts, and submits the outputs to this node's airlock as
    ``account`` (a researcher of the local projects that coordinator projects map to); the
    node's grants of those projects decide which datasets it may read. Nothing connects into
    the node: the agent only calls out.
    """

    enabled: bool = False
    registry: Path | None = Field(
        None, description="the federation registry (TOML) the federation's admins ship"
    )
    agent_key: Path | None = Field(
        None,
        description="the agent's Ed25519 private key (PEM, mode 0600); default "
        "<state_dir>/federation/agent_key.pem (tresor federation keys new)",
    )
    account: str = Field(
        "federation",
        description="the local account the agent acts as in the airlock; it never logs in",
    )
    poll_seconds: float = Field(30, ge=1, le=3600, description="how often the agent polls")
    #: registered analyses this node runs (tresor.federation.analyses); none by default
    analyses: list[str] = []
    #: catalogue datasets a federated request may read; none by default
    datasets: list[str] = []
    #: coordinator project -> local project (a project of this site config)
    projects: dict[str, str] = {}

    @field_validator("account")
    @classmethod
    def _account(cls, v: str) -> str:
        return _check_name(v, "federation.account")

    @property
    def hub_service(self) -> str:
        return FEDERATION_SERVICE


#: [registry[:port]/]name[:tag][@sha256:digest]
_IMAGE = re.compile(
    r"^(?:[a-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9][a-z0-9._/-]*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$"
)
_BYTES = re.compile(r"^[1-9][0-9]*[KMGT]?$")
_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")

#: settings that no longer exist -> what to write instead (old site configs get this message)
_MOVED_DOCKER_SETTINGS = {
    "dask_gateway_url": "describe the gateway in the [gateway] section instead: enabled = true "
    "and url = the old value (see docs/dask.md)",
    "airlock_url": "delete it: the hub and notebook servers reach the airlock at "
    "docker.airlock_hostname on [airlock] port (https with internal_ssl)",
}
_MOVED_KUBERNETES_SETTINGS = {
    "service_url": "write it as gateway.url (the gateway's address when the hub does not start "
    "it; see docs/dask.md)",
}


def _refuse_moved(data, section: str, moved: dict[str, str]):
    """Name the replacement of a removed setting instead of pydantic's bare 'extra input'."""
    if isinstance(data, dict) and (found := sorted(set(data) & set(moved))):
        raise ValueError(
            "; ".join(f"{section}.{key} is no longer a setting: {moved[key]}" for key in found)
        )
    return data


def _absolute(value: Path, what: str) -> Path:
    if not value.is_absolute():
        raise ValueError(
            f"{what} must be an absolute path (the same on the host and in the hub "
            f"container), not {str(value)!r}"
        )
    return value


def _https(value: str, what: str) -> str:
    if not value.startswith("https://"):
        raise ValueError(f"{what} must be an https:// URL, not {value!r}")
    return value


class OIDCSettings(_Section):
    """Login through an OpenID Connect provider (e.g. LS Login) with oauthenticator.

    Hub groups come from the site config (``[accounts]``, ``[projects]``) plus the provider's
    group claim values listed in ``group_map``; only accounts named in the site config log in.
    """

    display_name: str = "LS Login"
    client_id: str = Field(min_length=1)
    client_secret_file: Path = Field(description="file holding the client secret, mode 0600")
    authorize_url: str
    token_url: str
    userdata_url: str
    callback_url: str = Field(description="https://<public host>/hub/oauth_callback")
    scope: list[str] = ["openid", "profile", "email", "eduperson_entitlement"]
    username_claim: str = "preferred_username"
    groups_claim: str = "eduperson_entitlement"
    #: provider group claim value -> hub group (a role group or a project)
    group_map: dict[str, str] = {}

    @field_validator("authorize_url", "token_url", "userdata_url", "callback_url")
    @classmethod
    def _urls(cls, v: str, info) -> str:
        return _https(v, f"oidc.{info.field_name}")

    @field_validator("client_secret_file")
    @classmethod
    def _secret_path(cls, v: Path) -> Path:
        return _absolute(v, "oidc.client_secret_file")


class DockerSettings(_Section):
    """The production profile: one container per user on an internal network with no egress.

    Paths are host paths; the hub container mounts them at the same place, so what the hub
    reads (catalogue, stores) and what it asks Docker to mount are the same paths. Workspaces
    are ``<state_dir>/workspaces/<user>``, as in the local profile, where the airlock reads them.
    """

    image: str = Field(description="the single-user image; the only one users can run")
    api_version: str = Field(
        "1.41",
        pattern=r"^1\.[0-9]{2}$",
        description="Docker API version (1.41: Debian 12 docker.io)",
    )
    internal_network: str = "tresor-internal"
    hub_hostname: str = Field(
        "tresor-hub", description="the hub container's name on the internal network"
    )
    notebook_uid: int = Field(10000, ge=1000, le=2**31 - 1)
    notebook_gid: int = Field(10000, ge=1000, le=2**31 - 1)
    mem_limit: str = "8G"
    cpu_limit: float = Field(2.0, gt=0, le=256)
    pids_limit: int = Field(1024, ge=64)
    tmp_size: str = "2G"
    data_root: Path = Field(
        Path("/srv/tresor/data"), description="dataset stores must lie under it"
    )
    database_url_file: Path = Field(description="file holding the hub's PostgreSQL URL, mode 0600")
    internal_ssl: bool = True
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    airlock_hostname: str = Field(
        "tresor-airlock", description="the airlock container's name on the internal network"
    )
    airlock_uid: int = Field(10001, ge=1000, le=2**31 - 1)
    oidc: OIDCSettings

    @model_validator(mode="before")
    @classmethod
    def _moved_settings(cls, data):
        return _refuse_moved(data, "docker", _MOVED_DOCKER_SETTINGS)

    @field_validator("image")
    @classmethod
    def _pinned_image(cls, v: str) -> str:
        if not _IMAGE.match(v) or not (":" in v.rsplit("/", 1)[-1] or "@sha256:" in v):
            raise ValueError(
                f"docker.image {v!r} must name a tag or digest, e.g. tresor-notebook:0.1.0"
            )
        if v.rsplit("/", 1)[-1].split("@")[0].endswith(":latest"):
            raise ValueError(f"docker.image {v!r}: pin a version; 'latest' changes under you")
        return v

    @field_validator("mem_limit", "tmp_size")
    @classmethod
    def _bytes(cls, v: str, info) -> str:
        if not _BYTES.match(v):
            raise ValueError(f"docker.{info.field_name} {v!r} must look like 512M, 8G or 1T")
        return v

    @field_validator("hub_hostname", "airlock_hostname", "internal_network")
    @classmethod
    def _hostname(cls, v: str, info) -> str:
        if not _HOSTNAME.match(v):
            raise ValueError(
                f"docker.{info.field_name} {v!r}: use lowercase letters, digits and '-'"
            )
        return v

    @field_validator("data_root", "database_url_file", "tls_cert_file", "tls_key_file")
    @classmethod
    def _absolute_paths(cls, v: Path | None, info) -> Path | None:
        return None if v is None else _absolute(v, f"docker.{info.field_name}")

    @model_validator(mode="after")
    def _tls_pair(self) -> DockerSettings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError(
                "docker.tls_cert_file and docker.tls_key_file go together: set both or neither"
            )
        return self


_NO_SPACE = re.compile(r"^\S*$")


class SlurmGatewaySettings(_Section):
    """dask-gateway's Slurm (jobqueue) backend: each scheduler and worker is a Slurm job.

    Jobs run as the researcher's own OS account (the gateway submits them with ``sudo -u``), so
    hub names must be accounts on the cluster (LDAP). ``image`` is the notebook image as an
    Apptainer file; scheduler and workers run inside it with the datasets bound read-only.
    """

    partition: str = ""
    account: str = ""
    qos: str = ""
    image: str = Field("", description="Apptainer image (.sif) built from images/notebook")
    datasets_dir: str = Field("/srv/tresor/datasets", description="bound read-only into jobs")
    staging_directory: str = "{home}/.dask-gateway/"

    @field_validator("image", "datasets_dir", "staging_directory")
    @classmethod
    def _no_spaces(cls, v: str) -> str:
        # dask-gateway writes the job script by joining the command with spaces
        if not _NO_SPACE.match(v):
            raise ValueError(f"{v!r} contains white space, which Slurm job scripts cannot carry")
        return v


class KubernetesGatewaySettings(_Section):
    """dask-gateway's Kubernetes backend (the dask-gateway Helm chart runs the controller).

    Schedulers and workers are pods of the notebook image; the datasets volume is mounted
    read-only into workers only.
    """

    namespace: str = ""
    #: the hub's API as the gateway pods reach it (Zero to JupyterHub names its service "hub")
    hub_api_url: str = "http://hub:8081/hub/api"
    image: str = "tresor-notebook:latest"
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    datasets_claim: str = Field("tresor-datasets", description="PersistentVolumeClaim of stores")
    datasets_dir: str = "/srv/tresor/datasets"
    run_as_user: int = Field(1000, ge=1, description="never root: read-only modes then hold")

    @model_validator(mode="before")
    @classmethod
    def _moved_settings(cls, data):
        return _refuse_moved(data, "gateway.kubernetes", _MOVED_KUBERNETES_SETTINGS)


class GatewaySettings(_Section):
    """dask-gateway behind the hub: per-researcher Dask clusters that scale past one machine.

    Off by default: kernels then start a LocalCluster inside the researcher's server. With
    ``url`` empty the hub starts the gateway itself, on loopback (the local profile). With
    ``url`` set the gateway runs elsewhere and the hub only routes to it: in the docker profile
    the ``tresor-dask-gateway`` container of ``ansible/roles/dask_gateway`` (it loads this same
    section), with the Kubernetes backend the Helm chart's Traefik service. Limits are
    per researcher: at most ``max_clusters_per_user`` clusters, and their cores and memory
    together stay within ``max_cores_per_user`` and ``max_memory_per_user`` (each cluster may
    use an equal share).
    """

    enabled: bool = False
    backend: Literal["local", "slurm", "kubernetes"] = "local"
    url: str = Field(
        "",
        pattern=r"^(https?://[^\s/]+)?$",
        description="the gateway's HTTP proxy when the hub does not start it, e.g. "
        "http://tresor-dask-gateway:8095; empty: the hub runs it on loopback",
    )
    port: int = Field(8095, ge=1, le=65535, description="HTTP proxy, behind the hub's")
    scheduler_port: int = Field(8096, ge=1, le=65535, description="TLS proxy to schedulers")
    api_port: int = Field(8097, ge=1, le=65535, description="the gateway's private API")
    #: where kernels reach the schedulers' TLS proxy; default: gateway://<url's host, else
    #: 127.0.0.1>:scheduler_port
    proxy_address: str = ""
    max_clusters_per_user: int = Field(1, ge=1, le=100)
    max_cores_per_user: float = Field(4, gt=0)
    max_memory_per_user: ByteSize = Field(ByteSize(8 * 2**30), gt=0)
    worker_cores: int = Field(1, ge=1)
    worker_memory: ByteSize = Field(ByteSize(2 * 2**30), gt=0)
    scheduler_cores: int = Field(1, ge=1)
    scheduler_memory: ByteSize = Field(ByteSize(1 * 2**30), gt=0)
    idle_timeout_seconds: int = Field(1800, ge=60, description="idle clusters stop")
    server_check_seconds: float = Field(
        15, ge=1, le=600, description="how often clusters of stopped servers are looked for"
    )
    slurm: SlurmGatewaySettings = SlurmGatewaySettings()
    kubernetes: KubernetesGatewaySettings = KubernetesGatewaySettings()

    @model_validator(mode="after")
    def _one_worker_fits(self) -> GatewaySettings:
        cores = self.max_cores_per_user / self.max_clusters_per_user
        memory = self.max_memory_per_user / self.max_clusters_per_user
        if self.scheduler_cores + self.worker_cores > cores:
            raise ValueError(
                f"a cluster's share of max_cores_per_user ({cores:g}) cannot hold the scheduler "
                f"({self.scheduler_cores}) and one worker ({self.worker_cores}); raise "
                "max_cores_per_user or lower max_clusters_per_user"
            )
        if self.scheduler_memory + self.worker_memory > memory:
            share = ByteSize(int(memory)).human_readable()
            raise ValueError(
                f"a cluster's share of max_memory_per_user ({share}) cannot hold the scheduler "
                "and one worker; raise max_memory_per_user or lower max_clusters_per_user"
            )
        return self


class DiscoverySettings(_Section):
    """The node's own Beacon v2 for its researchers (docs/discovery.md, "A node's own Beacon").

    ``tresor discovery summarize`` computes each dataset's allele-frequency summary on the node
    (the disclosure rules of the released summaries, the node's floor) into
    ``<state_dir>/discovery``; the hub runs ``tresor discovery beacon`` over them at
    ``/services/beacon/``, for the node's researchers only (their hub tokens). Embedded (local)
    profile only; started as root, it runs as an account of its own that reads nothing but the
    summaries.
    """

    enabled: bool = False
    port: int = Field(8098, ge=1, le=65535, description="the Beacon service, behind the hub")
    daily_budget: int = Field(1000, ge=1, description="variant queries per researcher a day")
    per_minute: int = Field(60, ge=1, description="variant queries per researcher a minute")
    #: catalogue datasets summarised; empty: every dataset of the catalogue
    datasets: list[str] = []


class SiteConfig(_Section):
    """The whole site configuration. Paths left empty are derived from ``state_dir``."""

    profile: Literal["local", "docker"] = "local"
    node_name: str = "demo"
    #: shown with the node's name on the login page
    country: str = ""
    state_dir: Path | None = None
    catalogue_dir: Path | None = None
    #: the embedded node's OS isolation (tresor.node.isolation): "auto" gives each hub user an
    #: OS account when the node starts as root and can, else warns loudly; "required" refuses
    #: to start without it; "off" never isolates (and still warns)
    isolation: Literal["auto", "required", "off"] = "auto"
    hub: HubSettings = HubSettings()
    accounts: AccountsSettings = AccountsSettings()
    projects: dict[str, ProjectSettings] = {}
    demo: DemoSettings = DemoSettings()
    airlock: AirlockSettings = AirlockSettings()
    gateway: GatewaySettings = GatewaySettings()
    federation: FederationSettings = FederationSettings()
    terms: TermsSettings = TermsSettings()
    discovery: DiscoverySettings = DiscoverySettings()
    #: settings of the production profile, read by tresor.node.profiles.docker
    docker: DockerSettings | None = None
    #: where this config was read from (set by load_site_config)
    source: Path | None = Field(None, exclude=True)

    @field_validator("node_name")
    @classmethod
    def _node_name(cls, v: str) -> str:
        return _check_name(v, "node_name")

    @field_validator("projects")
    @classmethod
    def _project_names(cls, projects: dict[str, ProjectSettings]) -> dict:
        for name in projects:
            _check_name(name, "project name")
            if name in ROLE_GROUPS:
                raise ValueError(f"project name {name!r} is reserved for a role group")
        return projects

    @model_validator(mode="after")
    def _docker_section_matches_profile(self) -> SiteConfig:
        if self.profile == "docker" and self.docker is None:
            raise ValueError(
                "profile 'docker' needs a [docker] section (image, database_url_file, "
                '[docker.oidc]); see docs/admin-guide.md, or use profile = "local" for the '
                "embedded node"
            )
        if self.docker is not None:
            known = set(self.hub_groups)
            if unknown := sorted(set(self.docker.oidc.group_map.values()) - known):
                raise ValueError(
                    "docker.oidc.group_map maps to groups that do not exist: "
                    f"{', '.join(unknown)}; map claims to a role group (researchers, "
                    "airlock-reviewers, admins) or a project"
                )
        return self

    @model_validator(mode="after")
    def _gateway_reachable_on_free_ports(self) -> SiteConfig:
        if not self.gateway.enabled:
            return self
        if not self.gateway.url and (
            self.profile == "docker" or self.gateway.backend == "kubernetes"
        ):
            where = (
                "its own container (ansible/roles/dask_gateway), e.g. "
                f'"http://tresor-dask-gateway:{self.gateway.port}"'
                if self.profile == "docker"
                else 'the Helm chart\'s Traefik service, e.g. "http://traefik-dask-gateway"'
            )
            raise ValueError(f"gateway.url is required here: the gateway runs in {where}")
        g, hub = self.gateway, self.hub
        taken = {hub.port, hub.hub_port, hub.proxy_api_port, self.airlock.port}
        mine = [g.port, g.scheduler_port, g.api_port]
        if len(set(mine)) < 3 or taken & set(mine):
            raise ValueError(
                f"gateway ports {mine} must differ from each other and from the hub's and the "
                f"airlock's ({sorted(taken)})"
            )
        return self

    @model_validator(mode="after")
    def _beacon_on_the_embedded_node(self) -> SiteConfig:
        if not self.discovery.enabled:
            return self
        if self.profile != "local":
            raise ValueError(
                "discovery.enabled: the node's own Beacon runs on the embedded (local) profile "
                "only; on a docker node, serve the released summaries from the coordinator"
            )
        hub, g = self.hub, self.gateway
        taken = {hub.port, hub.hub_port, hub.proxy_api_port, self.airlock.port}
        if g.enabled and not g.url:
            taken |= {g.port, g.scheduler_port, g.api_port}
        if self.discovery.port in taken:
            raise ValueError(
                f"discovery.port {self.discovery.port} is taken by another service of the node "
                f"({sorted(taken)}); choose another"
            )
        return self

    @model_validator(mode="after")
    def _airlock_loopback_locally(self) -> SiteConfig:
        if self.profile == "local" and self.airlock.ip not in (None, *_LOOPBACK):
            raise ValueError(
                f"airlock.ip {self.airlock.ip!r}: the local profile listens on loopback only; "
                "use the docker profile for a node that others reach"
            )
        return self

    @model_validator(mode="after")
    def _members_are_accounts(self) -> SiteConfig:
        known = set(self.accounts.all_users)
        for name, project in self.projects.items():
            if unknown := sorted(set(project.members) - known):
                raise ValueError(
                    f"project {name!r} lists members that are not accounts: {', '.join(unknown)}; "
                    "add them under [accounts] first"
                )
        return self

    @model_validator(mode="after")
    def _federation_account_in_mapped_projects(self) -> SiteConfig:
        f = self.federation
        if not f.enabled:
            return self
        if f.registry is None:
            raise ValueError(
                "federation.registry is required when federation.enabled: the registry file "
                "the federation's admins ship (docs/federation.md)"
            )
        if f.account not in self.accounts.researchers:
            raise ValueError(
                f"federation.account {f.account!r} must be listed in accounts.researchers (the "
                "airlock takes requests from researchers only)"
            )
        if f.account in (*self.accounts.airlock_reviewers, *self.accounts.admins):
            raise ValueError(
                f"federation.account {f.account!r} may not be a reviewer or an admin: it only "
                "submits the agent's outputs"
            )
        for remote, local in sorted(f.projects.items()):
            if local not in self.projects:
                raise ValueError(
                    f"federation.projects maps {remote!r} to {local!r}, which is not a project "
                    f"of this node ({', '.join(sorted(self.projects)) or 'none'})"
                )
            if f.account not in self.projects[local].members:
                raise ValueError(
                    f"federation.account {f.account!r} must be a member of project {local!r} "
                    f"(federation.projects maps {remote!r} to it)"
                )
        return self

    # -- derived paths -------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return (self.state_dir or default_state_dir()).expanduser().resolve()

    @property
    def catalogue_path(self) -> Path:
        return (self.catalogue_dir or self.state_path / "catalogue").expanduser().resolve()

    @property
    def workspaces_path(self) -> Path:
        return self.state_path / "workspaces"

    @property
    def demo_data_path(self) -> Path:
        return self.state_path / "demo-data"

    @property
    def datasets_path(self) -> Path:
        """Where ``tresor datasets add`` writes stores: ``<state>/datasets`` on the embedded
        node, ``docker.data_root`` in the docker profile (what the hub may mount)."""
        return self.docker.data_root if self.docker is not None else self.state_path / "datasets"

    @property
    def federation_agent_key_path(self) -> Path:
        """The agent's key: by default in the agent's own directory (on an isolated node the
        agent's account owns it; the secrets directory is the hub's and the airlock's), or
        where nodes before 2026-12 kept it, ``<state>/secrets``, until the next isolated start
        moves it (:func:`tresor.node.isolation.prepare`)."""
        key = self.federation.agent_key
        if key is None:
            default = self.federation_state_path / "agent_key.pem"
            if default.exists():
                return default
            legacy = self.legacy_federation_agent_key_path
            try:  # the agent's account may not look into the secrets directory: not its key
                return legacy if legacy.exists() else default
            except PermissionError:
                return default
        return key if key.is_absolute() else (self.source_dir / key).resolve()

    @property
    def legacy_federation_agent_key_path(self) -> Path:
        return self.state_path / "secrets" / "federation_agent_key.pem"

    @property
    def federation_registry_path(self) -> Path | None:
        path = self.federation.registry
        if path is None or path.is_absolute():
            return path
        return (self.source_dir / path).resolve()

    @property
    def discovery_path(self) -> Path:
        """The node's own allele-frequency summaries, one directory per dataset (its Beacon
        reads them)."""
        return self.state_path / "discovery"

    @property
    def beacon_service_url(self) -> str:
        """The node's own Beacon for clients on the node (researchers' kernels), through the
        hub's proxy."""
        return f"{self.public_url}services/{BEACON_SERVICE}/"

    @property
    def federation_state_path(self) -> Path:
        """The agent's own records (which requests it has seen, submitted, sent)."""
        return self.state_path / "federation"

    @property
    def source_dir(self) -> Path:
        return self.source.parent if self.source else Path.cwd()

    @property
    def login_users(self) -> list[str]:
        """Accounts that may log in: all but the federation account, which only the agent
        uses (through its hub service)."""
        skip = {self.federation.account} if self.federation.enabled else set()
        return [name for name in self.accounts.all_users if name not in skip]

    def groups_of(self, name: str) -> set[str]:
        """The hub groups (role groups and projects) the site config puts ``name`` in."""
        return {group for group, members in self.hub_groups.items() if name in members}

    @property
    def hub_groups(self) -> dict[str, list[str]]:
        """Every hub group with its members: the role groups, then one group per project."""
        groups = self.accounts.role_groups
        groups.update({name: list(p.members) for name, p in self.projects.items()})
        return groups

    @property
    def public_url(self) -> str:
        return f"http://{self.hub.ip}:{self.hub.port}/"

    @property
    def airlock_listen_ip(self) -> str:
        """Where the airlock binds: loopback locally, its internal-network address in docker."""
        if self.airlock.ip:
            return self.airlock.ip
        return self.docker.airlock_hostname if self.docker is not None else "127.0.0.1"

    @property
    def airlock_service_url(self) -> str:
        """The airlock's base URL for API clients on the node (notebook servers, the agent)."""
        return f"{self.airlock_url}{AIRLOCK_PREFIX}"

    @property
    def airlock_url(self) -> str:
        """Where the hub's proxy and the notebook servers reach the airlock (no path)."""
        if self.docker is None:
            return f"http://{self.airlock_listen_ip}:{self.airlock.port}"
        scheme = "https" if self.docker.internal_ssl else "http"
        return f"{scheme}://{self.docker.airlock_hostname}:{self.airlock.port}"


def site_config_path() -> Path:
    """The site config file in force: ``$TRESOR_SITE_CONFIG`` or the local default."""
    return Path(os.environ.get("TRESOR_SITE_CONFIG") or DEFAULT_SITE_CONFIG).expanduser().resolve()


def load_site_config(path: str | os.PathLike | None = None) -> SiteConfig:
    """Read and validate a site config; errors name the file and the key to fix."""
    path = Path(path).expanduser().resolve() if path else site_config_path()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"site config {path} does not exist; set TRESOR_SITE_CONFIG to a site config file "
            f"(the local default is {DEFAULT_SITE_CONFIG})"
        ) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"site config {path} is not valid TOML: {e}") from None
    try:
        config = SiteConfig.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in e.errors()
        )
        raise ConfigError(f"site config {path} is invalid: {problems}") from None
    # relative paths in the file are relative to the file
    updates: dict = {"source": path}
    for key in ("state_dir", "catalogue_dir"):
        value = getattr(config, key)
        if value is not None and not value.expanduser().is_absolute():
            updates[key] = (path.parent / value).resolve()
    terms = config.terms.file
    if terms is not None and not terms.expanduser().is_absolute():
        updates["terms"] = config.terms.model_copy(update={"file": (path.parent / terms).resolve()})
    return config.model_copy(update=updates)
