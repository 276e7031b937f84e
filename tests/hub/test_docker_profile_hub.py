"""The docker profile boots a real hub: PostgreSQL, internal SSL, the proxy, OIDC login.

No Docker engine runs here, and none is needed to start the hub: DockerSpawner talks to the
engine only when a server starts. Everything else is real: the repository's
jupyterhub_config.py, a PostgreSQL 15 server with password (SCRAM) login as in production,
JupyterHub's internal certificate authorities (the airlock's certificate made before the hub
starts must come from the CA the hub then uses), configurable-http-proxy with internal TLS.
"""

from __future__ import annotations

import os
import pwd
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import psycopg
import pytest
from cryptography import x509

from tests.hub.node import free_port
from tresor.paths import REPO_ROOT

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ACCOUNTS = {"ann", "rev", "adm"}


@pytest.fixture
def postgres():
    """A PostgreSQL server on loopback with one password-protected role, like the node's."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail("PostgreSQL 15 is not installed; run: bash scripts/bootstrap.sh --test")
    base = Path(tempfile.mkdtemp(prefix="tresor-hub-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        entry = pwd.getpwnam("postgres")
        os.chown(base, entry.pw_uid, entry.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    base.chmod(0o755)
    password = os.urandom(16).hex()
    pwfile = base / "pw"
    pwfile.write_text(password)
    if run_as:
        shutil.chown(pwfile, "postgres")
    port = free_port()
    data = base / "data"

    def pg(*args: str) -> None:
        subprocess.run([*run_as, *args], check=True, capture_output=True, cwd=base)

    pg(str(PG_BIN / "initdb"), "-D", str(data), "-U", "tresor_hub", "--auth=scram-sha-256",
       f"--pwfile={pwfile}", "--no-sync")  # fmt: skip
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w",
       "start")  # fmt: skip
    try:
        dsn = f"host=127.0.0.1 port={port} user=tresor_hub password={password}"
        with psycopg.connect(f"{dsn} dbname=postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE jupyterhub")
        yield {
            "url": f"postgresql+psycopg://tresor_hub:{password}@127.0.0.1:{port}/jupyterhub",
            "dsn": f"{dsn} dbname=jupyterhub",
        }
    finally:
        pg(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


def write_docker_site(tmp_path: Path, database_url: str) -> tuple[Path, dict[str, int]]:
    secrets = tmp_path / "etc-secrets"
    secrets.mkdir(mode=0o700)
    for name, value in {"hub_db_url": database_url, "oidc_client_secret": "s3cret"}.items():
        (secrets / name).write_text(value)
        (secrets / name).chmod(0o600)
    ports = {name: free_port() for name in ("port", "hub_port", "proxy_api_port")}
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
[docker]
image = "tresor-notebook:0.1.0"
hub_hostname = "localhost"
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


@pytest.mark.slow
def test_docker_profile_hub__boots_on_postgresql_with_internal_ssl_and_oidc(tmp_path, postgres):
    site, ports = write_docker_site(tmp_path, postgres["url"])
    env = {**os.environ, "TRESOR_SITE_CONFIG": str(site)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    log = (tmp_path / "hub.log").open("w")
    hub = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "--config", str(REPO_ROOT / "jupyterhub_config.py")],
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
        anonymous = ssl.create_default_context(cafile=str(airlock / "hub-ca.crt"))
        with pytest.raises(httpx.HTTPError):
            httpx.get(api_url, verify=anonymous, timeout=5)
        as_airlock = ssl.create_default_context(cafile=str(airlock / "hub-ca.crt"))
        as_airlock.load_cert_chain(str(airlock / "airlock.crt"), str(airlock / "airlock.key"))
        api = httpx.get(api_url, verify=as_airlock, timeout=10)
        assert api.status_code == 200
        assert "version" in api.json()
        ssl_dir = tmp_path / "state" / "internal-ssl"
        issuer = x509.load_pem_x509_certificate((airlock / "airlock.crt").read_bytes()).issuer
        services_ca = next(ssl_dir.glob("services-ca/services-ca.crt"))
        ca_subject = x509.load_pem_x509_certificate(services_ca.read_bytes()).subject
        assert issuer == ca_subject
    finally:
        hub.terminate()
        try:
            hub.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(hub.pid, 9)
            hub.wait()
