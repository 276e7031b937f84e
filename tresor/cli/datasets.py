"""``tresor datasets``: list the datasets you may open; node admins add, pack, show, grant,
revoke and remove them (:mod:`tresor.ingest`).

Without a subcommand it lists, as it always did (``tresor datasets [--all]``).
"""

from __future__ import annotations

import os
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


def _say(message: str) -> None:
    click.echo(message, err=True)


def _list(show_all: bool) -> None:
    import pandas as pd

    from tresor.catalogue import datasets_table
    from tresor.core.catalogue import load_catalogue

    if show_all:
        table = pd.DataFrame(
            [
                {
                    "id": e.id,
                    "title": e.title,
                    "samples": e.n_samples,
                    "variants": e.n_variants,
                    "grants": ", ".join(e.grants),
                }
                for e in load_catalogue().values()
            ]
        )
    else:
        table = datasets_table()
    if table.empty:
        click.echo("no datasets")
    else:
        click.echo(table.to_string(index=False))


WORKERS = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default=True,
    help="Processes (conversion) and threads (packing) [default: the node's cores].",
)

ALL = click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Every dataset with its grants (node admins; no hub session needed).",
)


@click.group("datasets", invoke_without_command=True)
@ALL
@click.pass_context
def datasets(ctx: click.Context, show_all: bool) -> None:
    """List the datasets you may open (in a hub session), or all of them with --all.

    Node admins: add VCFs as a dataset, pack, show, grant, revoke, remove (see the subcommands).
    """
    if ctx.invoked_subcommand is None:
        _list(show_all)


@datasets.command("list")
@ALL
def list_(show_all: bool) -> None:
    """List the datasets you may open, or all of them with --all."""
    _list(show_all)


@datasets.command("add")
@click.argument("vcfs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--id", "dataset_id", required=True, help="Dataset id: a-z, 0-9, '-', '_'.")
@click.option("--title", required=True, help="What researchers see in tresor.datasets().")
@click.option(
    "--grant",
    "grants",
    multiple=True,
    metavar="PROJECT",
    help="Project (hub group) that may open it (repeatable); none: no one yet.",
)
@click.option("--genome-build", help="e.g. GRCh38 [default: from the VCF header's ##reference].")
@click.option("--description", default="", help="A paragraph for the catalogue.")
@click.option(
    "--contact",
    default="the node's data access committee",
    show_default=True,
    help="Who researchers ask for access.",
)
@click.option(
    "--fix",
    is_flag=True,
    help="Repair what bio2zarr cannot read (a malformed field, a gVCF) on a copy with bcftools.",
)
@WORKERS
@click.option("--quiet", is_flag=True, help="No progress bars.")
@SITE_CONFIG
def add(
    vcfs,
    dataset_id,
    title,
    grants,
    genome_build,
    description,
    contact,
    fix,
    workers,
    quiet,
    site_config,
):
    """Convert VCFs (bgzipped, indexed) into a dataset and register it with its grants.

    The conversion (bio2zarr) resumes where it stopped when the same command runs again. On
    the embedded node the dataset is registered at once; in the docker profile the Ansible
    inventory is the source of truth, so the command prints the tresor_datasets entry to add.
    """
    from tresor.ingest import AddRequest, add_dataset, inventory_entry, work_dir

    site = _site(site_config)
    request = AddRequest(
        vcfs=tuple(vcfs),
        dataset_id=dataset_id,
        title=title,
        grants=tuple(grants),
        genome_build=genome_build,
        description=description,
        contact=contact,
        fix=fix,
        workers=workers,
    )
    try:
        entry, registered = add_dataset(site, request, progress=not quiet, say=_say)
    except KeyboardInterrupt:
        _say(
            f"interrupted; the work so far is kept in {work_dir(site, dataset_id)}: run the "
            "same command again to finish it"
        )
        sys.exit(130)
    ploidy = ", ".join(f"{c} {'/'.join(map(str, p))}" for c, p in entry.ploidy.items())
    _say(
        f"{entry.id}: {entry.n_samples} samples x {entry.n_variants} variants, "
        f"{entry.genome_build}, ploidy {ploidy}, {entry.missing_rate:.2%} missing calls"
    )
    if registered:
        granted = ", ".join(entry.grants) or "no project yet (tresor datasets grant)"
        click.echo(f"registered {entry.id} ({entry.store}), granted to {granted}")
        _say("researchers open it from their next server start")
    else:
        click.echo(
            f"# {entry.store} is converted and validated. Add this to the inventory's\n"
            "# tresor_datasets (and a tresor_data_mounts item that mounts its directory),\n"
            "# then run: ansible-playbook site.yml --tags data_mounts\n" + inventory_entry(entry)
        )


@datasets.command("pack")
@click.argument("dataset_id")
@WORKERS
@click.option(
    "--codec",
    type=click.Choice(["none", "lz4"]),
    default="none",
    show_default=True,
    help="none: read fastest (mapped into memory); lz4: about a fifth of the size for mostly "
    "rare variants, decoded on every read.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@SITE_CONFIG
def pack(dataset_id, workers, codec, quiet, site_config):
    """Write the packed genotypes (2 bits per call) beside a dataset's store.

    tresor datasets add does it for new datasets; run this for a dataset added before, or
    after its store changed (analyses then say that the packed genotypes are stale).
    """
    from tresor.ingest import pack_dataset

    path = pack_dataset(
        _site(site_config), dataset_id, workers=workers, codec=codec, progress=not quiet, say=_say
    )
    click.echo(f"{dataset_id}: packed genotypes in {path}")


@datasets.command("show")
@click.argument("dataset_id")
@SITE_CONFIG
def show(dataset_id, site_config):
    """Everything the catalogue holds about one dataset."""
    from tresor.catalogue import get_entry
    from tresor.core.catalogue import load_catalogue

    entry = get_entry(dataset_id, load_catalogue(_site(site_config).catalogue_path))
    for key, value in entry.to_toml().items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        click.echo(f"{key + ':':<14} {value}")


@datasets.command("grant")
@click.argument("dataset_id")
@click.argument("projects", nargs=-1, required=True)
@SITE_CONFIG
def grant(dataset_id, projects, site_config):
    """Let the members of PROJECTS open the dataset (from their next server start)."""
    from tresor.ingest import grant as grant_projects

    entry = grant_projects(_site(site_config), dataset_id, projects)
    click.echo(f"{dataset_id}: granted to {', '.join(entry.grants)}")


@datasets.command("revoke")
@click.argument("dataset_id")
@click.argument("projects", nargs=-1, required=True)
@SITE_CONFIG
def revoke(dataset_id, projects, site_config):
    """Take the grants of PROJECTS away."""
    from tresor.ingest import revoke as revoke_projects

    entry = revoke_projects(_site(site_config), dataset_id, projects)
    click.echo(f"{dataset_id}: granted to {', '.join(entry.grants) or 'no project'}")


@datasets.command("remove")
@click.argument("dataset_id")
@SITE_CONFIG
def remove(dataset_id, site_config):
    """Unregister the dataset; delete its store if tresor datasets add made it (or the work of
    an add that was interrupted)."""
    from tresor.ingest import remove_dataset

    entry = remove_dataset(_site(site_config), dataset_id)
    if entry is None:
        click.echo(f"removed the unfinished conversion of {dataset_id}")
    else:
        click.echo(f"removed {dataset_id} ({entry.store})")


def register(cli: click.Group) -> None:
    cli.add_command(datasets)
