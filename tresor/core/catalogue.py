"""The node's data catalogue: one TOML file per dataset, with its access grants.

A dataset is a read-only VCF Zarr store plus phenotype files. Grants name hub groups (projects):
a user may open a dataset when one of their groups is granted. Admins and Ansible edit these
files; ``tresor demo-data`` registers the demo cohorts. This is the file format, shared by the
researcher library (:mod:`tresor.catalogue`), the node runtime (dataset mounts) and the airlock
(sample IDs); opening the stores is the library's.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
import tomllib
from collections.abc import Collection
from pathlib import Path

import tomli_w

from tresor.core.errors import ConfigError

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DUO = re.compile(r"^DUO:[0-9]{7}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
#: the EU access-right vocabulary (publications.europa.eu/resource/authority/access-right)
ACCESS_RIGHTS = ("PUBLIC", "RESTRICTED", "NON_PUBLIC")


@dataclasses.dataclass(frozen=True)
class DatasetEntry:
    """One catalogue entry. Paths are absolute once loaded.

    The fields after ``contact`` describe the data; ``tresor datasets add`` fills them in, and
    entries written before they existed load with them empty.
    """

    id: str
    title: str
    store: Path
    genome_build: str = "GRCh38"
    description: str = ""
    n_samples: int = 0
    n_variants: int = 0
    phenotypes: dict[str, Path] = dataclasses.field(default_factory=dict)
    grants: tuple[str, ...] = ()
    contact: str = "the node's data access committee"
    #: contigs with variants, in store order
    contigs: tuple[str, ...] = ()
    #: contig -> ploidies of its called calls, e.g. {"chrX": (1, 2)} with men haploid
    ploidy: dict[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)
    #: missing calls / all calls; None when not measured
    missing_rate: float | None = None
    #: source VCF file name -> SHA-256
    sources: dict[str, str] = dataclasses.field(default_factory=dict)
    #: bcftools commands applied to copies of the sources before conversion
    repairs: tuple[str, ...] = ()
    #: SHA-256 over the store's files (tresor.ingest.tree_sha256); "" when not measured
    store_sha256: str = ""

    # -- what a data user needs to decide whether to apply (docs/discovery.md) ---------------
    # Exported as HealthDCAT-AP (tresor.discovery.dcat); entries written before these existed
    # load with the defaults.
    #: free words for search
    keywords: tuple[str, ...] = ()
    #: EU data themes (publications.europa.eu data-theme codes); HealthDCAT-AP wants HEAL
    themes: tuple[str, ...] = ("HEAL",)
    #: who the samples are, in words (e.g. "adults recruited in Denmark")
    population: str = ""
    #: ISO 3166-1 alpha-2 country codes the samples come from
    countries: tuple[str, ...] = ()
    #: first and last collection dates (ISO 8601, "" when not known)
    temporal_start: str = ""
    temporal_end: str = ""
    #: sequence-variant kinds in the store, e.g. SNV, INDEL
    variant_types: tuple[str, ...] = ()
    #: data use conditions as Data Use Ontology codes, e.g. "DUO:0000042" (general research use)
    duo: tuple[str, ...] = ()
    #: EU access-right code: PUBLIC, RESTRICTED or NON_PUBLIC
    access_rights: str = "NON_PUBLIC"
    #: how to apply for access, in words, and where (a URL; "" -> the contact's e-mail)
    access_procedure: str = ""
    access_url: str = ""
    #: e-mail of the contact point ("" -> the first address found in ``contact``)
    contact_email: str = ""
    #: the organisation that publishes the dataset ("" -> the node)
    publisher: str = ""
    #: phenotype columns whose groups the node declares for published summaries (e.g. sex)
    strata: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ConfigError(
                f"dataset id {self.id!r} is not allowed: use lowercase letters, digits, '-', '_'"
            )
        if self.access_rights not in ACCESS_RIGHTS:
            raise ConfigError(
                f"dataset {self.id}: access_rights {self.access_rights!r} is not one of "
                f"{', '.join(ACCESS_RIGHTS)} (the EU access-right vocabulary)"
            )
        if bad := [c for c in self.duo if not _DUO.match(c)]:
            raise ConfigError(
                f"dataset {self.id}: data use conditions {bad} are not DUO codes such as "
                "DUO:0000042 (general research use)"
            )
        if bad := [c for c in self.countries if not _COUNTRY.match(c)]:
            raise ConfigError(
                f"dataset {self.id}: countries {bad} are not ISO 3166-1 alpha-2 codes such as DK"
            )

    @property
    def packed(self) -> Path:
        """The store's packed genotype companion (:func:`packed_companion_path`)."""
        return packed_companion_path(self.store)

    def granted_to(self, groups: Collection[str]) -> bool:
        """True when one of ``groups`` (a user's hub groups) holds a grant for the dataset."""
        return not set(groups).isdisjoint(self.grants)

    def to_toml(self) -> dict:
        d = dataclasses.asdict(self)
        d["store"] = str(self.store)
        d["phenotypes"] = {k: str(v) for k, v in self.phenotypes.items()}
        d["grants"] = list(self.grants)
        d["contigs"] = list(self.contigs)
        d["ploidy"] = {k: list(v) for k, v in self.ploidy.items()}
        d["repairs"] = list(self.repairs)
        for name in _TUPLES:
            d[name] = list(d[name])
        if self.missing_rate is None:  # TOML has no null
            del d["missing_rate"]
        return d

    @classmethod
    def from_toml(cls, data: dict, base: Path) -> DatasetEntry:
        known = {f.name for f in dataclasses.fields(cls)}
        if unknown := sorted(set(data) - known):
            raise ConfigError(f"unknown keys {unknown} in catalogue entry under {base}")
        data = dict(data)
        data["store"] = (base / data["store"]).resolve()
        data["phenotypes"] = {
            k: (base / v).resolve() for k, v in data.get("phenotypes", {}).items()
        }
        data["grants"] = tuple(data.get("grants", ()))
        data["contigs"] = tuple(data.get("contigs", ()))
        data["ploidy"] = {k: tuple(v) for k, v in data.get("ploidy", {}).items()}
        data["repairs"] = tuple(data.get("repairs", ()))
        for name in _TUPLES:
            if name in data:
                data[name] = tuple(data[name])
        return cls(**data)


