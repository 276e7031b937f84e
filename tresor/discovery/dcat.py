"""A node's catalogue as HealthDCAT-AP (the health extension of DCAT-AP 3), with rdflib.

Each catalogue entry (tresor.core.catalogue.DatasetEntry) becomes a ``dcat:Dataset`` with what a
data user needs to decide whether to apply: title, description, keywords, themes, the EHDS
health category, population and sample counts (by sex where the node declares it and every
group reaches the floor), genome build, variant kinds, contact point, access rights, the
node as publisher, temporal and spatial coverage. How to get access is its ``dcat:Distribution``:
``dcat:accessURL`` where to apply, ``dct:rights`` the procedure in words, and an ODRL policy whose
constraints are the data use conditions as DUO terms. Written as Turtle or JSON-LD (with its
context inline, so reading it never fetches anything); the shapes in ``shapes/`` check it.

    tresor catalogue export --format turtle > catalogue.ttl
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterable
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from tresor.core.catalogue import DatasetEntry
from tresor.core.errors import TresorError
from tresor.discovery import vocab
from tresor.discovery.vocab import (
    ACCESS_RIGHT,
    COUNTRY,
    DATA_THEME,
    DCATAP,
    HEALTH,
    LANGUAGE,
    ODRL,
    TRESOR,
    VCARD,
)

FORMATS = {"jsonld": "json-ld", "turtle": "turtle"}
MEDIA_TYPES = {"jsonld": "application/ld+json", "turtle": "text/turtle"}
SHAPES = Path(__file__).resolve().parent / "shapes"
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
EN = "en"


class DescriptionError(TresorError):
    """A description that cannot be written or read, with what to fix."""


def dataset_iri(node: str, dataset: str) -> URIRef:
    """The dataset's IRI: stable, and naming no address (the registry holds none either)."""
    return URIRef(f"urn:tresor:{node}:dataset:{dataset}")


def catalogue_iri(name: str) -> URIRef:
    return URIRef(f"urn:tresor:{name}:catalogue")


def contact_email(entry: DatasetEntry) -> str:
    if entry.contact_email:
        return entry.contact_email
    found = _EMAIL.search(entry.contact)
    return found.group(0) if found else ""


def _agent(g: Graph, node: str, name: str) -> URIRef:
    agent = URIRef(f"urn:tresor:{node}:publisher")
    g.add((agent, RDF.type, FOAF.Agent))
    g.add((agent, RDF.type, FOAF.Organization))
    g.add((agent, FOAF.name, Literal(name, lang=EN)))
    g.add((agent, DCTERMS.identifier, Literal(node)))
    return agent


def _date(value: str, what: str) -> Literal:
    try:
        return Literal(dt.date.fromisoformat(value), datatype=XSD.date)
    except ValueError:
        raise DescriptionError(f"{what} {value!r} is not an ISO date (YYYY-MM-DD)") from None


