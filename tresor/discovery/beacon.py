"""A Beacon v2 API (framework and genomicVariations) over allele-frequency summaries.

The coordinator serves it from the summaries every node released (its portal), and a node for
its own researchers from its local summaries (``tresor discovery beacon``); both build it with
:func:`router` over a :class:`Summaries` source. Coordinates are Beacon's: ``start`` is 0-based,
``end`` exclusive, so a VCF POS p is ``start = p - 1``. Queries:

- sequence: ``referenceName``, ``start`` (one value), ``referenceBases``, ``alternateBases``;
- range: ``referenceName``, ``start``, ``end``: variants overlapping [start, end) (REF at most
  :data:`MAX_REF` bases long), optionally ``variantType``/``alternateBases``;
- bracket: ``start=s1,s2`` and ``end=e1,e2``: variants starting in [s1, s2] and ending in
  [e1, e2].

What a variant below the floor looks like: the summaries leave it out, so every granularity
answers as for an absent variant (docs/discovery.md, "What the summaries reveal").
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tresor.core.version import __version__
from tresor.discovery import beacon_models as m
from tresor.discovery.dcat import DatasetCard
from tresor.discovery.summary import ALL
from tresor.discovery.vocab import DUO

#: the longest REF a range query looks back for
MAX_REF = 1000
#: decoded row groups kept per summary file
CACHED_GROUPS = 32
GV_SCHEMA = {
    "entityType": "genomicVariation",
    "schema": "beacon-genomicVariation-v2.0.0",
}
DATASET_SCHEMA = {"entityType": "dataset", "schema": "beacon-dataset-v2.0.0"}


class BeaconError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def contig_key(name: str) -> str:
    """``chr21``, ``21`` and ``CHR21`` name one contig."""
    return name.lower().removeprefix("chr")


# -- summaries ----------------------------------------------------------------------------------
class SummaryFile:
    """One summary table (Parquet, sorted by position within each contig, one contig per row
    group), read a row group at a time: the row groups' position ranges come from the footer,
    so a lookup decodes only the groups that can hold the variant."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.file = pq.ParquetFile(self.path)
        meta = self.file.metadata
        names = self.file.schema_arrow.names
        chrom, pos = names.index("CHROM"), names.index("POS")
        groups: dict[str, list[tuple[int, int, int]]] = collections.defaultdict(list)
        for i in range(meta.num_row_groups):
            rg = meta.row_group(i)
            c, p = rg.column(chrom).statistics, rg.column(pos).statistics
            if rg.num_rows == 0 or c is None or p is None:
                continue
            groups[contig_key(str(c.min))].append((int(p.min), int(p.max), i))
        self.groups = {k: np.asarray(sorted(v), dtype=np.int64) for k, v in groups.items()}
        self._cache: collections.OrderedDict[int, pd.DataFrame] = collections.OrderedDict()
        self._lock = threading.Lock()

    def _group(self, i: int) -> pd.DataFrame:
        with self._lock:
            if i in self._cache:
                self._cache.move_to_end(i)
                return self._cache[i]
        frame = self.file.read_row_group(i).to_pandas()
        with self._lock:
            self._cache[i] = frame
            while len(self._cache) > CACHED_GROUPS:
                self._cache.popitem(last=False)
        return frame

    def rows(self, contig: str, lo: int, hi: int) -> pd.DataFrame:
        """Rows with lo <= POS <= hi (1-based VCF positions) on ``contig``."""
        groups = self.groups.get(contig_key(contig))
        if groups is None:
            return pd.DataFrame()
        # row groups whose [min, max] meets [lo, hi]: sorted by min, and max is ascending too
        first = int(np.searchsorted(groups[:, 1], lo, side="left"))
        parts = []
        for k in range(first, len(groups)):
            if groups[k, 0] > hi:
                break
            frame = self._group(int(groups[k, 2]))
            pos = frame["POS"].to_numpy()
            parts.append(frame[(pos >= lo) & (pos <= hi)])
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


