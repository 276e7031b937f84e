"""The node's site configuration: one TOML file that says how this node runs.

``jupyterhub_config.py``, ``tresor node start`` and the airlock all read it. The path comes from
``TRESOR_SITE_CONFIG``; without it, the embedded local default in ``config/site.local.toml``.
Unknown keys are errors, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tresor.errors import ConfigError
from tresor.paths import DEFAULT_SITE_CONFIG, default_state_dir

#: Hub groups with a fixed meaning; each has a least-privilege role (tresor.hub.roles).
ROLE_GROUPS = ("researchers", "airlock-reviewers", "admins")

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def _check_name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"{what} {value!r} is not allowed: use 1-32 lowercase letters, digits, '-' or '_', "
            "starting with a letter"
        )
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSettings(_Section):
    """Where the hub and its proxy listen. The local profile only ever binds loopback."""

    ip: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535, description="public proxy port (the URL users open)")
    hub_port: int = Field(8081, ge=1, le=65535, description="hub's internal API port")
    proxy_api_port: int = Field(8001, ge=1, le=65535, description="proxy's REST API port")
    idle_timeout_seconds: int = Field(3600, ge=60, description="idle single-user servers stop")


class AccountsSettings(_Section):
    """Local accounts (local profile) and who holds which role."""

    researchers: list[str] = []
    airlock_reviewers: list[str] = []
    admins: list[str] = []

    @field_validator("researchers", "airlock_reviewers", "admins")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        return [_check_name(n, "user name") for n in names]

    @property
    def role_groups(self) -> dict[str, list[str]]:
        return {
            "researchers": list(self.researchers),
            "airlock-reviewers": list(self.airlock_reviewers),
            "admins": list(self.admins),
        }

    @property
    def all_users(self) -> list[str]:
        return sorted({*self.researchers, *self.airlock_reviewers, *self.admins})


class ProjectSettings(_Section):
    """A project: a hub group of researchers; dataset grants name projects."""

    description: str = ""
    members: list[str] = []


class DemoSettings(_Section):
    """Simulated demo cohorts created at first start of a local node."""

    enabled: bool = True
    samples_per_cohort: int = Field(300, ge=20)
    contigs: int = Field(2, ge=1, le=22)
    contig_length: int = Field(2_000_000, ge=10_000)
    seed: int = 42
    #: dataset id -> groups (projects) granted access
    grants: dict[str, list[str]] = {}


class AirlockSettings(_Section):
    """The airlock service, registered with the hub as a managed service."""

    port: int = Field(8090, ge=1, le=65535)


class SiteConfig(_Section):
    """The whole site configuration. Paths left empty are derived from ``state_dir``."""

    profile: Literal["local", "docker"] = "local"
    node_name: str = "demo"
    state_dir: Path | None = None
    catalogue_dir: Path | None = None
    hub: HubSettings = HubSettings()
    accounts: AccountsSettings = AccountsSettings()
    projects: dict[str, ProjectSettings] = {}
    demo: DemoSettings = DemoSettings()
    airlock: AirlockSettings = AirlockSettings()
    #: settings of the production profile, read by tresor.hub.docker_profile
    docker: dict = {}
    #: where this config was read from (set by load_site_config)
    source: Path | None = Field(None, exclude=True)

    @field_validator("node_name")
    @classmethod
    def _node_name(cls, v: str) -> str:
        return _check_name(v, "node_name")

    @field_validator("projects")
    @classmethod
    def _project_names(cls, projects: dict[str, ProjectSettings]) -> dict:
        for name in projects:
            _check_name(name, "project name")
            if name in ROLE_GROUPS:
                raise ValueError(f"project name {name!r} is reserved for a role group")
        return projects

    @model_validator(mode="after")
    def _members_are_accounts(self) -> SiteConfig:
        known = set(self.accounts.all_users)
        for name, project in self.projects.items():
            if unknown := sorted(set(project.members) - known):
                raise ValueError(
                    f"project {name!r} lists members that are not accounts: {', '.join(unknown)}; "
                    "add them under [accounts] first"
                )
        return self

    # -- derived paths -------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return (self.state_dir or default_state_dir()).expanduser().resolve()

    @property
    def catalogue_path(self) -> Path:
        return (self.catalogue_dir or self.state_path / "catalogue").expanduser().resolve()

    @property
    def workspaces_path(self) -> Path:
        return self.state_path / "workspaces"

    @property
    def demo_data_path(self) -> Path:
        return self.state_path / "demo-data"

    @property
    def hub_groups(self) -> dict[str, list[str]]:
        """Every hub group with its members: the role groups, then one group per project."""
        groups = self.accounts.role_groups
        groups.update({name: list(p.members) for name, p in self.projects.items()})
        return groups

    @property
    def public_url(self) -> str:
        return f"http://{self.hub.ip}:{self.hub.port}/"


def site_config_path() -> Path:
    """The site config file in force: ``$TRESOR_SITE_CONFIG`` or the local default."""
    return Path(os.environ.get("TRESOR_SITE_CONFIG") or DEFAULT_SITE_CONFIG).expanduser().resolve()


def load_site_config(path: str | os.PathLike | None = None) -> SiteConfig:
    """Read and validate a site config; errors name the file and the key to fix."""
    path = Path(path).expanduser().resolve() if path else site_config_path()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"site config {path} does not exist; set TRESOR_SITE_CONFIG to a site config file "
            f"(the local default is {DEFAULT_SITE_CONFIG})"
        ) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"site config {path} is not valid TOML: {e}") from None
    try:
        config = SiteConfig.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in e.errors()
        )
        raise ConfigError(f"site config {path} is invalid: {problems}") from None
    # relative paths in the file are relative to the file
    updates: dict = {"source": path}
    for key in ("state_dir", "catalogue_dir"):
        value = getattr(config, key)
        if value is not None and not value.expanduser().is_absolute():
            updates[key] = (path.parent / value).resolve()
    return config.model_copy(update=updates)
