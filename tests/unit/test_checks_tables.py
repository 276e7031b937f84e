"""Table rules: small cells, rounding, dominance, model degrees of freedom, rows, size."""

from __future__ import annotations

import pandas as pd
import pytest

from airlock.checks import Verdict
from tests.checks_support import cells, check, finding, rules, write


def test_min_cell_count__small_non_zero_cells_block_at_their_cell(tmp_path):
    path = write(tmp_path, "t.csv", "region,2020,2021\nnorth,55,60\nsouth,0,3\neast,10,9\n")
    report = check(path)
    assert report.verdict is Verdict.BLOCK
    assert cells(report, "min-cell-count") == {(2, "2021"), (3, "2021")}
    f = next(f for f in report.findings if f.location and f.location.row == 2)
    assert f.location.value == "3"
    assert "south" in f.message and "minimum of 10" in f.message


def test_min_cell_count__zero_and_threshold_pass(tmp_path):
    path = write(tmp_path, "t.csv", "group,n\na,0\nb,10\nc,25\n")
    report = check(path)
    assert "min-cell-count" not in rules(report)
    assert report.verdict is Verdict.PASS


def test_min_cell_count__threshold_comes_from_config(tmp_path):
    path = write(tmp_path, "t.csv", "group,n\na,15\nb,20\n")
    assert "min-cell-count" not in rules(check(path))
    assert cells(check(path, min_cell_count=20), "min-cell-count") == {(1, "n")}


def test_count_columns__found_by_name_with_whole_numbers(tmp_path):
    # 'n_cases' is a count; 'mean_age' and 'p' are not, whatever their values
    path = write(tmp_path, "t.csv", "group,n_cases,mean_age,p\na,4,3,0.5\nb,20,2,0.01\n")
    assert cells(check(path), "min-cell-count") == {(1, "n_cases")}


def test_count_columns__positions_years_and_ages_are_not_counts(tmp_path):
    path = write(tmp_path, "t.csv", "year,age,count\n2021,7,10\n2022,3,20\n")
    assert "min-cell-count" not in rules(check(path))
    path = write(tmp_path, "u.csv", "year,age\n2021,7\n2022,3\n")
    assert "min-cell-count" not in rules(check(path))


def test_count_columns__statistics_tables_are_not_crosstabs(tmp_path):
    path = write(tmp_path, "t.csv", "term,estimate,se\nx,1,2\ny,3,1\n")
    assert "min-cell-count" not in rules(check(path))


def test_rounding__counts_not_multiple_of_base_need_review_once_per_column(tmp_path):
    path = write(tmp_path, "t.csv", "group,n\na,15\nb,22\nc,33\nd,40\n")
    report = check(path)
    assert report.verdict is Verdict.REVIEW
    f = finding(report, "rounding")
    assert (f.location.row, f.location.column, f.location.value) == (2, "n", "22")
    assert f.message.startswith("2 counts in column n")
    assert "rounding" not in rules(check(path, rounding_base=0))


def test_dominance__p_percent_and_nk_with_largest_contributions(tmp_path):
    frame = pd.DataFrame(
        {
            "region": ["a", "b", "c"],
            "n": [20, 20, 20],
            "sum": [1000.0, 1000.0, 1000.0],
            "largest": [100.0, 950.0, 480.0],
            "second_largest": [90.0, 10.0, 470.0],
        }
    )
    path = tmp_path / "m.csv"
    frame.to_csv(path, index=False)
    report = check(path)
    # b: rest 40 < 0.1 * 950 (p%) and 960/1000 >= 0.9 (N-k); c: 50/480 > 0.1, 950/1000 >= 0.9
    assert {r for r, _ in cells(report, "dominance.p-percent")} == {2}
    assert {r for r, _ in cells(report, "dominance.nk")} == {2, 3}
    assert report.verdict is Verdict.BLOCK


def test_dominance__contributor_count_only(tmp_path):
    path = write(tmp_path, "m.csv", "region,n,mean_income\na,2,100.5\nb,30,200.1\n")
    report = check(path, min_cell_count=1)
    assert {r for r, _ in cells(report, "dominance.nk")} == {1}
    assert "dominance.unchecked" in rules(report, Verdict.REVIEW)


