"""Personal identifiers: CPR, personnummer, NHS numbers; dates and check digits keep ordinary
numbers from tripping the rule."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airlock.checks import Verdict
from airlock.checks.identifiers import (
    cpr_verdict,
    find_identifiers,
    nhs_verdict,
    personnummer_verdict,
)
from tests.checks_support import cells, check, rules, write

# Published examples: CPR 070761-4285 (CPR office's example), personnummer 811218-9876
# (Skatteverket), NHS 943 476 5919 (NHS Digital).
VALID = {
    "070761-4285": "personal-id.cpr",
    "0707614285": "personal-id.cpr",
    "811218-9876": "personal-id.personnummer",
    "19811218-9876": "personal-id.personnummer",
    "198112189876": "personal-id.personnummer",
    "811278-9873": "personal-id.personnummer",  # samordningsnummer: day + 60
    "943 476 5919": "personal-id.nhs",
    "943-476-5919": "personal-id.nhs",
    "9434765919": "personal-id.nhs",
}


@pytest.mark.parametrize("text", sorted(VALID))
def test_identifiers__valid_numbers_are_found(text):
    hits = list(find_identifiers(f"id: {text}.".encode()))
    assert [(h.text, h.rule, h.verdict) for h in hits] == [(text, VALID[text], Verdict.BLOCK)]


@pytest.mark.parametrize(
    "text",
    [
        "rs1234567890",  # a variant ID
        "0.1234567890",  # a decimal fraction
        "1234567890.5",
        "1700000000",  # a Unix timestamp
        "248956422",  # a chromosome position
        "0707614286",  # CPR with a wrong check digit, and no valid personnummer or NHS number
        "320261-4285",  # no 32nd day
        "943 476 5918",  # NHS with a wrong check digit
        "1111111111",  # a repeated digit passes modulus 11, but is no NHS number
        "2023-01-15",
        "12345678901234",
    ],
)
def test_identifiers__ordinary_numbers_are_not(text):
    assert list(find_identifiers(f"value {text} end".encode())) == []


def test_cpr__hyphenated_without_checksum_needs_review():
    # numbers issued since 2007 may lack the modulus-11 check: a real date is enough to look
    assert cpr_verdict("0707614286", hyphenated=True) is Verdict.REVIEW
    assert cpr_verdict("0707614286", hyphenated=False) is None
    [hit] = find_identifiers(b"070761-4286")
    assert (hit.rule, hit.verdict) == ("personal-id.cpr", Verdict.REVIEW)


@settings(max_examples=200, deadline=None)
@given(st.dates(datetime.date(1900, 1, 1), datetime.date(2036, 12, 31)), st.integers(0, 999))
def test_personnummer__one_wrong_digit_is_never_valid(date, serial):
    """Luhn catches every single-digit error, so a changed digit never validates."""
    body = f"{date:%y%m%d}{serial:03d}"
    check_digit = next(c for c in "0123456789" if personnummer_verdict(body + c))
    number = body + check_digit
    for i in range(10):
        for d in "0123456789":
            if d != number[i]:
                assert personnummer_verdict(number[:i] + d + number[i + 1 :]) is None


@settings(max_examples=200, deadline=None)
@given(st.integers(300_000_000, 999_999_999))
def test_nhs__one_wrong_digit_is_never_valid(body):
    digits = str(body)
    valid = [c for c in "0123456789" if nhs_verdict(digits + c)]
    if not valid:
        return  # check digit 10: no NHS number has this body
    number = digits + valid[0]
    for i in range(1, 10):
        for d in "0123456789":
            if d != number[i]:
                assert nhs_verdict(number[:i] + d + number[i + 1 :]) is None


def test_identifiers__in_a_table_cell_at_its_row_and_column(tmp_path):
    path = write(tmp_path, "t.csv", "group,note,n\na,ok,20\nb,call 943 476 5919,30\n")
    report = check(path)
    assert cells(report, "personal-id.nhs") == {(2, "note")}
    f = next(f for f in report.findings if f.rule == "personal-id.nhs")
    assert f.location.value == "94* *** ****" and "5919" not in f.message


def test_identifiers__in_a_quoted_multiline_cell(tmp_path):
    path = write(tmp_path, "t.csv", 'group,note,n\na,"two\nlines",20\nb,"x\n070761-4285",30\n')
    assert cells(check(path), "personal-id.cpr") == {(2, "note")}


def test_identifiers__in_a_numeric_parquet_column(tmp_path):
    import pandas as pd

    pd.DataFrame({"who": [9434765919, 1234], "n": [20, 30]}).to_parquet(tmp_path / "t.parquet")
    assert cells(check(tmp_path / "t.parquet"), "personal-id.nhs") == {(1, "who")}


def test_identifiers__in_text_at_their_line(tmp_path):
    path = write(tmp_path, "log.txt", "run 1\nexcluded 811218-9876 (withdrew)\n")
    report = check(path)
    assert cells(report, "personal-id.personnummer") == {(2, None)}
    assert report.verdict is Verdict.BLOCK


def test_identifiers__genomic_table_has_none(tmp_path):
    text = "#CHROM\tPOS\tID\tP\n" + "".join(
        f"22\t{16_000_000 + i * 7919}\trs{1_000_000_000 + i}\t{i / 1e7:.10f}\n" for i in range(2000)
    )
    report = check(write(tmp_path, "x.tsv", text))
    assert not {r for r in rules(report) if r.startswith("personal-id")}
