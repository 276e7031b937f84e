"""Individual-level content: ID columns, sample IDs of the node's datasets, genotype matrices,
principal component scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airlock.checks import CheckContext, Verdict, check_file
from tests.checks_support import cells, check, finding, rules, write
from tresor.core.airlock_config import AirlockConfig

IDS = ["DK000001", "DK000002", "DK000003", "123456789", "42"]


@pytest.mark.parametrize(
    "column", ["IID", "#FID", "sample_id", "Participant ID", "patient", "eid", "subject_id"]
)
def test_id_column__names_of_person_identifiers_block(tmp_path, column):
    path = write(tmp_path, "t.csv", f"{column},ldl\nA1,3.2\nA2,4.1\n")
    report = check(path)
    assert cells(report, "individual-level.id-column") == {(0, column)}


@pytest.mark.parametrize("column", ["samples", "n_samples", "id", "sample_size", "variant_id"])
def test_id_column__other_names_do_not(tmp_path, column):
    path = write(tmp_path, "t.csv", f"group,{column}\na,20\nb,30\n")
    assert "individual-level.id-column" not in rules(check(path))


def test_sample_ids__cells_matching_the_node_sample_ids_block_masked(tmp_path):
    path = write(tmp_path, "t.csv", "who,score\nDK000002,1.5\nsomeone,2.5\n123456789,3\n42,4\n")
    report = check(path, sample_ids=IDS)
    assert cells(report, "individual-level.sample-id") == {(1, "who"), (3, "who")}
    values = {f.location.value for f in report.findings if f.rule == "individual-level.sample-id"}
    assert values == {"DK****02", "12*****89"}  # reports never repeat an ID in full
    # without the node's sample IDs the same file has nothing individual-level
    assert "individual-level.sample-id" not in rules(check(path))


def test_sample_ids__numeric_cells_match_numeric_ids(tmp_path):
    path = write(tmp_path, "t.csv", "code,x\n123456789,1.5\n5,2.5\n")
    assert cells(check(path, sample_ids=IDS), "individual-level.sample-id") == {(1, "code")}


def test_sample_ids__in_column_names(tmp_path):
    # plink2 --export Av (.traw): one column per person, named FID_IID
    path = write(tmp_path, "t.traw", "CHR\tSNP\t0_DK000001\t0_DK000003\n22\trs1\t0\t1\n")
    report = check(path, sample_ids=IDS)
    assert {c for _, c in cells(report, "individual-level.sample-id")} == {
        "0_DK000001",
        "0_DK000003",
    }


def test_sample_ids__in_free_text(tmp_path):
    path = write(tmp_path, "notes.md", "# Outliers\n\nWe removed DK000003 and others.\n")
    report = check(path, sample_ids=IDS)
    f = finding(report, "individual-level.sample-id")
    assert (f.location.row, f.location.value) == (3, "DK****03")


def test_sample_ids__in_the_file_name_and_the_request_path(tmp_path):
    # the name leaves with the file
    path = write(tmp_path, "DK000003_results.csv", "group,n\na,20\nb,30\n")
    assert cells(check(path, sample_ids=IDS), "individual-level.sample-id") == {(0, "file name")}
    plain = write(tmp_path, "results.csv", "group,n\na,20\nb,30\n")
    assert "individual-level.sample-id" not in rules(check(plain, sample_ids=IDS))
    context = CheckContext.with_sample_ids(IDS, AirlockConfig())
    shown = check_file(plain, context, display_path="outliers/DK000003/results.csv")
    assert "individual-level.sample-id" in rules(shown, Verdict.BLOCK)


def test_sample_ids__in_parquet_metadata(tmp_path):
    table = pa.table({"group": ["a", "b"], "n": [20, 30]})
    pq.write_table(
        table.replace_schema_metadata({"note": "excluded DK000003"}), tmp_path / "m.parquet"
    )
    pq.write_table(table, tmp_path / "plain.parquet")
    found = check(tmp_path / "m.parquet", sample_ids=IDS)
    assert cells(found, "individual-level.sample-id") == {(1, "Parquet metadata")}
    assert check(tmp_path / "plain.parquet", sample_ids=IDS).verdict is Verdict.PASS


def test_genotype_matrix__dosage_columns_block(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.integers(0, 3, size=(30, 12)), columns=[f"rs{i}" for i in range(12)])
    frame.to_csv(tmp_path / "g.csv", index=False)
    report = check(tmp_path / "g.csv")
    assert "individual-level.genotypes" in rules(report, Verdict.BLOCK)
    assert (
        "genotype_matrix_min_columns" not in finding(report, "individual-level.genotypes").message
    )


def test_genotype_matrix__why_it_is_individual_level_is_listed_before_its_small_counts(tmp_path):
    # its 0/1/2 are read as small counts of people too; a researcher reads the reason first
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.integers(0, 3, size=(40, 12)), columns=[f"rs{i}" for i in range(12)])
    frame.insert(0, "iid", [f"P{j:03d}" for j in range(40)])
    frame.to_csv(tmp_path / "g.csv", index=False)
    found = [f.rule for f in check(tmp_path / "g.csv").findings]
    assert "min-cell-count" in found
    first = found.index("min-cell-count")
    assert {"individual-level.genotypes", "individual-level.id-column"} <= set(found[:first])


def test_genotype_matrix__fewer_columns_than_the_minimum_need_another_sign(tmp_path):
    # fewer columns than genotype_matrix_min_columns make a matrix only with another sign of
    # people: 20 rows or more (with three such columns), variant IDs as names, a sample count
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.integers(0, 3, size=(8, 12)), columns=[f"c{i}" for i in range(12)])
    frame.to_csv(tmp_path / "g.csv", index=False)
    report = check(tmp_path / "g.csv", genotype_matrix_min_columns=13)
    assert "individual-level.genotypes" not in rules(report)
    assert "individual-level.genotypes" in rules(check(tmp_path / "g.csv"), Verdict.BLOCK)
    frame = pd.DataFrame(rng.integers(0, 3, size=(30, 3)), columns=["a", "b", "c"])
    frame.to_csv(tmp_path / "h.csv", index=False)
    report = check(tmp_path / "h.csv", genotype_matrix_min_columns=13)
    assert "individual-level.genotypes" in rules(report, Verdict.BLOCK)


def test_genotype_matrix__vcf_calls_block(tmp_path):
    calls = ["0/1", "1|1", "0|0", "./."]
    header = "ID\t" + "\t".join(f"S{j}" for j in range(10))
    rows = [f"rs{i}\t" + "\t".join(calls[(i + j) % 4] for j in range(10)) for i in range(5)]
    report = check(write(tmp_path, "gt.tsv", "\n".join([header, *rows]) + "\n"))
    assert "individual-level.genotypes" in rules(report, Verdict.BLOCK)


def test_genotype_matrix__tables_of_0_1_flags_do_not(tmp_path):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.integers(0, 2, size=(30, 12)), columns=[f"flag{i}" for i in range(12)])
    frame.insert(0, "ID", [f"rs{i}" for i in range(30)])
    frame.to_csv(tmp_path / "flags.csv", index=False)
    assert "individual-level.genotypes" not in rules(check(tmp_path / "flags.csv"))


def test_pca_scores__one_row_per_person_blocks(tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(50, 3)), columns=["PC1", "PC2", "PC3"])
    frame.to_csv(tmp_path / "pcs.csv", index=False)
    assert "individual-level.one-row-per-sample" in rules(check(tmp_path / "pcs.csv"))


def test_pca_scores__group_means_with_counts_do_not(tmp_path):
    path = write(tmp_path, "pcs.csv", "cohort,n,PC1,PC2\ndk,300,0.1,0.2\nse,300,-0.1,0.1\n")
    assert "individual-level.one-row-per-sample" not in rules(check(path))


def test_indexed_pairs__a_matrix_of_people_as_index_lines_blocks(tmp_path):
    # GCTA's text GRM: i, j (1 <= j <= i <= N), SNPs, relatedness
    n = 40
    lines = [
        f"{i}\t{j}\t95000\t{0.01 * ((i * j) % 7):.4f}"
        for i in range(1, n + 1)
        for j in range(1, i + 1)
    ]
    report = check(write(tmp_path, "g.grm", "\n".join(lines) + "\n"), [f"S{k}" for k in range(n)])
    assert "individual-level.matrix" in rules(report, Verdict.BLOCK), report.findings
    # index pairs over far fewer things than people, or not in order, are not people
    few = [f"{i}\t{j}\t{i * j}" for i in range(1, 8) for j in range(1, 8)]
    report = check(
        write(tmp_path, "f.tsv", "a\tb\tn\n" + "\n".join(few) + "\n"), [f"S{k}" for k in range(n)]
    )
    assert "individual-level.matrix" not in rules(report)


def test_rows_of_tasks_or_epochs_are_not_people(tmp_path):
    ids = [f"S{k}" for k in range(300)]
    for name in ("task_id", "epoch"):
        rows = [f"{name},realtime_s,peak_rss_gb"] + [
            f"{i},{60 + i % 50},{1 + i % 7}.5" for i in range(1, 301)
        ]
        report = check(write(tmp_path, "t.csv", "\n".join(rows) + "\n"), ids)
        assert "individual-level.one-row-per-sample" not in rules(report), name
    rows = ["visit,realtime_s,peak_rss_gb"] + [
        f"{i},{60 + i % 50},{1 + i % 7}.5" for i in range(1, 301)
    ]
    assert "individual-level.one-row-per-sample" in rules(
        check(write(tmp_path, "v.csv", "\n".join(rows) + "\n"), ids)
    )
