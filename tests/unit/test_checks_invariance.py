"""Property-based tests: how a table is written never lowers its verdict.

Transposing it, renaming its columns, changing the delimiter or the encoding, or wrapping it in
Markdown, LaTeX, HTML or JSON gives a verdict at least as severe as the plain CSV's. Columns are
renamed to any names that do not say the column holds something else (a column named ``year``
or ``age`` is not a count, whatever its values; ``genotype`` 0/1/2 before a count column is
a key) in count tables and tables of people, where the
checks find counts and people by content, and to other tools' names for the same quantity in
per-variant tables (where a name is all that says which column is the allele number).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from airlock.checks import Verdict, check_file
from airlock.checks.tables import category_name, names_another_quantity
from tests.checks_corpus import corpus_context, sample_ids

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONTEXT = corpus_context()


def _verdict(name: str, content: str | bytes) -> Verdict:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return check_file(path, CONTEXT).verdict


count = st.one_of(st.just(0), st.integers(1, 9), st.integers(10, 2000), st.integers(2, 400).map(
    lambda x: 5 * x))  # fmt: skip


@st.composite
def count_tables(draw) -> pd.DataFrame:
    """A count table: a label column and count columns, some of them small."""
    rows = draw(st.integers(1, 8))
    columns = draw(st.integers(1, 4))
    frame = pd.DataFrame(
        [[draw(count) for _ in range(columns)] for _ in range(rows)],
        columns=draw(
            st.sampled_from(
                [
                    [f"n_{j}" for j in range(columns)],
                    [str(2020 + j) for j in range(columns)],
                    ["cases", "controls", "total", "other"][:columns],
                ]
            )
        ),
    )
    frame.insert(0, "group", [f"group {chr(97 + i)}" for i in range(rows)])
    return frame


@st.composite
def per_person_tables(draw) -> pd.DataFrame:
    """Scores of people: one row each, with or without their sample IDs."""
    rows = draw(st.sampled_from([300, 290, 250]))
    k = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    frame = pd.DataFrame(
        np.round(rng.normal(0, 1, (rows, k)), 5), columns=[f"s{j}" for j in range(k)]
    )
    if draw(st.booleans()):
        frame.insert(0, "who", sample_ids("dk", rows))
    return frame


#: other tools' names for the allele count and the allele number
_AC_NAMES = [("ALT_CTS", "OBS_CT"), ("AC", "AN"), ("C1", "NCHROBS"), ("AC_Allele2", "ALLELE_CT")]


@st.composite
def per_variant_tables(draw) -> pd.DataFrame:
    n = draw(st.integers(1, 8))
    an = 600
    ac = [
        draw(st.one_of(st.integers(0, an), st.integers(1, 9), st.integers(an - 9, an)))
        for _ in range(n)
    ]
    frame = pd.DataFrame(
        {"CHROM": [22] * n, "ID": [f"rs{100 + i}" for i in range(n)], "REF": ["A"] * n,
         "ALT": ["G"] * n, "ALT_CTS": ac, "OBS_CT": [an] * n}
    )  # fmt: skip
    return frame


tables = st.one_of(count_tables(), per_person_tables(), per_variant_tables())


def _csv(frame: pd.DataFrame, sep: str = ",") -> str:
    return frame.to_csv(index=False, sep=sep)


def _markdown(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |\n"
    rule = "|" + "---|" * frame.shape[1] + "\n"
    body = "".join("| " + " | ".join(map(str, r)) + " |\n" for r in frame.itertuples(index=False))
    return "Results:\n\n" + head + rule + body


def _latex(frame: pd.DataFrame) -> str:
    def row(values) -> str:
        return " & ".join(str(v).replace("_", "\\_") for v in values) + " \\\\\n"

    body = "".join(row(r) for r in frame.itertuples(index=False))
    return (
        "\\begin{tabular}{" + "l" * frame.shape[1] + "}\n\\hline\n" + row(frame.columns)
        + "\\hline\n" + body + "\\hline\n\\end{tabular}\n"
    )  # fmt: skip


def _html(frame: pd.DataFrame) -> str:
    return "<html><body>" + frame.to_html(index=False) + "</body></html>"


def _json(frame: pd.DataFrame) -> str:
    return frame.to_json(orient="records")


def _transposed(frame: pd.DataFrame) -> str:
    return frame.set_index(frame.columns[0]).T.to_csv()


@SETTINGS
@given(tables)
def test_wrapping_and_delimiters__never_lower_the_verdict(frame):
    plain = _verdict("t.csv", _csv(frame))
    for name, content in (
        ("t.tsv", _csv(frame, "\t")),
        ("t.txt", _csv(frame, ";")),
        ("t.psv", _csv(frame, "|")),
        ("t.md", _markdown(frame)),
        ("t.tex", _latex(frame)),
        ("t.html", _html(frame)),
        ("t.json", _json(frame)),
    ):
        got = _verdict(name, content)
        assert got.rank >= plain.rank, (name, plain, got, content[:400])


#: found once in a run: 'other' beside cases and controls made 'total' a magnitude
_OTHER_BESIDE_COUNTS = pd.DataFrame(
    {
        "group": ["group a", "group b"],
        "cases": [0, 1735],
        "controls": [1735, 1735],
        "total": [0, 0],
        "other": [0, 0],
    }
)


@SETTINGS
@given(tables)
@example(_OTHER_BESIDE_COUNTS)
def test_transposing__never_lowers_the_verdict(frame):
    plain = _verdict("t.csv", _csv(frame))
    got = _verdict("t.csv", _transposed(frame))
    assert got.rank >= plain.rank, (plain, got, _csv(frame), _transposed(frame))


@SETTINGS
@given(tables)
def test_latin1__never_lowers_the_verdict(frame):
    frame = frame.copy()
    frame.columns = [f"{c}é" if i == 0 else c for i, c in enumerate(frame.columns)]
    plain = _verdict("t.csv", _csv(frame))
    got = _verdict("t.csv", _csv(frame).encode("latin-1"))
    assert got.rank >= plain.rank, (plain, got, _csv(frame), _transposed(frame))


@SETTINGS
@given(st.one_of(count_tables(), per_person_tables()), st.data())
def test_renaming_columns__never_lowers_the_verdict(frame, data):
    plain = _verdict("t.csv", _csv(frame))
    names = data.draw(
        st.lists(
            st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(
                lambda name: not names_another_quantity(name) and not category_name(name)
            ),
            min_size=frame.shape[1],
            max_size=frame.shape[1],
            unique=True,
        )
    )
    renamed = frame.set_axis(names, axis=1)
    got = _verdict("t.csv", _csv(renamed))
    assert got.rank >= plain.rank, (names, plain, got)


@pytest.mark.parametrize(
    "names",
    [
        ["p", "_p"],  # found once in a run: a label column named 'p' made a table of statistics
        ["p", "se", "t"],  # whole numbers under statistics' names are not believed statistics
    ],
)
def test_statistics_names__over_a_label_and_whole_numbers_never_lower_the_verdict(names):
    frame = pd.DataFrame({"group": ["group a", "group b"], "n_0": [1, 40], "n_1": [30, 2]})
    frame = frame.iloc[:, : len(names)]
    plain = _verdict("t.csv", _csv(frame))
    got = _verdict("t.csv", _csv(frame.set_axis(names, axis=1)))
    assert plain == Verdict.BLOCK
    assert got.rank >= plain.rank, (names, plain, got)


@SETTINGS
@given(per_variant_tables(), st.sampled_from(_AC_NAMES))
def test_renaming_allele_columns__to_other_tools_names_never_lowers_the_verdict(frame, names):
    plain = _verdict("t.tsv", _csv(frame, "\t"))
    renamed = frame.rename(columns={"ALT_CTS": names[0], "OBS_CT": names[1]})
    got = _verdict("t.tsv", _csv(renamed, "\t"))
    assert got.rank >= plain.rank, (names, plain, got)
