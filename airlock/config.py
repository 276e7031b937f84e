"""The airlock's settings: one object, built once from the node's site config.

``Settings.from_site(load_site_config())`` is what the service uses; tests build ``Settings``
directly. Values an admin may change at run time (``RuntimeConfig``) start from the site config
and are then kept, with every change audited, in the database.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tresor.core.site import SiteConfig

#: environment variable that overrides the database URL (keeps passwords out of the site file)
DATABASE_URL_ENV = "TRESOR_AIRLOCK_DATABASE_URL"


class RuntimeConfig(BaseModel):
    """What admins may change while the service runs (``PUT /api/config``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approvals_required: int = Field(
        2, ge=2, le=10, description="distinct reviewers, never the requester, who must approve"
    )
    max_file_bytes: int = Field(
        16 * 2**20, ge=1, le=256 * 2**20, description="largest file accepted (at most 256 MiB)"
    )
    max_files_per_request: int = Field(50, ge=1, le=1000)


class Settings(BaseModel):
    """Where the airlock keeps things and whom it serves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    node_name: str = "demo"
    #: URL prefix the service answers under (the hub's JUPYTERHUB_SERVICE_PREFIX)
    base_url: str = "/services/airlock/"
    database_url: str
    workspaces_dir: Path
    store_dir: Path
    outbox_dir: Path
    signing_key_path: Path
    cookie_secret_path: Path
    catalogue_dir: Path | None = None
    #: project groups declared by the site; a request belongs to one of the requester's
    projects: tuple[str, ...] = ()
    defaults: RuntimeConfig = RuntimeConfig()
    #: disclosure-check thresholds from ``[airlock.checks]`` (airlock.checks.config.CheckConfig)
    checks: dict[str, int | float] = {}

    @field_validator("base_url")
    @classmethod
    def _slashes(cls, v: str) -> str:
        return "/" + v.strip("/") + "/" if v.strip("/") else "/"

    @property
    def public_key_path(self) -> Path:
        return self.signing_key_path.with_suffix(".pub")

    @classmethod
    def from_site(cls, site: SiteConfig, *, base_url: str | None = None) -> Settings:
        """Derive the settings from the site config; paths default to ``<state>/airlock``."""
        a = site.airlock
        home = site.state_path / "airlock"
        base = site.source.parent if site.source else Path.cwd()

        def path(value: Path | None, default: Path) -> Path:
            if value is None:
                return default
            value = value.expanduser()
            return (value if value.is_absolute() else base / value).resolve()

        url = os.environ.get(DATABASE_URL_ENV) or a.database_url
        return cls(
            node_name=site.node_name,
            base_url=base_url or os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/airlock/"),
            database_url=url or f"sqlite:///{home / 'airlock.sqlite'}",
            workspaces_dir=site.workspaces_path,
            store_dir=path(a.store_dir, home / "store"),
            outbox_dir=path(a.outbox_dir, home / "outbox"),
            signing_key_path=path(
                a.signing_key, site.state_path / "secrets" / "airlock_signing_key.pem"
            ),
            cookie_secret_path=site.state_path / "secrets" / "airlock_cookie_secret",
            catalogue_dir=site.catalogue_path,
            projects=tuple(sorted(site.projects)),
            checks=dict(a.checks),
            defaults=RuntimeConfig(
                approvals_required=a.approvals_required,
                max_file_bytes=a.max_file_mb * 2**20,
                max_files_per_request=a.max_files_per_request,
            ),
        )
