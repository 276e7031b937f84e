"""The ``tresor`` command. Each idea has its own module of subcommands:

- :mod:`tresor.cli.node`: demo-data, node start, accounts, kernel
- :mod:`tresor.cli.datasets`: datasets (list; admins: add, show, grant, revoke, remove)
- :mod:`tresor.cli.stats`: freq, hardy, gwas, pca (genomics over VCF Zarr)
- :mod:`tresor.cli.airlock`: airlock check / verify / audit
- :mod:`tresor.cli.federation`: federation keys, agent, coordinator, requests, merge
- :mod:`tresor.cli.discovery`: catalogue export (HealthDCAT-AP), the node's summaries and Beacon
"""

from __future__ import annotations

import sys

import click

from tresor.core.errors import TresorError
from tresor.core.version import __version__


class _Group(click.Group):
    """Print TresorError as one readable line (exit 1) instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except TresorError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tresor")
def cli() -> None:
    """tresor: a federated trusted research environment for genomics."""


def _register() -> None:
    from tresor.cli import airlock, datasets, discovery, federation, node, stats

    for module in (node, datasets, stats, airlock, federation, discovery):
        module.register(cli)


_register()


def main() -> None:
    cli()
