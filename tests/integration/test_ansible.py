"""ansible/: lint (production profile), syntax, and the roles applied for real to a throwaway root.

The throwaway root is an overlay of this Debian machine's own root filesystem, mounted in a
private mount namespace (``unshare --mount``): the roles run inside it through ``chroot``, every
write lands in an upper directory under the test's tmp_path, and the mounts vanish with the
namespace. The roles that need only a plain Debian machine (data_mounts, hub, airlock) run
twice from the real site.yml with the dk example inventory and an ansible-vault encrypted vault;
the second run must change nothing. Services are enabled but not started in a chroot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from traitlets.config import Config

from tests.conftest import REPO
from tresor.core.catalogue import load_catalogue
from tresor.core.site import load_site_config
from tresor.node.profiles import configure

ANSIBLE = REPO / "ansible"
VENV_BIN = Path(sys.executable).parent
PLAYBOOKS = [ANSIBLE / "site.yml", *sorted((ANSIBLE / "playbooks").glob("*.yml"))]
CHROOT_TAGS = "data_mounts,hub,airlock,dask_gateway,federation_agent"


def ansible_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg"), "NO_COLOR": "1"}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_LINT_SKIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


@pytest.mark.slow
def test_ansible_lint__production_profile_passes():
    result = subprocess.run(
        [str(VENV_BIN / "ansible-lint"), "--nocolor"],
        cwd=ANSIBLE,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Profile 'production' was required, and it passed" in output


def test_ansible_playbook__syntax_check_passes():
    result = subprocess.run(
        [
            str(VENV_BIN / "ansible-playbook"),
            "-i",
            str(ANSIBLE / "inventories" / "dk" / "hosts.yml"),
            "--syntax-check",
            *map(str, PLAYBOOKS),
        ],
        cwd=ANSIBLE,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for playbook in PLAYBOOKS:
        assert f"playbook: {playbook}" in result.stdout


@pytest.mark.parametrize("country", ["dk", "se", "uk"])
def test_example_inventory__holds_what_the_roles_need(country):
    """Each country's group_vars parse and every grant names a project or role group."""
    import yaml

    inventory = ANSIBLE / "inventories" / country
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())
    assert hosts["tresor_nodes"]["hosts"]
    group_vars = yaml.safe_load(
        (inventory / "group_vars" / "tresor_nodes" / "main.yml").read_text()
    )
    assert group_vars["tresor_node_name"] == country
    groups = {"researchers", "airlock-reviewers", "admins", *group_vars["tresor_projects"]}
    accounts = {name for names in group_vars["tresor_accounts"].values() for name in names}
    for project in group_vars["tresor_projects"].values():
        assert set(project["members"]) <= accounts
    for dataset in group_vars["tresor_datasets"]:
        assert set(dataset["grants"]) <= groups
    assert set(group_vars["tresor_oidc"]["group_map"].values()) <= groups
    # no secret in the example inventories: they live in an ansible-vault file
    assert not (inventory / "group_vars" / "tresor_nodes" / "vault.yml").exists()


# -- the roles, applied to a throwaway root ---------------------------------------------------
OVERLAY_SCRIPT = r"""
set -eu
root=$1 upper=$2 work=$3
shift 3
mount -t overlay tresor-test-root -o "lowerdir=/,upperdir=$upper,workdir=$work" "$root"
mount --bind /proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind -o ro /sys "$root/sys"
cd "$root"
exec chroot "$root" "$@"
"""


