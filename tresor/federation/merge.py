"""Merge the nodes' released bundles of one federated request into plink2-style tables.

What it checks (the signatures were verified before: a :class:`VerifiedBundle` says so): every
bundle answers the same request (request id and crate hash in its signed manifest), ran the
same registered analysis, version and parameters, on the same genome build, once per node.
Then, contig by contig and a window of positions at a time (never all nodes' tables at once,
:mod:`tresor.federation.streams`), it aligns alleles (:mod:`tresor.federation.alignment`) and
merges:

- ``allele_counts`` -> ``federated.acount``: AC = sum AC_k, AN = sum AN_k, genotype counts
  summed (NA unless every contributing node gave them);
- ``hwe_counts`` -> ``federated.hardy``: summed genotype counts and the exact HWE test;
- ``linear_gwas_sufficient_statistics`` -> ``federated.glm.linear``: the exact pooled linear
  regression with a per-node intercept (:mod:`tresor.federation.pooling`);
- ``gwas_summary_statistics`` -> ``federated.ivw.glm.linear``: fixed-effect inverse-variance
  meta-analysis with Cochran's Q and I^2.

A variant that a node does not report (absent from its store, multi-allelic there, or below its
disclosure threshold: the node's table does not say which) is merged over the nodes that do;
the row lists them in NODES and says COMPLETE=N. Nothing is ever counted as zero for a node
that did not report it. Every table gets the airlock's checks, and ``ro-crate-metadata.json``
names every node bundle by the SHA-256 of its signed manifest.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from tresor.core.bundles import VerifiedBundle
from tresor.core.errors import TresorError
from tresor.core.version import __version__
from tresor.federation.alignment import AlignmentError, align
from tresor.federation.analyses import MANIFEST, REGISTRY
from tresor.federation.pooling import (
    NodeCovariates,
    centre_variants,
    inverse_variance,
    pooled_linear,
)
from tresor.federation.streams import NODE, NodeTable, contig_order, windows
from tresor.stats import tables as plink2

PREFIX = "federated"
SUMMARY = "merge.json"
CRATE = "ro-crate-metadata.json"

MISSING_VARIANT_RULE = (
    "a variant that a node does not report (absent from its store, multi-allelic there, or "
    "below its disclosure threshold) is merged over the nodes that report it; NODES lists them "
    "and COMPLETE is N; it is never counted as zero for the others"
)
ALIGNMENT_RULE = (
    "REF/ALT as given on the forward strand of the common genome build, never complemented; "
    "orientation of the most nodes (first node on a tie); other nodes flipped (g -> 2 - g); at "
    "A/T and C/G sites a node in the other orientation is left out of the row and flagged"
)


class MergeError(TresorError, ValueError):
    """Bundles that cannot be merged, with which bundle and why."""


@dataclasses.dataclass(frozen=True)
class NodeBundle:
    """A verified bundle with its analysis manifest read."""

    bundle: VerifiedBundle
    analysis: dict[str, Any]
    outputs_dir: Path

    @property
    def node(self) -> str:
        return self.bundle.node

    def table(self, kind: str) -> Path:
        entry = self.analysis.get("outputs", {}).get(kind)
        if not entry or "file" not in entry:
            raise MergeError(f"the bundle of {self.node} has no {kind} table in its manifest")
        path = self.outputs_dir / entry["file"]
        listed = {PurePosixPath(f["name"]) for f in self.bundle.manifest.get("files", [])}
        relative = PurePosixPath(path.relative_to(self.bundle.files_dir).as_posix())
        if relative not in listed or not path.is_file():
            raise MergeError(
                f"the bundle of {self.node} does not hold {relative}, which its analysis "
                "manifest names; only files listed in the signed manifest are read"
            )
        return path


@dataclasses.dataclass(frozen=True)
class MergeResult:
    out_dir: Path
    analysis: str
    tables: list[Path]
    summary: Path
    crate: Path
    #: per table: the airlock checks' verdict ("pass", "review", "block"), when run
    verdicts: dict[str, str]


# -- the bundles ------------------------------------------------------------------------------
def _analysis_manifest(bundle: VerifiedBundle) -> NodeBundle:
    candidates = [
        PurePosixPath(f["name"])
        for f in bundle.manifest.get("files", [])
        if PurePosixPath(f["name"]).name == MANIFEST
    ]
    found = []
    for name in candidates:
        path = bundle.files_dir / name
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "analysis" in data:
            found.append((path, data))
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise MergeError(
            f"the bundle of {bundle.node} has {what} analysis manifest ({MANIFEST} with an "
            "'analysis' key) among its listed files; it must hold the outputs of one registered "
            "analysis"
        )
    path, data = found[0]
    return NodeBundle(bundle, data, path.parent)


def check_bundles(
    bundles: Sequence[VerifiedBundle],
    *,
    request_id: str | None = None,
    crate_sha256: str | None = None,
) -> list[NodeBundle]:
    """The bundles in node order, once each, answering one request with one analysis."""
    if not bundles:
        raise MergeError("no bundles to merge")
    names = [b.node for b in bundles]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise MergeError(f"more than one bundle from {', '.join(dup)}; give one per node")
    bundles = sorted(bundles, key=lambda b: b.node)
    bindings = {}
    for b in bundles:
        binding = b.manifest.get("federation")
        if not isinstance(binding, dict) or not {"request_id", "crate_sha256"} <= set(binding):
            raise MergeError(
                f"the bundle of {b.node} does not say which federated request it answers (no "
                "request id and crate hash in its signed manifest); it cannot be merged"
            )
        bindings[b.node] = (str(binding["request_id"]), str(binding["crate_sha256"]))
    expected = (request_id, crate_sha256)
    if request_id is None or crate_sha256 is None:
        first = bindings[bundles[0].node]
        expected = (request_id or first[0], crate_sha256 or first[1])
    for node, (rid, crate) in bindings.items():
        if rid != expected[0]:
            raise MergeError(
                f"the bundle of {node} answers request {rid}, not {expected[0]}: a bundle from "
                "another request is refused"
            )
        if crate != expected[1]:
            raise MergeError(
                f"the bundle of {node} answers a request crate with SHA-256 {crate}, not "
                f"{expected[1]}: it was made for another version of the request"
            )
    nodes = [_analysis_manifest(b) for b in bundles]
    first = nodes[0].analysis
    for field, what in (
        ("analysis", "analyses"),
        ("version", "analysis versions"),
        ("parameters", "parameters"),
        ("missing_genotype_rule", "missing-genotype rules"),
    ):
        for nb in nodes[1:]:
            if nb.analysis.get(field) != first.get(field):
                raise MergeError(
                    f"{nodes[0].node} and {nb.node} ran different {what} "
                    f"({first.get(field)!r} and {nb.analysis.get(field)!r}); they cannot be merged"
                )
    builds = {nb.node: nb.analysis.get("dataset", {}).get("genome_build") for nb in nodes}
    if len(set(builds.values())) != 1:
        listed = ", ".join(f"{n}: {b}" for n, b in builds.items())
        raise MergeError(f"the nodes' datasets are on different genome builds ({listed})")
    name = first["analysis"]
    if name not in REGISTRY:
        raise MergeError(f"{name!r} is not a registered analysis ({', '.join(REGISTRY)})")
    if first["version"] != REGISTRY[name].version:
        raise MergeError(
            f"the bundles ran {name} version {first['version']}; this tresor merges version "
            f"{REGISTRY[name].version}"
        )
    return nodes


# -- the merge of one window ------------------------------------------------------------------
@dataclasses.dataclass
class Window:
    """One window of aligned rows grouped by variant (and stratum)."""

    frame: pd.DataFrame  # aligned rows sorted by key, with NODE
    keys: pd.DataFrame  # one row per group: the key columns
    codes: np.ndarray  # group of each row
    masks: np.ndarray  # per group: bit k set when node k contributes

    @property
    def n(self) -> int:
        return len(self.keys)

    def total(self, column: str) -> np.ndarray:
        values = self.frame[column].to_numpy(dtype=float)
        return np.bincount(self.codes, np.nan_to_num(values), self.n)

    def any_missing(self, column: str) -> np.ndarray:
        return np.bincount(self.codes, self.frame[column].isna().to_numpy(), self.n) > 0


def group(frame: pd.DataFrame, keys: list[str]) -> Window:
    frame = frame.sort_values([*keys, NODE], kind="stable", ignore_index=True)
    grouped = frame.groupby(keys, sort=False)
    codes = grouped.ngroup().to_numpy()
    first = frame.drop_duplicates(keys)[keys].reset_index(drop=True)
    masks = np.bincount(codes, np.left_shift(1, frame[NODE].to_numpy()), len(first))
    return Window(frame, first, codes, masks.astype(np.int64))


@dataclasses.dataclass(frozen=True)
class Context:
    node_names: list[str]
    covariates: list[NodeCovariates] | None = None
    predictors: tuple[str, ...] = ()

    def nodes(self, masks: np.ndarray) -> list[str]:
        return [
            ",".join(n for k, n in enumerate(self.node_names) if int(m) >> k & 1) for m in masks
        ]

    def complete(self, masks: np.ndarray) -> np.ndarray:
        return np.where(masks == (1 << len(self.node_names)) - 1, "Y", "N")


def _federation_columns(w: Window, ctx: Context, flags: pd.DataFrame) -> dict[str, Any]:
    merged = w.keys[["POS", "REF", "ALT"]].merge(flags, on=["POS", "REF", "ALT"], how="left")
    return {
        "NODES": ctx.nodes(w.masks),
        "COMPLETE": ctx.complete(w.masks),
        "FLAGS": merged["FLAGS"].fillna(".").to_numpy(),
    }


def _counts(w: Window, columns: Sequence[str]) -> dict[str, Any]:
    """Summed counts; NA where a contributing node gave NA."""
    out = {}
    for c in columns:
        total = w.total(c).astype(np.int64)
        out[c] = pd.array(np.where(w.any_missing(c), 0, total), dtype="Int64")
        out[c][w.any_missing(c)] = pd.NA
    return out


ACOUNT = ("ALT_CTS", "OBS_CT", "HOM_REF_CT", "HET_REF_ALT_CTS", "TWO_ALT_GENO_CTS")


def merge_allele_counts(frame: pd.DataFrame, flags: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    stratified = "STRATUM" in frame
    keys = ["POS", "REF", "ALT", *(["STRATUM"] if stratified else [])]
    w = group(frame, keys)
    counts = _counts(w, ["AC", "AN", "HOM_REF_CT", "HET_REF_ALT_CTS", "TWO_ALT_GENO_CTS"])
    return pd.DataFrame(
        {
            **{k: w.keys[k] for k in keys},
            "ALT_CTS": counts["AC"],
            "OBS_CT": counts["AN"],
            "HOM_REF_CT": counts["HOM_REF_CT"],
            "HET_REF_ALT_CTS": counts["HET_REF_ALT_CTS"],
            "TWO_ALT_GENO_CTS": counts["TWO_ALT_GENO_CTS"],
            **_federation_columns(w, ctx, flags),
        }
    )


def merge_hwe_counts(frame: pd.DataFrame, flags: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    from tresor.stats.hwe_kernels import hwe_exact_per_allele

    w = group(frame, ["POS", "REF", "ALT"])
    hom_ref = w.total("HOM_REF_CT").astype(np.int64)
    het = w.total("HET_REF_ALT_CTS").astype(np.int64)
    hom_alt = w.total("TWO_ALT_GENO_CTS").astype(np.int64)
    n = hom_ref + het + hom_alt
    p = hwe_exact_per_allele(
        np.stack([hom_ref, hom_alt], 1), np.stack([het, het], 1), np.full(w.n, 2, np.int32)
    )[:, 0]
    freq = (2 * hom_ref + het) / (2.0 * n)
    return pd.DataFrame(
        {
            "POS": w.keys["POS"],
            "A1": w.keys["REF"],
            "AX": w.keys["ALT"],
            "HOM_A1_CT": hom_ref,
            "HET_A1_CT": het,
            "TWO_AX_CT": hom_alt,
            "O(HET_A1)": het / n,
            "E(HET_A1)": 2 * freq * (1 - freq),
            "P": p,
            **_federation_columns(w, ctx, flags),
            "REF": w.keys["REF"],
            "ALT": w.keys["ALT"],
        }
    )


def merge_linear(frame: pd.DataFrame, flags: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    w = group(frame, ["POS", "REF", "ALT"])
    assert ctx.covariates is not None
    cg = w.frame[[f"CG_{p}" for p in ctx.predictors]].to_numpy(dtype=float)
    zg, gg, gy = centre_variants(
        cg,
        w.frame["GG"].to_numpy(dtype=float),
        w.frame["GY"].to_numpy(dtype=float),
        w.frame[NODE].to_numpy(),
        ctx.covariates,
    )
    q = zg.shape[1]
    zg_sum = np.stack([np.bincount(w.codes, zg[:, j], w.n) for j in range(q)], 1).reshape(w.n, q)
    fit = pooled_linear(
        zg_sum,
        np.bincount(w.codes, gg, w.n),
        np.bincount(w.codes, gy, w.n),
        w.masks,
        ctx.covariates,
    )
    return pd.DataFrame(
        {
            "POS": w.keys["POS"],
            "REF": w.keys["REF"],
            "ALT": w.keys["ALT"],
            "A1": w.keys["ALT"],
            "A1_FREQ": w.total("AC") / w.total("AN"),
            "TEST": "ADD",
            "OBS_CT": fit["OBS_CT"],
            "BETA": fit["BETA"],
            "SE": fit["SE"],
            "T_STAT": fit["T_STAT"],
            "P": fit["P"],
            "ERRCODE": fit["ERRCODE"],
            **_federation_columns(w, ctx, flags),
        }
    )


def merge_summary_statistics(
    frame: pd.DataFrame, flags: pd.DataFrame, ctx: Context
) -> pd.DataFrame:
    w = group(frame, ["POS", "REF", "ALT"])
    meta = inverse_variance(
        w.frame["BETA"].to_numpy(float), w.frame["SE"].to_numpy(float), w.codes, w.n
    )
    obs = w.total("OBS_CT")
    return pd.DataFrame(
        {
            "POS": w.keys["POS"],
            "REF": w.keys["REF"],
            "ALT": w.keys["ALT"],
            "A1": w.keys["ALT"],
            "A1_FREQ": np.bincount(
                w.codes, w.frame["A1_FREQ"].to_numpy(float) * w.frame["OBS_CT"], w.n
            )
            / obs,
            "OBS_CT": obs.astype(np.int64),
            **meta,
            **_federation_columns(w, ctx, flags),
        }
    )


@dataclasses.dataclass(frozen=True)
class Merger:
    """How one analysis is merged: its per-variant table, its output and the columns."""

    table: str  # output kind of the per-variant table in each bundle
    suffix: str
    header: tuple[str, ...]
    merge: Callable[[pd.DataFrame, pd.DataFrame, Context], pd.DataFrame]
    extra_keys: tuple[str, ...] = ()


FEDERATION = ("NODES", "COMPLETE", "FLAGS")


def _with_a1_freq(header: tuple[str, ...]) -> tuple[str, ...]:
    """plink2's header with ``cols=+a1freq``: A1_FREQ right after A1."""
    i = header.index("A1") + 1
    return (*header[:i], "A1_FREQ", *header[i:])


