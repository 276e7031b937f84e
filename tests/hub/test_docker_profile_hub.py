"""The docker profile boots a real hub: PostgreSQL, internal SSL, the proxy, OIDC login.

No Docker engine runs here, and none is needed to start the hub: DockerSpawner talks to the
engine only when a server starts. Everything else is real: the hub image's command (the node's
preparation, then JupyterHub with the repository's jupyterhub_config.py), a PostgreSQL 15
server with password (SCRAM) login as in production, JupyterHub's internal certificate
authorities (the airlock's certificate, made by the preparation before the hub starts, must come
from the CA the hub then uses), configurable-http-proxy with internal TLS, and the airlock
started as its container is (ansible/roles/airlock: the same environment), reached through the
proxy and directly by a notebook server's client as ``tresor.airlock`` does.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, urlparse

import httpx
import psycopg
import pytest
from cryptography import x509

from tests.hub.node import free_port
from tresor.core.paths import REPO_ROOT

ACCOUNTS = {"ann", "rev", "adm"}


def write_docker_site(tmp_path: Path, database_url: str) -> tuple[Path, dict[str, int]]:
    secrets = tmp_path / "etc-secrets"
    secrets.mkdir(mode=0o700)
    for name, value in {"hub_db_url": database_url, "oidc_client_secret": "s3cret"}.items():
        (secrets / name).write_text(value)
        (secrets / name).chmod(0o600)
    ports = {name: free_port() for name in ("port", "hub_port", "proxy_api_port", "airlock")}
    data = tmp_path / "data"
    data.mkdir()
    path = tmp_path / "site.toml"
    path.write_text(
        f"""
profile = "docker"
node_name = "dk"
state_dir = "{tmp_path / "state"}"
[hub]
ip = "127.0.0.1"
port = {ports["port"]}
hub_port = {ports["hub_port"]}
proxy_api_port = {ports["proxy_api_port"]}
[accounts]
researchers = ["ann"]
airlock_reviewers = ["rev"]
admins = ["adm"]
[demo]
enabled = false
[airlock]
port = {ports["airlock"]}
[docker]
image = "tresor-notebook:0.1.0"
hub_hostname = "localhost"
airlock_hostname = "localhost"
data_root = "{data}"
database_url_file = "{secrets / "hub_db_url"}"
[docker.oidc]
client_id = "tresor-dk"
client_secret_file = "{secrets / "oidc_client_secret"}"
authorize_url = "https://login.example.org/oidc/authorize"
token_url = "https://login.example.org/oidc/token"
userdata_url = "https://login.example.org/oidc/userinfo"
callback_url = "https://tresor.example.dk/hub/oauth_callback"
"""
    )
    return path, ports


def hub_image_command() -> list[str]:
    """The hub image's CMD, with the config file where it is in this checkout."""
    dockerfile = (REPO_ROOT / "images" / "hub" / "Dockerfile").read_text()
    command = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, flags=re.M).group(1))
    config = str(REPO_ROOT / "jupyterhub_config.py")
    return [part.replace("/opt/tresor/jupyterhub_config.py", config) for part in command]


