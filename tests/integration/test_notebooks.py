"""The example notebooks run top to bottom with the "tresor" kernel on a demo cohort.

Parameters are injected after the cell tagged ``parameters``, as papermill does
(tests/notebooks.py); the stores are opened directly (STORE), so no hub is needed. Each test
then checks what the notebook wrote. notebooks/federated_gwas.ipynb runs against the test
federation: tests/federation/test_federated_gwas_notebook.py.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
from nbclient import NotebookClient

from tests.conftest import require_tool
from tests.notebooks import with_parameters
from tresor.node.kernelspec import install_kernelspec


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("jupyter")
    install_kernelspec(data_dir)
    return data_dir


def execute(name: str, kernel_path, workdir, monkeypatch, **parameters):
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = with_parameters(name, **parameters)
    NotebookClient(
        nb, kernel_name="tresor", timeout=600, resources={"metadata": {"path": str(workdir)}}
    ).execute()
    return nb


def params(cohort, workdir):
    return {"STORE": str(cohort.store), "OUT": str(workdir / "results")}


@pytest.mark.slow
def test_notebook__allele_frequencies(demo_cohorts, kernel_path, tmp_path, monkeypatch):
    dk = demo_cohorts["dk"]
    execute("allele_frequencies", kernel_path, tmp_path, monkeypatch, **params(dk, tmp_path))
    afreq = pd.read_csv(tmp_path / "results" / "cohort.afreq", sep="\t")
    plink2 = require_tool("plink2")
    subprocess.run(
        [plink2, "--vcf", str(dk.vcf), "--maf", "0.01", "--make-just-pvar", "--out",
         str(tmp_path / "common")],
        check=True,
        capture_output=True,
    )  # fmt: skip
    lines = (tmp_path / "common.pvar").read_text().splitlines()
    ids = [line.split("\t")[2] for line in lines if not line.startswith("#")]
    assert list(afreq["ID"]) == ids


@pytest.mark.slow
def test_notebook__qc(demo_cohorts, kernel_path, tmp_path, monkeypatch):
    dk = demo_cohorts["dk"]
    nb = execute("qc", kernel_path, tmp_path, monkeypatch, **params(dk, tmp_path))
    results = tmp_path / "results"
    for suffix in (".hardy", ".smiss", ".vmiss", ".het"):
        assert (results / f"cohort{suffix}").exists(), suffix
    smiss = pd.read_csv(results / "cohort.smiss", sep="\t")
    assert len(smiss) == dk.n_samples
    assert smiss["F_MISS"].between(0.001, 0.02).all()
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "variants with HWE P < 1e-6" in text


@pytest.mark.slow
def test_notebook__gwas_finds_causal_variants(demo_cohorts, kernel_path, tmp_path, monkeypatch):
    dk = demo_cohorts["dk"]
    execute("gwas", kernel_path, tmp_path, monkeypatch, **params(dk, tmp_path))
    results = tmp_path / "results"
    found = pd.read_csv(results / "causal_found.tsv")
    causal = pd.read_csv(dk.store.parent.parent / "causal_variants.tsv", sep="\t")
    assert len(found) >= 1 and set(found["ID"]) <= set(causal["ID"])
    for name in ("ldl.glm.linear", "t2d.glm.logistic.hybrid", "ldl.manhattan.png", "t2d.qq.png"):
        assert (results / f"cohort.{name}").exists(), name


@pytest.mark.slow
def test_notebook__pca(demo_cohorts, kernel_path, tmp_path, monkeypatch):
    dk = demo_cohorts["dk"]
    execute("pca", kernel_path, tmp_path, monkeypatch, **params(dk, tmp_path))
    values = np.loadtxt(tmp_path / "results" / "cohort.eigenval")
    vectors = pd.read_csv(tmp_path / "results" / "cohort.eigenvec", sep="\t", index_col=0)
    assert len(values) == 10 and (np.diff(values) <= 0).all()
    assert vectors.shape == (dk.n_samples, 10)
    np.testing.assert_allclose((vectors**2).sum(), 1.0, rtol=1e-6)
