"""Allele-frequency summaries: the disclosure rules on hand-made counts, and the registered
analysis on a demo cohort against counts taken directly from the store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.discovery_support import shacl
from tests.unit.federation_data import make_bundle, open_cohort
from tresor.demo.registration import COHORT_DESCRIPTIONS
from tresor.discovery import dcat
from tresor.discovery import summary as rules
from tresor.federation.analyses import REGISTRY, phenotype_table

F = 10


def counts(ac, an, called=None, hom_ref=None, het=None, hom_alt=None) -> rules.Counts:
    """Diploid counts of one variant per entry (genotypes chosen to fit AC and AN)."""
    ac, an = np.asarray(ac), np.asarray(an)
    called = np.asarray(called) if called is not None else an // 2
    hom_alt = np.asarray(hom_alt) if hom_alt is not None else ac // 2
    het = np.asarray(het) if het is not None else ac - 2 * hom_alt
    hom_ref = np.asarray(hom_ref) if hom_ref is not None else called - het - hom_alt
    zero = np.zeros_like(ac)
    return rules.Counts(ac, an, called, hom_ref, het, hom_alt, zero, zero)


def test_floor__the_largest_of_federation_default_and_node():
    assert rules.floor() == 10
    assert rules.floor(5) == 10
    assert rules.floor(20, 10, 5) == 20
    assert rules.floor(10, 25) == 25


def test_decide__seen_below_the_floor_is_not_in_the_summary():
    d = rules.decide(counts([0, 1, 9, 10], [200] * 4), [], F, np.ones(4, bool))
    assert d.released.tolist() == [False, False, False, True]
    assert d.rows[:, 0].tolist() == [False, False, False, True]


def test_decide__symmetric_suppression_of_ac_and_an_minus_ac():
    # AC 195 of 200: the REF allele is seen 5 times, so neither AC nor AN is shown
    d = rules.decide(counts([195, 190], [200, 200], hom_alt=[95, 90]), [], F, np.ones(2, bool))
    assert d.released.tolist() == [True, True]
    assert d.alleles[:, 0].tolist() == [False, True]


def test_decide__a_stratum_too_small_is_suppressed_and_collapses_to_the_total():
    total = counts([40, 40], [400, 400])
    men = counts([35, 20], [200, 200])
    women = counts([5, 20], [200, 200])  # 5 copies among women: below the floor
    d = rules.decide(total, [men, women], F, np.ones(2, bool))
    assert d.rows.tolist() == [[True, False, False], [True, True, True]]
    assert d.alleles.tolist() == [[True, False, False], [True, True, True]]
    # a stratum with fewer than F people called: no count, and the variant collapses too
    few = counts([12], [16], called=[8], hom_alt=[4])
    d = rules.decide(counts([40], [400]), [few, counts([28], [384])], F, np.ones(1, bool))
    assert d.rows.tolist() == [[True, False, False]]


def test_decide__genotype_counts_withheld_in_every_stratum_when_one_is_small():
    total = counts([40], [400], hom_alt=[15])  # het 10
    men = counts([20], [200], hom_alt=[10])  # het 0
    women = counts([20], [200], hom_alt=[5])  # het 10, hom 5 < F
    d = rules.decide(total, [men, women], F, np.ones(1, bool))
    assert d.rows.tolist() == [[True, True, True]]
    assert d.alleles.tolist() == [[True, True, True]]
    assert d.genotypes.tolist() == [[True, False, False]]


@pytest.fixture(scope="module")
def summarised(tmp_path_factory, demo_cohorts):
    """The dk cohort summarised as the agent runs it (catalogue entry with strata = sex)."""
    from tresor.core.catalogue import DatasetEntry

    cohort = demo_cohorts["dk"]
    out = tmp_path_factory.mktemp("summary")
    ds = open_cohort(cohort)
    entry = DatasetEntry(id="dk", title="Danish demo cohort", store=cohort.store,
                         contact="dac@tresor.invalid", **COHORT_DESCRIPTIONS["dk"])  # fmt: skip
    ds.attrs.update(tresor_node="dk", tresor_catalogue_entry=entry)
    phenotypes = phenotype_table([cohort.pheno, cohort.covar])
    REGISTRY["allele_frequency_summary"].run(
        ds, phenotypes, {}, min_minor_allele_count=10, out_dir=out
    )
    return cohort, out, phenotypes


def direct_counts(ds, samples=None) -> pd.DataFrame:
    g = np.asarray(ds["call_genotype"].values)
    if samples is not None:
        g = g[:, samples]
    alleles = np.asarray(ds["variant_allele"].values).astype(object).astype(str)
    contigs = np.asarray(ds["contig_id"].values).astype(object).astype(str)
    return pd.DataFrame(
        {
            "CHROM": contigs[np.asarray(ds["variant_contig"].values)],
            "POS": np.asarray(ds["variant_position"].values),
            "REF": alleles[:, 0],
            "ALT": alleles[:, 1],
            "AC": (g == 1).sum(axis=(1, 2)),
            "AN": (g >= 0).sum(axis=(1, 2)),
            "BIALLELIC": (alleles[:, 2:] == "").all(axis=1) if alleles.shape[1] > 2 else True,
        }
    )


def test_summary__counts_equal_the_store_with_the_rules_applied(summarised):
    cohort, out, _phenotypes = summarised
    table = pd.read_parquet(out / "allele_frequencies.parquet")
    ds = open_cohort(cohort)
    direct = direct_counts(ds)
    direct = direct[direct["BIALLELIC"]]
    total = table[table["STRATUM"] == "ALL"]
    # exactly the variants seen at least F times are in the summary
    seen = direct[direct["AC"] >= F]
    assert sorted(zip(total["POS"], total["ALT"], strict=False)) == sorted(
        zip(seen["POS"], seen["ALT"], strict=False)
    )
    joined = total.merge(seen, on=["CHROM", "POS", "REF", "ALT"], suffixes=("", "_store"))
    shown = joined[~joined["SUPPRESSED"]]
    assert (shown["AC"] == shown["AC_store"]).all() and (shown["AN"] == shown["AN_store"]).all()
    hidden = joined[joined["SUPPRESSED"]]
    assert hidden["AC"].isna().all() and hidden["AN"].isna().all()
    assert ((hidden["AN_store"] - hidden["AC_store"]) < F).all()
    # no shown allele count in (0, F): the floor holds symmetrically in every row
    rows = table[~table["SUPPRESSED"]]
    for column in (rows["AC"], rows["AN"] - rows["AC"]):
        assert not ((column > 0) & (column < F)).any()
    for column in rules.GENOTYPES:
        values = table[column].dropna()
        assert not ((values > 0) & (values < F)).any(), column


def test_summary__strata_are_shown_whole_or_collapse_to_the_total(summarised):
    cohort, out, phenotypes = summarised
    table = pd.read_parquet(out / "allele_frequencies.parquet")
    assert set(table["STRATUM"]) == {"ALL", "sex=female", "sex=male"}
    per_variant = table.groupby(["CHROM", "POS", "ALT"])["STRATUM"].agg(frozenset)
    assert set(per_variant) == {frozenset({"ALL"}), frozenset({"ALL", "sex=female", "sex=male"})}
    collapsed = (per_variant == frozenset({"ALL"})).sum()
    assert collapsed > 0 and collapsed < len(per_variant)  # both cases occur in the demo
    # where strata are shown, they are exact and sum to the total
    ds = open_cohort(cohort)
    sex = phenotypes.reindex([str(s) for s in ds["sample_id"].values.tolist()])["sex"]
    women = direct_counts(ds, np.flatnonzero(sex.to_numpy() == "2"))
    female = table[table["STRATUM"] == "sex=female"].merge(
        women, on=["CHROM", "POS", "REF", "ALT"], suffixes=("", "_store")
    )
    assert len(female) > 0 and (female["AC"] == female["AC_store"]).all()
    wide = table.pivot_table(index=["CHROM", "POS", "ALT"], columns="STRATUM", values="AC")
    full = wide.dropna()
    assert (full["sex=female"] + full["sex=male"] == full["ALL"]).all()


def test_summary__description_is_valid_healthdcat_with_counts_by_sex(summarised):
    _cohort, out, _ = summarised
    g = dcat.parse((out / "dataset.jsonld").read_text(), "jsonld")
    conforms, report = shacl(g)
    assert conforms, report
    (card,) = dcat.cards(g)
    assert card.node == "dk" and card.identifier == "dk:dk" and card.n_samples == 120
    assert sum(card.by_sex.values()) == 120


def test_summary__merged_over_two_nodes_pools_the_counts(summarised, tmp_path):
    from tresor.federation.merge import merge

    _cohort, out, _ = summarised
    bundles = [make_bundle(tmp_path / n, n, out) for n in ("dk", "dk2")]
    merge(bundles, tmp_path / "merged", run_checks=False)
    (merged,) = (tmp_path / "merged").glob("*.acount")
    pooled = pd.read_csv(merged, sep="\t")
    single = pd.read_parquet(out / "allele_frequencies.parquet")
    shown = single[(single["STRATUM"] == "ALL") & ~single["SUPPRESSED"]].iloc[0]
    row = pooled[(pooled["POS"] == shown["POS"]) & (pooled["STRATUM"] == "ALL")].iloc[0]
    assert row["ALT_CTS"] == 2 * shown["AC"] and row["OBS_CT"] == 2 * shown["AN"]


def test_summary__output_kinds_describe_the_files_as_the_airlock_reads_them(summarised):
    """What the airlock's kind registry needs (issue 14): the columns written, which count
    alleles and people, which name a row; the checks' ledger record of the table has exactly
    those keys and counts, so a later release is compared row by row. Neither file is blocked
    (today the table gets review for its number of rows, the description pass)."""
    from airlock.checks import CheckContext, Verdict, check_file

    _cohort, out, _ = summarised
    kinds = {k.name: k for k in REGISTRY["allele_frequency_summary"].outputs}
    table_kind = kinds["discovery.allele_frequencies"]
    written = pd.read_parquet(out / table_kind.file)
    assert tuple(written.columns) == table_kind.columns
    assert set(table_kind.people) | set(table_kind.alleles) | set(table_kind.row_keys) | set(
        table_kind.flags
    ) == set(table_kind.columns)
    assert table_kind.to_dict()["row_keys"] == ["CHROM", "POS", "REF", "ALT", "STRATUM"]
    assert written["SUPPRESSED"].dtype == bool and table_kind.flags == ("SUPPRESSED",)
    report = check_file(out / table_kind.file, CheckContext())
    (record,) = report.tables
    assert record.key_columns == table_kind.row_keys
    assert set(record.count_columns) == set(table_kind.alleles) | set(table_kind.people)
    assert report.verdict != Verdict.BLOCK, report.findings
    description = check_file(out / kinds["discovery.dataset_description"].file, CheckContext())
    assert description.verdict != Verdict.BLOCK, description.findings
