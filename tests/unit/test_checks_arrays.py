"""NumPy .npy arrays are tables to the rules, read without unpickling, every byte accounted for."""

from __future__ import annotations

import io

import numpy as np
import pytest

from airlock.checks import Verdict, check_file
from tests.checks_corpus import corpus_context, sample_ids
from tests.checks_support import finding, rules, write


def npy(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, values)
    return buffer.getvalue()


def checked(tmp_path, data: bytes, name: str = "array.npy"):
    return check_file(write(tmp_path, name, data), corpus_context())


def test_arrays__rows_and_columns_are_those_of_the_table(tmp_path):
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(300, 10))
    for values in (scores, np.asfortranarray(scores), scores.astype(">f8")):
        report = checked(tmp_path, npy(values))
        assert "individual-level.one-row-per-sample" in rules(report), report.findings
    # a people x variants x ploidy array: a row per person, its calls as columns
    calls = rng.integers(0, 2, size=(300, 40, 2)).astype(np.int8)
    assert finding(checked(tmp_path, npy(calls)), "individual-level.genotypes")
    # variants x people: a column per person
    report = checked(tmp_path, npy(rng.uniform(0, 2, size=(40, 300)).round(3)))
    assert "individual-level.one-column-per-sample" in rules(report), report.findings


def test_arrays__counts_and_sample_ids_are_checked_as_in_a_csv(tmp_path):
    assert checked(tmp_path, npy(np.array([[30, 120], [45, 130]]))).verdict is Verdict.PASS
    small = checked(tmp_path, npy(np.array([[3, 120], [45, 130]])))
    assert finding(small, "min-cell-count").verdict is Verdict.BLOCK
    ids = sample_ids("dk", 5)
    for values in (np.array(ids), np.array([i.encode() for i in ids])):
        assert finding(checked(tmp_path, npy(values)), "individual-level.sample-id")
    record = np.zeros(300, dtype=[("iid", "U10"), ("score", "f8")])
    record["iid"] = sample_ids("dk")
    assert checked(tmp_path, npy(record)).verdict is Verdict.BLOCK


@pytest.mark.parametrize(
    "damage, words",
    [
        (lambda b: b[:-8], "truncated"),  # the data shorter than the header says
        (lambda b: b + b"DK000017", "truncated"),  # bytes after the array
        # a header is a Python literal: a comment in its padding would leave with the file
        (lambda b: b.replace(b"}    ", b"}#DK1", 1), "header"),
        (lambda b: b.replace(b"}    ", b"}\t\t\t\t", 1), "header"),
    ],
)
def test_arrays__bytes_the_table_does_not_show_block(tmp_path, damage, words):
    data = damage(npy(np.array([[30, 120], [45, 130]])))
    f = finding(checked(tmp_path, data), "malformed")
    assert f.verdict is Verdict.BLOCK and words in f.message, f.message


def test_arrays__python_objects_are_never_unpickled(tmp_path, monkeypatch):
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("unpickled")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    data = npy(np.array([{"iid": "DK000001"}, None], dtype=object))
    f = finding(checked(tmp_path, data), "malformed")
    assert "pickles" in f.message
    f = finding(checked(tmp_path, npy(np.ones(3, dtype=complex))), "malformed")
    assert "complex128" in f.message