MERGERS = {
    "allele_counts": Merger(
        "federation.allele_counts",
        ".acount",
        (*plink2.ACOUNT_HEADER[:5], "STRATUM", *ACOUNT, *FEDERATION),
        merge_allele_counts,
        ("STRATUM",),
    ),
    # discovery summaries: the pooled counts per variant and stratum, as for allele_counts
    "allele_frequency_summary": Merger(
        "discovery.allele_frequencies",
        ".acount",
        (*plink2.ACOUNT_HEADER[:5], "STRATUM", *ACOUNT, *FEDERATION),
        merge_allele_counts,
        ("STRATUM",),
    ),
    "hwe_counts": Merger(
        "federation.hwe_counts", ".hardy", (*plink2.HARDY_HEADER, *FEDERATION), merge_hwe_counts
    ),
    "linear_gwas_sufficient_statistics": Merger(
        "federation.linear_gwas_statistics",
        ".glm.linear",
        (*_with_a1_freq(plink2.GLM_LINEAR_HEADER), *FEDERATION),
        merge_linear,
    ),
    "gwas_summary_statistics": Merger(
        "federation.gwas_summary_statistics",
        ".ivw.glm.linear",
        (
            *_with_a1_freq(plink2.GLM_LINEAR_HEADER[:6]),
            "OBS_CT",
            "BETA",
            "SE",
            "Z_STAT",
            "P",
            "Q",
            "P_Q",
            "I2",
            *FEDERATION,
        ),
        merge_summary_statistics,
    ),
}


