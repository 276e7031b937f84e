"""ACRO and the airlock checks agree on the same tables: threshold, p%, N-k and residual
degrees of freedom.

ACRO checks a table while computing it from the microdata; the airlock only sees the released
file. So each test computes a table with ACRO, writes what a researcher would release (the
frequency table itself; for magnitude tables one row per cell with its contributor count and
two largest contributions), and compares the cells ACRO flags with the cells the airlock
flags. ACRO also fails cells with a count of zero (``zeros_are_disclosive``); the brief's rule
is about non-zero cells, so zero cells are left out of the comparison and counted apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from airlock.checks import Verdict
from tests.checks_support import cells, check, rules, write

SEEDS = range(4)
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.fixture
def acro(tmp_path, monkeypatch):
    from acro import ACRO

    monkeypatch.chdir(tmp_path)
    return ACRO(suppress=False)


def _microdata(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "region": rng.choice(
                ["north", "south", "east", "west", "isles"], n, p=[0.4, 0.3, 0.2, 0.08, 0.02]
            ),
            "year": rng.choice([2021, 2022, 2023], n),
            "income": rng.lognormal(10, 0.8, n),
        }
    )
    # a few dominant contributors
    big = rng.choice(n, size=3, replace=False)
    frame.loc[big, "income"] = rng.uniform(5e6, 5e7, size=3)
    return frame


def _acro_cells(acro, index: int, check_name: str, table: pd.DataFrame) -> set[tuple]:
    record = acro.results.get_index(index)
    return {(table.index[r], table.columns[c]) for r, c in record.sdc["cells"][check_name]}


@pytest.mark.parametrize("seed", SEEDS)
def test_acro__threshold_agrees_on_frequency_tables(tmp_path, acro, seed):
    data = _microdata(seed)
    table = acro.crosstab(data.region, data.year)
    acro_fail = _acro_cells(acro, 0, "MinimumThresholdCheck", table)
    nonzero = {(r, c) for r in table.index for c in table.columns if table.loc[r, c] > 0}

    path = tmp_path / "crosstab.csv"
    table.to_csv(path)  # what the researcher releases
    report = check(path)
    ours = {(table.index[row - 1], int(col)) for row, col in cells(report, "min-cell-count")}

    assert ours == acro_fail & nonzero
    assert acro_fail, "the data should have small cells for the comparison to mean something"
    assert (report.verdict is Verdict.BLOCK) == (acro.results.get_index(0).status == "fail")


def _cell_evidence(data: pd.DataFrame) -> pd.DataFrame:
    """One row per (region, year): contributors, total, and the two largest contributions."""

    def top(values: pd.Series, k: int) -> float:
        ordered = values.sort_values(ascending=False)
        return float(ordered.iloc[k]) if len(ordered) > k else 0.0

    grouped = data.groupby(["region", "year"]).income
    return pd.DataFrame(
        {
            "n": grouped.count(),
            "sum": grouped.sum(),
            "largest": grouped.apply(top, k=0),
            "second_largest": grouped.apply(top, k=1),
        }
    ).reset_index()


@pytest.mark.parametrize("seed", SEEDS)
def test_acro__dominance_and_threshold_agree_on_magnitude_tables(tmp_path, acro, seed):
    data = _microdata(seed)
    table = acro.pivot_table(data, index="region", columns="year", values="income", aggfunc="sum")
    acro_p = _acro_cells(acro, 0, "PPercentCheck", table)
    acro_nk = _acro_cells(acro, 0, "NKCheck", table)
    acro_threshold = _acro_cells(acro, 0, "MinimumThresholdCheck", table)

    evidence = _cell_evidence(data)
    path = tmp_path / "income_by_region.csv"
    evidence.to_csv(path, index=False)
    report = check(path)

    def ours(rule: str) -> set[tuple]:
        rows = evidence.iloc[[row - 1 for row, _ in cells(report, rule)]]
        return set(zip(rows.region, rows.year, strict=True))

    present = set(zip(evidence.region, evidence.year, strict=True))
    assert ours("dominance.p-percent") == acro_p & present
    assert ours("dominance.nk") == acro_nk & present
    assert ours("min-cell-count") == acro_threshold & present
    assert acro_p and acro_nk, "the data should have dominated cells"


@pytest.mark.parametrize("n", range(9, 15))
def test_acro__residual_degrees_of_freedom_agree(tmp_path, acro, n):
    rng = np.random.default_rng(n)
    x = sm.add_constant(pd.DataFrame({"age": rng.normal(50, 10, n), "sex": rng.integers(0, 2, n)}))
    y = 2 + 0.1 * x.age + rng.normal(size=n)
    results = acro.ols(y, x)  # three parameters: residual dof = n - 3
    acro_fails = acro.results.get_index(0).status == "fail"

    coefficients = pd.DataFrame(
        {"coef": results.params, "std_err": results.bse, "df_resid": results.df_resid}
    )
    table = tmp_path / "model.csv"
    coefficients.rename_axis("term").to_csv(table)
    summary = write(tmp_path, "model.txt", results.summary().as_text())

    for path in (table, summary):
        report = check(path)
        assert ("model-dof" in rules(report, Verdict.BLOCK)) == acro_fails, (path.name, n)
    assert acro_fails == (n - 3 < 10)
