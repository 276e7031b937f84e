"""Bring up a node from its site config: make sure no earlier start's processes hold its
ports, prepare what the profile reads, then run the hub (:mod:`tresor.node.supervisor`).

Demo data is the tooling's (:func:`tresor.demo.ensure_demo_cohorts`); ``tresor node start``
runs all of it."""

from __future__ import annotations

from tresor.core.errors import TresorError
from tresor.core.site import SiteConfig
from tresor.node import isolation, processes, profiles


def prepare(site: SiteConfig) -> dict[str, str]:
    """Everything the hub needs before it starts: the profile's secrets, accounts, kernelspec
    and certificates (:func:`tresor.node.profiles.prepare`). Returns new accounts' passwords."""
    return profiles.prepare(site)


def guard_datasets(site: SiteConfig) -> None:
    """After datasets were added (the demo cohorts at first start): on an isolated node, each
    dataset's group and modes (:func:`tresor.node.isolation.sync_datasets`)."""
    if isolation.Record.load(site) is not None and isolation.assess(site).enabled:
        isolation.sync_datasets(site)


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
        assessment = isolation.assess(site)
        if assessment.enabled:
            lines += ["", "Researchers are isolated: each server runs as tresor-"
                      f"{site.node_name}-<user>, reaching only the node's services."]  # fmt: skip
        else:
            lines += ["", isolation.warning(site, assessment)]
        lines += ["", "Stop the node with Ctrl-C."]
    return "\n".join(lines)


def clear_previous(site: SiteConfig, *, stop_stale: bool, echo=print) -> None:
    """Refuse to start while an earlier start's processes run or others hold the node's ports;
    with ``stop_stale``, stop the earlier start's processes first (never anyone else's)."""
    stale = processes.find_stale(site)
    if stale.processes and stop_stale:
        for p in stale.processes:
            echo(f"stopping pid {p.pid}  {processes.command_line(p)}")
        if left := processes.stop(stale.processes):
            raise TresorError(
                "could not stop pids "
                f"{', '.join(str(p.pid) for p in left)} (another user's?); stop them and retry"
            )
        processes.wait_ports_free(port for held in stale.ports.values() for port in held)
        stale = processes.find_stale(site)
    if stale:
        raise TresorError(f"the node cannot start:\n{stale.describe()}")