def _linear_context(nodes: list[NodeBundle], ctx: Context) -> Context:
    """Each node's centred covariate block from its node statistics table."""
    predictors = tuple(nodes[0].analysis["parameters"].get("covariates", ()))
    predictors = ("INTERCEPT", *predictors)
    blocks = []
    for nb in nodes:
        table = pd.read_parquet(nb.table("federation.linear_gwas_node_statistics"))
        if tuple(table["PREDICTOR"]) != predictors:
            raise MergeError(f"the node statistics of {nb.node} are not over {predictors}")
        ctc = table[[f"CTC_{p}" for p in predictors]].to_numpy(float)
        n = int(table["N"].iloc[0])
        blocks.append(
            NodeCovariates.from_statistics(
                n, ctc, table["CTY"].to_numpy(float), float(table["YTY"].iloc[0])
            )
        )
    return dataclasses.replace(ctx, covariates=blocks, predictors=predictors)


def _raw_constants(nodes: list[NodeBundle], ctx: Context) -> dict[int, dict]:
    """n, C'C, C'y per node index: what flipping a node's sufficient statistics needs."""
    out = {}
    for k, nb in enumerate(nodes):
        table = pd.read_parquet(nb.table("federation.linear_gwas_node_statistics"))
        out[k] = {
            "n": int(table["N"].iloc[0]),
            "ctc": table[[f"CTC_{p}" for p in ctx.predictors]].to_numpy(float),
            "cty": table["CTY"].to_numpy(float),
            "predictors": ctx.predictors,
        }
    return out


