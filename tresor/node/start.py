"""Bring up a node from its site config: prepare what the profile reads, then run the hub.

Demo data is the tooling's (:func:`tresor.demo.ensure_demo_cohorts`); ``tresor node start``
runs both."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tresor.core.paths import REPO_ROOT
from tresor.core.site import SiteConfig
from tresor.node import profiles


def prepare(site: SiteConfig) -> dict[str, str]:
    """Everything the hub needs before it starts: the profile's secrets, accounts, kernelspec
    and certificates (:func:`tresor.node.profiles.prepare`). Returns new accounts' passwords."""
    return profiles.prepare(site)


def login_banner(site: SiteConfig, new_passwords: dict[str, str]) -> str:
    """What the start command prints: the URL and who can log in."""
    lines = [f"tresor node '{site.node_name}' ({site.profile} profile): {site.public_url}", ""]
    for name in site.login_users:
        groups = [g for g, members in site.hub_groups.items() if name in members]
        if site.profile == "docker":  # no local accounts: people log in with OIDC
            login = f"logs in with {site.docker.oidc.display_name}"
        elif shown := new_passwords.get(name):
            login = f"password {shown}"
        else:
            login = "password shown at first start"
        lines.append(f"  {name:<14} {login:<34} {', '.join(groups)}")
    if site.federation.enabled:
        lines.append(
            f"  {site.federation.account:<14} {'never logs in':<34} the federation agent's "
            "account (docs/federation.md)"
        )
    if new_passwords:
        lines += [
            "",
            "These passwords are shown once and stored only as hashes. To set a new "
            "one: tresor accounts reset-password NAME",
        ]
    if site.profile == "local":  # the docker profile's hub stops with its container
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
