"""Per-variant tables: minor allele count in every stratum (AF x N counts as AC), genotype
counts, and observations behind GWAS rows. Integration tests run the same rules on plink2 and
bcftools output; these cover the layouts one by one."""

from __future__ import annotations

from airlock.checks import Verdict
from tests.checks_support import cells, check, finding, rules, write


def _tsv(rows: list[list[object]]) -> str:
    return "".join("\t".join(map(str, r)) + "\n" for r in rows)


def test_mac__allele_counts_with_allele_number(tmp_path):
    text = _tsv(
        [
            ["#CHROM", "ID", "REF", "ALT", "ALT_CTS", "OBS_CT"],
            [22, "rs1", "A", "G", 9, 1000],  # rare ALT
            [22, "rs2", "A", "G", 10, 1000],
            [22, "rs3", "A", "G", 995, 1000],  # rare REF: 5 copies
            [22, "rs4", "A", "G", 0, 1000],  # monomorphic: no one to disclose
        ]
    )
    report = check(write(tmp_path, "x.acount", text))
    assert cells(report, "minor-allele-count") == {(1, "ALT_CTS"), (3, "ALT_CTS")}
    f = finding(report, "minor-allele-count")
    assert "variant rs1 (row 1)" in f.message and "9 times" in f.message


def test_mac__frequency_times_allele_number_counts_as_allele_count(tmp_path):
    # 0.0375 x 240 = 9 copies; 0.04167 x 240 = 10 copies
    text = _tsv(
        [
            ["#CHROM", "ID", "REF", "ALT", "ALT_FREQS", "OBS_CT"],
            [22, "rs1", "A", "G", 0.0375, 240],
            [22, "rs2", "A", "G", 0.04167, 240],
            [22, "rs3", "A", "G", 0.9625, 240],
        ]
    )
    assert cells(check(write(tmp_path, "x.afreq", text)), "minor-allele-count") == {
        (1, "ALT_FREQS"),
        (3, "ALT_FREQS"),
    }


def test_mac__frequency_with_sample_count_uses_two_alleles_per_person(tmp_path):
    # regenie: A1FREQ and N (people): 0.04 x 2 x 100 = 8 copies
    text = _tsv(
        [
            ["CHROM", "GENPOS", "ID", "ALLELE0", "ALLELE1", "A1FREQ", "N", "BETA", "SE"],
            [22, 100, "rs1", "A", "G", 0.04, 100, 0.1, 0.05],
            [22, 200, "rs2", "A", "G", 0.05, 100, 0.1, 0.05],
        ]
    )
    assert cells(check(write(tmp_path, "x.regenie", text)), "minor-allele-count") == {(1, "A1FREQ")}


def test_mac__frequency_without_any_count_needs_review(tmp_path):
    text = _tsv([["CHROM", "POS", "AF"], [22, 100, 0.2], [22, 200, 0.3]])
    report = check(write(tmp_path, "x.tsv", text))
    assert "minor-allele-count.unchecked" in rules(report, Verdict.REVIEW)


def test_mac__multiallelic_sites_check_every_allele(tmp_path):
    text = _tsv(
        [
            ["#CHROM", "ID", "REF", "ALT", "ALT_CTS", "OBS_CT"],
            [22, "m1", "G", "A,C", "40,3", 240],  # C seen 3 times
            [22, "m2", "G", "A,C", "40,30", 240],
            [22, "m3", "G", "A,C", "120,115", 240],  # G (REF) seen 5 times
            [22, "b1", "A", "G", 50, 240],
        ]
    )
    assert {
        r for r, _ in cells(check(write(tmp_path, "x.acount", text)), "minor-allele-count")
    } == {
        1,
        3,
    }


def test_mac__every_stratum_is_checked(tmp_path):
    # plink2 --glm logistic with a1countcc/totallelecc: rare in cases only
    header = "#CHROM POS ID A1 A1_CT ALLELE_CT A1_CASE_CT A1_CTRL_CT CASE_ALLELE_CT"
    header = [*header.split(), "CTRL_ALLELE_CT", "TEST", "OBS_CT", "OR", "LOG(OR)_SE", "P"]
    text = _tsv(
        [
            header,
            [22, 100, "rs1", "G", 60, 600, 4, 56, 200, 400, "ADD", 300, 1.2, 0.1, 0.3],
            [22, 200, "rs2", "G", 60, 600, 20, 40, 200, 400, "ADD", 300, 1.2, 0.1, 0.3],
            [22, 300, "rs3", "G", 60, 600, 20, 40, 200, 45, "ADD", 300, 1.2, 0.1, 0.3],
        ]
    )
    report = check(write(tmp_path, "x.glm.logistic", text))
    found = {f.location.row: f.message for f in report.findings if f.rule == "minor-allele-count"}
    assert set(found) == {1, 3}
    assert "in cases" in found[1]
    assert "in controls" in found[3]  # 40 A1 of 45 alleles: the other allele is seen 5 times


def test_mac__plink1_case_control_frequencies(tmp_path):
    text = _tsv(
        [
            ["CHR", "SNP", "A1", "A2", "MAF_A", "MAF_U", "NCHROBS_A", "NCHROBS_U"],
            [22, "rs1", "G", "A", 0.02, 0.2, 200, 400],  # 4 copies in cases
            [22, "rs2", "G", "A", 0.2, 0.2, 200, 400],
        ]
    )
    report = check(write(tmp_path, "x.frq.cc", text))
    assert {r for r, _ in cells(report, "minor-allele-count")} == {1}