def describe(
    g: Graph,
    entry: DatasetEntry,
    *,
    node: str,
    by_sex: dict[str, int] | None = None,
) -> URIRef:
    """Add the HealthDCAT-AP description of ``entry`` (of node ``node``) to ``g``."""
    ds = dataset_iri(node, entry.id)
    g.add((ds, RDF.type, DCAT.Dataset))
    g.add((ds, DCTERMS.identifier, Literal(f"{node}:{entry.id}")))
    g.add((ds, DCTERMS.title, Literal(entry.title, lang=EN)))
    description = entry.description or f"Genotypes of {entry.n_samples} samples ({entry.title})."
    g.add((ds, DCTERMS.description, Literal(description, lang=EN)))
    for word in entry.keywords:
        g.add((ds, DCAT.keyword, Literal(word, lang=EN)))
    for theme in entry.themes:
        g.add((ds, DCAT.theme, DATA_THEME[theme]))
    g.add((ds, HEALTH.healthCategory, URIRef(vocab.HEALTH_CATEGORY_GENOMIC)))
    g.add((ds, DCTERMS.accessRights, ACCESS_RIGHT[entry.access_rights]))
    g.add((ds, DCATAP.applicableLegislation, URIRef(vocab.EHDS)))
    publisher = _agent(g, node, entry.publisher or f"tresor node {node}")
    g.add((ds, DCTERMS.publisher, publisher))
    g.add((ds, DCTERMS.creator, publisher))
    g.add((ds, DCTERMS.language, LANGUAGE["ENG"]))

    contact = BNode()
    g.add((ds, DCAT.contactPoint, contact))
    g.add((contact, RDF.type, VCARD.Kind))
    g.add((contact, VCARD.fn, Literal(entry.contact)))
    email = contact_email(entry)
    if email:
        g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{email}")))

    for code in entry.countries:
        alpha3 = vocab.COUNTRIES.get(code)
        if alpha3 is None:
            raise DescriptionError(
                f"dataset {entry.id}: no EU country code known for {code}; add it to "
                "tresor.discovery.vocab.COUNTRIES"
            )
        g.add((ds, DCTERMS.spatial, COUNTRY[alpha3]))
    if entry.temporal_start or entry.temporal_end:
        period = BNode()
        g.add((ds, DCTERMS.temporal, period))
        g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        if entry.temporal_start:
            g.add((period, DCAT.startDate, _date(entry.temporal_start, "temporal_start")))
        if entry.temporal_end:
            g.add((period, DCAT.endDate, _date(entry.temporal_end, "temporal_end")))

    # the population: how many, who, and by sex where every group reaches the floor
    individuals = Literal(entry.n_samples, datatype=XSD.nonNegativeInteger)
    g.add((ds, HEALTH.numberOfUniqueIndividuals, individuals))
    coverage = entry.population or f"{entry.n_samples} individuals"
    if by_sex:
        coverage += " (" + ", ".join(f"{n} {sex}" for sex, n in by_sex.items()) + ")"
        for sex, n in by_sex.items():
            group = BNode()
            g.add((ds, TRESOR.samplesBySex, group))
            g.add((group, TRESOR.sex, Literal(sex)))
            g.add((group, TRESOR["count"], Literal(n, datatype=XSD.nonNegativeInteger)))
    g.add((ds, HEALTH.populationCoverage, Literal(coverage, lang=EN)))

    # the genome: build and variant kinds
    g.add((ds, DCTERMS.conformsTo, URIRef(vocab.assembly_iri(entry.genome_build))))
    g.add((ds, TRESOR.genomeBuild, Literal(entry.genome_build)))
    g.add((ds, TRESOR.variantCount, Literal(entry.n_variants, datatype=XSD.nonNegativeInteger)))
    for kind in entry.variant_types:
        term = vocab.VARIANT_TYPES.get(kind)
        g.add((ds, TRESOR.variantType, URIRef(vocab.obo_iri(term)) if term else Literal(kind)))
    g.add((ds, TRESOR.node, Literal(node)))

    # how to get access: where to apply, the procedure, the data use conditions
    access = URIRef(f"{ds}:access")
    g.add((ds, DCAT.distribution, access))
    g.add((access, RDF.type, DCAT.Distribution))
    g.add((access, DCTERMS.title, Literal("How to apply for access", lang=EN)))
    url = entry.access_url or (f"mailto:{email}" if email else "")
    if not url:
        raise DescriptionError(
            f"dataset {entry.id}: give access_url (where to apply) or a contact e-mail "
            "(contact_email) in its catalogue entry"
        )
    g.add((access, DCAT.accessURL, URIRef(url)))
    g.add((access, DCTERMS.accessRights, ACCESS_RIGHT[entry.access_rights]))
    procedure = entry.access_procedure or f"Apply to {entry.contact}."
    rights = BNode()
    g.add((access, DCTERMS.rights, rights))
    g.add((rights, RDF.type, DCTERMS.RightsStatement))
    g.add((rights, RDFS.label, Literal(procedure, lang=EN)))
    if entry.duo:
        policy, permission = BNode(), BNode()
        g.add((access, ODRL.hasPolicy, policy))
        g.add((policy, RDF.type, ODRL.Offer))
        g.add((policy, ODRL.permission, permission))
        g.add((permission, RDF.type, ODRL.Permission))
        g.add((permission, ODRL.action, ODRL.use))
        g.add((permission, ODRL.target, ds))
        for code in entry.duo:
            term = URIRef(vocab.obo_iri(code))
            constraint = BNode()
            g.add((permission, ODRL.constraint, constraint))
            g.add((constraint, RDF.type, ODRL.Constraint))
            g.add((constraint, ODRL.leftOperand, ODRL.purpose))
            g.add((constraint, ODRL.operator, ODRL.isA))
            g.add((constraint, ODRL.rightOperand, term))
            g.add((term, SKOS.notation, Literal(code)))
            if code in vocab.DUO:
                g.add((term, SKOS.prefLabel, Literal(vocab.DUO[code], lang=EN)))
    return ds


