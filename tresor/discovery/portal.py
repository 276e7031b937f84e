"""The portal pages (server-rendered, no external assets) and the harvest endpoint.

- ``/portal/``: every node's datasets, searchable and filtered by genome build, size, theme and
  data use condition (DUO); a variant lookup form;
- ``/portal/datasets/{node}/{dataset}``: the dataset's HealthDCAT-AP description, contact and
  access procedure (``.../description.ttl`` and ``.jsonld`` the description itself);
- ``/portal/variant?chrom=&pos=&ref=&alt=``: each country's allele frequency side by side,
  suppressed cells marked as such (never zero), and the pooled frequency where every node on
  that build answered with a count; as much as the Beacon would give the same caller
  (:func:`tresor.discovery.beacon.granted`): an anonymous visitor at ``count`` sees which
  datasets have the variant, at ``boolean`` only whether any has;
- ``/portal/catalogue.ttl`` and ``.jsonld``: the merged catalogue as DCAT-AP for harvesters
  (CKAN's DCAT extension reads either).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from rdflib import Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF

from tresor.discovery import dcat
from tresor.discovery.beacon import (
    Access,
    BeaconError,
    Budget,
    Summaries,
    Summary,
    VariantQuery,
    caller_key,
    frequencies,
    granted,
    search,
)
from tresor.discovery.vocab import DUO, LANGUAGE

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclasses.dataclass
class Row:
    node: str
    country: str
    dataset: str
    floor: int
    status: str  # shown | suppressed | absent
    ac: int | None = None
    an: int | None = None
    af: float | None = None
    hom: int | None = None
    strata: list[str] = dataclasses.field(default_factory=list)


def lookup(summaries: list[Summary], chrom: str, pos: int, ref: str, alt: str):
    """(rows per dataset, pooled dict or None, why not pooled)."""
    q = VariantQuery(chrom, (pos - 1,), reference_bases=ref, alternate_bases=alt)
    found = search(summaries, q)
    hits = next(iter(found.values()), {})
    rows = []
    for s in sorted(summaries, key=lambda s: (s.country, s.node, s.id)):
        hit = hits.get(s.id)
        row = Row(s.node, s.country, s.card.title, s.floor, "absent")
        if hit is not None:
            shown, hidden = frequencies(hit)
            total = next((f for f in shown if f["population"] == s.node), None)
            if total is None:
                row.status = "suppressed"
            else:
                row.status = "shown"
                row.ac, row.an = total["alleleCount"], total["alleleNumber"]
                row.af, row.hom = total["alleleFrequency"], total.get("alleleCountHomozygous")
            row.strata = [
                f"{f['population'].split(' ', 1)[1]}: {f['alleleCount']}/{f['alleleNumber']}"
                for f in shown
                if " " in f["population"]
            ] + [f"{h.split(' ', 1)[1]}: suppressed" for h in hidden if " " in h]
        rows.append(row)
    missing = [f"{r.node} {r.status}" for r in rows if r.status != "shown"]
    pooled = None
    if rows and not missing:
        ac, an = sum(r.ac for r in rows), sum(r.an for r in rows)
        pooled = {"ac": ac, "an": an, "af": ac / an}
    return rows, pooled, ", ".join(missing)


def coarsen(rows: list[Row], granularity: str) -> list[Row]:
    """The rows a caller allowed ``granularity`` may see: at ``record`` all of them; at
    ``count`` whether each dataset has the variant (``found`` or ``absent``, no numbers); at
    ``boolean`` none (the page says only whether any dataset has it)."""
    if granularity == "record":
        return rows
    if granularity == "boolean":
        return []
    return [
        Row(r.node, r.country, r.dataset, r.floor, "absent" if r.status == "absent" else "found")
        for r in rows
    ]


def merged_catalogue(summaries: list[Summary], federation: str, base_url: str) -> Any:
    """Every node's released description in one DCAT-AP catalogue of the federation."""
    g = dcat.new_graph()
    cat = dcat.catalogue_iri(federation)
    g.add((cat, RDF.type, DCAT.Catalog))
    g.add((cat, DCTERMS.title, Literal(f"Datasets of federation {federation}", lang="en")))
    g.add((cat, DCTERMS.description, Literal(
        "The datasets of every member node, as each node's airlock released their "
        "descriptions; analysed only inside their nodes.", lang="en")))  # fmt: skip
    publisher = URIRef(f"urn:tresor:{federation}:coordinator")
    g.add((publisher, RDF.type, FOAF.Agent))
    g.add((publisher, FOAF.name, Literal(f"{federation} coordinator", lang="en")))
    g.add((cat, DCTERMS.publisher, publisher))
    g.add((cat, DCTERMS.language, LANGUAGE["ENG"]))
    for s in summaries:
        g += s.description_graph
        iri = URIRef(s.card.iri)
        g.add((cat, DCAT.dataset, iri))
        page = f"{base_url}/datasets/{s.node}/{s.card.identifier.split(':')[-1]}"
        g.add((iri, DCAT.landingPage, URIRef(page)))
    return g


