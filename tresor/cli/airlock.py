"""``tresor airlock ...``: disclosure checks, bundle verification, audit-chain verification."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import click


@click.group("airlock")
def airlock_group() -> None:
    """Check outputs for disclosure risk, verify released bundles and the audit log."""


@airlock_group.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML with the node's limits (a site config's [airlock] and [airlock.checks], or "
    "thresholds at top level) "
    "[default: the brief's defaults].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option(
    "--catalogue",
    type=click.Path(file_okay=False, path_type=Path),
    help="Catalogue whose datasets' sample IDs are matched (in a hub session: those your "
    "projects are granted) [default: the node's catalogue].",
)
def check_command(paths, config_path, as_json, catalogue):
    """Check output files for disclosure risk: each gets pass, review or block.

    Directories are checked file by file; symlinks are blocked and never followed. Exits 0
    whenever the check ran, whatever the verdict (read it from the output); 2 on usage errors.
    """
    from airlock.checks import overall_verdict
    from airlock.service import node_check_context
    from tresor.core.errors import ConfigError

    for path in paths:
        if not os.path.lexists(path):
            raise click.BadParameter(f"{path} does not exist", param_hint="PATH")
    groups = _hub_groups()
    try:
        context, notes = node_check_context(
            config_file=config_path, catalogue=catalogue, groups=groups
        )
    except ConfigError as e:
        raise click.BadParameter(str(e), param_hint="--config") from None
    for note in notes:
        click.echo(f"note: {note}", err=True)

    reports = _run(paths, context)
    verdict = overall_verdict(reports)
    if as_json:
        document = {
            "verdict": verdict.value,
            "files": [r.to_dict() for r in reports],
            "notes": notes,
        }
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(format_reports(reports, verdict))


def _hub_groups() -> frozenset[str] | None:
    """The hub groups of the user in a hub session (a kernel), whose projects' grants decide
    whose sample IDs are matched; None outside one (a node admin's shell: every dataset)."""
    if not (os.environ.get("JUPYTERHUB_API_URL") and os.environ.get("JUPYTERHUB_API_TOKEN")):
        return None
    from tresor.core.errors import AccessDeniedError
    from tresor.identity import current_identity

    try:
        return current_identity().groups
    except AccessDeniedError as e:
        raise click.ClickException(
            f"{e}. The check matches values against the sample IDs of the datasets your "
            "projects are granted, so it must know who you are."
        ) from None


def _run(paths, context):
    """All reports, with a progress bar on a terminal (bytes read)."""
    from tqdm import tqdm

    from airlock.checks import check_paths

    total = sum(_size(p) for p in paths)
    with tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        desc="checking",
        disable=not sys.stderr.isatty(),
        file=sys.stderr,
    ) as bar:
        return list(check_paths(paths, context, on_bytes=bar.update))


def _size(path: Path) -> int:
    if path.is_symlink():
        return 0
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            p = Path(root, name)
            if not p.is_symlink():
                total += p.stat().st_size
    return total


_LABEL = {"pass": "PASS  ", "review": "REVIEW", "block": "BLOCK "}


def format_reports(reports, verdict) -> str:
    """The readable report: each file's verdict, then its findings with where and why."""
    lines = []
    for report in reports:
        lines.append(f"{_LABEL[report.verdict.value]}  {report.path}")
        for f in report.findings:
            where = _where(f.location)
            lines.append(
                f"    {f.verdict.value:<6}  {f.rule}{'  (' + where + ')' if where else ''}"
            )
            lines.extend(
                textwrap.wrap(
                    f.message, width=96, initial_indent=" " * 12, subsequent_indent=" " * 12
                )
            )
    counts = {
        v: sum(1 for r in reports if r.verdict.value == v) for v in ("block", "review", "pass")
    }
    n = len(reports)
    lines.append("")
    lines.append(
        f"{n} file{'s' if n != 1 else ''} checked: {counts['block']} block, {counts['review']} "
        f"review, {counts['pass']} pass. Overall verdict: {verdict.value}."
    )
    return "\n".join(lines)


def _where(location) -> str:
    if location is None:
        return ""
    parts = []
    if location.row is not None:
        parts.append("header" if location.row == 0 else f"row {location.row}")
    if location.column:
        parts.append(f"column {location.column}")
    if location.value not in (None, ""):
        parts.append(f"value {location.value}")
    return ", ".join(parts)


@airlock_group.command("verify")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--public-key",
    "public_key",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The releasing node's Ed25519 public key (PEM), e.g. from its /api/public-key.",
)
def verify_bundle_command(bundle: Path, public_key: Path) -> None:
    """Check a released bundle: its signature and every file's SHA-256 and size.

    Exit 0 when the bundle verifies, 1 when it does not (each problem is printed).
    """
    from airlock.service import verify_bundle

    report = verify_bundle(bundle, public_key)
    if report.ok:
        manifest = report.manifest or {}
        request = manifest.get("request", {})
        click.echo(
            f"{bundle.name} verifies: {len(manifest.get('files', []))} files, request "
            f"{request.get('id')} of project {request.get('project')} from node "
            f"{manifest.get('node')}, released {manifest.get('released_at')}"
        )
        return
    click.echo(f"{bundle.name} does NOT verify:", err=True)
    for problem in report.problems:
        click.echo(f"  - {problem}", err=True)
    sys.exit(1)


@airlock_group.group("audit")
def audit_group() -> None:
    """The airlock's hash-chained audit log."""


@audit_group.command("verify")
@click.option(
    "--database-url",
    envvar="TRESOR_AIRLOCK_DATABASE_URL",
    help="The airlock database [default: the site config's].",
)
@click.option(
    "--checkpoints",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The signed checkpoints [default: <state>/airlock/audit-checkpoints.jsonl].",
)
@click.option(
    "--outbox",
    type=click.Path(file_okay=False, path_type=Path),
    help="The released bundles [default: the site config's outbox].",
)
@click.option(
    "--public-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The airlock's public key (PEM) [default: <signing key>.pub].",
)
def audit_verify_command(
    database_url: str | None,
    checkpoints: Path | None,
    outbox: Path | None,
    public_key: Path | None,
) -> None:
    """Check the audit log's hash chain against the signed checkpoints kept outside the
    database and the signed head in every released bundle; exit 1 if an entry was edited,
    deleted or moved, even with every later hash recomputed, and name the first bad entry."""
    from airlock.service import AuditLogUnavailable, verify_audit_log

    try:
        report = verify_audit_log(
            database_url, checkpoints=checkpoints, outbox=outbox, public_key=public_key
        )
    except AuditLogUnavailable as e:
        raise click.ClickException(str(e)) from None
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    if report.ok:
        click.echo(f"audit log verifies: {report.entries} entries, head {report.head}")
        return
    click.echo(f"audit log does NOT verify ({report.entries} entries read):", err=True)
    for problem in report.problems:
        click.echo(f"  - {problem}", err=True)
    if report.first_bad is not None:
        click.echo(f"first bad entry: {report.first_bad}", err=True)
    sys.exit(1)


def register(cli: click.Group) -> None:
    cli.add_command(airlock_group)
