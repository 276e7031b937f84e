"""The format of the airlock's registry of output kinds (``airlock/checks/kinds.toml``, and the
node admin's own file named by ``[airlock.checks] kinds_file``).

A kind says how a file is recognised (its required columns, or a layout the checks recognise by
content), what its columns are (the counts of people and of alleles, the frequencies, the
columns that are never counts of people) and so which rules apply. The checks pass a file only
when it is positively recognised as an aggregate of a known kind; see docs/airlock-checks.md.

Declared here, in the core, so that a node's site config is checked when it is loaded: a
misspelt key, an unknown layout or role, or a role for a column the kind does not list is an
error that names the kind and the key.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

#: what the checks do with a kind: its rules
Layout = Literal[
    "per-variant",  # one row per variant: allele counts per stratum, observations, GWAS rows
    "counts",  # counts of people (and statistics) by group: cell counts, dominance, margins
    "model",  # model coefficients: residual degrees of freedom
    "variance",  # explained variance or eigenvalues of a PCA (one row per component)
    "individual-level",  # one row (or column) per person: always blocked
    "text",  # prose, logs, model summaries: identifiers, sample IDs, embedded tables
    "figure",  # PNG, SVG: a reviewer looks at every figure
    "document",  # PDF: a reviewer reads it
    "notebook",  # Jupyter notebooks: a reviewer reads code and outputs
]

#: what a column holds; a stratum (" cases", " controls") may follow the allele and people roles
QUANTITIES = (
    "allele_count",  # copies of one allele (or a list "a,b" / "[a,b]" per ALT)
    "allele_counts",  # copies of every allele, REF first (Hail's AC arrays)
    "allele_number",  # alleles observed (AN)
    "allele_freq",  # frequency of the counted allele; times AN (or 2N) it is an allele count
    "people",  # people observed (N); at least the minimum cell count
    "genotype_hom_x",  # people homozygous for the counted allele
    "genotype_het",  # heterozygous people
    "genotype_hom_y",  # people homozygous for the other allele
    "genotype_hap_x",  # haploid calls of the counted allele
    "genotype_hap_y",  # haploid calls of the other allele
    "genotype_string",  # plink 1.9's GENO "hom/het/hom" counts of people
    "missing",  # missing calls: not disclosive, never suppressed
    "not_people",  # counts of studies, variants, ...: never counts of people
    "statistic",  # effects, errors, p-values, scores: never counts
    "chromosome",
    "position",
    "variant",  # variant identifier
    "allele",
    "label",  # text that names a row (a group, a test)
    "flag",  # a boolean about the row (SUPPRESSED: its counts withheld): neither key nor count
)
_ROLE = re.compile(rf"^({'|'.join(QUANTITIES)})( (cases|controls))?$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class KindSpec(BaseModel):
    """One kind of output file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="short id shown in findings, e.g. plink2.afreq")
    title: str = Field(description="what the file is, for people")
    layout: Layout
    columns: tuple[str, ...] = Field(
        (), description="required columns; 'A|B' accepts either; compared without case and "
        "'#'; '{n}' in a name stands for the number of people the tool writes there (PGC's "
        "FRQ_A_{n}), which then counts that column's stratum"
    )  # fmt: skip
    optional: tuple[str, ...] = Field((), description="further columns the tool may write")
    roles: dict[str, str] = Field(
        {}, description="column -> what it holds (see QUANTITIES), e.g. 'allele_freq cases'"
    )
    extensions: tuple[str, ...] = Field((), description="usual file name endings (a hint only)")
    generic: bool = Field(
        False, description="recognised by the checks' rules for its layout, not by columns"
    )
    summary_statistics: bool = Field(
        False, description="genome-wide results: streamed and accepted at any size up to "
        "max_summary_statistics_bytes"
    )  # fmt: skip
    note: str = Field("", description="said in findings (for individual-level kinds: why)")
    headerless: bool = Field(
        False, description="the tool writes no header: a table without one, as wide as "
        "'columns', is read with these names in this order (and recognised if its content fits)"
    )  # fmt: skip

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"kind name {v!r} must be lower case letters, digits, '.', '_', '-'")
        return v

    @field_validator("roles")
    @classmethod
    def _roles(cls, v: dict[str, str]) -> dict[str, str]:
        for column, role in v.items():
            if not _ROLE.match(role):
                raise ValueError(
                    f"role {role!r} of column {column!r} is not one of "
                    f"{', '.join(QUANTITIES)} (optionally followed by ' cases' or ' controls')"
                )
        return v

    @model_validator(mode="after")
    def _consistent(self) -> KindSpec:
        if not self.generic and not self.columns and self.layout not in (
            "text", "figure", "document", "notebook"
        ):  # fmt: skip
            raise ValueError(f"kind {self.name}: give its required columns, or generic = true")
        listed = {alias(a) for c in (*self.columns, *self.optional) for a in c.split("|")}
        if unknown := [c for c in self.roles if alias(c) not in listed]:
            raise ValueError(
                f"kind {self.name}: roles name columns that are neither in columns nor in "
                f"optional: {', '.join(unknown)}"
            )
        return self


class KindFile(BaseModel):
    """A registry file: ``[[kind]]`` tables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: tuple[KindSpec, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> KindFile:
        names = [k.name for k in self.kind]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"kinds named more than once: {', '.join(dupes)}")
        return self


def alias(column: str) -> str:
    """A column name as kinds compare it: lower case, without a leading '#'."""
    return column.strip().lstrip("#").strip().lower()


class KindsFileError(ValueError):
    """A registry file that cannot be used; the message names the file and the problem."""


def parse_kinds(text: str, source: str) -> tuple[KindSpec, ...]:
    """The kinds of a registry file's ``text``; :class:`KindsFileError` says what is wrong."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise KindsFileError(f"kinds file {source} is not valid TOML: {e}") from None
    try:
        return KindFile.model_validate(raw).kind
    except ValidationError as e:
        problems = []
        for err in e.errors():
            where = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown key {where}")
            else:
                problems.append(f"{where or '(top level)'}: {err['msg']}")
        raise KindsFileError(f"kinds file {source} is invalid: {'; '.join(problems)}") from None


def load_kinds(path: str | Path) -> tuple[KindSpec, ...]:
    """The kinds of the registry file at ``path`` (read again only when it changes)."""
    path = Path(path)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as e:
        raise KindsFileError(f"kinds file {path} cannot be read: {e.strerror}") from None
    return _load(str(path), mtime)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: int) -> tuple[KindSpec, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise KindsFileError(f"kinds file {path} cannot be read: {e.strerror}") from None
    return parse_kinds(text, path)