def catalogue_graph(
    described: Iterable[tuple[DatasetEntry, dict[str, int] | None]],
    *,
    node: str,
    title: str | None = None,
) -> Graph:
    """The node's ``dcat:Catalog`` with every dataset."""
    g = new_graph()
    cat = catalogue_iri(node)
    g.add((cat, RDF.type, DCAT.Catalog))
    g.add((cat, DCTERMS.title, Literal(title or f"Datasets of tresor node {node}", lang=EN)))
    g.add((cat, DCTERMS.description, Literal(
        f"Genotype datasets held by tresor node {node}; analysed in the node only, after "
        "approval by its data access committee.", lang=EN)))  # fmt: skip
    g.add((cat, DCTERMS.publisher, _agent(g, node, f"tresor node {node}")))
    g.add((cat, DCTERMS.language, LANGUAGE["ENG"]))
    for entry, by_sex in described:
        g.add((cat, DCAT.dataset, describe(g, entry, node=node, by_sex=by_sex)))
    return g


def new_graph() -> Graph:
    g = Graph()
    for prefix, namespace in vocab.PREFIXES.items():
        g.bind(prefix, namespace)
    return g


def serialize(g: Graph, fmt: str = "turtle") -> str:
    """Turtle, or JSON-LD with the context inline (readers need not fetch one)."""
    if fmt not in FORMATS:
        raise DescriptionError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "jsonld":
        context = {prefix: str(ns) for prefix, ns in vocab.PREFIXES.items()}
        return g.serialize(format="json-ld", context=context, auto_compact=True, indent=1)
    return g.serialize(format="turtle")


def parse(text: str | bytes, fmt: str = "turtle") -> Graph:
    """A description read back. JSON-LD must carry its context inline: a remote context would
    make the reader fetch it, and the coordinator opens no connections."""
    if fmt not in FORMATS:
        raise DescriptionError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "jsonld":
        document = json.loads(text)
        contexts = document.get("@context") if isinstance(document, dict) else None
        if contexts is not None and _remote(contexts):
            raise DescriptionError("a JSON-LD description must carry its @context inline")
    g = new_graph()
    try:
        g.parse(data=text, format=FORMATS[fmt])
    except Exception as e:  # rdflib raises many kinds
        raise DescriptionError(f"the description does not parse as {fmt}: {e}") from None
    return g


def _remote(context) -> bool:
    if isinstance(context, str):
        return True
    if isinstance(context, list):
        return any(_remote(c) for c in context)
    return False


# -- reading a description back (the portal) ---------------------------------------------------
@dataclasses.dataclass(frozen=True)
class DatasetCard:
    """What the portal shows and filters on, read from a dataset's description."""

    iri: str
    node: str
    identifier: str
    title: str
    description: str
    keywords: tuple[str, ...]
    themes: tuple[str, ...]
    genome_build: str
    n_samples: int
    n_variants: int
    population: str
    by_sex: dict[str, int]
    variant_types: tuple[str, ...]
    duo: tuple[str, ...]
    access_rights: str
    access_url: str
    access_procedure: str
    contact: str
    contact_email: str
    publisher: str
    countries: tuple[str, ...]

    def matches(self, text: str) -> bool:
        words = text.lower().split()
        haystack = " ".join(
            [self.title, self.description, self.population, self.node, self.identifier,
             *self.keywords]
        ).lower()  # fmt: skip
        return all(w in haystack for w in words)


def _one(g: Graph, s, p, default: str = "") -> str:
    value = g.value(s, p)
    return str(value) if value is not None else default


