"""The registry of output kinds (kinds.toml, plus the node admin's ``kinds_file``) and the
recognition of a table as one of them.

Default deny: the checks pass a file only when it is positively recognised as an aggregate of a
known kind and every rule of that kind holds. A table is recognised by its columns (of the
kinds whose required columns are all present, the one listing most of the table's columns,
then the most specific; a file name ending only breaks ties),
and the recognition is confirmed by content: a per-variant table's chromosome, position and
variant columns must hold chromosomes, positions and variant IDs, so naming the columns of a
per-person table ``CHROM`` and ``POS`` recognises nothing. Kinds marked ``generic`` are
recognised by the rules of their layout (a table of counts, a model, a PCA's variance), some
only once the whole table has been read.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator
from importlib import resources

import numpy as np

from airlock.checks.cells import Chunk, norm
from airlock.checks.filetypes import NUMERIC
from tresor.core.airlock_config import AirlockConfig
from tresor.core.airlock_kinds import KindSpec, alias, load_kinds, parse_kinds

#: layouts whose files a reviewer always looks at
HUMAN_LAYOUTS = ("figure", "document", "notebook")


@dataclasses.dataclass(frozen=True)
class Role:
    """What a column holds (a quantity of tresor.core.airlock_kinds.QUANTITIES) and for whom
    (the stratum: "", "cases" or "controls")."""

    quantity: str
    stratum: str = ""
    #: the number of people the column's name gives ('FRQ_A_1200': 1,200 cases), for a kind's
    #: column named with '{n}'
    people_in_name: int | None = None

    @classmethod
    def parse(cls, text: str) -> Role:
        quantity, _, stratum = text.partition(" ")
        return cls(quantity, stratum)

    @property
    def counted(self) -> bool:
        """Counts of alleles, genotypes or people: a small one is a small group of people
        (the release ledger records them too)."""
        if self.quantity.startswith("genotype_"):
            return self.quantity != "genotype_string"
        return self.quantity in ("allele_count", "allele_number", "people")

    @property
    def numeric_field(self) -> bool:
        """Positions, counts and statistics: numbers that are not identifiers."""
        return self.quantity not in ("variant", "allele", "label")


@dataclasses.dataclass
class Recognition:
    """What a table was recognised as (``kind`` None: not, or not yet) and what its columns
    hold."""

    kind: KindSpec | None = None
    roles: dict[int, Role] = dataclasses.field(default_factory=dict)
    #: columns the kind does not list (checked by every content rule)
    extra: set[int] = dataclasses.field(default_factory=set)
    #: why the table is not recognised (for the finding)
    reason: str = ""

    @property
    def layout(self) -> str | None:
        return self.kind.layout if self.kind else None

    @property
    def per_variant(self) -> bool:
        return self.layout == "per-variant"

    def numeric_field(self, column: int) -> bool:
        """Whether ``column`` is recognised as positions, counts or statistics."""
        role = self.roles.get(column)
        return role is not None and role.numeric_field


# -- the registry ---------------------------------------------------------------------------------


@functools.cache
def builtin_kinds() -> tuple[KindSpec, ...]:
    text = resources.files("airlock.checks").joinpath("kinds.toml").read_text(encoding="utf-8")
    return parse_kinds(text, "airlock/checks/kinds.toml")


def registry(config: AirlockConfig) -> tuple[KindSpec, ...]:
    """The node's kinds: the admin's own (first, so they win ties) and the built-in ones."""
    if not config.kinds_file:
        return builtin_kinds()
    extra = load_kinds(config.kinds_file)
    names = {k.name for k in extra}
    return (*extra, *(k for k in builtin_kinds() if k.name not in names))


def kind_named(config: AirlockConfig, name: str) -> KindSpec:
    return next(k for k in registry(config) if k.name == name)


# -- recognising a table by its columns ----------------------------------------------------------


def _column_alias(name: str) -> str:
    return alias(norm(name))


#: where a kind's column name holds the number of people: PGC's 'FRQ_A_{n}'
PEOPLE_IN_NAME = "{n}"


@functools.cache
def _named_pattern(column: str) -> re.Pattern[str]:
    before, _, after = alias(column).partition(PEOPLE_IN_NAME)
    return re.compile(re.escape(before) + r"([0-9]+)" + re.escape(after))


def _listed(column: str, present: set[str]) -> str | None:
    """The name among ``present`` that a kind's ``column`` names (one with '{n}' in it: a name
    with a number there), or None."""
    if PEOPLE_IN_NAME not in column:
        return alias(column) if alias(column) in present else None
    pattern = _named_pattern(column)
    return next((name for name in sorted(present) if pattern.fullmatch(name)), None)


def match_columns(names: list[str], kinds: tuple[KindSpec, ...], file_name: str = ""
                  ) -> KindSpec | None:  # fmt: skip
    """The kind whose required columns are all among ``names`` and that lists most of them
    (then the most specific)."""
    present = {_column_alias(n) for n in names}
    best: tuple[int, int, int, int] | None = None
    found = None
    for order, kind in enumerate(kinds):
        if kind.generic or not kind.columns:
            continue
        if not all(any(_listed(a, present) for a in group.split("|")) for group in kind.columns):
            continue
        ending = any(file_name.lower().endswith(e.lower()) for e in kind.extensions)
        # the kind that accounts for most of the table's columns, then the most specific
        listed = {_listed(a, present) for c in (*kind.columns, *kind.optional)
                  for a in c.split("|")} - {None}  # fmt: skip
        score = (len(listed), len(kind.columns), int(ending), -order)
        if best is None or score > best:
            best, found = score, kind
    return found


def roles_of(kind: KindSpec, names: list[str]) -> tuple[dict[int, Role], set[int]]:
    """The role of each column of a table recognised as ``kind``, and the columns the kind does
    not list."""
    declared = {alias(c): Role.parse(r) for c, r in kind.roles.items() if PEOPLE_IN_NAME not in c}
    named = [(_named_pattern(c), Role.parse(r)) for c, r in kind.roles.items()
             if PEOPLE_IN_NAME in c]  # fmt: skip
    listed = {alias(a) for c in (*kind.columns, *kind.optional) for a in c.split("|")}
    patterns = [_named_pattern(a) for a in listed if PEOPLE_IN_NAME in a]
    roles: dict[int, Role] = {}
    extra: set[int] = set()
    for i, name in enumerate(names):
        a = _column_alias(name)
        if a in declared:
            roles[i] = declared[a]
            continue
        for pattern, role in named:
            if m := pattern.fullmatch(a):
                roles[i] = dataclasses.replace(role, people_in_name=int(m.group(1)))
                break
        else:
            if a not in listed and not any(p.fullmatch(a) for p in patterns):
                extra.add(i)
    return roles, extra


_CHROM = re.compile(r"^(chr)?([0-9]{1,2}|X|Y|XY|M|MT|x|y|m|mt)$|^NC_0+\d+(\.\d+)?$|^chr\w+$")
_POSITIVE_INT = re.compile(r"^[0-9]+$")


def content_mismatch(kind: KindSpec, roles: dict[int, Role], names: list[str], first: Chunk
                     ) -> str:  # fmt: skip
    """Why the first rows do not hold what a per-variant kind's columns say ('' when they
    do): chromosomes, positions and variant IDs."""
    if kind.layout != "per-variant" or len(first) == 0:
        return ""
    for i, role in roles.items():
        if i >= first.width:
            continue
        values = _present_texts(first, i)
        if not values:
            continue
        if role.quantity == "chromosome":
            share = np.mean([bool(_CHROM.match(v)) for v in values])
            what = "chromosomes"
        elif role.quantity == "position":
            share = np.mean([bool(_POSITIVE_INT.match(v)) for v in values])
            what = "positions"
        elif role.quantity == "variant":
            share = np.mean([any(c.isdigit() for c in v) or v == "." for v in values])
            what = "variant IDs"
        else:
            continue
        if share < 0.9:
            return f"its column {names[i]} does not hold {what}"
    return ""


def _present_texts(chunk: Chunk, i: int, limit: int = 200) -> list[str]:
    values = chunk.column(i).slice(0, limit).to_pylist()
    out = []
    for v in values:
        if v is None:
            continue
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        out.append(str(v).strip())
    return [v for v in out if v]


#: what one value of a column of each quantity looks like (a header's name does not)
_VALUE = {
    "chromosome": re.compile(r"^(chr)?(\d{1,2}|[XYM]|MT)$", re.I),
    "variant": re.compile(r"^(rs\d+|(chr)?\w{1,2}[:_]\d+\S*)$", re.I),
    "allele": re.compile(r"^[ACGTN*-]+$", re.I),
    "label": re.compile(r"."),
}


def headerless_row(fields: list[str], config: AirlockConfig) -> bool:
    """Whether a first row that has text in it is a ``headerless`` kind's data: as many fields
    as the kind has columns, each like a value of its column (a chromosome, a variant ID, an
    allele, a number where the kind holds positions or statistics), where a header has names
    ('SNP', 'BP')."""
    return any(
        roles and all(_VALUE.get(r.quantity, NUMERIC).match(fields[i]) for i, r in roles.items())
        for _, _, roles in _headerless_kinds(config, len(fields))
    )


def name_headerless(names: list[str], first: Chunk, config: AirlockConfig) -> list[str] | None:
    """The column names of a table without a header that a ``headerless`` kind's tool wrote
    (PRS-CS's CHR, SNP, BP, A1, A2 and effect): its width is the kind's and its first rows hold
    what those columns hold (chromosomes, positions, variant IDs); else None."""
    for kind, named, roles in _headerless_kinds(config, len(names)):
        if (
            not content_mismatch(kind, roles, named, first)
            and _genomic(roles, first)
            and _alleles(roles, first)
        ):
            return named
    return None


#: an allele or several: bases, '.', '*' or a symbolic allele (<DEL>), comma-separated
_ALLELES = re.compile(r"^(?:[ACGTN*]+|\.|<[\w:]+>)(?:,(?:[ACGTN*]+|<[\w:]+>))*$", re.I)


def _alleles(roles: dict[int, Role], first: Chunk) -> bool:
    """Whether the allele columns of a table without a header hold alleles (nine in ten): a
    BED file's region names are not PRS-CS's alleles."""
    for i, role in roles.items():
        if role.quantity == "allele" and i < first.width:
            values = _present_texts(first, i)
            if values and np.mean([bool(_ALLELES.match(v)) for v in values]) < 0.9:
                return False
    return True


def _genomic(roles: dict[int, Role], first: Chunk) -> bool:
    """Whether the positions of a table without a header are places in a genome: mostly
    1,000 or more, and a region's end not before its start. A GCTA GRM as text (person i,
    person j, SNPs, relatedness) has a small index where a BED file has its start."""
    columns = [i for i, r in roles.items() if r.quantity == "position" and i < first.width]
    values = [first.numbers(i) for i in columns]
    for v in values:
        v = v[~np.isnan(v)]
        if v.size and np.mean(v >= 1000) < 0.9:
            return False
    if len(values) == 2:
        with np.errstate(invalid="ignore"):
            return bool(np.mean(values[1] >= values[0]) >= 0.99)
    return True


def _headerless_kinds(config: AirlockConfig, width: int
                      ) -> Iterator[tuple[KindSpec, list[str], dict[int, Role]]]:  # fmt: skip
    """The ``headerless`` kinds of ``width`` columns: each with its column names in order
    (the first of 'A|B') and their roles."""
    for kind in registry(config):
        if kind.headerless and len(kind.columns) == width:
            named = [c.split("|")[0] for c in kind.columns]
            yield kind, named, roles_of(kind, named)[0]


def recognise_columns(names: list[str], first: Chunk, config: AirlockConfig, file_name: str = ""
                      ) -> Recognition:  # fmt: skip
    """A table recognised by its columns (a specific tool's output), confirmed by its first
    rows; an empty recognition when no kind's columns match."""
    kind = match_columns(names, registry(config), file_name)
    if kind is None:
        return Recognition()
    roles, extra = roles_of(kind, names)
    if mismatch := content_mismatch(kind, roles, names, first):
        return Recognition(reason=f"its columns are named like {kind.title}, but {mismatch}")
    return Recognition(kind, roles, extra)