@dataclasses.dataclass
class Summary:
    """One dataset's released summary and description, as a Beacon answers from it."""

    node: str
    country: str
    card: DatasetCard
    table: SummaryFile
    floor: int
    description_graph: Any
    released_at: str = ""
    source: str = ""  # e.g. the bundle's manifest SHA-256

    @property
    def id(self) -> str:
        return f"{self.node}:{self.card.identifier.split(':')[-1]}"


#: where a Beacon finds its summaries: the current list (called at each query)
Summaries = Callable[[], list[Summary]]

ANALYSIS = "allele_frequency_summary"


def summary_from_outputs(
    directory: Path, *, node: str, country: str, released_at: str = "", source: str = ""
) -> Summary:
    """The summary an ``allele_frequency_summary`` run wrote into ``directory`` (the files
    beside its manifest.json): its table, its description and its floor."""
    import json

    from tresor.discovery import dcat

    directory = Path(directory)
    manifest = json.loads((directory / "manifest.json").read_text())
    if manifest.get("analysis") != ANALYSIS:
        raise ValueError(f"{directory} holds {manifest.get('analysis')!r}, not {ANALYSIS}")
    table = directory / manifest["outputs"]["discovery.allele_frequencies"]["file"]
    graph = dcat.parse((directory / manifest["description"]).read_text(), "jsonld")
    cards = dcat.cards(graph)
    if len(cards) != 1:
        raise ValueError(f"{directory}: the description holds {len(cards)} datasets, not one")
    return Summary(
        node=node,
        country=country or ", ".join(cards[0].countries),
        card=cards[0],
        table=SummaryFile(table),
        floor=int(manifest["floor"]),
        description_graph=graph,
        released_at=released_at,
        source=source,
    )


@dataclasses.dataclass(frozen=True)
class Release:
    """A released summary as its holder lists it: where its outputs are and what it is."""

    node: str
    country: str
    directory: Path
    released_at: str
    source: str


class ReleasedSummaries:
    """The newest summary of each (node, dataset) among ``releases()``, each loaded once."""

    def __init__(self, releases: Callable[[], list[Release]]) -> None:
        self.releases = releases
        self._loaded: dict[str, Summary] = {}
        self._lock = threading.Lock()

    def __call__(self) -> list[Summary]:
        newest: dict[str, Summary] = {}
        releases = sorted(self.releases(), key=lambda r: r.released_at)
        with self._lock:  # summaries no longer listed (replaced by a refresh) are let go
            current = {r.source for r in releases}
            self._loaded = {k: v for k, v in self._loaded.items() if k in current}
        for release in releases:
            with self._lock:
                summary = self._loaded.get(release.source)
                if summary is None:
                    summary = summary_from_outputs(
                        release.directory,
                        node=release.node,
                        country=release.country,
                        released_at=release.released_at,
                        source=release.source,
                    )
                    self._loaded[release.source] = summary
            newest[summary.id] = summary
        return sorted(newest.values(), key=lambda s: s.id)


# -- queries --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class VariantQuery:
    reference_name: str
    start: tuple[int, ...]
    end: tuple[int, ...] = ()
    reference_bases: str = ""
    alternate_bases: str = ""
    variant_type: str = ""
    assembly_id: str = ""
    dataset_ids: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()

    def window(self) -> tuple[int, int]:
        """The 1-based VCF positions that can hold a match."""
        if len(self.start) == 2:  # bracket
            return self.start[0] + 1, self.start[1] + 1
        if self.end:  # range
            return max(1, self.start[0] + 1 - MAX_REF), self.end[0]
        return self.start[0] + 1, self.start[0] + 1

    def matches(self, rows: pd.DataFrame) -> np.ndarray:
        start0 = rows["POS"].to_numpy() - 1
        ref = rows["REF"].to_numpy(dtype=object)
        alt = rows["ALT"].to_numpy(dtype=object)
        end0 = start0 + np.fromiter((len(r) for r in ref), int, len(ref))
        if len(self.start) == 2:
            keep = (start0 >= self.start[0]) & (start0 <= self.start[1])
            keep &= (end0 >= self.end[0]) & (end0 <= self.end[1])
        elif self.end:
            keep = (start0 < self.end[0]) & (end0 > self.start[0])
        else:
            keep = start0 == self.start[0]
        if self.reference_bases and self.reference_bases != "N":
            keep &= ref == self.reference_bases
        if self.alternate_bases and self.alternate_bases != "N":
            keep &= alt == self.alternate_bases
        if self.variant_type:
            wanted = "SNP" if self.variant_type == "SNV" else self.variant_type
            kinds = [variant_type(r, a) for r, a in zip(ref, alt, strict=True)]
            keep &= np.asarray([k == wanted for k in kinds], bool)
        return keep


