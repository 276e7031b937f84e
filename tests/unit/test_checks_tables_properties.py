"""Property-based tests of the count rules: tables whose every non-zero count is at or above
the threshold never block on the rule; one non-zero count below it always does, at its cell."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.checks_support import cells, check

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def frequency_tables(draw):
    """(threshold, table of counts that are 0 or >= threshold, delimiter, named count columns)."""
    t = draw(st.integers(2, 30))
    rows = draw(st.integers(1, 12))
    columns = draw(st.integers(1, 6))
    safe = st.one_of(st.just(0), st.integers(t, 100_000))
    values = draw(st.lists(st.lists(safe, min_size=columns, max_size=columns), min_size=rows,
                           max_size=rows))  # fmt: skip
    named = draw(st.booleans())
    names = [f"n_{j}" if named else f"c{j}" for j in range(columns)]
    frame = pd.DataFrame(values, columns=names)
    frame.insert(0, "category", [f"level {i}" for i in range(rows)])
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    return t, frame, delimiter


def _check_frame(frame: pd.DataFrame, delimiter: str, t: int):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "table.csv"
        frame.to_csv(path, index=False, sep=delimiter)
        return check(path, min_cell_count=t, rounding_base=0)


@SETTINGS
@given(frequency_tables())
def test_min_cell_count__counts_at_or_above_threshold_never_block(case):
    t, frame, delimiter = case
    assert cells(_check_frame(frame, delimiter, t), "min-cell-count") == set()


@SETTINGS
@given(frequency_tables(), st.data())
def test_min_cell_count__one_small_count_always_blocks_at_its_cell(case, data):
    t, frame, delimiter = case
    row = data.draw(st.integers(0, len(frame) - 1))
    col = data.draw(st.integers(1, frame.shape[1] - 1))
    frame.iloc[row, col] = data.draw(st.integers(1, t - 1))
    report = _check_frame(frame, delimiter, t)
    assert cells(report, "min-cell-count") == {(row + 1, frame.columns[col])}
    assert report.verdict.value == "block"


@st.composite
def allele_count_tables(draw):
    """(threshold, plink2 .acount-like table whose non-zero allele counts are all >= t)."""
    t = draw(st.integers(2, 30))
    n = draw(st.integers(1, 15))
    an = draw(st.lists(st.integers(2 * t, 20_000).map(lambda x: 2 * (x // 2)), min_size=n,
                       max_size=n))  # fmt: skip
    ac = [draw(st.one_of(st.just(0), st.just(a), st.integers(t, a - t))) for a in an]
    frame = pd.DataFrame(
        {
            "#CHROM": ["22"] * n,
            "ID": [f"rs{i}" for i in range(n)],
            "REF": ["A"] * n,
            "ALT": ["G"] * n,
            "ALT_CTS": ac,
            "OBS_CT": an,
        }
    )
    return t, frame


@SETTINGS
@given(allele_count_tables())
def test_minor_allele_count__counts_at_or_above_threshold_never_block(case):
    t, frame = case
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.acount"
        frame.to_csv(path, index=False, sep="\t")
        report = check(path, min_minor_allele_count=t)
    assert cells(report, "minor-allele-count") == set()


@SETTINGS
@given(allele_count_tables(), st.data())
def test_minor_allele_count__one_rare_allele_always_blocks_at_its_row(case, data):
    t, frame = case
    row = data.draw(st.integers(0, len(frame) - 1))
    small = data.draw(st.integers(1, t - 1))
    # the rare allele is the ALT or, just as disclosive, the REF
    alt_is_rare = data.draw(st.booleans())
    an = int(frame.loc[row, "OBS_CT"])
    frame.loc[row, "ALT_CTS"] = small if alt_is_rare else an - small
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.acount"
        frame.to_csv(path, index=False, sep="\t")
        report = check(path, min_minor_allele_count=t)
    assert cells(report, "minor-allele-count") == {(row + 1, "ALT_CTS")}
