"""The coordinator's settings: the registry it trusts, its signing key, where it keeps things."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tresor.federation.signing import DEFAULT_MAX_SKEW

#: keeps a database password out of command lines and files
DATABASE_URL_ENV = "TRESOR_FEDERATION_DATABASE_URL"


class CoordinatorSettings(BaseModel):
    """``tresor federation serve`` options; paths left out live under ``data_dir``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    registry_path: Path = Field(description="the federation registry (TOML)")
    signing_key_path: Path = Field(
        description="the coordinator's Ed25519 private key (PEM, 0600), named in the registry"
    )
    data_dir: Path = Field(description="database (SQLite), received bundles, merged results")
    database_url: str | None = Field(
        None, description=f"SQLAlchemy URL (default: SQLite in data_dir; or ${DATABASE_URL_ENV})"
    )
    max_skew: int = Field(DEFAULT_MAX_SKEW, ge=10, le=3600, description="signed calls' clock")
    beacon_anonymous_granularity: Literal["boolean", "count", "record"] = Field(
        "count", description="the most an anonymous Beacon or portal caller gets"
    )
    beacon_daily_budget: int = Field(1000, ge=1, description="Beacon queries per caller a day")
    beacon_per_minute: int = Field(60, ge=1, description="Beacon queries per caller a minute")

    def beacon_access(self):
        from tresor.discovery.beacon import Access

        return Access(
            anonymous_granularity=self.beacon_anonymous_granularity,
            daily_budget=self.beacon_daily_budget,
            per_minute=self.beacon_per_minute,
        )

    @property
    def url(self) -> str:
        return (
            self.database_url
            or os.environ.get(DATABASE_URL_ENV)
            or f"sqlite:///{self.data_dir / 'coordinator.sqlite'}"
        )

    @property
    def bundles_dir(self) -> Path:
        return self.data_dir / "bundles"

    @property
    def incoming_dir(self) -> Path:
        return self.data_dir / "incoming"

    @property
    def results_dir(self) -> Path:
        return self.data_dir / "results"
