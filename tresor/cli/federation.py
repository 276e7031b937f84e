"""``tresor federation ...``: the federated analysis commands (F1 adds serve, agent, request).

``merge`` verifies each bundle's signature, then merges (:mod:`tresor.federation.merge`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import click


@click.group("federation")
def federation_group() -> None:
    """Federated analysis across nodes: merge the nodes' released bundles."""


def _verified(path: Path, keys: dict[str, Path]):
    """The bundle as a VerifiedBundle of the one node whose release key signed it."""
    from airlock.bundles import MANIFEST, load_public_key, verify_bundle
    from tresor.federation.bundle_types import VerifiedBundle

    problems = {}
    for node, key in keys.items():
        report = verify_bundle(path, load_public_key(key))
        if report.ok:
            data = (path / MANIFEST).read_bytes()
            return VerifiedBundle(node, path, report.manifest, hashlib.sha256(data).hexdigest())
        problems[node] = "; ".join(report.problems)
    listed = "\n".join(f"  {node}: {why}" for node, why in problems.items())
    raise click.ClickException(f"{path} is not a bundle signed by any given node:\n{listed}")


@federation_group.command("merge")
@click.argument(
    "bundles", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path)
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the merged tables, merge.json and ro-crate-metadata.json.",
)
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    required=True,
    metavar="NODE=PEM",
    help="A node's airlock release key (PEM); one per node. Each bundle must verify with one.",
)
@click.option("--request-id", help="Refuse bundles that answer another request.")
@click.option("--crate-sha256", help="Refuse bundles made for another request crate.")
def merge_command(bundles, out_dir, public_keys, request_id, crate_sha256):
    """Merge the released bundles of one federated request (one per node) into plink2-style
    tables, after verifying every bundle's signature."""
    from tresor.federation.merge import merge

    keys = {}
    for item in public_keys:
        node, sep, pem = item.partition("=")
        if not sep or not node or not Path(pem).is_file():
            raise click.BadParameter(
                f"{item!r}: give NODE=PATH to a PEM file", param_hint="--public-key"
            )
        keys[node] = Path(pem)
    verified = [_verified(path, keys) for path in bundles]
    result = merge(verified, out_dir, request_id=request_id, crate_sha256=crate_sha256)
    for table in result.tables:
        verdict = result.verdicts.get(table.name, "not checked")
        click.echo(f"{table}\t(airlock checks: {verdict})")
    click.echo(f"{result.summary}\n{result.crate}")


def register(cli: click.Group) -> None:
    cli.add_command(federation_group)