def test_dominance__negative_contributions_need_review(tmp_path):
    path = write(
        tmp_path,
        "m.csv",
        "g,n,total,largest,second_largest\na,20,-50,10,5\nb,20,500,40,30\n",
    )
    report = check(path)
    assert cells(report, "dominance.unchecked") == {(1, "total")}
    assert "dominance.p-percent" not in rules(report)


def test_dominance__a_total_of_people_is_counted_not_a_magnitude(tmp_path):
    """'total' beside cases and controls, in whole numbers, is a number of people even where
    it is not their sum: the count rules check it (5 blocks), and the table gets what it gets
    with its columns renamed (hypothesis found review against pass); a total income is still
    a magnitude."""
    people = write(tmp_path, "p.csv", "group,cases,controls,total\na,1120,170,0\nb,620,0,1465\n")
    assert check(people).verdict is Verdict.PASS
    renamed = write(tmp_path, "r.csv", "x,y,z,w\na,1120,170,0\nb,620,0,1465\n")
    assert check(renamed).verdict is Verdict.PASS
    small = write(tmp_path, "s.csv", "group,cases,controls,total\na,1120,170,5\nb,620,0,1465\n")
    assert cells(check(small), "min-cell-count") == {(1, "total")}
    income = write(tmp_path, "i.csv", "group,n,total_income\na,20,52000\nb,30,48000\n")
    assert "dominance.unchecked" in rules(check(income), Verdict.REVIEW)


def test_model_dof__column_below_minimum_blocks(tmp_path):
    path = write(tmp_path, "m.csv", "model,df_resid,r2\nA,9,0.1\nB,10,0.2\n")
    report = check(path)
    assert cells(report, "model-dof") == {(1, "df_resid")}


def test_model_dof__coefficients_without_dof_need_review(tmp_path):
    path = write(tmp_path, "m.csv", "term,coef,std_err,p\nx,0.5,0.1,0.01\n")
    assert "model-dof.unchecked" in rules(check(path), Verdict.REVIEW)


def test_model_dof__statsmodels_summary_text(tmp_path):
    import numpy as np
    import statsmodels.api as sm

    rng = np.random.default_rng(0)
    for n, blocked in ((11, True), (12, False)):
        x = sm.add_constant(rng.normal(size=n))
        results = sm.OLS(rng.normal(size=n), x).fit()  # df_resid = n - 2
        path = write(tmp_path, f"summary{n}.txt", results.summary().as_text())
        assert ("model-dof" in rules(check(path))) is blocked, n


def test_table_rows__more_rows_than_limit_need_review(tmp_path):
    path = write(tmp_path, "t.csv", "x,y\n" + "".join(f"{i}.5,a\n" for i in range(30)))
    assert "table-rows" not in rules(check(path, max_table_rows=30))
    assert "table-rows" in rules(check(path, max_table_rows=29), Verdict.REVIEW)


def test_file_size__over_limit_needs_review_and_never_blocks(tmp_path):
    path = write(tmp_path, "t.txt", "just words\n" * 200)
    assert "file-size" not in rules(check(path, max_file_bytes=2200))
    report = check(path, max_file_bytes=2199)
    assert "file-size" in rules(report, Verdict.REVIEW)
    assert report.verdict is Verdict.REVIEW


def test_file_size__recognised_summary_statistics_are_accepted_up_to_their_own_limit(tmp_path):
    rows = "".join(f"22\t{100 + i}\trs{i}\tA\tG\t{20 + i % 50}\t1800\n" for i in range(100))
    path = write(tmp_path, "x.acount", "#CHROM\tPOS\tID\tREF\tALT\tALT_CTS\tOBS_CT\n" + rows)
    size = path.stat().st_size
    report = check(path, max_file_bytes=size - 1)
    assert report.verdict is Verdict.PASS, report.findings
    report = check(path, max_file_bytes=size - 1, max_summary_statistics_bytes=size - 1)
    assert rules(report) == {"file-size"} and report.verdict is Verdict.REVIEW