def variant_type(ref: str, alt: str) -> str:
    if len(ref) == len(alt) == 1:
        return "SNP"
    if len(ref) == len(alt):
        return "MNP"
    return "DEL" if len(ref) > len(alt) else "INS"


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if value is None or value == "" or value == []:
        return ()
    parts = value if isinstance(value, list) else str(value).split(",")
    try:
        out = tuple(int(p) for p in parts)
    except ValueError:
        raise BeaconError(400, f"{what} must be integers (0-based), not {value!r}") from None
    if any(v < 0 for v in out):
        raise BeaconError(400, f"{what} must not be negative")
    return out


def parse_query(params: dict[str, Any]) -> VariantQuery:
    """A genomicVariations query from GET parameters or a POST body's requestParameters."""
    name = str(params.get("referenceName") or "")
    start = _ints(params.get("start"), "start")
    end = _ints(params.get("end"), "end")
    if not name or not start:
        raise BeaconError(400, "give referenceName and start (0-based) for a variant query")
    if len(start) > 2 or len(end) > 2 or (len(start) == 2) != (len(end) == 2):
        raise BeaconError(
            400,
            "a bracket query gives two starts and two ends (start=s1,s2&end=e1,e2); "
            "a sequence or range query one start (and one end)",
        )
    if not end and not params.get("alternateBases"):
        raise BeaconError(400, "a sequence query needs alternateBases (or give end: a range)")
    if end and len(start) == 1 and end[0] <= start[0]:
        raise BeaconError(400, "end must be greater than start")
    filters = params.get("filters") or ()
    if isinstance(filters, str):
        filters = tuple(f for f in filters.split(",") if f)
    else:
        filters = tuple(f["id"] if isinstance(f, dict) else str(f) for f in filters)
    ids = params.get("datasetIds") or params.get("datasets") or ()
    if isinstance(ids, str):
        ids = tuple(i for i in ids.split(",") if i)
    return VariantQuery(
        reference_name=name,
        start=start,
        end=end,
        reference_bases=str(params.get("referenceBases") or "").upper(),
        alternate_bases=str(params.get("alternateBases") or "").upper(),
        variant_type=str(params.get("variantType") or "").upper(),
        assembly_id=str(params.get("assemblyId") or ""),
        dataset_ids=tuple(ids),
        filters=filters,
    )


def _selected(summaries: list[Summary], q: VariantQuery) -> list[Summary]:
    known = {f for s in summaries for f in s.card.duo}
    unknown = [f for f in q.filters if f not in known and f not in DUO]
    if unknown:
        raise BeaconError(
            400, f"filters {unknown} are not filtering terms of this beacon (see /filtering_terms)"
        )
    out = []
    for s in summaries:
        if q.assembly_id and q.assembly_id.lower() != s.card.genome_build.lower():
            continue
        if q.dataset_ids and s.id not in q.dataset_ids and s.card.identifier not in q.dataset_ids:
            continue
        if any(f not in s.card.duo for f in q.filters):
            continue
        out.append(s)
    return out


@dataclasses.dataclass
class Hit:
    """One dataset's rows for one variant (``ALL`` first, then shown strata)."""

    summary: Summary
    rows: pd.DataFrame


def search(summaries: list[Summary], q: VariantQuery) -> dict[tuple, dict[str, Hit]]:
    """variant (CHROM, POS, REF, ALT) -> dataset id -> its rows."""
    lo, hi = q.window()
    found: dict[tuple, dict[str, Hit]] = {}
    for s in _selected(summaries, q):
        rows = s.table.rows(q.reference_name, lo, hi)
        if rows.empty:
            continue
        rows = rows[q.matches(rows)]
        for key, part in rows.groupby(["CHROM", "POS", "REF", "ALT"], sort=True):
            found.setdefault(key, {})[s.id] = Hit(s, part)
    return dict(sorted(found.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][3])))


