"""Bring up a node from its site config: state directory, accounts, demo data, kernel, hub."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from tresor.catalogue import load_catalogue
from tresor.hub.accounts import AccountStore
from tresor.hub.profiles import state_paths
from tresor.hub.secrets import ensure_private_dir
from tresor.kernelspec import install_kernelspec
from tresor.paths import REPO_ROOT
from tresor.site import SiteConfig


def demo_data_missing(site: SiteConfig) -> bool:
    """True when the demo cohorts are not all registered with an existing store."""
    from tresor.demo import COHORTS

    catalogue = load_catalogue(site.catalogue_path)
    return any(c not in catalogue or not catalogue[c].store.exists() for c in COHORTS)


def prepare(site: SiteConfig, *, progress: Callable[[str], None] = print) -> dict[str, str]:
    """Everything the hub needs before it starts. Returns new accounts' passwords (show once)."""
    paths = state_paths(site)
    ensure_private_dir(paths["state"])
    ensure_private_dir(paths["secrets"])
    ensure_private_dir(site.workspaces_path)
    new_passwords = AccountStore(paths["accounts"]).ensure(site.accounts.all_users)
    if site.demo.enabled and demo_data_missing(site):
        from tresor.demo import DemoParameters, register_cohorts, simulate_cohorts

        params = DemoParameters(
            samples_per_cohort=site.demo.samples_per_cohort,
            contigs=site.demo.contigs,
            contig_length=site.demo.contig_length,
            seed=site.demo.seed,
        )
        written = simulate_cohorts(site.demo_data_path, params, progress=progress)
        register_cohorts(written, site.catalogue_path, site.demo.grants)
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