def in_throwaway_root(layers: Path, *command: str) -> subprocess.CompletedProcess:
    """Run ``command`` chrooted into an overlay of / whose writes go to ``layers/upper``."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.fail("applying the roles needs root and unshare (util-linux), as CI has")
    for name in ("upper", "work", "root"):
        (layers / name).mkdir(exist_ok=True)
    return subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            OVERLAY_SCRIPT,
            "overlay",
            str(layers / "root"),
            str(layers / "upper"),
            str(layers / "work"),
            *command,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )


def site_config_in(upper: Path):
    """The site config Ansible wrote, with its absolute paths moved under the upper layer."""
    site = load_site_config(upper / "etc/tresor/site.toml")

    def moved(path: Path) -> Path:
        return upper / path.relative_to("/")

    oidc = site.docker.oidc.model_copy(
        update={"client_secret_file": moved(site.docker.oidc.client_secret_file)}
    )
    docker = site.docker.model_copy(
        update={"database_url_file": moved(site.docker.database_url_file), "oidc": oidc}
    )
    return site.model_copy(
        update={
            "state_dir": moved(site.state_path),
            "catalogue_dir": moved(site.catalogue_path),
            "docker": docker,
        }
    )


def recap(output: str, host: str) -> dict[str, int]:
    m = re.search(rf"^{re.escape(host)}\s*:\s*(.*)$", output, flags=re.M)
    assert m, output[-3000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}


@pytest.fixture(scope="module")
def applied_twice(tmp_path_factory):
    """site.yml's data_mounts, hub, airlock, dask_gateway and federation_agent roles applied
    twice to one throwaway root."""
    tmp = tmp_path_factory.mktemp("ansible-root")
    registry = tmp / "registry.toml"  # as the federation's admins ship it
    write_federation_registry(registry)
    inventory = tmp / "inventory"
    vault_dir = inventory / "group_vars" / "tresor_nodes"
    vault_dir.mkdir(parents=True)
    (inventory / "hosts.yml").write_text(
        json.dumps(
            {
                "tresor_nodes": {
                    "hosts": {
                        "throwaway-root": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": "/usr/bin/python3",
                            "ansible_become": False,
                            # the gateway on, as a node with a Slurm cluster sets it
                            "tresor_gateway": {
                                "enabled": True,
                                "backend": "slurm",
                                "max_cores_per_user": 16,
                                "slurm": {"partition": "genomics"},
                            },
                            # and in a federation
                            "tresor_accounts": {
                                "researchers": ["anna", "mads", "federation"],
                                "airlock_reviewers": ["freja", "lars"],
                                "admins": ["nils"],
                            },
                            "tresor_projects": {
                                "nordic-gwas": {"members": ["anna", "mads", "federation"]},
                                "dk-cardio": {"members": ["mads"]},
                            },
                            "tresor_federation": {
                                "enabled": True,
                                "registry_src": str(registry),
                                "analyses": ["allele_counts"],
                                "datasets": ["dk-genomes"],
                                "projects": {"nordic-gwas": "nordic-gwas"},
                            },
                        }
                    }
                }
            }
        )
    )
    secrets = {
        "vault_tresor_hub_db_password": "hub-" + os.urandom(12).hex(),
        "vault_tresor_airlock_db_password": "airlock-'quote-" + os.urandom(12).hex(),
        "vault_tresor_oidc_client_secret": "oidc-" + os.urandom(12).hex(),
    }
    vault = vault_dir / "vault.yml"
    vault.write_text(json.dumps(secrets))
    password_file = tmp / "vault-password"
    password_file.write_text(os.urandom(24).hex())
    password_file.chmod(0o600)
    subprocess.run(
        [
            str(VENV_BIN / "ansible-vault"),
            "encrypt",
            "--vault-password-file",
            str(password_file),
            str(vault),
        ],
        check=True,
        env=ansible_env(),
        capture_output=True,
    )
    assert vault.read_text().startswith("$ANSIBLE_VAULT;")

    playbook = [
        "env",
        f"ANSIBLE_CONFIG={ANSIBLE / 'ansible.cfg'}",
        "ANSIBLE_NOCOLOR=1",
        "ANSIBLE_FORCE_COLOR=0",
        f"PATH={VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/root",
        str(VENV_BIN / "ansible-playbook"),
        "-i",
        str(ANSIBLE / "inventories" / "dk" / "hosts.yml"),
        "-i",
        str(inventory / "hosts.yml"),
        "--limit",
        "throwaway-root",
        "--tags",
        CHROOT_TAGS,
        "--vault-password-file",
        str(password_file),
        str(ANSIBLE / "site.yml"),
    ]
    layers = tmp / "layers"
    layers.mkdir()
    runs = [in_throwaway_root(layers, *playbook) for _ in range(2)]
    return {"runs": runs, "upper": layers / "upper", "secrets": secrets}


@pytest.mark.slow
def test_roles_in_a_throwaway_root__first_run_changes_second_run_does_not(applied_twice):
    first, second = applied_twice["runs"]
    assert first.returncode == 0, first.stdout[-5000:] + first.stderr[-3000:]
    assert second.returncode == 0, second.stdout[-5000:] + second.stderr[-3000:]
    assert recap(first.stdout, "throwaway-root")["changed"] > 0
    second_recap = recap(second.stdout, "throwaway-root")
    assert second_recap["changed"] == 0, second.stdout[-5000:]
    assert second_recap["failed"] == 0
    # nothing leaked onto this machine: every write went to the overlay's upper layer
    assert not Path("/etc/tresor").exists()
    assert not Path("/etc/systemd/system/tresor-hub.service").exists()


@pytest.mark.slow
def test_roles_in_a_throwaway_root__wrote_a_site_config_tresor_accepts(applied_twice):
    upper = applied_twice["upper"]
    site = load_site_config(upper / "etc" / "tresor" / "site.toml")
    assert site.profile == "docker"
    assert site.node_name == "dk"
    assert site.docker.image == "tresor-notebook:0.1.0"
    assert site.docker.internal_network == "tresor-internal"
    assert site.hub_groups["nordic-gwas"] == ["anna", "federation", "mads"]
    assert site.docker.oidc.callback_url == "https://tresor.example.dk/hub/oauth_callback"
    assert site.state_path == Path("/srv/tresor/state")


@pytest.mark.slow
def test_roles_in_a_throwaway_root__secrets_private_and_the_hub_reads_them(applied_twice):
    upper = applied_twice["upper"]
    secrets = applied_twice["secrets"]
    files = {
        "etc/tresor/secrets": 0o700,
        "etc/tresor/secrets/hub_db_url": 0o600,
        "etc/tresor/secrets/oidc_client_secret": 0o600,
        "etc/tresor/secrets/airlock.env": 0o600,
        "srv/tresor/state": 0o700,
        "srv/tresor/state/secrets/airlock_service_token": 0o600,
        "srv/tresor/state/secrets/jupyterhub_cookie_secret": 0o600,
        "srv/tresor/state/secrets/proxy_auth_token": 0o600,
        "srv/tresor/state/secrets/idle_culler_token": 0o600,
        "srv/tresor/state/secrets/dask_gateway_service_token": 0o600,
        "srv/tresor/state/workspaces": 0o700,
    }
    for relative, mode in files.items():
        st = (upper / relative).stat()
        assert stat.S_IMODE(st.st_mode) == mode, relative
        assert st.st_uid == 0, relative
    airlock_state = (upper / "srv/tresor/state/airlock").stat()
    assert (airlock_state.st_uid, stat.S_IMODE(airlock_state.st_mode)) == (10001, 0o700)

    c = Config()
    configure(c, site_config_in(upper))
    assert c.JupyterHub.db_url.startswith("postgresql+psycopg://tresor_hub:")
    assert secrets["vault_tresor_hub_db_password"] in c.JupyterHub.db_url
    assert c.TresorOIDCAuthenticator.client_secret == secrets["vault_tresor_oidc_client_secret"]
    # the airlock container and the hub share one generated token
    env = dict(
        line.split("=", 1)
        for line in (upper / "etc/tresor/secrets/airlock.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert env["JUPYTERHUB_API_TOKEN"] == services["airlock"]["api_token"]
    assert re.fullmatch(r"[0-9a-f]{64}", env["JUPYTERHUB_API_TOKEN"])
    assert "quote" in env["TRESOR_AIRLOCK_DATABASE_URL"]  # url-encoded vault password
    assert env["JUPYTERHUB_SSL_CLIENT_CA"] == "/certs/client-ca.crt"
    # the gateway container: the [gateway] section the hub reads, and the same token
    gateway_env = dict(
        line.split("=", 1)
        for line in (upper / "etc/tresor/secrets/dask-gateway.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert gateway_env["JUPYTERHUB_API_TOKEN"] == services["dask-gateway"]["api_token"]
    assert services["dask-gateway"]["url"] == "http://tresor-dask-gateway:8095"
    assert "command" not in services["dask-gateway"]
    site = site_config_in(upper)
    assert (site.gateway.backend, site.gateway.slurm.partition) == ("slurm", "genomics")
    assert site.gateway.max_cores_per_user == 16


@pytest.mark.slow
def test_roles_in_a_throwaway_root__catalogue_grants_and_read_only_mounts(applied_twice):
    upper = applied_twice["upper"]
    catalogue = load_catalogue(upper / "srv/tresor/state/catalogue")
    assert set(catalogue) == {"dk-genomes"}
    entry = catalogue["dk-genomes"]
    assert entry.grants == ("dk-cardio", "nordic-gwas")
    assert entry.store == Path("/srv/tresor/data/dk-genomes/dk-genomes.vcz")

    unit_name = subprocess.run(
        ["systemd-escape", "--path", "--suffix=mount", "/srv/tresor/data/dk-genomes"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    unit = (upper / "etc/systemd/system" / unit_name).read_text()
    options = re.search(r"^Options=(.*)$", unit, flags=re.M).group(1).split(",")
    assert {"ro", "nosuid", "nodev", "noexec"} <= set(options)
    assert "What=nfs.example.dk:/export/tresor/dk-genomes" in unit
    wants = upper / "etc/systemd/system/remote-fs.target.wants" / unit_name
    assert wants.is_symlink()
    for service in ("tresor-hub.service", "tresor-airlock.service"):
        assert (upper / "etc/systemd/system/multi-user.target.wants" / service).is_symlink()
    passwd = (upper / "etc/passwd").read_text()
    assert re.search(r"^tresor-notebook:x:10000:10000:", passwd, flags=re.M)
    assert re.search(r"^tresor-airlock:x:10001:10001:", passwd, flags=re.M)


@pytest.mark.slow
def test_roles_in_a_throwaway_root__hub_unit_runs_the_hardened_container(applied_twice):
    unit = (applied_twice["upper"] / "etc/systemd/system/tresor-hub.service").read_text()
    assert "--network tresor-edge" in unit
    assert "docker network connect --alias tresor-hub tresor-internal tresor-hub" in unit
    assert "--cap-drop ALL" in unit and "--read-only" in unit
    assert "tresor-hub:0.1.0" in unit
    airlock = (applied_twice["upper"] / "etc/systemd/system/tresor-airlock.service").read_text()
    assert "--network tresor-internal" in airlock
    assert f"{'/srv/tresor/state/workspaces'}:/srv/tresor/state/workspaces:ro" in airlock
    assert tomllib.loads((applied_twice["upper"] / "etc/tresor/site.toml").read_text())


def write_federation_registry(path: Path) -> None:
    from tests.federation.keys import NodeKeys, new_key, registry_document, write_registry

    node = NodeKeys("dk", "DK", new_key(), new_key())
    write_registry(path, registry_document("demo", "https://coordinator.example.org", new_key(),
                                           [node]))  # fmt: skip


@pytest.mark.slow
def test_roles_in_a_throwaway_root__federation_agent_container_key_and_token(applied_twice):
    from tresor.federation.registry import load_registry
    from tresor.federation.signing import load_private_key, public_key_text

    upper = applied_twice["upper"]
    site = site_config_in(upper)
    f = site.federation
    assert f.enabled and f.account == "federation" and f.projects == {"nordic-gwas": "nordic-gwas"}
    assert f.registry == Path("/etc/tresor/federation/registry.toml")
    assert load_registry(upper / "etc/tresor/federation/registry.toml").nodes["dk"]
    key = upper / "etc/tresor/federation/agent_key.pem"
    st = key.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid) == (0o600, 10000)
    assert public_key_text(load_private_key(key)).startswith("ed25519:")  # openssl's, readable
    for relative in ("srv/tresor/state/federation", "srv/tresor/state/workspaces/federation"):
        st = (upper / relative).stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid) == (0o700, 10000), relative
    c = Config()
    configure(c, site)
    services = {s["name"]: s for s in c.JupyterHub.services}
    env = dict(
        line.split("=", 1)
        for line in (upper / "etc/tresor/secrets/federation-agent.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert env["JUPYTERHUB_API_TOKEN"] == services["federation-agent"]["api_token"]
    assert "command" not in services["federation-agent"]
    assert env["TRESOR_AIRLOCK_URL"] == "https://tresor-airlock:8090/services/airlock/"
    unit = (upper / "etc/systemd/system/tresor-federation-agent.service").read_text()
    assert "--network tresor-edge" in unit and "docker network connect tresor-internal" in unit
    assert "/srv/tresor/data:/srv/tresor/data:ro" in unit and "--read-only" in unit
    assert "tresor-notebook:0.1.0 python -P -m tresor federation agent" in unit
    assert (upper / "etc/systemd/system/multi-user.target.wants/tresor-federation-agent.service"
            ).is_symlink()  # fmt: skip
