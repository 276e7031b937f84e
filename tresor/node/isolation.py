"""How an embedded node keeps researchers apart: OS accounts, file modes, groups, firewall.

Started as root (the normal case on a server, and CI), the local profile runs every researcher's
server as an account of its own (:mod:`tresor.node.accounts_os`) from a runtime every account can
read (:mod:`tresor.node.runtime`), and lays out the state directory so that

- a workspace is readable by its researcher and by the airlock's group only (mode 2750, owner
  the researcher, group the airlock's; servers run with umask 027);
- a dataset's directory is readable by its group only (mode 0750), whose members are the
  accounts of the projects granted it and the airlock;
- the secrets, the hub's database and the airlock's directory (database, snapshots, bundles) are
  readable by root (the hub) and, for the airlock's own files, by the airlock account only;
- researchers' accounts reach nothing but the node's services (:mod:`tresor.node.firewall`).

Not root (or ``isolation = "off"``), the node runs as today and :func:`warning` says which
boundaries it cannot hold. :func:`assess` decides; ``prepare`` (a root start) applies it and
writes ``<state>/isolation.json``, which the hub's configuration reads.
"""

from __future__ import annotations

import contextlib
import grp
import json
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from tresor.core.catalogue import DatasetEntry, load_catalogue
from tresor.core.errors import ConfigError
from tresor.core.secrets import ensure_secret
from tresor.core.site import SiteConfig
from tresor.node import accounts_os, firewall, runtime
from tresor.node.processes import node_ports

log = logging.getLogger(__name__)

#: written by prepare, read by configure and the tooling
RECORD = "isolation.json"
#: researchers' servers create files readable by their group (the airlock's), nobody else
SERVER_UMASK = 0o027

#: what holds on an embedded node without accounts (started by an ordinary user, or
#: ``isolation = "off"``), said at every start and in the README
UNHELD = (
    "every researcher's kernel runs as the same OS user, so it can read every dataset whatever "
    "the grants, and every other researcher's workspace",
    "a kernel can read the node's secrets, signing key and databases, and other servers' "
    "tokens from /proc: it can act as another researcher and forge airlock bundles",
    "kernels reach the network as the node's user does (no firewall by account)",
)


@dataclass(frozen=True)
class Assessment:
    """Whether this start isolates researchers, and if not, why not."""

    enabled: bool
    reasons: tuple[str, ...] = ()


def _allows(info: os.stat_result, uid: int, gids: set[int], owner: int, group: int, other: int
            ) -> bool:  # fmt: skip
    """Whether the mode bits give account ``uid`` (in groups ``gids``) the owner's, the group's
    or the others' permission (the node sets no ACLs)."""
    if info.st_uid == uid:
        return bool(info.st_mode & owner)
    if info.st_gid in gids:
        return bool(info.st_mode & group)
    return bool(info.st_mode & other)


def _closed_directory(path: Path, uid: int = -1, gids: set[int] = frozenset()) -> Path | None:
    """The first existing ancestor of ``path`` that the account cannot enter; by default any
    other account's view (one that owns nothing and is in no group: the x bit for others)."""
    for directory in reversed(path.parents):
        if directory.exists() and not _allows(
            directory.stat(), uid, gids, stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH
        ):
            return directory
    return None


def assess(site: SiteConfig) -> Assessment:
    """Can this start isolate researchers? Depends on the site's ``isolation`` setting, on
    running as root, on the tools, and on a state directory other accounts can reach."""
    if site.profile != "local":
        return Assessment(False, ("the docker profile isolates with containers",))
    if site.isolation == "off":
        return Assessment(False, ('the site config says isolation = "off"',))
    reasons = []
    if os.geteuid() != 0:
        reasons.append("the node was not started as root, so it cannot start processes as "
                       "other accounts")  # fmt: skip
    else:
        if missing := accounts_os.missing_tools():
            reasons.append(f"{', '.join(missing)} not found (apt-get install -y passwd)")
        if why := firewall.available():
            reasons.append(why)
        if not runtime.SYSTEM_PYTHON.exists():
            reasons.append(f"{runtime.SYSTEM_PYTHON} is missing (apt-get install -y python3.11)")
        if closed := _closed_directory(site.state_path):  # itself: prepare opens it
            reasons.append(
                f"the state directory {site.state_path} lies under {closed}, which other "
                "accounts cannot enter; set state_dir to a directory such as /var/lib/tresor"
            )
    return Assessment(not reasons, tuple(reasons))


