"""Bring up a node from its site config: state directory, accounts, kernel, then the hub.

Demo data is the tooling's (:func:`tresor.demo.ensure_demo_cohorts`); ``tresor node start``
runs both."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tresor.core.paths import REPO_ROOT
from tresor.core.secrets import ensure_private_dir
from tresor.core.site import SiteConfig
from tresor.node.accounts import AccountStore
from tresor.node.kernelspec import install_kernelspec
from tresor.node.profiles import state_paths


def prepare(site: SiteConfig) -> dict[str, str]:
    """Everything the hub needs before it starts. Returns new accounts' passwords (show once)."""
    paths = state_paths(site)
    ensure_private_dir(paths["state"])
    ensure_private_dir(paths["secrets"])
    ensure_private_dir(site.workspaces_path)
    new_passwords = AccountStore(paths["accounts"]).ensure(site.accounts.all_users)
    install_kernelspec(paths["jupyter"], catalogue=site.catalogue_path)
    return new_passwords


def login_banner(site: SiteConfig, new_passwords: dict[str, str]) -> str:
    """What the start command prints: the URL and who can log in."""
    lines = [f"tresor node '{site.node_name}' ({site.profile} profile): {site.public_url}", ""]
    for name in site.accounts.all_users:
        groups = [g for g, members in site.hub_groups.items() if name in members]
        shown = new_passwords.get(name)
        password = f"password {shown}" if shown else "password shown at first start"
        lines.append(f"  {name:<14} {password:<34} {', '.join(groups)}")
    if new_passwords:
        lines += [
            "",
            "These passwords are shown once and stored only as hashes. To set a new "
            "one: tresor accounts reset-password NAME",
        ]
    lines += ["", "Stop the node with Ctrl-C."]
    return "\n".join(lines)


def exec_hub(site: SiteConfig) -> None:
    """Replace this process with JupyterHub (so Ctrl-C reaches it and it stops what it started)."""
    env = dict(os.environ)
    if site.source:
        env["TRESOR_SITE_CONFIG"] = str(site.source)
    os.chdir(site.state_path)
    os.umask(0o077)  # hub database, logs and workspaces: owner only
    sys.stdout.flush()
    os.execve(sys.executable, hub_argv(), env)


def hub_argv(config_file: Path | None = None) -> list[str]:
    """The command that runs JupyterHub with tresor's config file."""
    return [
        sys.executable,
        "-m",
        "jupyterhub",
        "-f",
        str(config_file or REPO_ROOT / "jupyterhub_config.py"),
    ]