#: the descriptive fields kept as tuples (TOML lists)
_TUPLES = ("keywords", "themes", "countries", "variant_types", "duo", "strata")


#: Name of a store's packed genotype companion, beside it: ``<store name>`` + this.
PACKED_SUFFIX = ".packed"


def packed_companion_path(store: Path) -> Path:
    """Where the packed genotype companion of ``store`` lives (:mod:`tresor.stats.packed`):
    beside the store, never inside it. It holds the same individual-level data, so whoever
    mounts or copies a store does the same with it (read-only); without it analyses read the
    store, only slower."""
    store = Path(store)
    return store.with_name(store.name + PACKED_SUFFIX)


def catalogue_dir() -> Path:
    """``$TRESOR_CATALOGUE`` (set in the tresor kernel), else the site config's catalogue."""
    if env := os.environ.get("TRESOR_CATALOGUE"):
        return Path(env).expanduser().resolve()
    from tresor.core.site import load_site_config

    return load_site_config().catalogue_path


def load_catalogue(directory: Path | None = None) -> dict[str, DatasetEntry]:
    """All datasets in the catalogue, by id."""
    directory = Path(directory) if directory else catalogue_dir()
    entries: dict[str, DatasetEntry] = {}
    if not directory.is_dir():
        return entries
    for path in sorted(directory.glob("*.toml")):
        try:
            entry = DatasetEntry.from_toml(tomllib.loads(path.read_text("utf-8")), directory)
        except (tomllib.TOMLDecodeError, TypeError, KeyError) as e:
            raise ConfigError(f"catalogue entry {path} is malformed: {e}") from None
        if entry.id != path.stem:
            raise ConfigError(f"catalogue entry {path} has id {entry.id!r}; rename one to match")
        entries[entry.id] = entry
    return entries


def register_dataset(entry: DatasetEntry, directory: Path | None = None) -> Path:
    """Write (or replace) a catalogue entry atomically; returns its path."""
    directory = Path(directory) if directory else catalogue_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{entry.id}.toml"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{entry.id}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            tomli_w.dump(entry.to_toml(), f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
