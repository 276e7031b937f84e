"""Beacon v2 response models (framework v2.0 and the genomicVariations default model), written
from the specification's JSON schemas (github.com/ga4gh-beacon/beacon-v2: framework/json/
responses, models/json/beacon-v2-default-schemas/genomicVariations): required fields, types and
the granularity of each response. The API builds its answers with them; the tests check every
answer against them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

API_VERSION = "v2.0.0"
Granularity = Literal["boolean", "count", "aggregated", "record"]
#: the order of granularities, least revealing first
GRANULARITIES = ("boolean", "count", "record")


class _Open(BaseModel):
    """The specification allows additional properties here."""

    model_config = ConfigDict(extra="allow")


class _Closed(BaseModel):
    """Exactly these properties (a section whose granularity they define)."""

    model_config = ConfigDict(extra="forbid")


# -- common components ------------------------------------------------------------------------
class SchemaReference(_Open):
    entityType: str
    schema_: str = Field(alias="schema")


class Pagination(_Open):
    skip: int = Field(0, ge=0)
    limit: int = Field(10, ge=0)


class OntologyTerm(_Open):
    id: str = Field(pattern=r"^\w[^:]+:.+$")
    label: str | None = None


class ReceivedRequestSummary(_Open):
    apiVersion: str
    requestedSchemas: list[SchemaReference]
    pagination: Pagination
    requestedGranularity: Granularity
    filters: list[Any] | None = None
    requestParameters: dict[str, Any] | None = None
    includeResultsetResponses: Literal["HIT", "MISS", "NONE", "ALL"] | None = None
    testMode: bool | None = None


class ResponseMeta(_Open):
    beaconId: str
    apiVersion: str
    returnedSchemas: list[SchemaReference]
    returnedGranularity: Granularity
    receivedRequestSummary: ReceivedRequestSummary
    testMode: bool | None = None


class InformationalMeta(_Open):
    beaconId: str
    apiVersion: str
    returnedSchemas: list[SchemaReference]


class Error(_Open):
    errorCode: int
    errorMessage: str | None = None


class ErrorResponse(_Open):
    meta: InformationalMeta | ResponseMeta
    error: Error


# -- responses by granularity -------------------------------------------------------------------
class BooleanSummary(_Closed):
    exists: bool


class CountSummary(_Closed):
    exists: bool
    numTotalResults: int = Field(ge=0)


class BooleanResponse(_Open):
    meta: ResponseMeta
    responseSummary: BooleanSummary
    info: dict[str, Any] | None = None


class CountResponse(_Open):
    meta: ResponseMeta
    responseSummary: CountSummary
    info: dict[str, Any] | None = None


class ResultSet(_Open):
    id: str
    setType: str
    exists: bool
    resultsCount: int | None = Field(None, ge=0)
    results: list[dict[str, Any]] = []
    info: dict[str, Any] | None = None


class ResultSets(_Open):
    resultSets: list[ResultSet]


class ResultsetsResponse(_Open):
    meta: ResponseMeta
    responseSummary: CountSummary
    response: ResultSets
    info: dict[str, Any] | None = None


class Collections(_Open):
    collections: list[dict[str, Any]]


class CollectionsResponse(_Open):
    meta: ResponseMeta
    responseSummary: CountSummary
    response: Collections


# -- informational endpoints --------------------------------------------------------------------
class Organization(_Open):
    id: str
    name: str
    description: str | None = None
    contactUrl: str | None = None


class BeaconInfo(_Open):
    id: str
    name: str
    apiVersion: str
    environment: Literal["prod", "test", "dev", "staging"]
    organization: Organization
    description: str | None = None
    version: str | None = None
    welcomeUrl: str | None = None


class InfoResponse(_Open):
    meta: InformationalMeta
    response: BeaconInfo


class ServiceType(_Open):
    group: str
    artifact: str
    version: str


class ServiceInfo(_Open):
    """GA4GH service-info 1.0.0."""

    id: str
    name: str
    type: ServiceType
    organization: dict[str, str]
    version: str
    description: str | None = None
    environment: str | None = None


class MaturityAttributes(_Open):
    productionStatus: Literal["DEV", "TEST", "PROD"]


class SecurityAttributes(_Open):
    defaultGranularity: Granularity | None = None
    securityLevels: list[Literal["PUBLIC", "REGISTERED", "CONTROLLED"]] | None = None


class ReferenceToSchema(_Open):
    id: str
    name: str
    referenceToSchemaDefinition: str
    schemaVersion: str | None = None


class EntryType(_Open):
    id: str
    name: str
    ontologyTermForThisType: OntologyTerm
    partOfSpecification: str
    defaultSchema: ReferenceToSchema
    description: str | None = None
    nonFilteredQueriesAllowed: bool | None = None


class Configuration(_Open):
    maturityAttributes: MaturityAttributes
    entryTypes: dict[str, EntryType]
    securityAttributes: SecurityAttributes | None = None


class ConfigurationResponse(_Open):
    meta: InformationalMeta
    response: Configuration


class EntryTypes(_Open):
    entryTypes: dict[str, EntryType]


class EntryTypesResponse(_Open):
    meta: InformationalMeta
    response: EntryTypes


class Endpoint(_Open):
    returnedEntryType: str
    url: str


class EndpointSet(_Open):
    entryType: str
    rootUrl: str
    openAPIEndpointsDefinition: str | None = None
    singleEntryUrl: str | None = None
    filteringTermsUrl: str | None = None
    endpoints: dict[str, Endpoint] | None = None


class BeaconMap(_Open):
    endpointSets: dict[str, EndpointSet]


class MapResponse(_Open):
    meta: InformationalMeta
    response: BeaconMap


class FilteringTerm(_Open):
    type: Literal["ontology", "alphanumeric", "custom"]
    id: str
    label: str | None = None
    scopes: list[str] | None = None


class FilteringTerms(_Open):
    filteringTerms: list[FilteringTerm]


class FilteringTermsResponse(_Open):
    meta: InformationalMeta
    response: FilteringTerms


# -- datasets and genomic variations (the entry models) ------------------------------------------
class DuoDataUse(_Open):
    id: str = Field(pattern=r"^DUO:\d{7}$")
    label: str | None = None
    version: str | None = None


class DataUseConditions(_Open):
    duoDataUse: list[DuoDataUse]


class Dataset(_Open):
    id: str
    name: str
    description: str | None = None
    externalUrl: str | None = None
    dataUseConditions: DataUseConditions | None = None
    info: dict[str, Any] | None = None


class VrsNumber(_Open):
    type: Literal["Number"]
    value: int


class SequenceInterval(_Open):
    type: Literal["SequenceInterval"]
    start: VrsNumber
    end: VrsNumber


class SequenceLocation(_Open):
    type: Literal["SequenceLocation"]
    sequence_id: str
    interval: SequenceInterval


class LegacyVariation(_Open):
    referenceBases: str = Field(pattern=r"^([ACGTUNRYSWKMBDHV\-\.]*)$")
    alternateBases: str = Field(pattern=r"^([ACGTUNRYSWKMBDHV\-\.]*)$")
    variantType: str
    location: SequenceLocation


class PopulationFrequency(_Open):
    population: str
    alleleFrequency: float = Field(ge=0, le=1)
    alleleCount: int | None = Field(None, ge=0)
    alleleNumber: int | None = Field(None, ge=0)
    alleleCountHomozygous: int | None = Field(None, ge=0)
    alleleCountHeterozygous: int | None = Field(None, ge=0)
    alleleCountHemizygous: int | None = Field(None, ge=0)


class FrequencyInPopulations(_Open):
    source: str
    sourceReference: str
    frequencies: list[PopulationFrequency] = Field(min_length=1)
    version: str | None = None


class GenomicVariation(_Open):
    variantInternalId: str
    variation: LegacyVariation
    identifiers: dict[str, Any] | None = None
    frequencyInPopulations: list[FrequencyInPopulations] | None = None