def _count(value) -> int | None:
    return None if pd.isna(value) else int(value)


def frequencies(hit: Hit) -> tuple[list[dict], list[str]]:
    """(populationFrequency items shown, populations whose counts are suppressed)."""
    shown, suppressed = [], []
    for row in hit.rows.itertuples(index=False):
        label = hit.summary.node if row.STRATUM == ALL else f"{hit.summary.node} {row.STRATUM}"
        if row.SUPPRESSED or pd.isna(row.AC) or pd.isna(row.AN) or int(row.AN) == 0:
            suppressed.append(label)
            continue
        item = {
            "population": label,
            "alleleFrequency": int(row.AC) / int(row.AN),
            "alleleCount": int(row.AC),
            "alleleNumber": int(row.AN),
        }
        for key, column in (("alleleCountHomozygous", "TWO_ALT_GENO_CTS"),
                            ("alleleCountHeterozygous", "HET_REF_ALT_CTS"),
                            ("alleleCountHemizygous", "HAP_ALT_CT")):  # fmt: skip
            value = _count(getattr(row, column))
            if value is not None:
                item[key] = value
        shown.append(item)
    return shown, suppressed


def variant_record(key: tuple, hits: dict[str, Hit], build: str) -> dict:
    chrom, pos, ref, alt = key
    populations, suppressed = [], {}
    for dataset, hit in hits.items():
        shown, hidden = frequencies(hit)
        if shown:
            populations.append(
                {
                    "source": f"tresor node {hit.summary.node}"
                    + (f" ({hit.summary.country})" if hit.summary.country else ""),
                    "sourceReference": hit.summary.card.iri,
                    "frequencies": shown,
                }
            )
        if hidden:
            suppressed[dataset] = hidden
    record = {
        "variantInternalId": f"{build}:{chrom}:{pos}:{ref}:{alt}",
        "variation": {
            "variantType": variant_type(ref, alt),
            "referenceBases": ref,
            "alternateBases": alt,
            "location": {
                "type": "SequenceLocation",
                "sequence_id": f"{build}:{chrom}",
                "interval": {
                    "type": "SequenceInterval",
                    "start": {"type": "Number", "value": int(pos) - 1},
                    "end": {"type": "Number", "value": int(pos) - 1 + len(ref)},
                },
            },
        },
        "identifiers": {"genomicHGVSId": f"{chrom}:g.{pos}{ref}>{alt}"},
    }
    if populations:
        record["frequencyInPopulations"] = populations
    if suppressed:
        record["info"] = {"suppressed": suppressed}
    return record


# -- access: granularity, budget, rate ----------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Access:
    """Who may ask what: the most an anonymous caller gets, and each caller's allowance."""

    anonymous_granularity: str = "count"  # boolean | count | record
    authenticated_granularity: str = "record"
    daily_budget: int = 1000  # variant queries per caller per day
    per_minute: int = 60  # variant queries per caller per minute


class DailyCounts(Protocol):
    """Where a Beacon counts each caller's queries of a day (UTC day number since the epoch)."""

    def spend(self, caller: str, day: int, limit: int) -> bool:
        """Count one query of ``caller`` on ``day`` if fewer than ``limit`` are counted; True
        when it was counted. Atomic: two processes or threads never both take the last one."""
        ...


class MemoryDailyCounts:
    """Counts in this process: a restart gives every caller a fresh day (a node's own Beacon;
    the coordinator keeps them in its database)."""

    def __init__(self) -> None:
        self._days: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def spend(self, caller: str, day: int, limit: int) -> bool:
        with self._lock:
            used = self._days.get((caller, day), 0)
            if used >= limit:
                return False
            self._days = {k: v for k, v in self._days.items() if k[1] == day}
            self._days[(caller, day)] = used + 1
            return True