@pytest.mark.slow
def test_docker_profile_hub__boots_on_postgresql_with_internal_ssl_and_oidc(
    tmp_path, postgres_server
):
    postgres = postgres_server.new_owned_database("tresor_hub")  # password login, as on a node
    site, ports = write_docker_site(tmp_path, postgres["url"])
    env = {**os.environ, "TRESOR_SITE_CONFIG": str(site)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    log = (tmp_path / "hub.log").open("w")
    hub = subprocess.Popen(
        hub_image_command(),  # prepares the secrets and the airlock's certificate, then the hub
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{ports['port']}"
    try:
        login = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and hub.poll() is None:
            try:
                login = httpx.get(f"{url}/hub/login", timeout=5)
                if login.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        hub_log = (tmp_path / "hub.log").read_text()
        assert login is not None and login.status_code == 200, hub_log[-5000:]
        assert "LS Login" in login.text

        # OIDC: the login button sends the browser to the provider with this node's client id
        redirect = httpx.get(f"{url}/hub/oauth_login", timeout=10)
        assert redirect.status_code == 302, hub_log[-3000:]
        target = urlparse(redirect.headers["location"])
        assert target.netloc == "login.example.org"
        assert parse_qs(target.query)["client_id"] == ["tresor-dk"]

        # the hub's state is in PostgreSQL: schema, and the allowed accounts
        with psycopg.connect(postgres["dsn"]) as conn:
            users = {row[0] for row in conn.execute("SELECT name FROM users")}
            assert conn.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1
        assert users == ACCOUNTS

        # internal SSL: the hub API speaks TLS only and wants a client certificate from one of
        # its CAs; the airlock's, made before the hub started, is accepted
        airlock = tmp_path / "state" / "internal-ssl" / "airlock"
        api_url = f"https://localhost:{ports['hub_port']}/hub/api"
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{ports['hub_port']}/hub/api", timeout=5)
        anonymous = ssl.create_default_context(cafile=str(airlock / "client-ca.crt"))
        with pytest.raises(httpx.HTTPError):
            httpx.get(api_url, verify=anonymous, timeout=5)
        as_airlock = ssl.create_default_context(cafile=str(airlock / "client-ca.crt"))
        as_airlock.load_cert_chain(str(airlock / "airlock.crt"), str(airlock / "airlock.key"))
        api = httpx.get(api_url, verify=as_airlock, timeout=10)
        assert api.status_code == 200
        assert "version" in api.json()
        ssl_dir = tmp_path / "state" / "internal-ssl"
        issuer = x509.load_pem_x509_certificate((airlock / "airlock.crt").read_bytes()).issuer
        hub_ca = ssl_dir / "hub-ca" / "hub-ca.crt"  # the CA all of the hub's bundles trust
        assert issuer == x509.load_pem_x509_certificate(hub_ca.read_bytes()).subject

        # the airlock as its container runs it: the environment of ansible/roles/airlock
        airlock_proc = start_airlock_like_its_container(tmp_path, site, ports, airlock)
        try:
            check_airlock_reachable(tmp_path, url, ssl_dir, ports)
        finally:
            stop(airlock_proc)
    finally:
        stop(hub)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()


def start_airlock_like_its_container(tmp_path, site, ports, certs) -> subprocess.Popen:
    """``python -m airlock serve`` with the environment file the airlock role writes."""
    token = (tmp_path / "state" / "secrets" / "airlock_service_token").read_text().strip()
    env = {
        **os.environ,
        "JUPYTERHUB_API_TOKEN": token,
        "JUPYTERHUB_API_URL": f"https://localhost:{ports['hub_port']}/hub/api",
        "JUPYTERHUB_CLIENT_ID": "service-airlock",
        "JUPYTERHUB_SERVICE_NAME": "airlock",
        "JUPYTERHUB_SERVICE_PREFIX": "/services/airlock/",
        "JUPYTERHUB_SERVICE_URL": f"https://localhost:{ports['airlock']}",
        "JUPYTERHUB_OAUTH_CALLBACK_URL": "/services/airlock/oauth_callback",
        "JUPYTERHUB_SSL_KEYFILE": str(certs / "airlock.key"),
        "JUPYTERHUB_SSL_CERTFILE": str(certs / "airlock.crt"),
        "JUPYTERHUB_SSL_CLIENT_CA": str(certs / "client-ca.crt"),
        "TRESOR_SITE_CONFIG": str(site),
    }
    log = (tmp_path / "airlock.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "airlock", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def check_airlock_reachable(tmp_path, public_url: str, ssl_dir: Path, ports) -> None:
    """Through the hub's proxy (reviewers' browsers) and directly from a notebook server."""
    from certipy import Certipy
    from traitlets.config import Config

    from tresor.airlock import AirlockClient, AirlockRequestError
    from tresor.core.site import load_site_config
    from tresor.node.profiles import configure

    proxied = f"{public_url}/services/airlock/api/public-key"
    response = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = httpx.get(proxied, timeout=10)
        if response.status_code == 200:
            break
        time.sleep(0.5)
    airlock_log = (tmp_path / "airlock.log").read_text()
    assert response is not None and response.status_code == 200, airlock_log[-3000:]
    assert response.text.startswith("-----BEGIN PUBLIC KEY-----")

    # a notebook server: the certificate JupyterHub's Spawner.create_certs makes for it and the
    # trust bundle the hub gives it, and the airlock URL the docker profile puts in its env
    key_pair = Certipy(store_dir=str(ssl_dir)).create_signed_pair(
        "user-ann", "notebooks-ca", alt_names=["DNS:localhost"], overwrite=True
    )
    server_env = {
        "JUPYTERHUB_SSL_KEYFILE": key_pair["files"]["key"],
        "JUPYTERHUB_SSL_CERTFILE": key_pair["files"]["cert"],
        "JUPYTERHUB_SSL_CLIENT_CA": str(ssl_dir / "notebooks-ca_trust.crt"),
    }
    c = Config()
    configure(c, load_site_config(tmp_path / "site.toml"))
    airlock_url = c.Spawner.environment["TRESOR_AIRLOCK_URL"]
    assert airlock_url == f"https://localhost:{ports['airlock']}/services/airlock/"
    # the client tresor.airlock.submit() makes in the server, with the server's TLS identity
    with mock.patch.dict(os.environ, server_env):
        client = AirlockClient(airlock_url, token="not-a-hub-token")
    try:
        key = client._http.get("public-key")
        assert key.status_code == 200 and key.text == response.text
        # the airlock asked the hub (mutual TLS) about the token, and the hub did not know it
        with pytest.raises(AirlockRequestError, match=r"refused \((401|403)\)"):
            client.call("GET", "me")
    finally:
        client.close()
    # without the server's certificate the airlock does not even answer
    with pytest.raises(httpx.HTTPError):
        bare = ssl.create_default_context(cafile=server_env["JUPYTERHUB_SSL_CLIENT_CA"])
        httpx.get(f"{airlock_url}api/public-key", verify=bare, timeout=10)