def warning(site: SiteConfig, assessment: Assessment) -> str:
    """The loud message of a start that does not isolate researchers ("" when it does)."""
    if assessment.enabled or site.profile != "local":
        return ""
    bar = "!" * 78
    lines = [bar, "tresor node: researchers are NOT isolated from each other on this node:"]
    lines += [f"  - {reason}" for reason in assessment.reasons]
    lines.append("so these boundaries do not hold:")
    lines += [f"  - {unheld}" for unheld in UNHELD]
    lines += [
        "Run the node as root (it then gives each researcher an OS account; README.md,",
        '"Isolation"), or use the docker profile. Do not put real data on this node.',
        bar,
    ]
    return "\n".join(lines)


# -- the record ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Record:
    """What ``prepare`` set up, for the hub's configuration."""

    python: str
    code: str
    airlock_account: str
    site_config: str

    @classmethod
    def load(cls, site: SiteConfig) -> Record | None:
        path = site.state_path / RECORD
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))


def _write_record(site: SiteConfig, record: Record) -> None:
    path = site.state_path / RECORD
    path.write_text(json.dumps(record.__dict__, indent=1) + "\n")
    path.chmod(0o644)


def clear_record(site: SiteConfig) -> None:
    (site.state_path / RECORD).unlink(missing_ok=True)


# -- preparing an isolated node ---------------------------------------------------------------
def _set(path: Path, mode: int, uid: int = 0, gid: int = 0) -> None:
    os.chown(path, uid, gid, follow_symlinks=False)
    os.chmod(path, mode)


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)
    os.chown(root, uid, gid)


