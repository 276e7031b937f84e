"""The production profile's container-create request, with no Docker engine on this machine.

The real DockerSpawner (tresor's subclass) is configured by ``configure(c, site)`` and built the
way JupyterHub builds it (``User.spawner``). It then creates its container through docker-py;
the only stand-in is the engine's HTTP endpoint, which records the JSON body docker-py sends to
``POST /containers/create`` and answers like an engine would.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
from pathlib import Path

import pytest
import requests
from jupyterhub import orm
from jupyterhub.objects import Hub
from jupyterhub.user import User
from requests.adapters import BaseAdapter
from tornado.web import HTTPError
from traitlets.config import Config

from tresor.core.catalogue import DatasetEntry, register_dataset
from tresor.core.errors import ConfigError
from tresor.core.site import load_site_config
from tresor.node.docker_spawner import TresorDockerSpawner
from tresor.node.oidc import TresorOIDCAuthenticator
from tresor.node.profiles import configure, prepare

IMAGE = "registry.example.org:5000/tresor/notebook:0.1.0"


def run(coroutine):
    """Run a coroutine in a fresh event loop on its own thread.

    Another session fixture (Playwright's sync API) may keep a loop running on the main thread.
    """
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class RecordingEngine(BaseAdapter):
    """Stands in for the Docker engine's socket: records requests, answers container-create."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        response = requests.Response()
        response.request = request
        response.url = request.url
        if request.method == "POST" and "/containers/create" in request.url:
            response.status_code = 201
            response._content = json.dumps({"Id": "c0ffee" * 10 + "0000", "Warnings": []}).encode()
        else:
            response.status_code = 404
            response._content = b'{"message": "not served by the recording engine"}'
        response.headers["Content-Type"] = "application/json"
        return response

    def close(self) -> None:
        pass

    def created(self) -> tuple[str, dict]:
        """The URL and JSON body of the one container-create request."""
        creates = [r for r in self.requests if "/containers/create" in r.url]
        assert len(creates) == 1, [r.url for r in self.requests]
        return creates[0].url, json.loads(creates[0].body)


def write_secret(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
def node(tmp_path):
    """A docker-profile site config, its secrets, and a catalogue with three datasets."""
    data = tmp_path / "data"
    for cohort in ("dk", "se", "uk"):
        (data / cohort / f"{cohort}.vcz").mkdir(parents=True)
        (data / cohort / "phenotypes.tsv").write_text("sample_id\tldl\n")
    catalogue = tmp_path / "catalogue"
    grants = {"dk": ["nordic-gwas"], "se": ["nordic-gwas"], "uk": ["uk-study"]}
    for cohort, granted in grants.items():
        register_dataset(
            DatasetEntry(
                id=cohort,
                title=f"{cohort} cohort",
                store=data / cohort / f"{cohort}.vcz",
                phenotypes={"ldl": data / cohort / "phenotypes.tsv"},
                grants=tuple(granted),
            ),
            catalogue,
        )
    secrets = tmp_path / "etc-secrets"
    db_url = write_secret(secrets / "hub_db_url", "postgresql+psycopg://hub:pw@db:5432/jupyterhub")
    client_secret = write_secret(secrets / "oidc_client_secret", "s3cret")
    path = tmp_path / "site.toml"
    path.write_text(
        f"""
profile = "docker"
node_name = "dk"
state_dir = "{tmp_path / "state"}"
catalogue_dir = "{catalogue}"
[hub]
ip = "0.0.0.0"
[accounts]
researchers = ["ann", "bob"]
airlock_reviewers = ["rev"]
admins = ["adm"]
[projects.nordic-gwas]
members = ["ann"]
[projects.uk-study]
members = ["bob"]
[docker]
image = "{IMAGE}"
mem_limit = "6G"
cpu_limit = 1.5
pids_limit = 512
tmp_size = "1G"
data_root = "{data}"
database_url_file = "{db_url}"
[docker.oidc]
client_id = "tresor-dk"
client_secret_file = "{client_secret}"
authorize_url = "https://login.example.org/oidc/authorize"
token_url = "https://login.example.org/oidc/token"
userdata_url = "https://login.example.org/oidc/userinfo"
callback_url = "https://tresor.dk.example.org/hub/oauth_callback"
[docker.oidc.group_map]
"urn:example:group:dk-reviewers" = "airlock-reviewers"
"urn:example:group:uk-study" = "uk-study"
"""
    )
    site = load_site_config(path)
    prepare(site)  # what the hub container runs before JupyterHub: secrets, certificates
    return site


def make_spawner(site, username: str, groups: list[str]) -> TresorDockerSpawner:
    """The user's spawner as JupyterHub builds it, from the config the profile wrote."""
    c = Config()
    configure(c, site)
    db = orm.new_session_factory("sqlite://")()
    orm_user = orm.User(name=username)
    db.add(orm_user)
    for name in groups:
        group = orm.Group(name=name)
        group.users.append(orm_user)
        db.add(group)
    db.commit()
    hub = Hub(ip="0.0.0.0", port=site.hub.hub_port, connect_ip=site.docker.hub_hostname)
    settings = {  # what the hub passes from its own configuration
        "config": c,
        "hub": hub,
        "spawner_class": c.JupyterHub.spawner_class,
        "internal_ssl": c.JupyterHub.internal_ssl,
        "internal_certs_location": c.JupyterHub.internal_certs_location,
        "internal_trust_bundles": {},
    }
    spawner = User(orm_user, settings).spawner
    spawner.api_token = "token-for-the-test"
    return spawner


def create_request(spawner: TresorDockerSpawner) -> tuple[str, dict]:
    engine = RecordingEngine()
    spawner.client.mount("http+docker://", engine)
    run(spawner.create_object())
    return engine.created()


@pytest.fixture(autouse=True)
def fresh_docker_client():
    """DockerSpawner caches one client per class; give each test its own."""
    TresorDockerSpawner._client = None
    yield
    TresorDockerSpawner._client = None


def test_docker_spawner_without_docker_engine__create_request_is_hardened(node):
    spawner = make_spawner(node, "ann", ["researchers", "nordic-gwas"])
    assert type(spawner) is TresorDockerSpawner
    url, body = create_request(spawner)
    host = body["HostConfig"]

    assert "/v1.41/containers/create" in url
    assert "name=tresor-ann" in url
    assert body["Image"] == IMAGE
    assert body["Cmd"][0] == "jupyterhub-singleuser"
    assert body["User"] == "10000:10000"
    assert body["WorkingDir"] == "/home/tresor"
    # network: only the internal one, nothing published on the host
    assert host["NetworkMode"] == "tresor-internal"
    assert not host.get("PortBindings")
    # privileges and limits
    assert host["CapDrop"] == ["ALL"]
    assert not host.get("CapAdd")
    assert not host.get("Privileged")
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["ReadonlyRootfs"] is True
    assert host["Tmpfs"] == {"/tmp": "rw,nosuid,nodev,size=1G"}
    assert host["PidsLimit"] == 512
    assert host["Memory"] == 6 * 1024**3
    assert host["MemorySwap"] == 6 * 1024**3
    assert host["CpuQuota"] == int(1.5 * host["CpuPeriod"])
    assert host["IpcMode"] == "private"
    assert host["Init"] is True
    assert host["AutoRemove"] is True


def test_docker_spawner_without_docker_engine__mounts_only_granted_datasets_read_only(node):
    spawner = make_spawner(node, "ann", ["researchers", "nordic-gwas"])
    _, body = create_request(spawner)
    mounts = {m["Target"]: m for m in body["HostConfig"]["Mounts"]}
    data = node.docker.data_root

    writable = {target for target, m in mounts.items() if not m.get("ReadOnly")}
    assert writable == {"/home/tresor"}
    workspace = mounts["/home/tresor"]
    assert workspace["Type"] == "volume"
    assert workspace["Source"] == "tresor-workspace-ann"
    options = workspace["VolumeOptions"]["DriverConfig"]["Options"]
    assert options["device"] == str(node.workspaces_path / "ann")

    granted = {
        str(node.catalogue_path / "dk.toml"),
        str(node.catalogue_path / "se.toml"),
        str(data / "dk" / "dk.vcz"),
        str(data / "se" / "se.vcz"),
        str(data / "dk" / "phenotypes.tsv"),
        str(data / "se" / "phenotypes.tsv"),
    }
    assert set(mounts) - {"/home/tresor"} == granted
    for target in granted:
        assert mounts[target] == {
            "Target": target,
            "Source": target,
            "Type": "bind",
            "ReadOnly": True,
            "BindOptions": {"Propagation": "rprivate"},
        }
    # the internal-SSL certificates: read-only, from the state disk
    binds = body["HostConfig"]["Binds"]
    assert binds == [f"{node.state_path / 'internal-ssl' / 'servers' / 'ann'}:/certs:ro"]

    env = dict(item.split("=", 1) for item in body["Env"])
    assert env["TRESOR_CATALOGUE"] == str(node.catalogue_path)
    assert env["HOME"] == "/home/tresor"


def test_docker_spawner_without_docker_engine__other_project_sees_other_datasets(node):
    spawner = make_spawner(node, "bob", ["researchers", "uk-study"])
    _, body = create_request(spawner)
    targets = {m["Target"] for m in body["HostConfig"]["Mounts"]}
    assert str(node.catalogue_path / "uk.toml") in targets
    assert not any("/dk" in t or "/se" in t for t in targets)


def test_docker_spawner_without_docker_engine__no_grant_no_data(node):
    spawner = make_spawner(node, "rev", ["airlock-reviewers"])
    _, body = create_request(spawner)
    assert [m["Target"] for m in body["HostConfig"]["Mounts"]] == ["/home/tresor"]


def test_docker_spawner_without_docker_engine__store_outside_data_root_is_refused(node, tmp_path):
    outside = tmp_path / "elsewhere.vcz"
    outside.mkdir()
    register_dataset(
        DatasetEntry(id="rogue", title="rogue", store=outside, grants=("nordic-gwas",)),
        node.catalogue_path,
    )
    spawner = make_spawner(node, "ann", ["researchers", "nordic-gwas"])
    engine = RecordingEngine()
    spawner.client.mount("http+docker://", engine)
    with pytest.raises(ConfigError, match="outside the data root"):
        run(spawner.create_object())
    assert engine.requests == []


def test_docker_spawner_without_docker_engine__user_cannot_pick_an_image(node):
    spawner = make_spawner(node, "ann", ["researchers", "nordic-gwas"])
    with pytest.raises(HTTPError, match="not allowed"):
        run(spawner.check_allowed("python:3.11"))


def test_docker_spawner_without_docker_engine__certs_staged_for_the_server(node, tmp_path):
    spawner = make_spawner(node, "ann", ["researchers"])
    hub_side = {}
    for key, name in (("keyfile", "user-ann.key"), ("certfile", "user-ann.crt")):
        hub_side[key] = str(write_secret(tmp_path / "hub-certs" / name, f"{key} bytes"))
    hub_side["cafile"] = str(write_secret(tmp_path / "hub-certs" / "notebooks-ca_trust.crt", "ca"))
    in_container = run(spawner.move_certs(hub_side))
    staged = node.state_path / "internal-ssl" / "servers" / "ann"
    assert in_container == {
        "keyfile": "/certs/user-ann.key",
        "certfile": "/certs/user-ann.crt",
        "cafile": "/certs/notebooks-ca_trust.crt",
    }
    assert (staged / "user-ann.key").read_text() == "keyfile bytes"
    assert (staged / "user-ann.key").stat().st_mode & 0o777 == 0o600
    if os.geteuid() == 0:
        assert (staged / "user-ann.key").stat().st_uid == node.docker.notebook_uid


def test_configure_docker__hub_settings(node):
    c = Config()
    configure(c, node)
    assert c.JupyterHub.db_url == "postgresql+psycopg://hub:pw@db:5432/jupyterhub"
    assert c.JupyterHub.internal_ssl is True
    assert c.JupyterHub.hub_connect_ip == "tresor-hub"
    assert c.JupyterHub.authenticator_class is TresorOIDCAuthenticator
    assert c.Authenticator.allow_all is False
    assert c.Authenticator.allowed_users == {"ann", "bob", "rev", "adm"}
    assert c.JupyterHub.load_groups == {}  # the authenticator manages memberships
    assert c.TresorOIDCAuthenticator.manage_groups is True
    assert c.Spawner.disable_user_config is True
    assert c.TresorDockerSpawner.pull_policy == "never"
    services = {s["name"]: s for s in c.JupyterHub.services}
    # the airlock container on the internal network, over internal SSL
    assert services["airlock"]["url"] == "https://tresor-airlock:8090"
    assert "command" not in services["airlock"]  # its own container, not a hub subprocess
    assert "command" in services["idle-culler"]
    airlock_certs = node.state_path / "internal-ssl" / "airlock"
    names = {p.name for p in airlock_certs.iterdir()}
    assert names >= {"airlock.key", "airlock.crt", "client-ca.crt"}


def test_configure_docker__reads_what_preparation_made_and_writes_nothing(node):
    def files() -> dict[str, bytes]:
        return {str(p): p.read_bytes() for p in node.state_path.rglob("*") if p.is_file()}

    before = files()
    assert str(node.state_path / "internal-ssl" / "airlock" / "airlock.crt") in before
    configure(Config(), node)
    assert files() == before
    (node.state_path / "secrets" / "proxy_auth_token").unlink()
    with pytest.raises(
        ConfigError, match=r"proxy_auth_token does not exist; `tresor node prepare`"
    ):
        configure(Config(), node)


def test_docker_spawner_without_docker_engine__server_env_has_the_internal_airlock_url(node):
    spawner = make_spawner(node, "ann", ["researchers", "nordic-gwas"])
    _, body = create_request(spawner)
    env = dict(item.split("=", 1) for item in body["Env"])
    # the airlock container's name on the internal network, the only network the server is on
    assert env["TRESOR_AIRLOCK_URL"] == "https://tresor-airlock:8090/services/airlock/"
    assert body["HostConfig"]["NetworkMode"] == node.docker.internal_network
    assert node.airlock_listen_ip == node.docker.airlock_hostname


def test_configure_docker__refuses_a_readable_database_url_file(node):
    node.docker.database_url_file.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        configure(Config(), node)


def test_configure_docker__refuses_a_database_that_is_not_postgresql(node):
    node.docker.database_url_file.write_text("sqlite:////tmp/hub.sqlite")
    with pytest.raises(ConfigError, match="not a PostgreSQL URL"):
        configure(Config(), node)


def test_oidc_groups__site_groups_plus_mapped_claims_only(node):
    c = Config()
    configure(c, node)
    authenticator = TresorOIDCAuthenticator(config=c)
    user_info = {
        "preferred_username": "bob",
        "eduperson_entitlement": [
            "urn:example:group:uk-study",
            "urn:example:group:dk-reviewers",
            "urn:example:group:not-mapped",
        ],
    }
    groups = run(authenticator.get_user_groups({"oauth_user": user_info}))
    assert groups == {"researchers", "uk-study", "airlock-reviewers"}
    state = {"oauth_user": {"preferred_username": "ann"}}
    groups = run(authenticator.get_user_groups(state))
    assert groups == {"researchers", "nordic-gwas"}


def test_docker_spawner_without_docker_engine__gateway_container_from_the_gateway_section(node):
    """[gateway] with a url: the hub routes to the gateway container, servers call it directly,
    and the container's own config (same section) listens on its network and uses TLS to the hub.
    """
    from dask_gateway_server.app import DaskGateway

    from tresor.node import gateway as gw
    from tresor.node.gateway_backends import TresorLocalBackend

    node.source.write_text(
        node.source.read_text().replace(
            "[docker]",
            '[gateway]\nenabled = true\nurl = "http://tresor-dask-gateway:8095"\n\n[docker]',
        )
    )
    site = load_site_config(node.source)
    prepare(site)
    c = Config()
    configure(c, site)
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert services["dask-gateway"]["url"] == "http://tresor-dask-gateway:8095"
    assert "command" not in services["dask-gateway"]  # its own container, not a hub subprocess
    assert "tresor-dask-gateway" in {r["name"] for r in c.JupyterHub.load_roles}
    certs = site.state_path / "internal-ssl" / "dask-gateway"
    assert {p.name for p in certs.iterdir()} >= {
        "dask-gateway.key", "dask-gateway.crt", "client-ca.crt"
    }  # fmt: skip

    spawner = make_spawner(site, "ann", ["researchers", "nordic-gwas"])
    _, body = create_request(spawner)
    env = dict(item.split("=", 1) for item in body["Env"])
    assert env["DASK_GATEWAY__ADDRESS"] == "http://tresor-dask-gateway:8095/services/dask-gateway"
    assert env["DASK_GATEWAY__PROXY_ADDRESS"] == "gateway://tresor-dask-gateway:8096"
    assert env["DASK_GATEWAY__PUBLIC_ADDRESS"] == "/services/dask-gateway"  # browsers: the hub

    # the gateway container: the environment file of ansible/roles/dask_gateway, the certs above
    environ = {
        "JUPYTERHUB_API_TOKEN": "0" * 64,
        "JUPYTERHUB_API_URL": "https://tresor-hub:8081/hub/api",
        "JUPYTERHUB_SSL_KEYFILE": str(certs / "dask-gateway.key"),
        "JUPYTERHUB_SSL_CERTFILE": str(certs / "dask-gateway.crt"),
        "JUPYTERHUB_SSL_CLIENT_CA": str(certs / "client-ca.crt"),
    }
    gateway_config = Config()
    gw.configure_gateway(gateway_config, site, environ=environ)
    app = DaskGateway(config=gateway_config)
    assert app.config.Proxy.address == ":8095"  # reachable from the hub's proxy and kernels
    auth = app.authenticator_class(parent=app)
    assert auth.tls_cert == environ["JUPYTERHUB_SSL_CERTFILE"]
    assert auth.tls_ca == environ["JUPYTERHUB_SSL_CLIENT_CA"]
    backend = app.backend_class(parent=app)
    assert isinstance(backend, TresorLocalBackend)
    context = backend._hub_ssl_context()  # loads the real key pair and CA bundle
    assert len(context.get_ca_certs()) == 3


def test_docker_profile__federation_agent_in_its_own_container(node):
    """[federation]: the hub knows the agent's service token (no command: systemd runs the
    container, ansible/roles/federation_agent), and the agent gets a certificate the airlock's
    client-CA bundle accepts."""
    text = node.source.read_text()
    text = text.replace(
        'researchers = ["ann", "bob"]', 'researchers = ["ann", "bob", "federation"]'
    )
    text = text.replace('members = ["ann"]', 'members = ["ann", "federation"]')
    text = text.replace(
        "[docker]",
        '[federation]\nenabled = true\nregistry = "/etc/tresor/federation/registry.toml"\n'
        'projects = { "nordic-gwas" = "nordic-gwas" }\n\n[docker]',
    )
    node.source.write_text(text)
    site = load_site_config(node.source)
    prepare(site)
    c = Config()
    configure(c, site)
    services = {s["name"]: s for s in c.JupyterHub.services}
    token = (site.state_path / "secrets" / "federation_agent_token").read_text().strip()
    assert services["federation-agent"] == {
        "name": "federation-agent",
        "api_token": token,
        "display": False,
    }
    assert "federation" not in c.TresorOIDCAuthenticator.site_groups  # it never logs in
    assert "federation" not in c.Authenticator.allowed_users
    certs = site.state_path / "internal-ssl" / "federation-agent"
    assert {p.name for p in certs.iterdir()} >= {
        "federation-agent.key", "federation-agent.crt", "client-ca.crt"
    }  # fmt: skip
    from tresor.airlock import internal_tls

    context = internal_tls(
        {
            "JUPYTERHUB_SSL_KEYFILE": str(certs / "federation-agent.key"),
            "JUPYTERHUB_SSL_CERTFILE": str(certs / "federation-agent.crt"),
            "JUPYTERHUB_SSL_CLIENT_CA": str(certs / "client-ca.crt"),
        }
    )
    assert len(context.get_ca_certs()) == 3  # it checks the airlock's certificate with them
