"""The federation tests share one federation (coordinator and three nodes) for the session."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tresor.federation as fed
from tests.federation.fixture import PROJECT, Federation, wait_until
from tresor.io import open_store
from tresor.stats.phenotypes import read_table

#: the nodes of the shared federation
NODES = ("dk", "se", "uk")
KEY = ["CHROM", "POS", "REF", "ALT"]


@pytest.fixture(scope="session")
def federation(tmp_path_factory, demo_cohorts):
    """A coordinator and three nodes (dk, se and uk, uk with a real hub), each with its own
    airlock, keys, catalogue (one demo cohort of the session's ``demo_cohorts``) and agent;
    see tests/federation/fixture.py."""
    from tests.federation.fixture import Federation

    federation = Federation(tmp_path_factory.mktemp("federation"), demo_cohorts)
    try:
        federation.build()
        yield federation
    finally:
        federation.close()


# -- discovery (tests/federation/test_discovery*.py) ---------------------------------------
@pytest.fixture(scope="session")
def published(federation: Federation):
    """A summary request to the three nodes, released by each node's two reviewers."""
    kw = federation.client_kw()
    made = fed.request(
        "allele_frequency_summary", project=PROJECT, targets={n: n for n in NODES}, **kw
    )
    federation.wait_in_review(made.id, list(NODES))
    released = {n: federation.approve_all(n, made.id) for n in NODES}
    final = wait_until(lambda: (s := fed.status(made.id, **kw)).done and s, "the summaries")
    return {"request": made, "released": released, "final": final}


@pytest.fixture(scope="session")
def stores(federation: Federation) -> dict[str, pd.DataFrame]:
    """Per node: AC, AN of every biallelic variant over all samples and by sex, directly from
    the store and the phenotype file."""
    out = {}
    for name in NODES:
        entry = federation.catalogue_entry(name)
        ds = open_store(entry.store)
        g = np.asarray(ds["call_genotype"].values)
        alleles = np.asarray(ds["variant_allele"].values).astype(object).astype(str)
        contigs = np.asarray(ds["contig_id"].values).astype(object).astype(str)
        ids = [str(s) for s in ds["sample_id"].values.tolist()]
        sex = read_table(entry.phenotypes["covar"]).reindex(ids)["sex"].to_numpy()
        table = pd.DataFrame(
            {
                "CHROM": contigs[np.asarray(ds["variant_contig"].values)],
                "POS": np.asarray(ds["variant_position"].values),
                "REF": alleles[:, 0],
                "ALT": alleles[:, 1],
                "AC": (g == 1).sum(axis=(1, 2)),
                "AN": (g >= 0).sum(axis=(1, 2)),
            }
        )
        for code, label in (("1", "male"), ("2", "female")):
            part = g[:, sex == code]
            table[f"AC_{label}"] = (part == 1).sum(axis=(1, 2))
            table[f"AN_{label}"] = (part >= 0).sum(axis=(1, 2))
        biallelic = (alleles[:, 2:] == "").all(axis=1) if alleles.shape[1] > 2 else True
        out[name] = table[biallelic].reset_index(drop=True)
    return out
