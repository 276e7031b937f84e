"""notebooks/federated_gwas.ipynb against the test federation: the notebook (the researcher,
where the coordinator is reachable) requests the exact linear GWAS and the IVW meta-analysis
and waits; meanwhile this test plays each node's two reviewers through its airlock's API. Then
the merged tables the notebook read are checked against the coordinator's, an independent
pooled fit and an inverse-variance meta-analysis by hand (uk's swapped sites included)."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from nbclient import NotebookClient

from tests.federation.fixture import KEY, Federation, wait_until
from tests.notebooks import outputs, with_parameters
from tests.unit.federation_data import genotypes, pooled_fit
from tresor.federation.analyses import phenotype_table
from tresor.federation.client import Client
from tresor.node.kernelspec import install_kernelspec

pytestmark = pytest.mark.slow
NODES = ("dk", "se", "uk")
ANALYSES = {
    "linear_gwas_sufficient_statistics": "federated.glm.linear",
    "gwas_summary_statistics": "federated.ivw.glm.linear",
}


class NotebookRun(threading.Thread):
    """Executes a notebook in a thread; ``error`` holds what stopped it."""

    def __init__(self, nb, workdir) -> None:
        super().__init__(daemon=True)
        self.nb, self.workdir, self.error = nb, workdir, None

    def run(self) -> None:
        try:
            resources = {"metadata": {"path": str(self.workdir)}}
            NotebookClient(
                self.nb, kernel_name="tresor", timeout=900, resources=resources
            ).execute()
        except BaseException as e:  # handed to the test
            self.error = e

    def check(self) -> None:
        if self.error is not None:
            raise AssertionError(f"the notebook failed: {self.error}") from self.error


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=["NA"])


def test_federated_gwas_notebook__merged_result_and_plots(
    federation: Federation, tmp_path, monkeypatch
):
    install_kernelspec(tmp_path / "jupyter")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = Client(**federation.client_kw())
    before = {r["id"] for r in client.call("GET", "requests")}
    out = tmp_path / "results"
    nb = with_parameters(
        "federated_gwas",
        COORDINATOR=federation.coordinator_url,
        TOKEN=federation.researcher_token,
        TARGETS={n: n for n in NODES},
        OUT=str(out),
        WAIT=600,
    )
    run = NotebookRun(nb, tmp_path)
    run.start()

    def requested():
        run.check()
        made = {r["analysis"]: r for r in client.call("GET", "requests") if r["id"] not in before}
        return made if set(made) == set(ANALYSES) else None

    made = wait_until(requested, "the notebook's two requests", timeout=300)
    ids = {analysis: made[analysis]["id"] for analysis in ANALYSES}
    for request_id in ids.values():
        federation.wait_in_review(request_id, list(NODES))
        for name in NODES:
            released = federation.approve_all(name, request_id)
            assert len(released) == 1, (name, request_id)
    run.join(600)
    assert not run.is_alive(), "the notebook did not finish within 10 minutes of the approvals"
    run.check()

    # what the notebook read is what the coordinator merged
    tables = {}
    for analysis, name in ANALYSES.items():
        downloaded = out / ids[analysis] / name
        merged = federation.data_dir / "results" / ids[analysis] / name
        assert downloaded.read_bytes() == merged.read_bytes(), name
        tables[analysis] = read(downloaded)
    exact = tables["linear_gwas_sufficient_statistics"]
    ivw = tables["gwas_summary_statistics"]
    text = "".join(outputs(nb, "text"))
    assert f"federated.glm.linear: {len(exact)} rows" in text
    assert f"federated.ivw.glm.linear: {len(ivw)} rows" in text
    complete = exact[(exact["COMPLETE"] == "Y") & (exact["ERRCODE"] == ".")]
    assert len(complete) > 500 and (complete["NODES"] == "dk,se,uk").all()
    assert (complete["OBS_CT"] == sum(federation.cohorts[n].n_samples for n in NODES)).all()
    assert set(exact["NODES"].str.split(",").explode()) == set(NODES)

    # the plots: the Manhattan and QQ figure and the BETA scatter, as images
    assert len(outputs(nb, "image/png")) >= 2
    assert (out / "federated_gwas.png").stat().st_size > 10_000

    # uk's swapped sites were flipped back, in both merges
    for table in (exact, ivw):
        at_swapped = table.merge(federation.swapped, on=KEY)
        assert len(at_swapped) == len(federation.swapped)
        assert (at_swapped["FLAGS"] == "flipped=uk").all()

    # the exact merge equals an independent pooled fit (cohort intercepts, the same mean
    # imputation) over the cohorts as simulated, at swapped sites and others
    cohort_data = {n: genotypes(federation.cohorts[n]) for n in NODES}
    phenotypes = {
        n: phenotype_table([federation.cohorts[n].pheno, federation.cohorts[n].covar])
        for n in NODES
    }
    checked = pd.concat([complete.merge(federation.swapped, on=KEY).head(8), complete.iloc[::250]])
    for row in checked.itertuples():
        key = (row._1, row.POS, row.REF, row.ALT)
        beta, se = pooled_fit(cohort_data, phenotypes, key, NODES)
        assert abs(row.BETA - beta) <= 1e-9 * se, key
        assert pytest.approx(se, rel=1e-9) == row.SE, key

    # the IVW merge equals a meta-analysis by hand of the nodes' released summary statistics,
    # uk's BETA negated where its alleles are swapped
    nodes = []
    for name in NODES:
        (bundle,) = (federation.data_dir / "bundles" / ids["gwas_summary_statistics"]).glob(
            f"{name}-*"
        )
        (table,) = bundle.joinpath("files").rglob("gwas_summary_statistics.parquet")
        nodes.append(pd.read_parquet(table).rename(columns={"CHROM": "#CHROM"}))
    swapped = set(map(tuple, federation.swapped[["#CHROM", "POS"]].to_numpy()))
    checked = ivw[ivw["COMPLETE"] == "Y"]
    checked = pd.concat([checked.merge(federation.swapped, on=KEY).head(8), checked.iloc[::250]])
    for row in checked.itertuples():
        rows = [t[(t["#CHROM"] == row._1) & (t["POS"] == row.POS)].iloc[0] for t in nodes]
        sign = [-1 if n == "uk" and (row._1, row.POS) in swapped else 1 for n in NODES]
        b = np.array([s * r["BETA"] for s, r in zip(sign, rows, strict=True)])
        w = np.array([1 / r["SE"] ** 2 for r in rows])
        assert pytest.approx((w * b).sum() / w.sum(), rel=1e-12, abs=1e-15) == row.BETA
        assert pytest.approx(np.sqrt(1 / w.sum()), rel=1e-12) == row.SE
