"""``tresor federation ...``: keys, the node agent, the coordinator, researchers' requests.

- on a node: ``keys new`` / ``keys public`` (the agent key; the airlock's release key is
  ``<state>/secrets/airlock_signing_key.pub``), ``agent`` (the hub or systemd runs it);
- on the coordinator: ``serve``, ``migrate``, ``users add``, ``export-crate`` and ``import``
  (requests and bundles of nodes that work offline);
- for researchers where the coordinator is reachable: ``request``, ``status``, ``result``;
- anywhere: ``merge`` (the released bundles of one request, verified against the registry and
  the request's signed crate).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import click


@click.group("federation")
def federation_group() -> None:
    """Federated analysis: one request, run in each node, released by each airlock, merged."""


# -- keys -------------------------------------------------------------------------------------
@federation_group.group("keys")
def keys_group() -> None:
    """Ed25519 keys, and their public halves as the registry writes them."""


@keys_group.command("new")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def keys_new(path: Path) -> None:
    """Make a private key at PATH (mode 0600; never overwritten) and print its public key for
    the registry: a node's agent key, or the coordinator's signing key."""
    from tresor.federation.signing import generate_private_key, public_key_text

    key = generate_private_key(path)
    click.echo(public_key_text(key))


@keys_group.command("public")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def keys_public(path: Path) -> None:
    """Print the public key of a PEM file (private, or public such as the airlock's
    airlock_signing_key.pub) as the registry writes it: ed25519:<base64>."""
    from tresor.federation.signing import public_key_text, read_public_key_file

    click.echo(public_key_text(read_public_key_file(path)))


# -- the node agent ---------------------------------------------------------------------------
@federation_group.command("agent")
@click.option(
    "--offline", is_flag=True, help="Take crates from --inbox, write bundles to --outbox."
)
@click.option(
    "--inbox", type=click.Path(file_okay=False, path_type=Path), help="*.crate.json files"
)
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path), help="bundles out")
@click.option("--once", is_flag=True, help="One cycle, then exit.")
def agent_command(offline: bool, inbox: Path | None, outbox: Path | None, once: bool) -> None:
    """Run this node's federation agent (site config [federation]): poll the coordinator, run
    accepted requests, submit their outputs to the airlock, send released bundles."""
    from tresor.core.site import load_site_config
    from tresor.federation.agent import from_site

    if offline and not (inbox and outbox):
        raise click.UsageError("--offline needs --inbox and --outbox")
    if (inbox or outbox) and not offline:
        raise click.UsageError("--inbox and --outbox are for --offline")
    logging.basicConfig(level=logging.INFO, format="[federation-agent %(levelname)s] %(message)s")
    # outputs readable by the workspace's group (the airlock's, on an isolated node), as a
    # notebook server's are; never by others
    os.umask(0o027)
    agent = from_site(load_site_config(), outbox=outbox if offline else None)
    agent.run(once=once, inbox=inbox if offline else None)


# -- the coordinator --------------------------------------------------------------------------
def _coordinator_options(f):
    options = [
        click.option(
            "--registry",
            envvar="TRESOR_FEDERATION_REGISTRY",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            required=True,
            help="The federation registry (TOML).",
        ),
        click.option(
            "--signing-key",
            envvar="TRESOR_FEDERATION_SIGNING_KEY",
            type=click.Path(dir_okay=False, path_type=Path),
            required=True,
            help="The coordinator's private key (tresor federation keys new).",
        ),
        click.option(
            "--data-dir",
            envvar="TRESOR_FEDERATION_DATA_DIR",
            type=click.Path(file_okay=False, path_type=Path),
            required=True,
            help="Database (SQLite), bundles, merged results.",
        ),
        click.option(
            "--database-url",
            envvar="TRESOR_FEDERATION_DATABASE_URL",
            help="SQLAlchemy URL (PostgreSQL in production) [default: SQLite in --data-dir].",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _settings(registry, signing_key, data_dir, database_url, **beacon):
    """The coordinator's settings; ``beacon``: the Beacon options given (others default)."""
    from pydantic import ValidationError

    from tresor.federation.coordinator.config import CoordinatorSettings

    try:
        return CoordinatorSettings(
            registry_path=registry,
            signing_key_path=signing_key,
            data_dir=data_dir,
            database_url=database_url,
            **{k: v for k, v in beacon.items() if v is not None},
        )
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        raise click.UsageError(f"invalid coordinator settings: {problems}") from None