def router(
    summaries: Summaries,
    *,
    federation: str,
    beacon_path: str = "/beacon",
    access: Access | None = None,
    identify: Callable[[Request], str | None] = lambda request: None,
    prefix: str = "/portal",
    budget: Budget | None = None,
) -> APIRouter:
    """The portal's pages under ``prefix``; a variant lookup spends a query of ``budget`` and
    shows what the Beacon would give the caller (``identify`` and ``access`` as the Beacon's;
    share its budget, so the portal is no way around its limits)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    access = access or Access()
    budget = budget or Budget(access)
    api = APIRouter(prefix=prefix, tags=["portal"])

    def page(name: str, **context) -> HTMLResponse:
        template = env.get_template(name)
        return HTMLResponse(
            template.render(federation=federation, base=prefix, beacon=beacon_path, **context)
        )

    @api.get("/", response_class=HTMLResponse)
    def home(
        q: str = "",
        build: str = "",
        min_samples: int | None = None,
        theme: str = "",
        duo: str = "",
    ) -> HTMLResponse:
        every = summaries()
        shown = [
            s
            for s in every
            if (not q or s.card.matches(q))
            and (not build or s.card.genome_build == build)
            and (min_samples is None or s.card.n_samples >= min_samples)
            and (not theme or theme in s.card.themes)
            and (not duo or duo in s.card.duo)
        ]
        return page(
            "home.html",
            datasets=sorted(shown, key=lambda s: (s.country, s.id)),
            total=len(every),
            builds=sorted({s.card.genome_build for s in every}),
            themes=sorted({t for s in every for t in s.card.themes}),
            duo=[(c, DUO.get(c, c)) for c in sorted({c for s in every for c in s.card.duo})],
            f={"q": q, "build": build, "min_samples": min_samples, "theme": theme, "duo": duo},
            lookup={"chrom": "", "pos": "", "ref": "", "alt": ""},
        )

    def find(node: str, dataset: str) -> Summary:
        for s in summaries():
            if s.node == node and s.card.identifier.split(":")[-1] == dataset:
                return s
        raise BeaconError(404, f"node {node} has released no description of dataset {dataset}")

    @api.get("/datasets/{node}/{dataset}", response_class=HTMLResponse)
    def dataset_page(node: str, dataset: str) -> Response:
        try:
            s = find(node, dataset)
        except BeaconError as e:
            return HTMLResponse(str(e), e.status)
        turtle = dcat.serialize(s.description_graph, "turtle")
        return page("dataset.html", s=s, c=s.card, duo_labels=DUO, turtle=turtle)

    @api.get("/datasets/{node}/{dataset}/description.{fmt}")
    def description(node: str, dataset: str, fmt: str) -> Response:
        formats = {"ttl": "turtle", "jsonld": "jsonld"}
        try:
            s = find(node, dataset)
        except BeaconError as e:
            return Response(str(e), e.status)
        if fmt not in formats:
            return Response("use description.ttl or description.jsonld", 404)
        kind = formats[fmt]
        return Response(
            dcat.serialize(s.description_graph, kind), media_type=dcat.MEDIA_TYPES[kind]
        )

    @api.get("/variant", response_class=HTMLResponse)
    def variant(request: Request, chrom: str, pos: int, ref: str, alt: str) -> HTMLResponse:
        lookup_ = {"chrom": chrom, "pos": pos, "ref": ref.upper(), "alt": alt.upper()}
        label = f"{chrom}:{pos} {ref.upper()}>{alt.upper()}"
        try:
            caller = identify(request)
            budget.spend(caller_key(request, caller))
            granularity = granted("record", caller, access)
            rows, pooled, unpooled = lookup(summaries(), chrom, pos, ref.upper(), alt.upper())
        except BeaconError as e:
            return page("variant.html", label=label, lookup=lookup_, error=str(e), rows=[])
        found = sum(r.status != "absent" for r in rows)
        return page(
            "variant.html",
            label=label,
            lookup=lookup_,
            granularity=granularity,
            more=granted("record", "account holder", access) != granularity,
            rows=coarsen(rows, granularity),
            found=found if granularity == "count" else bool(found),
            datasets=len(rows),
            pooled=pooled if granularity == "record" else None,
            unpooled=unpooled if granularity == "record" else "",
            error=None,
        )

    @api.get("/catalogue.{fmt}")
    def catalogue(request: Request, fmt: str) -> Response:
        formats = {"ttl": "turtle", "jsonld": "jsonld"}
        if fmt not in formats:
            return Response("use catalogue.ttl or catalogue.jsonld", 404)
        base = str(request.url_for("home")).rstrip("/")
        g = merged_catalogue(summaries(), federation, base)
        kind = formats[fmt]
        return Response(dcat.serialize(g, kind), media_type=dcat.MEDIA_TYPES[kind])

    return api
