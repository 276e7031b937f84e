"""The node's disclosure thresholds: defaults from the design brief, overridable from TOML.

A node sets them in a TOML file, either at top level or under ``[airlock.checks]`` of its site
config::

    [airlock.checks]
    min_cell_count = 20          # All of Us uses 20
    max_file_bytes = 33_554_432

Unknown keys are errors, so a typo never silently falls back to a default. The sample IDs of
the node's datasets are not configuration: the caller passes them in (``sample_ids``), because
they come from the catalogue, not from a file an admin edits.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tresor.core.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class CheckConfig:
    """Thresholds of the disclosure rules. Sources of the defaults are in brackets."""

    #: smallest count of individuals allowed in a non-zero cell [ACRO, NHS SDE; All of Us: 20]
    min_cell_count: int = 10
    #: smallest minor allele count per variant row, in every stratum shown [FinnGen MAC>=10]
    min_minor_allele_count: int = 10
    #: released counts of individuals should be multiples of this; 0 or 1 turns the rule off
    #: [OpenSAFELY, ACRO]
    rounding_base: int = 5
    #: p% dominance: a cell fails when (total - largest - second) < p * largest [ACRO]
    p_percent: float = 0.10
    #: N-k dominance: a cell fails when its N largest contributions are >= k of its total [ACRO]
    nk_n: int = 2
    nk_k: float = 0.90
    #: smallest residual degrees of freedom of a model [ACRO]
    min_residual_dof: int = 10
    #: files above this size are blocked [OpenSAFELY: 16 MB]
    max_file_bytes: int = 16 * 1024 * 1024
    #: tables with more data rows than this need a reviewer's look [OpenSAFELY: 5,000]
    max_table_rows: int = 5000
    #: this many columns of 0/1/2 genotype codes make a table individual-level
    genotype_matrix_min_columns: int = 10
    #: lines (records) longer than this cannot be shown to a reviewer; they block
    max_line_bytes: int = 1024 * 1024
    #: JSON documents and notebooks are parsed whole; above this size they block
    max_parse_bytes: int = 64 * 1024 * 1024
    #: findings listed per rule and file; further ones are counted in one summary finding
    max_findings_per_rule: int = 20
    #: sample IDs of the node's datasets; cells, headers and words equal to one are blocked.
    #: Not read from TOML: pass ``sample_ids=`` (see ``tresor.cli.airlock.catalogue_sample_ids``).
    sample_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "sample_ids":
                if not isinstance(value, frozenset):
                    object.__setattr__(self, f.name, frozenset(str(v) for v in value))
                continue
            want = float if f.type == "float" else int
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"airlock check setting {f.name} must be a number, not {value!r}")
            if want is int and not float(value).is_integer():
                raise ConfigError(f"airlock check setting {f.name} must be a whole number")
            object.__setattr__(self, f.name, want(value))
        for name in ("p_percent", "nk_k"):
            if not 0 < getattr(self, name) <= 1:
                raise ConfigError(f"airlock check setting {name} must be in (0, 1]")
        for name in ("nk_n", "max_line_bytes", "max_parse_bytes", "max_findings_per_rule"):
            if getattr(self, name) < 1:
                raise ConfigError(f"airlock check setting {name} must be at least 1")
        for f in dataclasses.fields(self):
            if f.name != "sample_ids" and getattr(self, f.name) < 0:
                raise ConfigError(f"airlock check setting {f.name} must not be negative")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CheckConfig:
        """Thresholds from a parsed TOML table; unknown keys are errors."""
        known = {f.name for f in dataclasses.fields(cls)} - {"sample_ids"}
        if unknown := sorted(set(data) - known):
            raise ConfigError(
                f"unknown airlock check settings: {', '.join(unknown)}; "
                f"known ones are: {', '.join(sorted(known))}"
            )
        return cls(**data)

    def with_sample_ids(self, sample_ids: Iterable[str]) -> CheckConfig:
        """The same thresholds, matching values against ``sample_ids``."""
        return dataclasses.replace(self, sample_ids=frozenset(str(s) for s in sample_ids))

    @property
    def rounding_on(self) -> bool:
        return self.rounding_base > 1


def load_check_config(path: str | Path) -> CheckConfig:
    """Read thresholds from ``path``: the table ``[airlock.checks]`` if there is one (a site
    config), otherwise the top-level keys."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read airlock check settings {path}: {e.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from None
    section = (
        data.get("airlock", {}).get("checks") if isinstance(data.get("airlock"), dict) else None
    )
    if section is None and "airlock" in data:
        # a site config without [airlock.checks]: the defaults apply
        section = {}
    try:
        return CheckConfig.from_mapping(data if section is None else section)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