def _coordinator(**options):
    from tresor.federation.coordinator.db import upgrade
    from tresor.federation.coordinator.service import Coordinator

    settings = _settings(**options)
    upgrade(settings.url)
    return Coordinator(settings)


#: ``serve``'s Beacon and portal options: name -> (environment variable, type, default, help);
#: the defaults are CoordinatorSettings' (a test holds them equal; not imported here, so that
#: ``tresor --help`` stays fast)
BEACON_OPTIONS = {
    "beacon_anonymous_granularity": (
        "TRESOR_BEACON_ANONYMOUS_GRANULARITY",
        click.Choice(["boolean", "count", "record"]),
        "count",
        "The most an anonymous Beacon or portal caller gets.",
    ),
    "beacon_daily_budget": (
        "TRESOR_BEACON_DAILY_BUDGET",
        click.IntRange(min=1),
        1000,
        "Variant queries per caller (account, else address) a day, counted in the database.",
    ),
    "beacon_per_minute": (
        "TRESOR_BEACON_PER_MINUTE",
        click.IntRange(min=1),
        60,
        "Variant queries per caller a minute.",
    ),
}


def _beacon_options(f):
    """``serve``'s Beacon settings (docs/discovery.md, "Access")."""
    for name, (envvar, kind, default, text) in reversed(BEACON_OPTIONS.items()):
        flag = "--" + name.replace("_", "-")
        f = click.option(
            flag, envvar=envvar, type=kind, default=default, show_default=True, help=text
        )(f)
    return f


@federation_group.command("serve")
@_coordinator_options
@_beacon_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True, type=int)
def serve_command(host: str, port: int, **options) -> None:
    """Run the coordinator: researchers' API, nodes' polls and bundles, merges. Upgrades the
    database first."""
    from tresor.federation.coordinator.app import serve

    logging.basicConfig(level=logging.INFO, format="[coordinator %(levelname)s] %(message)s")
    serve(_coordinator(**options), host, port)


@federation_group.command("migrate")
@click.option("--data-dir", envvar="TRESOR_FEDERATION_DATA_DIR", required=True,
              type=click.Path(file_okay=False, path_type=Path))  # fmt: skip
@click.option("--database-url", envvar="TRESOR_FEDERATION_DATABASE_URL")
def migrate_command(data_dir: Path, database_url: str | None) -> None:
    """Upgrade the coordinator's database to the newest schema (Alembic)."""
    from tresor.federation.coordinator.db import upgrade

    upgrade(database_url or f"sqlite:///{data_dir / 'coordinator.sqlite'}")


@federation_group.group("users")
def users_group() -> None:
    """The coordinator's researcher accounts."""


@users_group.command("add")
@click.argument("name")
@click.option("--project", "projects", multiple=True, required=True,
              help="A coordinator project the account may request for (repeat).")  # fmt: skip
@_coordinator_options
def users_add(name: str, projects: tuple[str, ...], **options) -> None:
    """Add a researcher account; prints its token once (only a hash is kept)."""
    token = _coordinator(**options).add_account(name, list(projects))
    click.echo(f"account {name} (projects: {', '.join(projects)}); its token, shown once:")
    click.echo(token)


@federation_group.command("export-crate")
@click.argument("request_id")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@_coordinator_options
def export_crate(request_id: str, out: Path, **options) -> None:
    """Write a request's signed crate as a file (OUT.crate.json) for a node that works offline."""
    signed = _coordinator(**options).signed_crate(request_id)
    signed.write(out)
    click.echo(f"wrote {out} (crate SHA-256 {signed.sha256})")