# -- writing ------------------------------------------------------------------------------------
class TsvWriter:
    """A plink2-style table (header line starting with #CHROM), appended window by window."""

    def __init__(self, path: Path, header: tuple[str, ...]) -> None:
        self.path = path
        self.header = header
        self.rows = 0
        self.incomplete = 0
        self.flagged = 0
        self._file = open(path, "w", newline="")  # noqa: SIM115 (closed in close())
        self._file.write("\t".join(header) + "\n")

    def write(self, contig: str, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        frame = frame.copy()
        frame["#CHROM"] = contig
        frame["ID"] = (
            contig + ":" + frame["POS"].astype(str) + ":" + frame["REF"] + ":" + frame["ALT"]
        )
        columns = [c for c in self.header if c in frame]
        frame[columns].to_csv(self._file, sep="\t", header=False, index=False, na_rep="NA")
        self.rows += len(frame)
        self.incomplete += int((frame["COMPLETE"] == "N").sum())
        self.flagged += int((frame["FLAGS"] != ".").sum())

    def close(self) -> None:
        self._file.close()


def _write_crate(
    out: Path, nodes: list[NodeBundle], tables: list[Path], binding: tuple[str, str], name: str
) -> Path:
    from rocrate.model.contextentity import ContextEntity
    from rocrate.model.softwareapplication import SoftwareApplication
    from rocrate.rocrate import ROCrate

    crate = ROCrate()
    crate.name = f"Federated {name}, request {binding[0]}"
    crate.description = (
        f"Merged result of the federated request {binding[0]} (request crate SHA-256 "
        f"{binding[1]}) from the released bundles of {', '.join(nb.node for nb in nodes)}"
    )
    results = [
        crate.add_file(
            p,
            dest_path=p.name,
            properties={"name": p.name, "encodingFormat": "text/tab-separated-values"},
        )
        for p in [*tables, out / SUMMARY]
    ]
    objects = []
    for nb in nodes:
        objects.append(
            crate.add(
                ContextEntity(
                    crate,
                    f"#bundle-{nb.node}",
                    properties={
                        "@type": "Dataset",
                        "name": f"released bundle of node {nb.node}",
                        "identifier": f"sha256:{nb.bundle.manifest_sha256}",
                        "sha256": nb.bundle.manifest_sha256,
                        "description": (
                            f"{nb.analysis['analysis']} {nb.analysis['version']} on dataset "
                            f"{nb.analysis.get('dataset', {}).get('id')}, signed by the airlock of "
                            f"{nb.node}; the hash is of its signed manifest.json"
                        ),
                    },
                )
            )
        )
    request = crate.add(
        ContextEntity(
            crate,
            f"#request-{binding[0]}",
            properties={
                "@type": "CreativeWork",
                "name": f"federated request {binding[0]}",
                "identifier": binding[0],
                "sha256": binding[1],
            },
        )
    )
    tool = crate.add(
        SoftwareApplication(
            crate,
            "#tresor-federation-merge",
            properties={"name": "tresor federation merge", "version": __version__},
        )
    )
    crate.add_action(
        tool,
        identifier="#merge",
        object=[request, *objects],
        result=results,
        properties={"name": f"merge of {name} across {len(nodes)} nodes"},
    )
    path = out / CRATE
    path.write_text(json.dumps(crate.metadata.generate(), indent=2) + "\n")
    return path


def _run_checks(tables: list[Path]) -> tuple[dict[str, str], dict[str, Any]]:
    from airlock.checks import CheckContext, check_file

    verdicts, findings = {}, {}
    for path in tables:
        report = check_file(path, CheckContext())
        verdicts[path.name] = report.verdict.value
        findings[path.name] = [
            {"rule": f.rule, "verdict": f.verdict.value, "message": f.message}
            for f in report.findings
        ]
    return verdicts, findings


# -- the merge ----------------------------------------------------------------------------------
def merge(
    bundles: Sequence[VerifiedBundle],
    out_dir: str | Path,
    *,
    request_id: str | None = None,
    crate_sha256: str | None = None,
    run_checks: bool = True,
) -> MergeResult:
    """Merge verified bundles of one request into ``out_dir``; see the module docstring."""
    nodes = check_bundles(bundles, request_id=request_id, crate_sha256=crate_sha256)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    analysis = nodes[0].analysis["analysis"]
    merger = MERGERS[analysis]
    ctx = Context([nb.node for nb in nodes])
    constants: dict[int, dict] = {}
    if analysis == "linear_gwas_sufficient_statistics":
        ctx = _linear_context(nodes, ctx)
        constants = _raw_constants(nodes, ctx)
    tables = [NodeTable(nb.table(merger.table)) for nb in nodes]
    contigs = contig_order(
        [nb.analysis.get("contigs", list(t.groups)) for nb, t in zip(nodes, tables, strict=True)]
    )
    contigs += [c for t in tables for c in t.groups if c not in contigs]
    path = out / f"{PREFIX}{merger.suffix}"
    stratified = any("STRATUM" in t.file.schema_arrow.names for t in tables)
    header = tuple(c for c in merger.header if c != "STRATUM" or stratified)
    writer = TsvWriter(path, header)
    try:
        for contig in contigs:
            for frame in windows(tables, contig):
                try:
                    aligned, flags = align(
                        frame,
                        analysis,
                        ctx.node_names,
                        constants,
                        extra_keys=[k for k in merger.extra_keys if k in frame],
                    )
                except AlignmentError as e:
                    raise MergeError(str(e)) from e
                writer.write(contig, merger.merge(aligned, flags, ctx))
    finally:
        writer.close()
    first = nodes[0]
    binding = tuple(first.bundle.manifest["federation"][k] for k in ("request_id", "crate_sha256"))
    summary: dict[str, Any] = {
        "request_id": binding[0],
        "crate_sha256": binding[1],
        "analysis": analysis,
        "version": first.analysis["version"],
        "parameters": first.analysis["parameters"],
        "genome_build": first.analysis["dataset"]["genome_build"],
        "nodes": [
            {
                "node": nb.node,
                "bundle_manifest_sha256": nb.bundle.manifest_sha256,
                "dataset": nb.analysis.get("dataset", {}).get("id"),
                "samples_analysed": nb.analysis.get("samples", {}).get("analysed"),
                "rows": t.num_rows,
                "thresholds": nb.analysis.get("thresholds"),
            }
            for nb, t in zip(nodes, tables, strict=True)
        ],
        "missing_genotype_rule": first.analysis["missing_genotypes"],
        "missing_variant_rule": MISSING_VARIANT_RULE,
        "alignment_rule": ALIGNMENT_RULE,
        "outputs": {
            path.name: {
                "rows": writer.rows,
                "incomplete_rows": writer.incomplete,
                "flagged_rows": writer.flagged,
            }
        },
        "tresor_version": __version__,
    }
    verdicts: dict[str, str] = {}
    if run_checks:
        verdicts, findings = _run_checks([path])
        summary["airlock_checks"] = {"verdicts": verdicts, "findings": findings}
    (out / SUMMARY).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    crate = _write_crate(out, nodes, [path], binding, analysis)
    return MergeResult(out, analysis, [path], out / SUMMARY, crate, verdicts)
