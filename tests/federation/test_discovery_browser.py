"""The portal in a browser (Playwright + Debian's Chromium) over the three demo nodes: search
the datasets, open one, look up a variant: anonymously, which countries have it (the
federation's anonymous granularity is ``count``); as an account holder (the browser sends the
coordinator token, as a signing-in reverse proxy would), the three countries' frequencies side
by side. Screenshots go to test-artifacts/portal-*.png."""

from __future__ import annotations

import numpy as np
import pytest

from tests.federation.conftest import NODES

pytestmark = pytest.mark.slow


def test_portal__search_open_and_look_up_a_variant(
    page, federation, published, stores, artifacts_dir
):
    from playwright.sync_api import expect

    page.goto(f"{federation.coordinator_url}/portal/")
    rows = page.get_by_test_id("dataset-row")
    expect(rows).to_have_count(3)
    page.screenshot(path=artifacts_dir / "portal-1-datasets.png", full_page=True)

    # search and filter: one word, a data use condition, a size
    form = page.get_by_test_id("search-form")
    form.get_by_label("Search", exact=True).fill("Swedish")
    form.locator("select[name=duo]").select_option("DUO:0000042")
    form.get_by_label("At least samples", exact=True).fill("100")
    form.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("se")
    page.screenshot(path=artifacts_dir / "portal-2-search.png", full_page=True)

    # open it: the HealthDCAT-AP description, contact and how to apply
    rows.first.get_by_role("link").click()
    expect(page.get_by_test_id("dataset-title")).to_contain_text("Swedish")
    expect(page.get_by_test_id("contact")).to_contain_text("dac@tresor.invalid")
    expect(page.get_by_test_id("access-procedure")).to_contain_text("research proposal")
    expect(page.get_by_test_id("turtle")).to_contain_text("healthdcatap:healthCategory")
    page.screenshot(path=artifacts_dir / "portal-3-dataset.png", full_page=True)

    # a variant every node shows: three countries side by side and the pooled frequency
    keys = ["CHROM", "POS", "REF", "ALT"]
    common = (
        stores["dk"]
        .merge(stores["se"], on=keys, suffixes=("", "_se"))
        .merge(stores["uk"], on=keys, suffixes=("", "_uk"))
    )
    shown = common[
        np.all([(common[f"AC{s}"] >= 10) & (common[f"AN{s}"] - common[f"AC{s}"] >= 10)
                for s in ("", "_se", "_uk")], axis=0)
    ]  # fmt: skip
    row = shown.iloc[0]

    def look_up() -> None:
        page.goto(f"{federation.coordinator_url}/portal/")
        lookup = page.get_by_test_id("variant-form")
        lookup.get_by_label("Chromosome", exact=True).fill(str(row["CHROM"]))
        lookup.get_by_label("Position (VCF, 1-based)", exact=True).fill(str(row["POS"]))
        lookup.get_by_label("REF", exact=True).fill(row["REF"])
        lookup.get_by_label("ALT", exact=True).fill(row["ALT"])
        lookup.get_by_role("button", name="Look up").click()

    look_up()
    countries = page.get_by_test_id("country-row")
    expect(countries).to_have_count(3)
    expect(page.get_by_test_id("found-in")).to_have_count(3)
    expect(page.get_by_test_id("ac")).to_have_count(0)
    expect(page.get_by_test_id("granularity-note")).to_contain_text("how to apply for access")
    page.screenshot(path=artifacts_dir / "portal-4-variant-anonymous.png", full_page=True)

    page.set_extra_http_headers({"Authorization": f"Bearer {federation.researcher_token}"})
    look_up()
    expect(countries).to_have_count(3)
    for node, suffix in zip(NODES, ("", "_se", "_uk"), strict=True):
        cell = page.locator(f'[data-testid="country-row"][data-node="{node}"]')
        expect(cell.get_by_test_id("ac")).to_have_text(str(row[f"AC{suffix}"]))
    expect(page.get_by_test_id("pooled-af")).to_be_visible()
    page.screenshot(path=artifacts_dir / "portal-5-variant.png", full_page=True)
