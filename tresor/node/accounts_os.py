"""System accounts and groups of an embedded node started as root.

Every hub user gets an OS account named with the node (``tresor-<node>-<user>``, so several
nodes can share a machine); the airlock runs as ``tresor-<node>-airlock``; each dataset is a
group ``tresor-<node>-d-<id>`` whose members are the accounts of the projects granted it (and
the airlock, which reads sample IDs); the node's own Beacon runs as ``tresor-<node>-beacon``.
Accounts are system accounts with no password and no login shell: nobody logs into them, the
node starts processes as them.

Only Debian's shadow tools are used (``useradd``, ``groupadd``, ``gpasswd``), run as root.
"""

from __future__ import annotations

import contextlib
import grp
import hashlib
import pwd
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tresor.core.errors import ConfigError

#: the longest user and group name useradd and groupadd accept on Debian
MAX_NAME = 32
NOLOGIN = "/usr/sbin/nologin"
#: the tools this module runs (Debian package passwd)
TOOLS = ("useradd", "groupadd", "gpasswd")


def _bounded(name: str) -> str:
    """``name``, or if longer than :data:`MAX_NAME` a prefix of it with a digest of the whole
    (stable, so the same user always maps to the same account)."""
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}-{digest}"


#: hub user names whose account names would be a service's account (or, ``d-...``, a dataset's
#: group): such a user would run with that account's rights
RESERVED_USERS = ("airlock", "beacon")


def user_account(node: str, user: str) -> str:
    """The OS account of hub user ``user`` on node ``node``."""
    if user in RESERVED_USERS or user.startswith("d-"):
        raise ConfigError(
            f"hub user {user!r} cannot have an account on an isolated node: "
            f"tresor-{node}-{user} names a service's account or a dataset's group; give the "
            "user another name"
        )
    return _bounded(f"tresor-{node}-{user}")


def airlock_account(node: str) -> str:
    """The airlock service's account; its primary group is the only one that reads workspaces."""
    return _bounded(f"tresor-{node}-airlock")


def beacon_account(node: str) -> str:
    """The node's own Beacon service's account: it reads the discovery summaries only."""
    return _bounded(f"tresor-{node}-beacon")


def dataset_group(node: str, dataset_id: str) -> str:
    """The group whose members may read dataset ``dataset_id``."""
    return _bounded(f"tresor-{node}-d-{dataset_id}")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ConfigError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.returncode}")


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: Path


def lookup(name: str) -> Account | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return Account(name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))


def ensure_account(name: str, home: Path) -> Account:
    """The system account ``name`` (own group, no password, no login shell), created if needed.

    ``home`` is only recorded (the workspace); it is not created here."""
    if (found := lookup(name)) is not None:
        return found
    _run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            str(home),
            "--shell",
            NOLOGIN,
            "--comment",
            "tresor node account",
            name,
        ]
    )
    found = lookup(name)
    assert found is not None, name
    return found


def ensure_group(name: str) -> int:
    """The gid of system group ``name``, created if needed."""
    with contextlib.suppress(KeyError):
        return grp.getgrnam(name).gr_gid
    _run(["groupadd", "--system", name])
    return grp.getgrnam(name).gr_gid


def set_members(group: str, members: Iterable[str]) -> bool:
    """Make ``members`` exactly the group's supplementary members; True if that changed them."""
    wanted = sorted(set(members))
    if sorted(grp.getgrnam(group).gr_mem) == wanted:
        return False
    _run(["gpasswd", "-M", ",".join(wanted), group])
    return True


def groups_of(account: str) -> list[str]:
    """The supplementary groups ``account`` is a member of."""
    return [g.gr_name for g in grp.getgrall() if account in g.gr_mem]


def add_member(group: str, account: str) -> None:
    if account not in grp.getgrnam(group).gr_mem:
        _run(["gpasswd", "-a", account, group])


def remove_member(group: str, account: str) -> None:
    if account in grp.getgrnam(group).gr_mem:
        _run(["gpasswd", "-d", account, group])