def cards(g: Graph) -> list[DatasetCard]:
    """Every dataset of a description graph, as the portal shows it."""
    out = []
    for ds in sorted(set(g.subjects(RDF.type, DCAT.Dataset)), key=str):
        access = g.value(ds, DCAT.distribution)
        contact = g.value(ds, DCAT.contactPoint)
        rights = g.value(access, DCTERMS.rights) if access is not None else None
        duo = sorted(
            vocab.obo_code(str(term))
            for policy in g.objects(access, ODRL.hasPolicy)
            for permission in g.objects(policy, ODRL.permission)
            for constraint in g.objects(permission, ODRL.constraint)
            for term in g.objects(constraint, ODRL.rightOperand)
        )
        by_sex = {
            _one(g, group, TRESOR.sex): int(_one(g, group, TRESOR["count"], "0"))
            for group in g.objects(ds, TRESOR.samplesBySex)
        }
        alpha2 = {v: k for k, v in vocab.COUNTRIES.items()}
        kinds = {vocab.obo_iri(v): k for k, v in vocab.VARIANT_TYPES.items()}
        email = _one(g, contact, VCARD.hasEmail).removeprefix("mailto:") if contact else ""
        out.append(
            DatasetCard(
                iri=str(ds),
                node=_one(g, ds, TRESOR.node),
                identifier=_one(g, ds, DCTERMS.identifier),
                title=_one(g, ds, DCTERMS.title),
                description=_one(g, ds, DCTERMS.description),
                keywords=tuple(sorted(str(k) for k in g.objects(ds, DCAT.keyword))),
                themes=tuple(sorted(str(t).rsplit("/", 1)[-1] for t in g.objects(ds, DCAT.theme))),
                genome_build=_one(g, ds, TRESOR.genomeBuild),
                n_samples=int(_one(g, ds, HEALTH.numberOfUniqueIndividuals, "0")),
                n_variants=int(_one(g, ds, TRESOR.variantCount, "0")),
                population=_one(g, ds, HEALTH.populationCoverage),
                by_sex=dict(sorted(by_sex.items())),
                variant_types=tuple(
                    sorted(kinds.get(str(t), str(t)) for t in g.objects(ds, TRESOR.variantType))
                ),
                duo=tuple(duo),
                access_rights=_one(g, ds, DCTERMS.accessRights).rsplit("/", 1)[-1],
                access_url=_one(g, access, DCAT.accessURL) if access is not None else "",
                access_procedure=_one(g, rights, RDFS.label) if rights is not None else "",
                contact=_one(g, contact, VCARD.fn) if contact is not None else "",
                contact_email=email,
                publisher=_one(g, g.value(ds, DCTERMS.publisher), FOAF.name),
                countries=tuple(
                    sorted(
                        alpha2.get(str(c).rsplit("/", 1)[-1], "")
                        for c in g.objects(ds, DCTERMS.spatial)
                    )
                ),
            )
        )
    return out


def dataset_subgraph(g: Graph, iri: str) -> Graph:
    """The triples that describe one dataset (its node and everything hanging from it)."""
    out = new_graph()
    seen: set = set()
    todo = [URIRef(iri)]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in g.predicate_objects(node):
            out.add((node, p, o))
            if isinstance(o, BNode | URIRef) and (
                isinstance(o, BNode)
                or str(o).startswith(str(iri))
                or str(o).startswith("urn:")
                or g.value(o, SKOS.notation) is not None
            ):
                todo.append(o)
    return out


# -- a node's catalogue -----------------------------------------------------------------------
def samples_by_sex(entry: DatasetEntry, f: int) -> dict[str, int] | None:
    """Counts by sex for the description, where the entry declares ``sex`` among its strata and
    its phenotype tables have the column; None otherwise or when a group is below the floor."""
    from tresor.discovery.summary import sex_counts, sex_labels
    from tresor.stats.phenotypes import read_table

    if "sex" not in entry.strata:
        return None
    for key in ("covar", "pheno"):
        path = entry.phenotypes.get(key)
        if path is not None and Path(path).exists():
            table = read_table(path)
            if "sex" in table.columns:
                return sex_counts(sex_labels(table["sex"].tolist()), f)
    return None


def node_catalogue(
    entries: Iterable[DatasetEntry], *, node: str, f: int, title: str | None = None
) -> Graph:
    """The node's catalogue (``tresor catalogue export``): every entry, with counts by sex under
    the floor ``f``."""
    return catalogue_graph(
        [(e, samples_by_sex(e, f)) for e in sorted(entries, key=lambda e: e.id)],
        node=node,
        title=title,
    )
