"""Node commands: bring up a node, make demo data, manage accounts and kernel."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _site(path: str | None):
    from tresor.core.site import load_site_config

    return load_site_config(path)


@click.command("demo-data")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the cohorts into (created if missing).",
)
@click.option(
    "--samples",
    default=300,
    show_default=True,
    type=click.IntRange(min=20),
    help="Samples per cohort.",
)
@click.option("--contigs", default=2, show_default=True, type=click.IntRange(1, 22))
@click.option(
    "--contig-length",
    default=2_000_000,
    show_default=True,
    type=click.IntRange(min=10_000),
    help="Base pairs per contig.",
)
@click.option("--seed", default=42, show_default=True, type=int)
@click.option(
    "--catalogue",
    type=click.Path(file_okay=False, path_type=Path),
    help="Catalogue to register the cohorts in [default: the node's catalogue].",
)
@click.option("--no-register", is_flag=True, help="Write the files only.")
@click.option(
    "--grant",
    "grants",
    multiple=True,
    metavar="COHORT=GROUP",
    help="Grant a cohort to a hub group (repeatable) [default: the site config's].",
)
def demo_data(out, samples, contigs, contig_length, seed, catalogue, no_register, grants):
    """Simulate three demo cohorts (dk, se, uk): VCF, VCF Zarr, phenotypes, covariates."""
    from tresor.demo import DemoParameters, register_cohorts, simulate_cohorts

    grant_map: dict[str, list[str]] = {}
    for item in grants:
        cohort, sep, group = item.partition("=")
        if not sep or not cohort or not group:
            raise click.BadParameter(f"{item!r} is not COHORT=GROUP", param_hint="--grant")
        grant_map.setdefault(cohort, []).append(group)
    params = DemoParameters(
        samples_per_cohort=samples, contigs=contigs, contig_length=contig_length, seed=seed
    )
    written = simulate_cohorts(out, params, progress=lambda m: click.echo(m, err=True))
    for c in written:
        click.echo(f"{c.cohort}: {c.n_samples} samples x {c.n_variants} variants  {c.store}")
    if no_register:
        return
    if catalogue is None or not grant_map:
        site = None
        try:
            site = _site(None)
        except Exception:
            if catalogue is None:
                raise
        catalogue = catalogue or site.catalogue_path
        grant_map = grant_map or (dict(site.demo.grants) if site else {})
    paths = register_cohorts(written, catalogue, grant_map)
    click.echo(f"registered {len(paths)} datasets in {catalogue}")


@click.group("node")
def node() -> None:
    """Bring up this node."""


@node.command("start")
@click.option(
    "--site-config",
    type=click.Path(dir_okay=False, exists=True),
    help="Site config TOML [default: $TRESOR_SITE_CONFIG or config/site.local.toml].",
)
@click.option(
    "--stop-stale",
    is_flag=True,
    help="First stop what an earlier start of this node left running (from the state dir's "
    "pid records); never another program's processes.",
)
def node_start(site_config, stop_stale):
    """Prepare the node (accounts, demo data, kernel) and run the hub until Ctrl-C.

    Refuses to start, naming them, while an earlier start's processes still run or another
    program holds the node's ports. Ctrl-C stops every process the node started (a second
    Ctrl-C kills them at once)."""
    import subprocess

    from tresor.node.processes import python_module
    from tresor.node.start import clear_previous
    from tresor.node.supervisor import run_hub

    site = _site(site_config)
    clear_previous(site, stop_stale=stop_stale, echo=lambda m: click.echo(m, err=True))
    # prepare in a child process: simulation and conversion leave no helper processes behind
    # (multiprocessing's resource tracker would otherwise outlive them as a zombie)
    argv = python_module("tresor", "node", "prepare")
    if site.source:
        argv += ["--site-config", str(site.source)]
    try:
        if subprocess.run(argv, check=False).returncode != 0:
            sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(run_hub(site))


@node.command("prepare")
@click.option("--site-config", type=click.Path(dir_okay=False, exists=True))
def node_prepare(site_config):
    """Prepare the node without starting the hub; prints new accounts' passwords."""
    from tresor.demo import ensure_demo_cohorts
    from tresor.node.start import guard_datasets, login_banner, prepare

    site = _site(site_config)
    passwords = prepare(site)
    ensure_demo_cohorts(site, progress=lambda m: click.echo(m, err=True))
    guard_datasets(site)
    click.echo(login_banner(site, passwords))


@click.group("accounts")
def accounts() -> None:
    """Local accounts of the embedded node."""


@accounts.command("reset-password")
@click.argument("name")
@click.option("--site-config", type=click.Path(dir_okay=False, exists=True))
def reset_password(name, site_config):
    """Generate a new password for NAME and show it once."""
    from tresor.node.accounts import AccountStore
    from tresor.node.profiles.common import state_paths

    try:
        password = AccountStore(state_paths(_site(site_config))["accounts"]).reset(name)
    except KeyError as e:
        raise click.ClickException(str(e.args[0])) from None
    click.echo(f"{name}: {password}")


@accounts.command("system")
@click.option("--site-config", type=click.Path(dir_okay=False, exists=True))
def system_accounts(site_config):
    """Create (as root) and list the OS account of every hub user and the airlock's, as a
    start would; new hub users get theirs when their server first starts."""
    from tresor.node import accounts_os, isolation

    site = _site(site_config)
    found = isolation.assess(site)
    if not found.enabled:
        raise click.ClickException("; ".join(found.reasons))
    made = isolation.user_accounts(site)
    airlock = accounts_os.ensure_account(
        accounts_os.airlock_account(site.node_name), site.state_path / "airlock"
    )
    for user, account in sorted(made.items()):
        click.echo(f"{user:<16} {account.name:<32} uid {account.uid}")
    click.echo(f"{'(airlock)':<16} {airlock.name:<32} uid {airlock.uid}")


@accounts.command("terms")
@click.option("--site-config", type=click.Path(dir_okay=False, exists=True))
@click.option("--all", "history", is_flag=True, help="Every acceptance, not each user's latest.")
def accounts_terms(site_config, history):
    """Who accepted which version of the node's data use terms, and when."""
    from tresor.node import terms

    site = _site(site_config)
    now = terms.current(site)
    rows = terms.acceptances(site) if history else list(terms.latest(site).values())
    click.echo(f"current terms: version {now.version} (SHA-256 {now.sha256[:16]})")
    for a in rows:
        mark = "" if a.version == now.version else "  (must accept the current version)"
        click.echo(f"{a.user:<16} version {a.version:<10} {a.accepted_at}{mark}")
    pending = sorted(set(site.accounts.researchers) - {a.user for a in rows})
    for user in pending:
        click.echo(f"{user:<16} not accepted yet")


@click.group("kernel")
def kernel() -> None:
    """The "tresor (genomics)" Jupyter kernel."""


@kernel.command("install")
@click.option(
    "--prefix",
    type=click.Path(file_okay=False, path_type=Path),
    default=sys.prefix,
    show_default=True,
    help="Install into PREFIX/share/jupyter.",
)
@click.option(
    "--catalogue",
    type=click.Path(file_okay=False, path_type=Path),
    help="Catalogue directory the kernel sees (TRESOR_CATALOGUE).",
)
def kernel_install(prefix, catalogue):
    """Install the kernelspec for this Python environment."""
    from tresor.node.kernelspec import install_kernelspec

    click.echo(install_kernelspec(prefix / "share" / "jupyter", catalogue=catalogue))


def register(cli: click.Group) -> None:
    for command in (demo_data, node, accounts, kernel):
        cli.add_command(command)
