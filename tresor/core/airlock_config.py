"""The airlock's configuration, declared once: every limit with its default and its bounds.

It is part of the site config's format (``[airlock]`` and ``[airlock.checks]``, read by
:mod:`tresor.core.site`), so a node's file is checked when it is loaded. The airlock validates
through the same declarations whatever else sets a limit: an admin's change (the web form and
``PATCH /api/config``), the thresholds file of ``tresor airlock check --config``. Defaults and
their sources (in brackets) follow the design brief.

Two groups: :class:`ReviewLimits`, what the service enforces and admins change while it runs,
and :class:`CheckThresholds`, what the disclosure checks apply. :class:`AirlockConfig` is both,
flat: the one object the service and the checks read. Two size limits, one declaration each:
``max_summary_statistics_bytes``, the largest file the airlock accepts (recognised genome-wide
summary statistics up to it are streamed and checked; a larger file is refused when added), and
``max_file_bytes``, above which any other file needs a reviewer's close look.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

MiB = 2**20
GiB = 2**30


def _number(value: Any) -> Any:
    """Numbers only: pydantic would also take ``true`` or ``"10"`` from a TOML file. (None is
    left to the type: it is "unchanged" where a setting is optional, as in an update.)"""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise PydanticCustomError(
            "not_a_number", "Input should be a number, not {value}", {"value": repr(value)}
        )
    return value


Whole = Annotated[int, BeforeValidator(_number)]
Real = Annotated[float, BeforeValidator(_number)]


class _Declared(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckThresholds(_Declared):
    """Thresholds of the disclosure rules (``[airlock.checks]``)."""

    min_cell_count: Whole = Field(
        10, ge=0, description="smallest count of individuals in a non-zero cell [ACRO, NHS SDE; "
        "All of Us: 20]"
    )  # fmt: skip
    min_minor_allele_count: Whole = Field(
        10, ge=0, description="smallest minor allele count per variant row, in every stratum "
        "shown [FinnGen MAC>=10]"
    )  # fmt: skip
    rounding_base: Whole = Field(
        5, ge=0, description="released counts of individuals should be multiples of this; 0 or "
        "1 turns the rule off [OpenSAFELY, ACRO]"
    )  # fmt: skip
    p_percent: Real = Field(
        0.10, gt=0, le=1, description="p% dominance: a cell fails when (total - largest - "
        "second) < p * largest [ACRO]"
    )  # fmt: skip
    nk_n: Whole = Field(
        2, ge=1, description="N-k dominance: a cell fails when its N largest contributions are "
        ">= k of its total [ACRO]"
    )  # fmt: skip
    nk_k: Real = Field(0.90, gt=0, le=1, description="the k of N-k dominance [ACRO]")
    min_residual_dof: Whole = Field(
        10, ge=0, description="smallest residual degrees of freedom of a model [ACRO]"
    )
    max_table_rows: Whole = Field(
        5000, ge=0, description="tables with more data rows need a reviewer's close look; 0 "
        "turns the rule off [OpenSAFELY: 5,000]"
    )  # fmt: skip
    genotype_matrix_min_columns: Whole = Field(
        10, ge=0, description="this many columns of 0/1/2 genotype codes make a table "
        "individual-level"
    )  # fmt: skip
    max_line_bytes: Whole = Field(
        MiB, ge=1, description="longer lines (records) cannot be shown to a reviewer; they block"
    )
    max_parse_bytes: Whole = Field(
        64 * MiB, ge=1, description="JSON documents, notebooks and SVG are parsed whole; larger "
        "ones block"
    )  # fmt: skip
    max_findings_per_rule: Whole = Field(
        20, ge=1, description="findings listed per rule and file; further ones are counted in "
        "one summary finding"
    )  # fmt: skip
    kinds_file: Path | None = Field(
        None, description="the node's own output kinds, added to the built-in registry "
        "(airlock/checks/kinds.toml, same format); an absolute path"
    )  # fmt: skip

    @field_validator("kinds_file")
    @classmethod
    def _kinds_file(cls, v: Path | None) -> Path | None:
        """Read and validated when the configuration is loaded, so a mistake is an error then."""
        if v is None:
            return v
        from tresor.core.airlock_kinds import KindsFileError, load_kinds

        if not v.is_absolute():
            raise ValueError(f"kinds_file {v} must be an absolute path")
        try:
            load_kinds(v)
        except KindsFileError as e:
            raise ValueError(str(e)) from None
        return v

    @property
    def rounding_on(self) -> bool:
        return self.rounding_base > 1


class ReviewLimits(_Declared):
    """What the service enforces on requests; admins change these while it runs."""

    approvals_required: Whole = Field(
        2, ge=2, le=10, description="distinct reviewers, never the requester, who must approve"
    )
    max_file_bytes: Whole = Field(
        16 * MiB, ge=1, le=256 * MiB, description="files above this size need a reviewer's "
        "close look, unless they are recognised summary statistics [OpenSAFELY: 16 MB]"
    )  # fmt: skip
    max_summary_statistics_bytes: Whole = Field(
        4 * GiB, ge=1, le=64 * GiB, description="largest file the airlock accepts: recognised "
        "genome-wide summary statistics up to this size are streamed and checked row by row; "
        "larger files are refused when added"
    )  # fmt: skip
    max_files_per_request: Whole = Field(50, ge=1, le=1000, description="files in one request")


class AirlockConfig(ReviewLimits, CheckThresholds):
    """Every limit of the airlock, flat: the one configuration the service and checks read."""

    #: what admins may change while the service runs; the rest comes from the site config
    ADMIN_SETTINGS: ClassVar[tuple[str, ...]] = tuple(ReviewLimits.model_fields)

    @classmethod
    def of(cls, limits: ReviewLimits, checks: CheckThresholds) -> AirlockConfig:
        """The site config's two sections as one object."""
        return cls(
            **{name: getattr(limits, name) for name in ReviewLimits.model_fields},
            **checks.model_dump(),
        )

    @classmethod
    def bounds(cls, name: str) -> tuple[float | None, float | None]:
        """The smallest and largest value of setting ``name`` (None: unbounded)."""
        limits = _limits(cls.model_fields[name])
        return limits.get("ge", limits.get("gt")), limits.get("le", limits.get("lt"))


