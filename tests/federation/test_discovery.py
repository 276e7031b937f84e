"""Discovery over the three demo nodes: each node's summary released through its own airlock
(two reviewers), the coordinator's Beacon v2 and portal answering from them, equal to counts
taken directly from the stores with the disclosure rules applied; every answer checked against
the Beacon v2 models; the coordinator opens no connection to any node."""

from __future__ import annotations

import re

import httpx
import pandas as pd
import pytest

import tresor.federation as fed
from tests.discovery_support import shacl
from tests.federation.conftest import KEY, NODES
from tests.federation.fixture import PROJECT, Federation, wait_until
from tresor.discovery import beacon_models as m
from tresor.discovery import dcat

pytestmark = pytest.mark.slow

#: the airlock's verdict on each file of a summary. The table is a registered kind
#: (discovery.allele_frequencies) whose rules hold: pass, nothing found, whatever its length;
#: the manifest and the HealthDCAT-AP description are JSON documents of no registered kind, which
#: the default-deny checks give to a reviewer (review, never block). A refresh of the same data:
#: the same verdicts, no differencing finding.
VERDICTS = {
    "allele_frequencies.parquet": "pass",
    "dataset.jsonld": "review",
    "manifest.json": "review",
}


def assert_summary_verdicts(found: dict[str, tuple[str, list[str]]]) -> None:
    assert {name: verdict for name, (verdict, _) in found.items()} == VERDICTS, found
    assert found["allele_frequencies.parquet"][1] == [], found
    assert "unrecognised-kind" in found["dataset.jsonld"][1], found
    assert not any("differencing" in rule for _, rules in found.values() for rule in rules)