def adopt_workspace_tree(root: Path, uid: int, gid: int) -> None:
    """Hand a workspace made before its account existed to the account, as if its servers had
    made it: every directory group-readable and setgid (so what the researcher writes there later
    belongs to the airlock's group, as in a fresh workspace), every file group-readable. Symbolic
    links are handed over but never followed, and nothing becomes readable by others."""
    _chown_tree(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            path = os.path.join(dirpath, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISDIR(mode):
                os.chmod(path, (stat.S_IMODE(mode) | 0o2050) & ~0o007)
            elif stat.S_ISREG(mode):
                os.chmod(path, (stat.S_IMODE(mode) | 0o040) & ~0o007)


def user_accounts(site: SiteConfig) -> dict[str, accounts_os.Account]:
    """Every configured hub user's account, created if needed (home: the workspace)."""
    return {
        user: accounts_os.ensure_account(
            accounts_os.user_account(site.node_name, user), site.workspaces_path / user
        )
        for user in site.accounts.all_users
    }


def agent_user(site: SiteConfig) -> str | None:
    """The hub user the federation agent acts as, when the node is in a federation: its
    account runs the agent (never a server), which calls out to the coordinator."""
    return site.federation.account if site.federation.enabled else None


def prepare_workspace(site: SiteConfig, user: str) -> Path:
    """``<workspaces>/<user>``: owned by the user's account, group the airlock's, mode 2750."""
    account = accounts_os.ensure_account(
        accounts_os.user_account(site.node_name, user), site.workspaces_path / user
    )
    airlock = accounts_os.lookup(accounts_os.airlock_account(site.node_name))
    if airlock is None:
        raise ConfigError("the airlock's account is missing: start the node (tresor node start)")
    if user != agent_user(site):
        firewall.add_researcher(site.node_name, account.uid)  # idempotent; new hub users too
    workspace = site.workspaces_path / user
    workspace.mkdir(mode=0o700, exist_ok=True)
    if workspace.is_symlink() or not workspace.is_dir():
        raise ConfigError(f"{workspace} is not a directory")
    if os.stat(workspace).st_uid != account.uid:  # made before the account existed
        adopt_workspace_tree(workspace, account.uid, airlock.gid)
    _set(workspace, 0o2750, account.uid, airlock.gid)
    return workspace


def private_dir(site: SiteConfig, user: str) -> Path:
    """``<state>/users/<user>``: the account's own files (Jupyter runtime, Dask TLS), 0700."""
    account = accounts_os.lookup(accounts_os.user_account(site.node_name, user))
    assert account is not None, user
    parent = site.state_path / "users"
    parent.mkdir(mode=0o711, exist_ok=True)
    path = parent / user
    path.mkdir(mode=0o700, exist_ok=True)
    _set(path, 0o700, account.uid, account.gid)
    return path


#: short paths for kernels' Unix sockets (at most 107 bytes), one directory per account
RUN_DIR = Path("/run/tresor")


def runtime_dir(private: Path) -> Path:
    """``/run/tresor/<uid>``: Jupyter's runtime files (kernels' connection files and Unix
    sockets) of the owner of ``private``, mode 0700."""
    owner = private.stat()
    RUN_DIR.mkdir(mode=0o711, parents=True, exist_ok=True)
    _set(RUN_DIR, 0o711)
    path = RUN_DIR / str(owner.st_uid)
    path.mkdir(mode=0o700, exist_ok=True)
    _set(path, 0o700, owner.st_uid, owner.st_gid)
    return path


def _airlock_secrets(site: SiteConfig, uid: int, gid: int) -> None:
    """The airlock's own secrets, made here as root and handed to its account: it may open
    them (the secrets directory lets its group through) but create nothing there."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    secrets_dir = site.state_path / "secrets"
    cookie = secrets_dir / "airlock_cookie_secret"
    ensure_secret(cookie)
    key_path = site.airlock.signing_key or secrets_dir / "airlock_signing_key.pem"
    key_path = key_path if key_path.is_absolute() else site.state_path / key_path
    if not key_path.exists():  # the airlock's format (airlock.bundles.load_or_create_signing_key)
        key = Ed25519PrivateKey.generate()
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
    public = key_path.with_suffix(".pub")
    if not public.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        public.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    for path, mode in ((cookie, 0o600), (key_path, 0o600), (public, 0o644)):
        _set(path, mode, uid, gid)


def service_site_config(site: SiteConfig) -> Path:
    """The site config as the services read it: every path absolute, in the state directory
    (the original may lie where the airlock's account cannot read, e.g. root's checkout)."""
    data = site.model_dump(mode="json", exclude_none=True)
    data["state_dir"] = str(site.state_path)
    data["catalogue_dir"] = str(site.catalogue_path)
    base = site.source.parent if site.source else Path.cwd()
    for key in ("store_dir", "outbox_dir", "signing_key"):
        if value := getattr(site.airlock, key):
            data["airlock"][key] = str((base / value.expanduser()).resolve())
    path = site.state_path / "site.toml"
    path.write_text(
        "# written by tresor node start from " + str(site.source) + "; edit that file\n"
        + tomli_w.dumps(data)
    )  # fmt: skip
    path.chmod(0o644)
    return path


def dataset_directory(entry: DatasetEntry) -> Path:
    """What the dataset's group guards: the directory named after the dataset that holds its
    store (a demo cohort's, or ``tresor datasets add``'s), else the store itself."""
    parent = entry.store.parent
    return parent if parent.name == entry.id else entry.store


def sync_datasets(site: SiteConfig) -> None:
    """At a start: each dataset's group holds exactly the accounts of its granted projects'
    members (the site config's, which the hub loads) and the airlock; its directory and
    phenotype files are readable by that group only. (A server's start then adds what its
    user's hub groups grant: :func:`sync_user`.)"""
    groups = site.hub_groups
    airlock = accounts_os.airlock_account(site.node_name)
    for entry in load_catalogue(site.catalogue_path).values():
        group = accounts_os.dataset_group(site.node_name, entry.id)
        gid = accounts_os.ensure_group(group)
        users = {u for g in entry.grants for u in groups.get(g, [])}
        accounts = [accounts_os.user_account(site.node_name, u) for u in users]
        accounts_os.set_members(group, [*accounts, airlock])
        _guard(site, entry, gid)


def _guard(site: SiteConfig, entry: DatasetEntry, gid: int) -> None:
    """The dataset's directory (and its packed genotypes and phenotype files when outside it):
    root's, its group may read."""
    top = dataset_directory(entry)
    if top.exists():
        _set(top, 0o750 if top.is_dir() else 0o440, 0, gid)
        for ancestor in top.parents:  # the state directory's data directories: pass through
            if ancestor == site.state_path or site.state_path not in ancestor.parents:
                break
            os.chmod(ancestor, ancestor.stat().st_mode | 0o111)  # noqa: S103 - enter, not list
    if entry.packed.is_dir() and top not in entry.packed.parents:  # beside a store of its own
        _set(entry.packed, 0o750, 0, gid)
    for path in entry.phenotypes.values():
        if path.exists() and top not in path.parents:
            _set(path, 0o440, 0, gid)


def apply_firewall(site: SiteConfig) -> None:
    """Researchers' accounts, and the Beacon's, reach the node's services but not the proxy's
    API (the Beacon only asks the hub who holds a token). The federation agent's account is
    not held: it calls the coordinator (through the node's egress proxy, if it has one), and
    no server or kernel runs as it (:func:`refuse_agent_server`)."""
    uids = [a.uid for u, a in user_accounts(site).items() if u != agent_user(site)]
    if site.discovery.enabled and (beacon := accounts_os.lookup(_beacon(site))):
        uids.append(beacon.uid)
    ports = set(node_ports(site)) - {site.hub.proxy_api_port}
    firewall.apply(site.node_name, uids, ports)


def _beacon(site: SiteConfig) -> str:
    return accounts_os.beacon_account(site.node_name)


def guard_discovery(site: SiteConfig) -> None:
    """``<state>/discovery``, the node's own summaries: written by root, readable by the
    Beacon's account only (directories 0750, files 0640, group the Beacon's); nothing on a node
    that is not isolated (its owner's, mode 0700)."""
    top = site.discovery_path
    top.mkdir(mode=0o700, exist_ok=True)
    if not active(site) or not site.discovery.enabled:
        return
    beacon = accounts_os.ensure_account(_beacon(site), top)
    _set(top, 0o750, 0, beacon.gid)
    for dirpath, dirnames, filenames in os.walk(top):
        for name in (*dirnames, *filenames):
            path = Path(dirpath) / name
            if not path.is_symlink():  # the analysis writes none; never follow one
                _set(path, 0o750 if path.is_dir() else 0o640, 0, beacon.gid)


def sync_user(site: SiteConfig, user: str, groups: set[str]) -> list[str]:
    """At a server's start: the user's account is in exactly the groups of the datasets one of
    ``groups`` (their hub groups) is granted, each dataset's directory guarded by its group.
    Returns the datasets they may read."""
    account = accounts_os.user_account(site.node_name, user)
    airlock = accounts_os.airlock_account(site.node_name)
    readable, granted = [], set()
    for entry in load_catalogue(site.catalogue_path).values():
        group = accounts_os.dataset_group(site.node_name, entry.id)
        gid = accounts_os.ensure_group(group)
        accounts_os.add_member(group, airlock)
        if entry.granted_to(groups):
            accounts_os.add_member(group, account)
            readable.append(entry.id)
            granted.add(group)
        else:
            accounts_os.remove_member(group, account)
        _guard(site, entry, gid)
    # and no dataset group beyond these (one of a dataset since removed, or made by hand)
    prefix = accounts_os.dataset_group(site.node_name, "")
    for name in accounts_os.groups_of(account):
        if name.startswith(prefix) and name not in granted:
            accounts_os.remove_member(name, account)
    return readable


def prepare(site: SiteConfig) -> Record:
    """Accounts, runtime, modes, dataset groups and firewall of an isolated start (as root)."""
    built = runtime.ensure_runtime()
    airlock = accounts_os.ensure_account(
        accounts_os.airlock_account(site.node_name), site.state_path / "airlock"
    )
    user_accounts(site)
    state = site.state_path
    _set(state, 0o711)
    _set(state / "secrets", 0o710, 0, airlock.gid)
    hub_db = state / "jupyterhub.sqlite"  # SQLite takes an empty file for a new database
    hub_db.touch(mode=0o600)
    _set(hub_db, 0o600)
    for name in ("jupyter", "catalogue", "services"):
        (state / name).mkdir(exist_ok=True)
        _set(state / name, 0o755)
    for directory in (state / "jupyter", state / "catalogue"):
        for path in directory.rglob("*"):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
    for name in ("demo-data", "datasets"):  # entered, not listed; each dataset's dir guarded
        if (state / name).is_dir():
            _set(state / name, 0o711)
            for path in (state / name).iterdir():  # causal variants, conversions in progress
                if path.name.startswith(".") or path.is_file():
                    os.chmod(path, 0o700 if path.is_dir() else 0o600)
    if (state / "ingest").is_dir():
        _set(state / "ingest", 0o700)
    _set(site.workspaces_path, 0o711)
    clusters = state / "dask-gateway" / "clusters"
    if clusters.is_dir():  # gateway clusters run as researchers in their directories there
        _set(clusters.parent, 0o711)
        _set(clusters, 0o711)
    for workspace in site.workspaces_path.iterdir():
        if workspace.is_dir() and not workspace.is_symlink():
            prepare_workspace(site, workspace.name)
    airlock_dir = state / "airlock"
    airlock_dir.mkdir(mode=0o700, exist_ok=True)
    _chown_tree(airlock_dir, airlock.uid, airlock.gid)
    os.chmod(airlock_dir, 0o700)
    _airlock_secrets(site, airlock.uid, airlock.gid)
    sync_datasets(site)
    if site.discovery.enabled:
        accounts_os.ensure_account(_beacon(site), site.discovery_path)
    if (agent := agent_user(site)) is not None:
        prepare_agent(site, agent)
    apply_firewall(site)
    record = Record(
        python=str(built.python),
        code=str(built.code),
        airlock_account=airlock.name,
        site_config=str(service_site_config(site)),
    )
    _write_record(site, record)
    guard_discovery(site)  # after the record: it applies only to an isolated node
    return record


def prepare_agent(site: SiteConfig, user: str) -> None:
    """The federation agent runs as ``user``'s account: its workspace (where outputs wait for
    the airlock), the groups of the datasets its projects are granted (the node's grants
    decide), and ``<state>/federation`` (its records and its key, mode 0700) are its own."""
    account = accounts_os.lookup(accounts_os.user_account(site.node_name, user))
    assert account is not None, user  # user_accounts made it
    prepare_workspace(site, user)
    sync_user(site, user, site.groups_of(user))
    top = site.federation_state_path
    top.mkdir(mode=0o700, exist_ok=True)
    legacy, key = site.legacy_federation_agent_key_path, top / "agent_key.pem"
    if site.federation.agent_key is None and legacy.exists() and not key.exists():
        os.replace(legacy, key)  # the secrets directory is closed to the agent's account
        log.info("moved the federation agent's key to %s", key)
    _chown_tree(top, account.uid, account.gid)
    os.chmod(top, 0o700)
    key = site.federation_agent_key_path  # or where the site config puts it: the agent's too
    if key.is_file() and not key.is_symlink():
        _set(key, 0o600, account.uid, account.gid)
    groups = {account.gid, *(grp.getgrnam(g).gr_gid for g in accounts_os.groups_of(account.name))}
    for what, path in (("registry", site.federation_registry_path), ("key", key)):
        # a missing file is the agent's to explain (tresor federation keys new, the registry)
        if path is not None and path.exists() and (why := unreadable(path, account.uid, groups)):
            raise ConfigError(
                f"the federation {what} {path} cannot be read by the agent's account "
                f"{account.name} ({why}): the agent runs as that account, not as root. "
                + ("Make it readable by all (chmod 0644: it holds public keys only)"
                   if what == "registry" else "Keep it where the site config's default puts it")
                + " and let all enter the directories above it (chmod o+x)"
            )  # fmt: skip


def unreadable(path: Path, uid: int, gids: set[int]) -> str | None:
    """Why an account (``uid``, its groups ``gids``) could not read ``path``, by the mode bits
    of the file and of every directory above it; None if it could."""
    if not path.exists():
        return "it does not exist"
    if closed := _closed_directory(path, uid, gids):
        return f"it may not enter {closed}"
    if not _allows(path.stat(), uid, gids, stat.S_IRUSR, stat.S_IRGRP, stat.S_IROTH):
        return "its mode does not let the account read it"
    return None


def refuse_agent_server(site: SiteConfig, user: str) -> None:
    """No server for the federation agent's account: it may call out, a kernel may not."""
    if user == agent_user(site):
        raise ConfigError(
            f"{user} is the federation agent's account on this node: it runs the agent only, "
            "never a notebook server (docs/federation.md)"
        )


def active(site: SiteConfig) -> bool:
    """True when this node was prepared isolated and still can be (run as root)."""
    return Record.load(site) is not None and assess(site).enabled


def apply_grants(site: SiteConfig, before: DatasetEntry | None, after: DatasetEntry) -> set[str]:
    """After a dataset's grants changed (``before``: None for a new dataset): the members of
    newly granted projects join its group; the members of revoked projects who hold it through
    no other granted project leave it and have every process stopped (servers, kernels, Dask
    clusters: a process keeps the groups it started with). Returns those users; nothing on a
    node that is not isolated. Memberships made on the hub alone follow at the next start."""
    if not active(site):
        return set()
    groups = site.hub_groups
    group = accounts_os.dataset_group(site.node_name, after.id)
    gid = accounts_os.ensure_group(group)
    accounts_os.add_member(group, accounts_os.airlock_account(site.node_name))
    keep = {u for g in after.grants for u in groups.get(g, [])}
    revoked = set(before.grants if before else ()) - set(after.grants)
    lost = {u for g in revoked for u in groups.get(g, [])} - keep
    for user in keep:
        accounts_os.ensure_account(
            accounts_os.user_account(site.node_name, user), site.workspaces_path / user
        )
    accounts = [accounts_os.user_account(site.node_name, u) for u in keep]
    if before is None:  # a new dataset: no member of a removed one by the same id stays
        accounts_os.set_members(group, [*accounts, accounts_os.airlock_account(site.node_name)])
    for account in accounts:
        accounts_os.add_member(group, account)
    for user in lost:
        with contextlib.suppress(KeyError):
            accounts_os.remove_member(group, accounts_os.user_account(site.node_name, user))
    _guard(site, after, gid)
    if lost:
        stop_processes_of(site, lost)
    return lost


def forget_dataset(site: SiteConfig, dataset_id: str) -> None:
    """A removed dataset's group keeps no members (a dataset added later under the same id
    starts from its grants alone)."""
    if active(site):
        group = accounts_os.dataset_group(site.node_name, dataset_id)
        with contextlib.suppress(KeyError):
            accounts_os.set_members(group, [])


def stop_processes_of(site: SiteConfig, users: set[str]) -> list[int]:
    """Stop every process of these hub users' accounts (their servers, kernels and Dask
    clusters, gateway ones included); returns the pids stopped."""
    import psutil

    from tresor.node.processes import stop

    uids = set()
    for user in users:
        if account := accounts_os.lookup(accounts_os.user_account(site.node_name, user)):
            uids.add(account.uid)
    victims = []
    for p in psutil.process_iter(["uids"]):
        with contextlib.suppress(psutil.Error):
            if p.info["uids"] and p.info["uids"].real in uids:
                victims.append(p)
    stop(victims, term_seconds=3)
    return [p.pid for p in victims]