def explain(
    error: ValidationError, model: type[BaseModel] = AirlockConfig, what: str = "airlock setting"
) -> str:
    """A validation error of ``model`` as sentences that name each setting and say what it
    must be (``airlock check setting p_percent must be in (0, 1]``)."""
    problems = []
    if unknown := [str(e["loc"][-1]) for e in error.errors() if e["type"] == "extra_forbidden"]:
        known = ", ".join(sorted(model.model_fields))
        problems.append(f"unknown {what}s: {', '.join(unknown)}; known ones are: {known}")
    for e in error.errors():
        if e["type"] == "value_error" and not e["loc"]:  # a whole section's (its own words)
            problems.append(str(e["ctx"]["error"]))
        elif e["type"] != "extra_forbidden":
            name = ".".join(str(p) for p in e["loc"])
            problems.append(f"{what} {name} {_must(e, model)}")
    return "; ".join(problems)


def _limits(field: FieldInfo) -> dict[str, Any]:
    """A field's bounds by kind: ``{"ge": 0, "le": 1}``."""
    limits = {}
    for bound in field.metadata:
        for kind in ("ge", "gt", "le", "lt"):
            if isinstance(getattr(bound, kind, None), (int, float)):
                limits[kind] = getattr(bound, kind)
    return limits


def _must(error: Any, model: type[BaseModel]) -> str:
    kind = error["type"]
    field = model.model_fields.get(str(error["loc"][-1]))
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal") and field:
        return _range(_limits(field))
    if kind == "int_from_float":
        return "must be a whole number"
    if kind in ("not_a_number", "int_type", "int_parsing", "float_type", "float_parsing"):
        return f"must be a number, not {error['input']!r}"
    return f"is not valid: {error['msg']}"


def _range(limits: dict[str, Any]) -> str:
    """Every setting has a lower bound (ge or gt), some an upper one (le)."""
    if "le" in limits:
        low = f"[{limits['ge']}" if "ge" in limits else f"({limits['gt']}"
        return f"must be in {low}, {limits['le']}]"
    if limits.get("ge") == 0:
        return "must not be negative"
    return f"must be at least {limits.get('ge', limits.get('gt'))}"
