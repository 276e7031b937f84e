"""The node's catalogue as HealthDCAT-AP / DCAT-AP 3: SHACL-valid, both serialisations, and a
changed mandatory property fails the shapes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from rdflib import Literal, URIRef
from rdflib import namespace as ns
from rdflib.compare import isomorphic

from tests.discovery_support import shacl
from tresor.core.catalogue import DatasetEntry, load_catalogue, register_dataset
from tresor.core.errors import ConfigError
from tresor.demo.registration import COHORT_DESCRIPTIONS
from tresor.discovery import dcat, vocab


@pytest.fixture(scope="module")
def demo_node(tmp_path_factory, demo_cohorts):
    """A node's site config whose catalogue holds the three demo cohorts, as the demo registers
    them."""
    from tresor.demo import register_cohorts

    root = tmp_path_factory.mktemp("demo-node")
    register_cohorts(list(demo_cohorts.values()), root / "catalogue", {"dk": ["nordic"]})
    site = root / "site.toml"
    site.write_text(
        f'node_name = "dk"\nstate_dir = "{root / "state"}"\n'
        f'catalogue_dir = "{root / "catalogue"}"\n[demo]\nenabled = false\n'
    )
    return site


def exported(site, fmt: str) -> str:
    from tresor.cli import cli

    result = CliRunner().invoke(
        cli, ["catalogue", "export", "--format", fmt, "--site-config", str(site)]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_catalogue_export__demo_node_passes_shacl_in_both_formats(demo_node):
    turtle = dcat.parse(exported(demo_node, "turtle"), "turtle")
    jsonld_text = exported(demo_node, "jsonld")
    assert isinstance(json.loads(jsonld_text)["@context"], dict)  # inline: nothing to fetch
    jsonld = dcat.parse(jsonld_text, "jsonld")
    assert isomorphic(turtle, jsonld)
    conforms, report = shacl(turtle)
    assert conforms, report
    cards = {c.identifier: c for c in dcat.cards(turtle)}
    assert set(cards) == {"dk:dk", "dk:se", "dk:uk"}
    dk = cards["dk:dk"]
    assert dk.genome_build == "GRCh38" and dk.n_samples == 120
    assert dk.duo == ("DUO:0000019", "DUO:0000042")
    assert dk.countries == ("DK",) and dk.access_rights == "NON_PUBLIC"
    assert dk.contact_email == "dac@tresor.invalid" and "data access committee" in dk.contact
    assert dk.access_url == "mailto:dac@tresor.invalid" and "proposal" in dk.access_procedure
    assert dk.variant_types == ("SNV",) and "HEAL" in dk.themes
    # the demo's sexes are balanced: both groups reach the floor and are published
    assert set(dk.by_sex) == {"female", "male"} and sum(dk.by_sex.values()) == 120
    assert all(n >= 10 for n in dk.by_sex.values())


def _dataset(g):
    return next(g.subjects(ns.RDF.type, ns.DCAT.Dataset))


def _drop(g, s, p):
    for o in list(g.objects(s, p)):
        g.remove((s, p, o))


def _no_title(g):
    _drop(g, _dataset(g), ns.DCTERMS.title)


def _no_description(g):
    _drop(g, _dataset(g), ns.DCTERMS.description)


def _access_rights_not_in_the_vocabulary(g):
    ds = _dataset(g)
    _drop(g, ds, ns.DCTERMS.accessRights)
    g.add((ds, ns.DCTERMS.accessRights, vocab.ACCESS_RIGHT["SOMETIMES"]))


def _no_access_url(g):
    _drop(g, next(g.subjects(ns.RDF.type, ns.DCAT.Distribution)), ns.DCAT.accessURL)


def _no_ehds_legislation(g):
    ds = _dataset(g)
    _drop(g, ds, vocab.DCATAP.applicableLegislation)
    g.add(
        (
            ds,
            vocab.DCATAP.applicableLegislation,
            URIRef("http://data.europa.eu/eli/reg/2016/679/oj"),
        )
    )


def _no_contact_point(g):
    _drop(g, _dataset(g), ns.DCAT.contactPoint)


def _no_health_category(g):
    _drop(g, _dataset(g), vocab.HEALTH.healthCategory)


def _individuals_as_text(g):
    ds = _dataset(g)
    _drop(g, ds, vocab.HEALTH.numberOfUniqueIndividuals)
    g.add((ds, vocab.HEALTH.numberOfUniqueIndividuals, Literal("many")))


def _publisher_without_name(g):
    for agent in list(g.subjects(ns.RDF.type, ns.FOAF.Agent)):
        _drop(g, agent, ns.FOAF.name)


def _duo_code_not_duo(g):
    for c in list(g.subjects(vocab.ODRL.leftOperand, vocab.ODRL.purpose)):
        _drop(g, c, vocab.ODRL.rightOperand)
        g.add((c, vocab.ODRL.rightOperand, URIRef("http://example.org/anything-goes")))


@pytest.mark.parametrize(
    "change",
    [_no_title, _no_description, _access_rights_not_in_the_vocabulary, _no_access_url,
     _no_ehds_legislation, _no_contact_point, _no_health_category, _individuals_as_text,
     _publisher_without_name, _duo_code_not_duo],
)  # fmt: skip
def test_catalogue__a_changed_mandatory_property_fails_shacl(change):
    entry = DatasetEntry(
        id="dk", title="Danish cohort", store="/data/dk.vcz", n_samples=120, n_variants=9000,
        contact="the DAC (dac@example.org)", **COHORT_DESCRIPTIONS["dk"],
    )  # fmt: skip
    g = dcat.catalogue_graph([(entry, {"female": 60, "male": 60})], node="dk")
    conforms, report = shacl(g)
    assert conforms, report
    change(g)
    conforms, report = shacl(g)
    assert not conforms, f"{change.__name__} still conforms"


def test_samples_by_sex__a_group_below_the_floor_collapses_to_the_total(tmp_path):
    covar = tmp_path / "covar"
    covar.write_text("#IID sex\n" + "".join(f"s{i} {1 if i < 25 else 2}\n" for i in range(30)))
    entry = DatasetEntry(
        id="x", title="x", store=tmp_path, phenotypes={"covar": covar}, strata=("sex",)
    )
    assert dcat.samples_by_sex(entry, 10) is None  # 5 women: below the floor
    assert dcat.samples_by_sex(entry, 5) == {"female": 5, "male": 25}
    undeclared = DatasetEntry(id="x", title="x", store=tmp_path, phenotypes={"covar": covar})
    assert dcat.samples_by_sex(undeclared, 5) is None  # the node did not declare it


def test_catalogue_entry__description_fields_round_trip_and_are_checked(tmp_path):
    entry = DatasetEntry(id="dk", title="t", store=tmp_path / "s", **COHORT_DESCRIPTIONS["dk"])
    register_dataset(entry, tmp_path / "cat")
    assert load_catalogue(tmp_path / "cat") == {"dk": entry}
    with pytest.raises(ConfigError, match="not one of PUBLIC, RESTRICTED, NON_PUBLIC"):
        DatasetEntry(id="dk", title="t", store=tmp_path, access_rights="OPEN")
    with pytest.raises(ConfigError, match="not DUO codes"):
        DatasetEntry(id="dk", title="t", store=tmp_path, duo=("GRU",))
    with pytest.raises(ConfigError, match="ISO 3166-1"):
        DatasetEntry(id="dk", title="t", store=tmp_path, countries=("DNK",))


def test_parse__a_remote_jsonld_context_is_refused():
    with pytest.raises(dcat.DescriptionError, match="inline"):
        dcat.parse(json.dumps({"@context": "https://example.org/ctx.jsonld", "@id": "x"}), "jsonld")