def test_findings__listed_up_to_cap_then_counted(tmp_path):
    path = write(tmp_path, "t.csv", "g,n\n" + "".join(f"g{i},3\n" for i in range(50)))
    report = check(path, max_findings_per_rule=5, rounding_base=0)
    small = [f for f in report.findings if f.rule == "min-cell-count"]
    assert len(small) == 6
    assert small[-1].location is None and small[-1].message.startswith("45 more findings")


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_delimited__delimiters_give_the_same_cells(tmp_path, delimiter):
    rows = [["region", "a", "b"], ["x", "12", "4"], ["y", "30", "15"]]
    text = "".join(delimiter.join(r) + "\n" for r in rows)
    assert cells(check(write(tmp_path, "t.txt", text)), "min-cell-count") == {(1, "b")}


def test_delimited__whitespace_aligned_plink1_output(tmp_path):
    text = (
        " CHR          SNP   A1   A2          MAF  NCHROBS\n"
        "  22   rs1    G    A      0.01667      120\n"
        "  22   rs2    C    T       0.2500      120\n"
        "  22   rs3    C    T       0.4000      120\n"
    )
    report = check(write(tmp_path, "plink.frq", text))
    assert cells(report, "minor-allele-count") == {(1, "MAF")}


def test_model_dof__r_summary_text(tmp_path):
    text = "Residual standard error: 1.214 on 8 degrees of freedom\nMultiple R-squared: 0.4\n"
    report = check(write(tmp_path, "lm.txt", text))
    assert cells(report, "model-dof") == {(1, None)}
    # in capitals too (the pattern ignores case; the quick look before it must as well)
    report = check(write(tmp_path, "lm_upper.txt", text.upper()))
    assert cells(report, "model-dof") == {(1, None)}


def test_header_row__small_numbers_as_column_names_need_review(tmp_path):
    # written without a header: the first row ('a', 3) is read as column names
    report = check(write(tmp_path, "t.csv", "a,3\nb,40\nc,25\n"))
    assert cells(report, "min-cell-count.header") == {(0, "3")}
    assert report.verdict is Verdict.REVIEW
    # years as column names are ordinary
    assert "min-cell-count.header" not in rules(check(write(tmp_path, "y.csv", "g,2021\nb,40\n")))


def test_long_tables__read_in_blocks_late_cells_still_found(tmp_path, monkeypatch):
    """A long table is read in blocks; what a late block holds (an n (%) cell, a formula, a
    sample ID) is found with its row and column."""
    from airlock.checks import reading

    monkeypatch.setattr(reading, "BLOCK_BYTES", 2048)
    rows = [f"region{i % 7},c{i % 50},{(i % 90 + 10) * 5},ok\n" for i in range(3000)]
    rows[2100] = "isles,c1,50,3 (42.9)\n"
    rows[2500] = 'isles,"=HYPERLINK(""x"")",50,ok\n'
    rows[2800] = "isles,DK000001,50,ok\n"
    path = write(tmp_path, "t.csv", "region,category,n,note\n" + "".join(rows))
    report = check(path, sample_ids=["DK000001"], max_table_rows=10**6)
    assert cells(report, "min-cell-count") == {(2101, "note")}
    assert cells(report, "formula") == {(2501, "category")}
    assert cells(report, "individual-level.sample-id") == {(2801, "category")}


def test_prose__about_one_person_needs_a_look(tmp_path):
    for text in (
        "A 54-year-old woman carries the variant (heterozygous).",
        "Score of participant 17: 1.83.",
        "The proband and two siblings were sequenced.",
        "Patient #3 was excluded after QC.",
    ):
        report = check(write(tmp_path, "note.md", text + "\n"))
        assert "individual-level.one-person" in rules(report, Verdict.REVIEW), text
    for text in (
        "Participants aged 40 to 69 were included.",
        "Individuals: 4980 after QC; 12 were removed.",
        "We used 5,000 samples (2,500 women); 3 participants per family at most.",
    ):
        assert "individual-level.one-person" not in rules(check(write(tmp_path, "m.md", text)))