def test_genotype_counts__give_allele_counts_and_are_counts_of_people(tmp_path):
    text = _tsv(
        [
            ["#CHROM", "ID", "A1", "AX", "HOM_A1_CT", "HET_A1_CT", "TWO_AX_CT", "P"],
            [22, "rs1", "G", "A", 1, 60, 139, 0.5],  # A1 copies 62; 1 person homozygous
            [22, "rs2", "G", "A", 20, 60, 120, 0.5],
            [22, "rs3", "G", "A", 0, 4, 196, 0.5],  # A1 copies 4
        ]
    )
    report = check(write(tmp_path, "x.hardy", text))
    assert {r for r, _ in cells(report, "minor-allele-count")} == {3}
    assert cells(report, "min-cell-count") == {(1, "HOM_A1_CT"), (3, "HET_A1_CT")}


def test_missing_call_counts__are_not_counts_to_suppress(tmp_path):
    text = _tsv([["#CHROM", "ID", "MISSING_CT", "OBS_CT", "F_MISS"], [22, "rs1", 1, 300, 0.0033]])
    assert check(write(tmp_path, "x.vmiss", text)).verdict is Verdict.PASS


def test_gwas__observations_and_residual_dof_per_row(tmp_path):
    header = ["#CHROM", "POS", "ID", "A1", "A1_FREQ", "TEST", "OBS_CT", "BETA", "SE", "P"]
    rows = [header]
    for i, n in enumerate([500, 9, 12, 11]):
        for test in ("ADD", "age", "sex"):
            rows.append([22, 100 + i, f"rs{i}", "G", 0.4, test, n, 0.1, 0.05, 0.2])
    report = check(write(tmp_path, "x.glm.linear", _tsv(rows)), min_minor_allele_count=1)
    # 4 parameters (intercept, ADD, age, sex): n = 12 leaves 8 residual degrees of freedom
    assert {r for r, _ in cells(report, "gwas-observations")} == {4, 5, 6}
    assert {r for r, _ in cells(report, "model-dof")} == {7, 8, 9, 10, 11, 12}


def test_gwas__cases_and_controls_genotype_counts_give_the_observations(tmp_path):
    header = ["SNP", "CHR", "BP", "A1", "OR", "P", "CASE_AA", "CASE_AB", "CASE_BB", "CTRL_AA",
              "CTRL_AB", "CTRL_BB"]  # fmt: skip
    rows = [header,
            ["rs1", 22, 100, "A", 1.5, 1e-7, 60, 40, 12, 120, 50, 15],
            ["rs2", 22, 200, "G", 1.8, 2e-7, 0, 0, 10, 0, 0, 0]]  # fmt: skip
    report = check(write(tmp_path, "top_hits.tsv", _tsv(rows)), min_minor_allele_count=1)
    # the six genotype counts are the people behind a row: 10 of them leave 8 residual
    # degrees of freedom; rs1's 297 are enough, and nothing asks for an N column
    assert {r for r, _ in cells(report, "model-dof")} == {2}, report.findings
    assert "gwas-observations.unchecked" not in rules(report)


def test_gwas__without_observation_counts_needs_review(tmp_path):
    text = _tsv([["SNP", "BETA", "SE", "P"], ["rs1", 0.1, 0.05, 0.2]])
    assert "gwas-observations.unchecked" in rules(check(write(tmp_path, "g.tsv", text)))


def test_gwas__few_cases_block(tmp_path):
    text = _tsv(
        [
            [
                "SNP",
                "BETA",
                "SE",
                "P",
                "N",
                "N_CASES",
                "N_CONTROLS",
                "AF",
            ],
            ["rs1", 0.1, 0.05, 0.2, 400, 6, 394, 0.3],
            ["rs2", 0.1, 0.05, 0.2, 400, 200, 200, 0.3],
        ]
    )
    report = check(write(tmp_path, "g.tsv", text))
    assert cells(report, "gwas-observations") == {(1, "N_CASES")}


def test_summary_statistics__read_in_blocks_with_the_rules_columns_only(tmp_path, monkeypatch):
    """A large GWAS table is parsed block by block, after the first blocks into the columns the
    rules read only; a formula or a small count in a late block is still found, at its row."""
    from airlock.checks import reading

    monkeypatch.setattr(reading, "BLOCK_BYTES", 4096)
    header = ["#CHROM", "POS", "ID", "REF", "ALT", "A1", "A1_CT", "ALLELE_CT", "TEST", "OBS_CT",
              "BETA", "SE", "P"]  # fmt: skip
    rows = [header]
    for i in range(2000):
        a1 = 3 if i == 1500 else 40 + i % 100
        alt = '"=HYPERLINK(""x"")"' if i == 1800 else "G"
        rows.append([22, 100 + i, f"rs{i}", "A", alt, "G", a1, 1800, "ADD", 900, 0.1, 0.02, 0.3])
    path = write(tmp_path, "big.glm.linear", _tsv(rows))
    report = check(path, rounding_base=0, max_table_rows=10**6)
    assert cells(report, "minor-allele-count") == {(1501, "A1_CT")}
    assert cells(report, "formula") == {(1801, "ALT")}
    assert report.verdict is Verdict.BLOCK