@federation_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--request", "request_id", required=True, help="The request it answers.")
@_coordinator_options
def import_answer(path: Path, request_id: str, **options) -> None:
    """Import what an offline node's agent wrote: a bundle archive (NODE-REQUEST.bundle.tar),
    verified as an upload, or a refusal its agent signed (REQUEST.refused.json). Refused with
    which check and why otherwise (exit 1)."""
    coordinator = _coordinator(**options)
    if path.name.endswith(".json"):
        refusal = coordinator.receive_refusal(request_id, path.read_bytes(), actor="import")
        click.echo(
            f"accepted the refusal of node {refusal.node} for request {request_id}: "
            f"{refusal.reason}"
        )
        return
    verified = coordinator.receive_bundle(request_id, path.read_bytes(), poster=None,
                                          actor="import")  # fmt: skip
    click.echo(f"accepted the bundle of node {verified.node} for request {request_id}")


# -- researchers ------------------------------------------------------------------------------
_client_options = [
    click.option("--url", envvar="TRESOR_FEDERATION_URL", help="The coordinator's URL."),
    click.option("--token", envvar="TRESOR_FEDERATION_TOKEN", help="Your coordinator token."),
]


def _client(f):
    for option in reversed(_client_options):
        f = option(f)
    return f


@federation_group.command("request")
@click.argument("analysis")
@click.option("--project", required=True)
@click.option("--target", "targets", multiple=True, required=True, metavar="NODE:DATASET")
@click.option("--parameters", default="{}", help="JSON object of the analysis's parameters.")
@_client
def request_command(analysis, project, targets, parameters, url, token) -> None:
    """Ask nodes to run a registered analysis; prints the request id."""
    from tresor.federation.client import request

    pairs = dict(t.split(":", 1) for t in targets)
    made = request(analysis, project=project, targets=pairs, parameters=json.loads(parameters),
                   url=url, token=token)  # fmt: skip
    click.echo(made.id)


@federation_group.command("status")
@click.argument("request_id")
@_client
def status_command(request_id, url, token) -> None:
    """Each node's status of a request."""
    from tresor.federation.client import status

    current = status(request_id, url=url, token=token)
    click.echo(f"{current.id}: {current.state} {current.message}")
    for node, state in sorted(current.nodes.items()):
        click.echo(f"  {node:<8} {state:<10} {current.reasons.get(node, '')}")


@federation_group.command("result")
@click.argument("request_id")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--wait", type=float, default=0, help="Seconds to wait for the merge.")
@_client
def result_command(request_id, out, wait, url, token) -> None:
    """Download the merged result into OUT/REQUEST_ID."""
    from tresor.federation.client import result

    click.echo(result(request_id, out, wait=wait, url=url, token=token))


# -- merging released bundles ----------------------------------------------------------------
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
    "--registry",
    envvar="TRESOR_FEDERATION_REGISTRY",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The federation registry (TOML): the nodes' release keys, the coordinator's keys.",
)
@click.option(
    "--crate",
    "crate_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The request's signed crate (REQUEST.crate.json, from `tresor federation "
    "export-crate` or GET /api/requests/ID/crate): which request the bundles must answer.",
)
def merge_command(bundles, out_dir, registry, crate_file):
    """Merge the released bundles of one federated request (one per node) into plink2-style
    tables. Each bundle is verified as the coordinator verifies an upload: against the registry
    and the request crate (itself verified with the coordinator's keys); a refused bundle stops
    the merge with which check and why."""
    from tresor.federation.crate import CrateError, SignedCrate, verify_signed_crate
    from tresor.federation.merge import merge
    from tresor.federation.registry import load_registry
    from tresor.federation.verify import BundleRefused, verify_federated_bundle

    federation = load_registry(registry)
    try:
        signed = SignedCrate.read(crate_file)
        request = verify_signed_crate(signed, federation, max_age=None)
    except CrateError as e:
        raise click.ClickException(f"{crate_file}: {e}") from None
    verified = []
    for path in bundles:
        try:
            verified.append(
                verify_federated_bundle(
                    path,
                    federation,
                    request_id=request.request_id,
                    crate_sha256=signed.sha256,
                    not_before=request.created_at,
                )
            )
        except BundleRefused as e:
            raise click.ClickException(f"{path}: {e}") from None
    result = merge(verified, out_dir, request_id=request.request_id, crate_sha256=signed.sha256)
    for table in result.tables:
        verdict = result.verdicts.get(table.name, "not checked")
        click.echo(f"{table}\t(airlock checks: {verdict})")
    click.echo(f"{result.summary}\n{result.crate}")


def register(cli: click.Group) -> None:
    cli.add_command(federation_group)
