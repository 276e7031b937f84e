"""``tresor catalogue export`` (the node's catalogue as HealthDCAT-AP) and ``tresor discovery``
(the node's own allele-frequency summaries and Beacon for its researchers); docs/discovery.md."""

from __future__ import annotations

import sys
from pathlib import Path

import click

SITE_CONFIG = click.option(
    "--site-config",
    type=click.Path(dir_okay=False, exists=True),
    help="Site config TOML [default: $TRESOR_SITE_CONFIG or config/site.local.toml].",
)


def _site(path: str | None):
    from tresor.core.site import load_site_config

    return load_site_config(path)


def node_floor(site) -> int:
    """The node's own floor: its airlock thresholds, at least the default."""
    from tresor.discovery.summary import floor

    checks = site.airlock.checks
    return floor(checks.min_minor_allele_count, checks.min_cell_count)


@click.group("catalogue")
def catalogue() -> None:
    """The node's dataset catalogue in the standards European portals harvest."""


@catalogue.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonld", "turtle"]),
    default="turtle",
    show_default=True,
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@SITE_CONFIG
def export(fmt: str, out: str | None, site_config: str | None) -> None:
    """Write the node's catalogue as HealthDCAT-AP / DCAT-AP 3 (counts by sex only where a
    dataset declares ``strata = ["sex"]`` and every group reaches the node's floor)."""
    from tresor.core.catalogue import load_catalogue
    from tresor.discovery.dcat import node_catalogue, serialize

    site = _site(site_config)
    graph = node_catalogue(
        load_catalogue(site.catalogue_path).values(), node=site.node_name, f=node_floor(site)
    )
    text = serialize(graph, fmt)
    if out:
        Path(out).write_text(text)
    else:
        sys.stdout.write(text)


def register(cli: click.Group) -> None:
    cli.add_command(catalogue)