class Budget:
    """Per caller: a daily query budget (kept by ``days``) and a per-minute rate (a sliding
    window, in memory: a restart forgets at most a minute)."""

    def __init__(
        self,
        access: Access,
        clock: Callable[[], float] = time.time,
        days: DailyCounts | None = None,
    ) -> None:
        self.access = access
        self.clock = clock
        self.days = days if days is not None else MemoryDailyCounts()
        self._recent: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def spend(self, caller: str) -> None:
        now = self.clock()
        with self._lock:
            recent = self._recent[caller]
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if not recent:
                del self._recent[caller]  # callers gone quiet take no memory
            if len(recent) >= self.access.per_minute:
                raise BeaconError(
                    429, f"rate limit: at most {self.access.per_minute} queries a minute"
                )
            if not self.days.spend(caller, int(now // 86400), self.access.daily_budget):
                raise BeaconError(
                    429, f"query budget spent: {self.access.daily_budget} queries a day"
                )
            self._recent[caller].append(now)


def caller_key(request: Request, caller: str | None) -> str:
    """Whose budget a query spends: the authenticated caller's, else its address's."""
    return caller or f"anonymous:{request.client.host if request.client else '?'}"


def granted(requested: str, caller: str | None, access: Access) -> str:
    """The granularity returned: the one asked for, at most what the caller may have."""
    most = access.authenticated_granularity if caller else access.anonymous_granularity
    if requested not in m.GRANULARITIES:
        raise BeaconError(400, f"requestedGranularity must be one of {', '.join(m.GRANULARITIES)}")
    return min(requested, most, key=m.GRANULARITIES.index)


# -- the API ------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class BeaconInfo:
    id: str
    name: str
    organization: str
    description: str
    environment: str = "prod"


def error_response(info: BeaconInfo, status: int, message: str) -> JSONResponse:
    """A Beacon error (the framework's errorResponse) with HTTP status ``status``."""
    meta = {"beaconId": info.id, "apiVersion": m.API_VERSION, "returnedSchemas": []}
    body = m.ErrorResponse.model_validate(
        {"meta": meta, "error": {"errorCode": status, "errorMessage": message}}
    )
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(by_alias=True, exclude_none=True), status, headers=headers)


def router(
    summaries: Summaries,
    info: BeaconInfo,
    *,
    access: Access | None = None,
    identify: Callable[[Request], str | None] = lambda request: None,
    prefix: str = "/beacon",
    budget: Budget | None = None,
) -> APIRouter:
    """The Beacon v2 endpoints under ``prefix``. ``identify`` names an authenticated caller
    (None: anonymous, limited to ``access.anonymous_granularity``); ``budget`` counts variant
    queries (default: in memory, with ``access``'s limits; share one with the portal)."""
    access = access or Access()
    budget = budget or Budget(access)
    api = APIRouter(prefix=prefix, tags=["beacon"])

    def informational() -> dict:
        return {"beaconId": info.id, "apiVersion": m.API_VERSION, "returnedSchemas": []}

    def beacon_info() -> dict:
        return m.InfoResponse.model_validate(
            {
                "meta": informational(),
                "response": {
                    "id": info.id,
                    "name": info.name,
                    "apiVersion": m.API_VERSION,
                    "environment": info.environment,
                    "organization": {"id": info.id, "name": info.organization},
                    "description": info.description,
                    "version": __version__,
                },
            }
        ).model_dump(by_alias=True, exclude_none=True)

    api.add_api_route("", beacon_info, methods=["GET"], include_in_schema=False)
    api.add_api_route("/", beacon_info, methods=["GET"])
    api.add_api_route("/info", beacon_info, methods=["GET"])

    @api.get("/service-info")
    def service_info() -> dict:
        return m.ServiceInfo(
            id=info.id,
            name=info.name,
            type=m.ServiceType(group="org.ga4gh", artifact="beacon", version=m.API_VERSION),
            organization={"name": info.organization, "url": "urn:tresor"},
            version=__version__,
            description=info.description,
            environment=info.environment,
        ).model_dump(exclude_none=True)

    entry_types = {
        "genomicVariation": {
            "id": "genomicVariation",
            "name": "Genomic variation",
            "ontologyTermForThisType": {"id": "ENSGLOSSARY:0000092", "label": "Variant"},
            "partOfSpecification": "Beacon v2.0.0",
            "description": "Allele frequencies per node from released summaries",
            "defaultSchema": {
                "id": "beacon-genomicVariation-v2.0.0",
                "name": "Default schema for a genomic variation",
                "referenceToSchemaDefinition": "https://github.com/ga4gh-beacon/beacon-v2/tree/main/models/json/beacon-v2-default-schemas/genomicVariations",
                "schemaVersion": "v2.0.0",
            },
            "nonFilteredQueriesAllowed": True,
        },
        "dataset": {
            "id": "dataset",
            "name": "Dataset",
            "ontologyTermForThisType": {"id": "NCIT:C47824", "label": "Data set"},
            "partOfSpecification": "Beacon v2.0.0",
            "description": "A dataset of a node, with its data use conditions",
            "defaultSchema": {
                "id": "beacon-dataset-v2.0.0",
                "name": "Default schema for datasets",
                "referenceToSchemaDefinition": "https://github.com/ga4gh-beacon/beacon-v2/tree/main/models/json/beacon-v2-default-schemas/datasets",
                "schemaVersion": "v2.0.0",
            },
            "nonFilteredQueriesAllowed": True,
        },
    }

    @api.get("/configuration")
    def configuration() -> dict:
        return m.ConfigurationResponse.model_validate(
            {
                "meta": informational(),
                "response": {
                    "$schema": "https://github.com/ga4gh-beacon/beacon-v2/blob/main/framework/json/configuration/beaconConfigurationSchema.json",
                    "maturityAttributes": {"productionStatus": "PROD"},
                    "securityAttributes": {
                        "defaultGranularity": access.anonymous_granularity,
                        "securityLevels": ["PUBLIC", "REGISTERED"],
                    },
                    "entryTypes": entry_types,
                },
            }
        ).model_dump(by_alias=True, exclude_none=True)

    @api.get("/entry_types")
    def entry_types_endpoint() -> dict:
        return m.EntryTypesResponse.model_validate(
            {"meta": informational(), "response": {"entryTypes": entry_types}}
        ).model_dump(by_alias=True, exclude_none=True)

    @api.get("/map")
    def beacon_map(request: Request) -> dict:
        root = str(request.url_for("g_variants_get"))
        base = root.removesuffix("/g_variants")
        return m.MapResponse.model_validate(
            {
                "meta": informational(),
                "response": {
                    "$schema": "https://github.com/ga4gh-beacon/beacon-v2/blob/main/framework/json/configuration/beaconMapSchema.json",
                    "endpointSets": {
                        "genomicVariation": {
                            "entryType": "genomicVariation",
                            "rootUrl": root,
                            "filteringTermsUrl": f"{base}/filtering_terms",
                        },
                        "dataset": {
                            "entryType": "dataset",
                            "rootUrl": f"{base}/datasets",
                            "filteringTermsUrl": f"{base}/filtering_terms",
                        },
                    },
                },
            }
        ).model_dump(by_alias=True, exclude_none=True)

    @api.get("/filtering_terms")
    def filtering_terms() -> dict:
        codes = sorted({c for s in summaries() for c in s.card.duo})
        terms = [
            {"type": "ontology", "id": c, "label": DUO.get(c, c), "scopes": ["dataset"]}
            for c in codes
        ]
        return m.FilteringTermsResponse.model_validate(
            {"meta": informational(), "response": {"filteringTerms": terms}}
        ).model_dump(by_alias=True, exclude_none=True)

    def meta(granularity: str, requested: str, params: dict, schema: dict, page: dict) -> dict:
        return {
            "beaconId": info.id,
            "apiVersion": m.API_VERSION,
            "returnedSchemas": [schema],
            "returnedGranularity": granularity,
            "receivedRequestSummary": {
                "apiVersion": m.API_VERSION,
                "requestedSchemas": [schema],
                "pagination": page,
                "requestedGranularity": requested,
                "requestParameters": params,
            },
        }

    @api.get("/datasets")
    def datasets(request: Request) -> JSONResponse:
        rows = [
            {
                "id": s.id,
                "name": s.card.title,
                "description": s.card.description,
                "externalUrl": s.card.access_url,
                "dataUseConditions": {
                    "duoDataUse": [{"id": c, "label": DUO.get(c, c)} for c in s.card.duo]
                },
                "info": {
                    "node": s.node,
                    "country": s.country,
                    "genomeBuild": s.card.genome_build,
                    "individuals": s.card.n_samples,
                    "floor": s.floor,
                },
            }
            for s in summaries()
        ]
        page = {"skip": 0, "limit": len(rows)}
        body = m.CollectionsResponse.model_validate(
            {
                "meta": meta("record", "record", {}, DATASET_SCHEMA, page),
                "responseSummary": {"exists": bool(rows), "numTotalResults": len(rows)},
                "response": {"collections": rows},
            }
        )
        return JSONResponse(body.model_dump(by_alias=True, exclude_none=True))

    def answer(request: Request, params: dict[str, Any], requested: str, page: dict) -> dict:
        caller = identify(request)
        budget.spend(caller_key(request, caller))
        granularity = granted(requested, caller, access)
        q = parse_query(params)
        current = summaries()
        found = search(current, q)
        head = meta(granularity, requested, params, GV_SCHEMA, page)
        summary = {"exists": bool(found)}
        if granularity == "boolean":
            return m.BooleanResponse.model_validate(
                {"meta": head, "responseSummary": summary}
            ).model_dump(by_alias=True, exclude_none=True)
        summary["numTotalResults"] = len(found)
        if granularity == "count":
            return m.CountResponse.model_validate(
                {"meta": head, "responseSummary": summary}
            ).model_dump(by_alias=True, exclude_none=True)
        keys = list(found)[page["skip"] : page["skip"] + page["limit"]]
        sets = []
        include = str(params.get("includeResultsetResponses") or "HIT").upper()
        for s in _selected(current, q):
            results = [
                variant_record(k, {s.id: found[k][s.id]}, s.card.genome_build)
                for k in keys
                if s.id in found[k]
            ]
            hit = any(s.id in hits for hits in found.values())
            if include == "NONE" or (include == "HIT" and not hit) or (include == "MISS" and hit):
                continue
            sets.append(
                {
                    "id": s.id,
                    "setType": "dataset",
                    "exists": hit,
                    "resultsCount": sum(s.id in hits for hits in found.values()),
                    "results": results,
                    "info": {"node": s.node, "country": s.country, "floor": s.floor},
                }
            )
        return m.ResultsetsResponse.model_validate(
            {"meta": head, "responseSummary": summary, "response": {"resultSets": sets}}
        ).model_dump(by_alias=True, exclude_none=True)

    def error(status: int, message: str) -> JSONResponse:
        return error_response(info, status, message)

    def page_of(params: dict) -> dict:
        skip, limit = params.get("skip", 0), params.get("limit", 10)
        try:
            return {"skip": max(0, int(skip)), "limit": min(100, max(1, int(limit)))}
        except (TypeError, ValueError):
            raise BeaconError(400, "skip and limit must be integers") from None

    @api.get("/g_variants", name="g_variants_get")
    def g_variants_get(request: Request) -> JSONResponse:
        params = dict(request.query_params)
        try:
            page = page_of(params)
            requested = params.pop("requestedGranularity", access.anonymous_granularity)
            for k in ("skip", "limit"):
                params.pop(k, None)
            return JSONResponse(answer(request, params, requested, page))
        except BeaconError as e:
            return error(e.status, str(e))

    @api.post("/g_variants")
    async def g_variants_post(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return error(400, "the request body must be JSON (a Beacon request)")
        query = body.get("query", {}) if isinstance(body, dict) else {}
        params = dict(query.get("requestParameters") or {})
        if query.get("filters"):
            params["filters"] = query["filters"]
        if query.get("includeResultsetResponses"):
            params["includeResultsetResponses"] = query["includeResultsetResponses"]
        try:
            page = page_of(query.get("pagination") or {})
            requested = query.get("requestedGranularity", access.anonymous_granularity)
            from starlette.concurrency import run_in_threadpool

            result = await run_in_threadpool(answer, request, params, requested, page)
            return JSONResponse(result)
        except BeaconError as e:
            return error(e.status, str(e))

    return api
