"""The controlled vocabularies a description uses: namespaces, EU authority tables, DUO codes,
Sequence Ontology terms for variant kinds, genome assemblies. Data, not code."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HEALTH = Namespace("http://healthdataportal.eu/ns/health#")  # HealthDCAT-AP
DCATAP = Namespace("http://data.europa.eu/r5r/")
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
OBO = Namespace("http://purl.obolibrary.org/obo/")
#: the project's own terms, for what the profiles have no property for (genome build, counts by
#: sex, variant kinds); not registered anywhere, a harvester keeps them as extra triples
TRESOR = Namespace("https://w3id.org/tresor/ns#")

AUTHORITY = "http://publications.europa.eu/resource/authority/"
ACCESS_RIGHT = Namespace(AUTHORITY + "access-right/")
DATA_THEME = Namespace(AUTHORITY + "data-theme/")
COUNTRY = Namespace(AUTHORITY + "country/")
LANGUAGE = Namespace(AUTHORITY + "language/")

#: the European Health Data Space regulation (EU) 2025/327: HealthDCAT-AP's applicable legislation
EHDS = "http://data.europa.eu/eli/reg/2025/327/oj"
#: the EHDS category of the data (Art. 51): human genetic and genomic data
HEALTH_CATEGORY_GENOMIC = "http://healthdataportal.eu/ns/health-category#HUMAN_GENOMIC"

PREFIXES = {
    "dcat": DCAT,
    "dct": DCTERMS,
    "foaf": FOAF,
    "vcard": VCARD,
    "healthdcatap": HEALTH,
    "dcatap": DCATAP,
    "odrl": ODRL,
    "obo": OBO,
    "tresor": TRESOR,
    "rdf": RDF,
    "rdfs": RDFS,
    "skos": SKOS,
    "xsd": XSD,
}

#: ISO 3166-1 alpha-2 -> alpha-3 (the EU country table's codes), EU/EEA and neighbours
COUNTRIES = {
    "AT": "AUT", "BE": "BEL", "BG": "BGR", "CH": "CHE", "CY": "CYP", "CZ": "CZE", "DE": "DEU",
    "DK": "DNK", "EE": "EST", "ES": "ESP", "FI": "FIN", "FR": "FRA", "GB": "GBR", "GR": "GRC",
    "HR": "HRV", "HU": "HUN", "IE": "IRL", "IS": "ISL", "IT": "ITA", "LI": "LIE", "LT": "LTU",
    "LU": "LUX", "LV": "LVA", "MT": "MLT", "NL": "NLD", "NO": "NOR", "PL": "POL", "PT": "PRT",
    "RO": "ROU", "SE": "SWE", "SI": "SVN", "SK": "SVK", "UA": "UKR", "RS": "SRB", "TR": "TUR",
}  # fmt: skip

#: Data Use Ontology: code -> label (primary categories, then modifiers)
DUO = {
    "DUO:0000004": "no restriction",
    "DUO:0000042": "general research use",
    "DUO:0000006": "health or medical or biomedical research",
    "DUO:0000007": "disease specific research",
    "DUO:0000011": "population origins or ancestry research only",
    "DUO:0000043": "clinical care use",
    "DUO:0000012": "research specific restrictions",
    "DUO:0000015": "no general methods research",
    "DUO:0000016": "genetic studies only",
    "DUO:0000018": "not for profit, non commercial use only",
    "DUO:0000019": "publication required",
    "DUO:0000020": "collaboration required",
    "DUO:0000021": "ethics approval required",
    "DUO:0000022": "geographical restriction",
    "DUO:0000024": "publication moratorium",
    "DUO:0000025": "time limit on use",
    "DUO:0000026": "user specific restriction",
    "DUO:0000027": "project specific restriction",
    "DUO:0000028": "institution specific restriction",
    "DUO:0000029": "return to database or resource",
}

#: variant kinds (Beacon's variantType words) -> Sequence Ontology terms
VARIANT_TYPES = {
    "SNV": "SO:0001483",
    "MNV": "SO:0002007",
    "INDEL": "SO:1000032",
    "INS": "SO:0000667",
    "DEL": "SO:0000159",
}

#: genome builds -> INSDC assembly accessions (what ``dct:conformsTo`` names)
ASSEMBLIES = {
    "GRCh38": "GCA_000001405.15",
    "GRCh37": "GCA_000001405.1",
    "T2T-CHM13v2.0": "GCA_009914755.4",
}


def obo_iri(code: str) -> str:
    """``DUO:0000042`` -> ``http://purl.obolibrary.org/obo/DUO_0000042``."""
    return str(OBO) + code.replace(":", "_")


def obo_code(iri: str) -> str:
    """The inverse of :func:`obo_iri`."""
    return iri.removeprefix(str(OBO)).replace("_", ":", 1)


def assembly_iri(build: str) -> str:
    accession = ASSEMBLIES.get(build)
    if accession is None:
        return str(TRESOR) + f"assembly/{build}"
    return f"https://identifiers.org/insdc.gca:{accession}"
