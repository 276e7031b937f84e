"""``tresor airlock ...``: disclosure checks, bundle verification, audit-chain verification."""

from __future__ import annotations

import click


@click.group("airlock")
def airlock_group() -> None:
    """Check outputs for disclosure risk, verify released bundles and the audit log."""


def register(cli: click.Group) -> None:
    cli.add_command(airlock_group)
