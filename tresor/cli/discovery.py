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


@click.group("discovery")
def discovery() -> None:
    """The node's allele-frequency summaries: its own Beacon for its researchers, and their
    periodic release to the federation (docs/discovery.md)."""


SUMMARY = "allele_frequency_summary"


def summarize_dataset(site, entry) -> Path:
    """``entry``'s summary computed on this node into ``<discovery>/<id>``, replacing the one
    there; the node's floor, the rules of the released summaries. Returns the directory."""
    import secrets
    import shutil

    from tresor.federation.analyses import REGISTRY
    from tresor.federation.runs import run_on_dataset

    top = site.discovery_path
    top.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    new, old, target = (
        top / f".{entry.id}.new-{token}",
        top / f".{entry.id}.old-{token}",
        top / entry.id,
    )
    try:
        run_on_dataset(REGISTRY[SUMMARY], entry, {}, node=site.node_name,
                       thresholds=site.airlock.checks, out_dir=new)  # fmt: skip
        if target.exists():  # the Beacon reads the old one until this rename, the new after
            target.rename(old)
        new.rename(target)
    finally:
        shutil.rmtree(new, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return target


@discovery.command("summarize")
@click.argument("datasets", nargs=-1)
@SITE_CONFIG
def summarize(datasets: tuple[str, ...], site_config: str | None) -> None:
    """Compute the node's own allele-frequency summaries (DATASETS, default [discovery]
    datasets, else every dataset of the catalogue) for the node's Beacon, which serves them
    from its next query on. Run it as root (it reads every dataset) after data change, or
    from a timer."""
    import json

    from tresor.core.catalogue import load_catalogue
    from tresor.node.isolation import guard_discovery

    site = _site(site_config)
    catalogue = load_catalogue(site.catalogue_path)
    wanted = list(datasets or site.discovery.datasets or sorted(catalogue))
    if unknown := [d for d in wanted if d not in catalogue]:
        raise click.UsageError(
            f"not in the catalogue: {', '.join(unknown)} (it has: {', '.join(sorted(catalogue))})"
        )
    if not site.discovery.enabled:
        click.echo("note: [discovery] enabled is off, so the hub serves no Beacon over these",
                   err=True)  # fmt: skip
    for dataset in wanted:
        directory = summarize_dataset(site, catalogue[dataset])
        manifest = json.loads((directory / "manifest.json").read_text())
        rows = manifest["outputs"]["discovery.allele_frequencies"]["rows"]
        click.echo(f"{dataset}: {rows} rows, floor {manifest['floor']} -> {directory}")
    guard_discovery(site)


@discovery.command("beacon")
@SITE_CONFIG
def beacon_command(site_config: str | None) -> None:
    """Serve the node's Beacon over its summaries, for its researchers (the hub starts it when
    [discovery] is enabled)."""
    import logging

    from tresor.discovery.node_beacon import serve

    logging.basicConfig(level=logging.INFO, format="[beacon %(levelname)s] %(message)s")
    serve(_site(site_config))


@discovery.command("refresh")
@click.option(
    "--project", required=True, help="The coordinator project to ask for ([federation] projects)."
)
@click.option(
    "--dataset", "datasets", multiple=True, help="Repeat [default: the [federation] datasets]."
)
@click.option("--min-count", type=click.IntRange(min=10), help="The federation's floor.")
@click.option("--url", envvar="TRESOR_FEDERATION_URL", help="The coordinator's URL.")
@click.option("--token", envvar="TRESOR_FEDERATION_TOKEN",
              help="A coordinator account of PROJECT (tresor federation users add).")  # fmt: skip
@SITE_CONFIG
def refresh(project, datasets, min_count, url, token, site_config) -> None:
    """Ask the coordinator for this node's released summaries again: one request of
    allele_frequency_summary per dataset, which this node's agent runs and its reviewers
    release like the first (the airlock compares it with the previous release). Prints the
    request ids; schedule it with a timer (docs/discovery.md)."""
    from tresor.federation.client import request

    site = _site(site_config)
    f = site.federation
    problems = []
    if not f.enabled:
        problems.append("[federation] is not enabled on this node")
    if SUMMARY not in f.analyses:
        problems.append(f"[federation] analyses does not list {SUMMARY}")
    if project not in f.projects:
        problems.append(f"[federation] projects does not map coordinator project {project!r}")
    wanted = list(datasets or f.datasets)
    if outside := [d for d in wanted if d not in f.datasets]:
        problems.append(f"[federation] datasets does not offer {', '.join(outside)}")
    if not wanted:
        problems.append("no dataset: give --dataset or list [federation] datasets")
    if problems:
        raise click.UsageError("this node's agent would refuse the request: " + "; ".join(problems))
    parameters = {"min_count": min_count} if min_count else {}
    for dataset in wanted:
        made = request(SUMMARY, project=project, targets={site.node_name: dataset},
                       parameters=parameters, url=url, token=token)  # fmt: skip
        click.echo(f"{made.id} {site.node_name}:{dataset}")


def register(cli: click.Group) -> None:
    cli.add_command(catalogue)
    cli.add_command(discovery)
