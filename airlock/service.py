"""The airlock's public functions for tools outside the service: the ``tresor airlock``
commands call these, never the service's database layer or settings.

- :func:`node_check_context`: the context the node's checks run with (thresholds from a file or
  the defaults, the sample IDs of the datasets the user's projects are granted), for ``tresor
  airlock check``; the checks
  themselves are :func:`airlock.checks.check_paths` and :func:`airlock.checks.check_file`;
- :func:`verify_bundle`: a released bundle's signature and files;
- :func:`verify_audit_log`: the audit log's hash chain, against the signed checkpoints outside
  the database and the released bundles' signed heads.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from airlock.exceptions import AuditLogUnavailable

__all__ = ["AuditLogUnavailable", "node_check_context", "verify_audit_log", "verify_bundle"]

if TYPE_CHECKING:
    from airlock.audit import ChainReport
    from airlock.bundles import BundleReport
    from airlock.checks.context import CheckContext
    from airlock.config import Settings


def node_check_context(
    *,
    config_file: Path | None = None,
    catalogue: Path | None = None,
    groups: Collection[str] | None = None,
) -> tuple[CheckContext, list[str]]:
    """The check context on this node, and notes for the user (where the sample IDs came
    from, or why there are none). ``config_file``: limits in TOML (a site config, or thresholds
    at top level; the defaults without one), errors raise ``ConfigError``; ``catalogue``:
    another catalogue than the node's; ``groups``: the user's hub groups, so that only the
    datasets their projects are granted are matched (no oracle: what a check tells a
    researcher never depends on a dataset they may not open). None: every dataset the
    catalogue lists (a node admin)."""
    from airlock.checks.context import CheckContext
    from airlock.config import load_check_config
    from airlock.samples import catalogue_samples
    from tresor.core.airlock_config import AirlockConfig

    config = load_check_config(config_file) if config_file else AirlockConfig()
    samples = catalogue_samples(catalogue, groups)
    return CheckContext(config=config, datasets=samples.datasets), [samples.note]


def verify_bundle(bundle: Path, public_key: Path) -> BundleReport:
    """Check a released bundle against the releasing node's public key (PEM file)."""
    from airlock import bundles

    return bundles.verify_bundle(bundle, bundles.load_public_key(public_key))


def verify_audit_log(
    database_url: str | None = None,
    *,
    checkpoints: Path | None = None,
    outbox: Path | None = None,
    public_key: Path | None = None,
) -> ChainReport:
    """Check the audit log in ``database_url`` against its hash chain, the checkpoints file and
    the bundles in the outbox, with the airlock's public key (PEM); what is not given is the
    site config's. Raises :class:`AuditLogUnavailable` when there is nothing to read."""
    import sqlalchemy.exc

    from airlock import anchors, bundles
    from airlock.db.data_access import DataAccess
    from airlock.db.engine import make_engine
    from airlock.exceptions import IntegrityError

    site: list[Settings] = []

    def settings() -> Settings:
        if not site:
            from airlock.config import Settings
            from tresor.core.site import load_site_config

            site.append(Settings.from_site(load_site_config()))
        return site[0]

    database_url = database_url or settings().database_url
    if database_url.startswith("sqlite:///") and not Path(database_url[10:]).is_file():
        raise AuditLogUnavailable(f"there is no airlock database at {database_url[10:]}")
    public_key = public_key or settings().public_key_path
    try:
        key = bundles.load_public_key(public_key)
    except (OSError, IntegrityError) as e:
        raise AuditLogUnavailable(
            f"cannot read the airlock's public key {public_key} ({e}); give it with --public-key"
        ) from None
    engine = make_engine(database_url)
    try:
        with DataAccess(engine).read() as r:
            return anchors.verify_audit_log(
                r,
                checkpoints=checkpoints or settings().audit_checkpoints_path,
                outbox=outbox or settings().outbox_dir,
                public_key=key,
            )
    except (sqlalchemy.exc.SQLAlchemyError, RuntimeError) as e:
        raise AuditLogUnavailable(
            f"cannot read the audit log ({e.__class__.__name__}: {e}); is this an airlock "
            "database, migrated with `python -m airlock migrate`?"
        ) from None
    finally:
        engine.dispose()