def beacon(federation: Federation, path: str = "g_variants", token: str | None = None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(
        f"{federation.coordinator_url}/beacon/{path}", params=params, headers=headers, timeout=60
    )


def portal_variant(url: str, row, token: str | None = None) -> str:
    """The portal's variant page for ``row`` (CHROM, POS, REF, ALT), as an account holder when
    ``token`` is given (the coordinator token, as the Beacon takes it), else anonymously."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params = {"chrom": row["CHROM"], "pos": int(row["POS"]), "ref": row["REF"], "alt": row["ALT"]}
    answer = httpx.get(f"{url}/portal/variant", params=params, headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.text


def sequence(row, granularity: str) -> dict:
    return {
        "referenceName": row["CHROM"],
        "start": int(row["POS"]) - 1,
        "referenceBases": row["REF"],
        "alternateBases": row["ALT"],
        "assemblyId": "GRCh38",
        "requestedGranularity": granularity,
    }


def ok(f: int, ac, an) -> bool:
    return (ac == 0 or ac >= f) and (an - ac == 0 or an - ac >= f) and an // 2 >= f


def frequencies_by_population(record: dict) -> dict[str, dict]:
    return {
        f["population"]: f
        for source in record.get("frequencyInPopulations", [])
        for f in source["frequencies"]
    }


def summary_verdicts(released: dict) -> dict[str, tuple[str, list[str]]]:
    """The airlock's verdict on each file of a released summary request and the rules behind
    it; no reviewer had to acknowledge an exception (nothing blocked)."""
    assert [r["acknowledged_files"] for r in released["reviews"]] == [[], []], released["reviews"]
    return {
        f["name"]: (f["verdict"], sorted(x["rule"] for x in f["findings"]))
        for f in released["files"]
    }


def test_summaries__released_through_each_airlock_by_two_reviewers(federation, published):
    for name, released in published["released"].items():
        assert len(released) == 1, name
        assert sorted(released[0]["approvals"]) == ["reviewer1", "reviewer2"], name
        assert_summary_verdicts(summary_verdicts(released[0]))
    final = published["final"]
    assert final.state == "merged" and final.nodes == dict.fromkeys(NODES, "released"), final
    datasets = beacon(federation, "datasets").json()
    m.CollectionsResponse.model_validate(datasets)
    assert {d["id"] for d in datasets["response"]["collections"]} == {f"{n}:{n}" for n in NODES}


def test_g_variants__a_variant_in_all_three_equals_the_stores(federation, published, stores):
    f = 10
    joined = stores["dk"].merge(stores["se"], on=KEY, suffixes=("", "_se"))
    joined = joined.merge(
        stores["uk"].add_suffix("_uk").rename(columns={f"{k}_uk": k for k in KEY}), on=KEY
    )
    shown = joined[
        [
            all(ok(f, r[f"AC{s}"], r[f"AN{s}"]) for s in ("", "_se", "_uk"))
            for _, r in joined.iterrows()
        ]
    ]
    assert len(shown) > 10, "too few variants that all three cohorts show to test anything"
    token = federation.researcher_token
    for _, row in shown.head(5).iterrows():
        answer = beacon(federation, token=token, **sequence(row, "record"))
        assert answer.status_code == 200, answer.text
        body = m.ResultsetsResponse.model_validate(answer.json())
        assert body.meta.returnedGranularity == "record" and body.responseSummary.exists
        assert body.responseSummary.numTotalResults == 1
        assert {s.id for s in body.response.resultSets} == {f"{n}:{n}" for n in NODES}
        for result_set in body.response.resultSets:
            (record,) = result_set.results
            m.GenomicVariation.model_validate(record)
            node = result_set.id.split(":")[0]
            suffix = "" if node == "dk" else f"_{node}"
            total = frequencies_by_population(record)[node]
            assert total["alleleCount"] == row[f"AC{suffix}"], (node, row.to_dict())
            assert total["alleleNumber"] == row[f"AN{suffix}"], (node, row.to_dict())
        # the portal shows an account holder the same, side by side, and pools them
        page = portal_variant(federation.coordinator_url, row, token=token)
        for node in NODES:
            suffix = "" if node == "dk" else f"_{node}"
            assert re.search(rf'data-node="{node}".*?{row[f"AC{suffix}"]}</td>', page, re.S)
        pooled_ac = sum(row[f"AC{s}"] for s in ("", "_se", "_uk"))
        assert f'<td class="num">{pooled_ac}</td>' in page.split('data-testid="pooled"')[1]


def test_g_variants__strata_below_the_floor_collapse_and_rare_sides_are_suppressed(
    federation, published, stores
):
    f, token = 10, federation.researcher_token
    dk = stores["dk"]
    # a variant whose total passes but one sex stratum does not: only the total is shown
    collapsed = dk[
        [
            ok(f, r.AC, r.AN)
            and f <= r.AC
            and not (ok(f, r.AC_male, r.AN_male) and ok(f, r.AC_female, r.AN_female))
            for r in dk.itertuples()
        ]
    ]
    assert len(collapsed) > 0
    row = collapsed.iloc[0]
    body = beacon(federation, token=token, **sequence(row, "record")).json()
    m.ResultsetsResponse.model_validate(body)
    (record,) = next(s for s in body["response"]["resultSets"] if s["id"] == "dk:dk")["results"]
    populations = frequencies_by_population(record)
    assert "dk" in populations and not [p for p in populations if p.startswith("dk ")]
    assert populations["dk"]["alleleCount"] == row["AC"]
    # where every stratum passes, they are shown and exact
    whole = dk[
        [
            ok(f, r.AC, r.AN) and ok(f, r.AC_male, r.AN_male) and ok(f, r.AC_female, r.AN_female)
            for r in dk.itertuples()
        ]
    ]
    row = whole.iloc[0]
    body = beacon(federation, token=token, **sequence(row, "record")).json()
    (record,) = next(s for s in body["response"]["resultSets"] if s["id"] == "dk:dk")["results"]
    populations = frequencies_by_population(record)
    assert populations["dk sex=female"]["alleleCount"] == row["AC_female"]
    assert populations["dk sex=male"]["alleleNumber"] == row["AN_male"]
    # seen often, but the REF allele fewer than F times: AC and AN both withheld, marked
    rare_ref = dk[(dk["AC"] >= f) & (dk["AN"] - dk["AC"] > 0) & (dk["AN"] - dk["AC"] < f)]
    assert len(rare_ref) > 0, "no variant with a rare REF allele in the demo cohort"
    row = rare_ref.iloc[0]
    body = beacon(federation, token=token, **sequence(row, "record")).json()
    m.ResultsetsResponse.model_validate(body)
    (record,) = next(s for s in body["response"]["resultSets"] if s["id"] == "dk:dk")["results"]
    assert "dk" not in frequencies_by_population(record)
    assert record["info"]["suppressed"]["dk:dk"] == ["dk"]
    page = portal_variant(federation.coordinator_url, row, token=token)
    dk_row = page.split('data-node="dk"')[1].split("</tr>")[0]
    assert "suppressed" in dk_row and ">0<" not in dk_row
    # seen fewer than F times: answered exactly as an absent variant
    rare = dk[(dk["AC"] > 0) & (dk["AC"] < f)]
    row = rare.iloc[0]
    others = pd.concat([stores["se"], stores["uk"]])
    if not others.merge(row.to_frame().T[KEY], on=KEY).empty:
        row = next(r for _, r in rare.iterrows() if others.merge(r.to_frame().T[KEY], on=KEY).empty)
    body = beacon(federation, token=token, **sequence(row, "boolean")).json()
    m.BooleanResponse.model_validate(body)
    assert body["responseSummary"] == {"exists": False}


def test_g_variants__absent_everywhere_answers_exists_false(federation, published, stores):
    positions = set().union(*(set(t["POS"]) for t in stores.values()))
    pos = next(p for p in range(1000, 10**6) if p not in positions)
    params = {
        "referenceName": "chr21",
        "start": pos - 1,
        "referenceBases": "A",
        "alternateBases": "G",
        "assemblyId": "GRCh38",
    }
    for granularity, model in (
        ("boolean", m.BooleanResponse),
        ("count", m.CountResponse),
        ("record", m.ResultsetsResponse),
    ):
        body = beacon(
            federation,
            token=federation.researcher_token,
            requestedGranularity=granularity,
            **params,
        ).json()
        model.model_validate(body)
        assert body["responseSummary"]["exists"] is False, body
        assert body["meta"]["returnedGranularity"] == granularity
    # anonymous: record is answered as a count (the configured most), never more
    body = beacon(federation, requestedGranularity="record", **params).json()
    m.CountResponse.model_validate(body)
    assert body["meta"]["returnedGranularity"] == "count" and "response" not in body


def test_portal__anonymous_visitors_see_what_the_configured_granularity_allows(
    federation, published, stores
):
    """The portal's lookup decides as the Beacon does: at ``count`` (this federation's default)
    an anonymous visitor sees which datasets have a variant, not its counts or frequencies, and
    is told how to get more; at ``boolean`` only whether any dataset has it; at ``record`` the
    frequencies."""
    f = 10
    joined = stores["dk"].merge(stores["se"], on=KEY, suffixes=("", "_se"))
    joined = joined.merge(
        stores["uk"].add_suffix("_uk").rename(columns={f"{k}_uk": k for k in KEY}), on=KEY
    )
    everywhere = joined[
        [all(ok(f, r[f"AC{s}"], r[f"AN{s}"]) and r[f"AC{s}"] >= f for s in ("", "_se", "_uk"))
         for _, r in joined.iterrows()]
    ].iloc[0]  # fmt: skip
    elsewhere = pd.concat([stores["se"], stores["uk"]])[KEY]
    dk = stores["dk"].merge(elsewhere, on=KEY, how="left", indicator=True)
    dk_only = dk[(dk["_merge"] == "left_only") & (dk["AC"] >= f) & (dk["AN"] - dk["AC"] >= f)]
    assert len(dk_only) > 0, "no variant only the dk cohort has"
    dk_only = dk_only.iloc[0]
    numbers = {str(everywhere[f"{c}{s}"]) for c in ("AC", "AN") for s in ("", "_se", "_uk")}

    def no_counts(page: str) -> None:
        body = page.split("<h2", 1)[1].split('class="note">Counts come from')[0]
        for marker in ('data-testid="ac"', 'data-testid="af"', 'data-testid="pooled"',
                       "Frequency", 'class="num"'):  # fmt: skip
            assert marker not in body, marker
        assert not [n for n in numbers if f">{n}<" in body], body

    def note(page: str) -> str:
        assert 'data-testid="granularity-note"' in page, page
        return page.split('data-testid="granularity-note">')[1].split("</p>")[0]

    url = federation.coordinator_url
    page = portal_variant(url, everywhere)
    no_counts(page)
    assert "Found in 3 of 3 datasets." in page
    assert page.count('data-testid="found-in">found<') == 3
    assert "which datasets have a variant" in note(page) and "Authorization: Bearer" in note(page)
    assert "how to apply for access" in note(page)
    page = portal_variant(url, dk_only)
    no_counts(page)
    assert "Found in 1 of 3 datasets." in page
    dk_row = page.split('data-node="dk"')[1].split("</tr>")[0]
    assert 'data-testid="found-in"' in dk_row
    for node in ("se", "uk"):
        assert 'data-testid="absent"' in page.split(f'data-node="{node}"')[1].split("</tr>")[0]
    # an account holder sees the frequencies, and no note
    page = portal_variant(url, everywhere, token=federation.researcher_token)
    assert 'data-testid="ac"' in page and 'data-testid="granularity-note"' not in page

    with federation.another_coordinator("--beacon-anonymous-granularity", "boolean") as other:
        page = portal_variant(other, everywhere)
        no_counts(page)
        assert "Found in at least one dataset of the federation." in page
        assert 'data-testid="country-row"' not in page and "of 3 datasets" not in page
        assert "only whether a variant is found" in note(page)
        page = portal_variant(other, dk_only)
        assert "Found in at least one dataset" in page and "of 3 datasets" not in page
    with federation.another_coordinator("--beacon-anonymous-granularity", "record") as other:
        page = portal_variant(other, everywhere)
        assert 'data-testid="granularity-note"' not in page
        for node, suffix in zip(NODES, ("", "_se", "_uk"), strict=True):
            row = page.split(f'data-node="{node}"')[1].split("</tr>")[0]
            assert f'data-testid="ac">{everywhere[f"AC{suffix}"]}</td>' in row, row


def test_beacon__framework_endpoints_and_range_and_bracket_queries(federation, published, stores):
    for path, model in (
        ("", m.InfoResponse),
        ("info", m.InfoResponse),
        ("configuration", m.ConfigurationResponse),
        ("map", m.MapResponse),
        ("entry_types", m.EntryTypesResponse),
        ("filtering_terms", m.FilteringTermsResponse),
        ("datasets", m.CollectionsResponse),
    ):
        answer = beacon(federation, path)
        assert answer.status_code == 200, (path, answer.text)
        model.model_validate(answer.json())
    m.ServiceInfo.model_validate(beacon(federation, "service-info").json())
    terms = beacon(federation, "filtering_terms").json()["response"]["filteringTerms"]
    assert {t["id"] for t in terms} == {"DUO:0000019", "DUO:0000042"}

    dk = stores["dk"]
    shown = dk[(dk["AC"] >= 10) & (dk["AN"] - dk["AC"] >= 10)]
    row = shown.iloc[len(shown) // 2]
    start = int(row["POS"]) - 1
    token = federation.researcher_token
    in_range = dk[
        (dk["CHROM"] == row["CHROM"])
        & (dk["POS"] - 1 < start + 5000)
        & (dk["POS"] - 1 + dk["REF"].str.len() > start)
        & (dk["AC"] >= 10)
    ]
    answer = beacon(
        federation,
        token=token,
        referenceName=row["CHROM"],
        start=start,
        end=start + 5000,
        requestedGranularity="record",
        limit=100,
        datasetIds="dk:dk",
    ).json()
    body = m.ResultsetsResponse.model_validate(answer)
    (result_set,) = body.response.resultSets
    ids = {r["variantInternalId"] for r in result_set.results}
    expected = {f"GRCh38:{r.CHROM}:{r.POS}:{r.REF}:{r.ALT}" for r in in_range.itertuples()}
    assert ids == expected and body.responseSummary.numTotalResults == len(expected)
    answer = beacon(
        federation,
        token=token,
        referenceName=row["CHROM"],
        start=f"{start - 2},{start}",
        end=f"{start + 1},{start + 3}",
        requestedGranularity="count",
        datasetIds="dk:dk",
    ).json()
    assert m.CountResponse.model_validate(answer).responseSummary.numTotalResults >= 1
    # a POST request body, with a filter on the data use conditions
    answer = httpx.post(
        f"{federation.coordinator_url}/beacon/g_variants",
        json={
            "meta": {"apiVersion": "v2.0.0"},
            "query": {
                "requestParameters": sequence(row, "count"),
                "filters": [{"id": "DUO:0000042"}],
                "requestedGranularity": "count",
            },
        },
    ).json()
    assert m.CountResponse.model_validate(answer).responseSummary.exists
    bad = beacon(federation, referenceName="chr21", start="x")
    assert bad.status_code == 400
    m.ErrorResponse.model_validate(bad.json())
    unknown = beacon(federation, referenceName="chr21", start=5, alternateBases="A", filters="XX:1")
    assert (
        unknown.status_code == 400 and "filtering terms" in unknown.json()["error"]["errorMessage"]
    )


def test_portal__harvest_endpoint_is_a_valid_merged_catalogue(federation, published):
    text = httpx.get(f"{federation.coordinator_url}/portal/catalogue.ttl").text
    g = dcat.parse(text, "turtle")
    conforms, report = shacl(g)
    assert conforms, report
    cards = {c.identifier for c in dcat.cards(g)}
    assert cards == {f"{n}:{n}" for n in NODES}
    jsonld = httpx.get(f"{federation.coordinator_url}/portal/catalogue.jsonld").text
    from rdflib.compare import isomorphic

    assert isomorphic(g, dcat.parse(jsonld, "jsonld"))


def test_refresh__a_node_asks_again_and_the_portal_serves_the_new_release(federation, published):
    """``tresor discovery refresh`` (what a node's timer runs) files a summary request for the
    node's own dataset; its agent runs it, its two reviewers release it (the same verdicts:
    the data did not change) and the coordinator serves the newer release."""
    node = federation.nodes["dk"]
    page = f"{federation.coordinator_url}/portal/datasets/dk/dk"

    def released_at() -> str:
        return re.search(r"<dt>Released</dt><dd>([^<]+)</dd>", httpx.get(page).text).group(1)

    before = released_at()
    kw = federation.client_kw()
    out = federation.tresor(
        "discovery", "refresh", "--project", PROJECT, "--site-config", str(node.site.source),
        "--url", kw["url"], "--token", kw["token"],
    ).stdout  # fmt: skip
    ((request_id, target),) = [line.split() for line in out.strip().splitlines()]
    assert target == "dk:dk"
    federation.wait_in_review(request_id, ["dk"])
    (released,) = federation.approve_all("dk", request_id)
    assert_summary_verdicts(summary_verdicts(released))
    final = wait_until(lambda: (s := fed.status(request_id, **kw)).done and s, "the refresh")
    assert final.state == "merged" and final.nodes == {"dk": "released"}, final
    assert released_at() > before
    datasets = beacon(federation, "datasets").json()["response"]["collections"]
    assert sorted(d["id"] for d in datasets) == [f"{n}:{n}" for n in NODES]  # one per dataset


def test_registry_holds_no_node_address_and_the_coordinator_connects_to_no_node(
    federation, published
):
    from tresor.federation.registry import NodeEntry

    assert set(NodeEntry.model_fields) == {"country", "description", "release_keys", "agent_keys"}
    text = federation.registry_path.read_text()
    ports = federation.node_ports()
    assert not [p for p in ports if re.search(rf"\b{p}\b", text)], "a node's port in the registry"
    assert "127.0.0.1" not in text.replace(federation.coordinator_url, "")
    # everything the portal and Beacon answered above came from the coordinator's own files
    assert federation.monitor.to_ports(ports) == []
    assert federation.monitor.outgoing == []
    assert federation.monitor.accepted > 0
