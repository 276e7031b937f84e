"""The airlock's settings: where it keeps things, whom it serves, and its limits.

``Settings.from_site(load_site_config())`` is what the service uses; tests build ``Settings``
directly. The limits are one object, :class:`~tresor.core.airlock_config.AirlockConfig`,
declared once in the core with the site config's format: ``Settings.defaults`` holds the site
config's values, and admins' changes to those they may change at run time
(``AirlockConfig.ADMIN_SETTINGS``) are kept, with every change audited, in the database.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from tresor.core.airlock_config import AirlockConfig, explain
from tresor.core.errors import ConfigError

if TYPE_CHECKING:
    from tresor.core.site import SiteConfig

#: environment variable that overrides the database URL (keeps passwords out of the site file)
DATABASE_URL_ENV = "TRESOR_AIRLOCK_DATABASE_URL"


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
    #: the signed checkpoints of the audit log, outside the database (airlock.anchors)
    audit_checkpoints_path: Path
    cookie_secret_path: Path
    catalogue_dir: Path | None = None
    #: project groups declared by the site; a request belongs to one of the requester's
    projects: tuple[str, ...] = ()
    #: the limits from the site config; admins' changes in the database take precedence
    defaults: AirlockConfig = AirlockConfig()
    #: the node's federation agent (``[federation]`` of the site config): the hub service whose
    #: token acts as the account ``federation_account`` with the hub groups
    #: ``federation_groups``; only that account makes requests bound to a federated request
    federation_service: str | None = None
    federation_account: str | None = None
    federation_groups: tuple[str, ...] = ()

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
        federation = site.federation
        if federation.enabled:
            fed = {
                "federation_service": federation.hub_service,
                "federation_account": federation.account,
                "federation_groups": tuple(sorted(site.groups_of(federation.account))),
            }
        else:
            fed = {}
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
            audit_checkpoints_path=home / "audit-checkpoints.jsonl",
            cookie_secret_path=site.state_path / "secrets" / "airlock_cookie_secret",
            catalogue_dir=site.catalogue_path,
            projects=tuple(sorted(site.projects)),
            defaults=a.config,
            **fed,
        )


def load_check_config(path: str | Path) -> AirlockConfig:
    """The limits in a TOML file, for ``tresor airlock check --config``: a site config (its
    ``[airlock]`` section with ``[airlock.checks]``), or thresholds at top level. Unknown keys
    and values out of bounds are errors that say which and why."""
    from tresor.core.site import AirlockSettings

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read airlock check settings {path}: {e.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from None
    try:
        if isinstance(data.get("airlock"), dict):  # a site config
            return AirlockSettings.model_validate(data["airlock"]).config
        return AirlockConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"{path}: {explain(e, what='airlock check setting')}") from None
