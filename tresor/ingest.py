"""Adding a VCF to a node: convert it to VCF Zarr with bio2zarr, validate, describe, register.

Tooling behind ``tresor datasets add``. The conversion is bio2zarr's two steps, driven partition
by partition so that it resumes after an interruption: *explode* reads the VCFs into an
intermediate columnar format (ICF) and *encode* writes the Zarr arrays. Both keep their work in
a directory under the node's state dir (``<state>/ingest/<id>/``), and a rerun of the same
command skips the partitions already done. The store is built under a hidden name in the
datasets directory, validated (opened by :func:`tresor.io.open_store`, every genotype chunk
read once to compute the catalogue metadata), made read-only, renamed into place and only then
registered, so the catalogue never names a half-written store. Beside the store goes its
packed genotype companion (2 bits per call, :mod:`tresor.stats.packed`), which the analyses read
instead of the int8 genotypes; :func:`pack_dataset` (``tresor datasets pack``) writes it for a
dataset registered before, or again after its store changed.

VCFs bio2zarr cannot read are recognised (:func:`diagnose`) and the one-line error names the
field and the bcftools command that repairs a copy; with ``fix=True`` tresor runs that command
on a copy in the work directory itself. The sources' checksums, the repairs and the store's
checksum go into the catalogue entry.

:func:`convert_vcfs` is the conversion alone (VCFs -> store), for any caller that needs a store
from VCFs (the demo data could use it too).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tresor.core.catalogue import DatasetEntry, load_catalogue, register_dataset
from tresor.core.errors import ConfigError, TresorError
from tresor.core.site import SiteConfig
from tresor.node.isolation import apply_grants, forget_dataset

#: Test hook: stop (as Ctrl-C would) right after this phase, to test resuming. One of PHASES.
STOP_AFTER_ENV = "TRESOR_TEST_INGEST_STOP_AFTER"
PHASES = ("explode-partition", "explode", "encode-partition", "encode", "validate")

#: Symbolic "any other allele" of gVCFs: GATK's and bcftools'.
GVCF_ALLELES = ("<NON_REF>", "<*>")


class IngestError(TresorError):
    """A VCF or request that cannot become a dataset as it is; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class Repair:
    """A bcftools step that makes a VCF readable or analysable, applied to a copy."""

    name: str  # what it repairs, e.g. "INFO/AF" or "gVCF"
    args: tuple[str, ...]  # bcftools arguments between the input and the output

    def command(self, source: str | Path, target: str | Path) -> list[str]:
        """The bcftools command line that writes the repaired ``target`` (bgzipped)."""
        return ["bcftools", *self.args, str(source), "-Oz", "-o", str(target)]

    def shown(self, source: str | Path) -> str:
        return " ".join(self.command(Path(source).name, "fixed.vcf.gz"))


#: gVCFs: keep the sites where some sample carries an ALT allele, without the unobserved
#: symbolic allele (reference blocks go; their calls are all REF).
GVCF_REPAIR = Repair("gVCF", ("view", "--trim-alt-alleles", "--min-ac", "1"))
GVCF_REASON = "a gVCF (<NON_REF> on every record); tresor analyses called sites"

_BIO2ZARR_NUMBER = re.compile(
    r"Max number of values (?P<found>\d+) exceeds max (?P<what>alt alleles|alleles|genotypes) "
    r"(?P<max>\d+) for (?P<field>(INFO|FORMAT)/\S+)"
)
_NUMBER = {"alt alleles": "A", "alleles": "R", "genotypes": "G"}


def diagnose(error: BaseException) -> tuple[Repair, str] | None:
    """(repair, reason) for a bio2zarr error tresor knows how to repair, else None."""
    m = _BIO2ZARR_NUMBER.search(str(error))
    if m is None:
        return None
    field = m["field"]
    reason = (
        f"{field} is declared Number={_NUMBER[m['what']]} but a record has {m['found']} values "
        f"where at most {m['max']} fit"
    )
    return Repair(field, ("annotate", "-x", field)), reason


def is_gvcf(vcf: Path, records: int = 200) -> bool:
    """True when each of the first ``records`` records has a symbolic <NON_REF> / <*> ALT."""
    import cyvcf2

    seen = 0
    reader = cyvcf2.VCF(str(vcf))
    try:
        for variant in reader:
            if not any(a in GVCF_ALLELES for a in variant.ALT):
                return False
            seen += 1
            if seen >= records:
                break
    finally:
        reader.close()
    return seen > 0


_BUILDS = (
    (re.compile(r"GRCh38|hg38|hs38|b38", re.I), "GRCh38"),
    (re.compile(r"GRCh37|hg19|hs37|b37|human_g1k_v37", re.I), "GRCh37"),
    (re.compile(r"T2T|CHM13", re.I), "T2T-CHM13"),
)


def genome_build_from_header(vcf: Path) -> str | None:
    """The build named by ``##reference``, ``##assembly`` or a contig's assembly, if any."""
    import cyvcf2

    reader = cyvcf2.VCF(str(vcf))
    try:
        raw = reader.raw_header
    finally:
        reader.close()
    for line in raw.splitlines():
        if line.startswith(("##reference=", "##assembly=")) or (
            line.startswith("##contig=") and "assembly=" in line
        ):
            for pattern, build in _BUILDS:
                if pattern.search(line):
                    return build
    return None


# --- files ---------------------------------------------------------------------------------
def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def tree_sha256(root: Path) -> str:
    """One checksum of a directory tree: SHA-256 over its sorted 'path<TAB>sha256' lines."""
    lines = sorted(
        f"{p.relative_to(root).as_posix()}\t{sha256_file(p)}\n"
        for p in root.rglob("*")
        if p.is_file()
    )
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def make_read_only(root: Path) -> None:
    """Drop every write permission below ``root``: a dataset store is never written again."""
    write = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath, name)
            p.chmod(p.stat().st_mode & ~write)
    for dirpath, _, _ in sorted(os.walk(root), key=lambda t: -len(t[0])):
        p = Path(dirpath)
        p.chmod(p.stat().st_mode & ~write)


def remove_tree(root: Path) -> None:
    """Remove ``root`` even when :func:`make_read_only` has been applied to it."""
    if not root.exists():
        return
    for dirpath, _, _ in os.walk(root):
        Path(dirpath).chmod(0o755)
    shutil.rmtree(root)


# --- conversion ----------------------------------------------------------------------------
class _Progress:
    """Partitions done, on a tqdm bar on stderr, and the test hook's stop points."""

    def __init__(self, show: bool):
        self.show = show

    def bar(self, total: int, initial: int, desc: str):
        from tqdm.auto import tqdm

        return tqdm(
            total=total,
            initial=initial,
            desc=desc,
            unit=" partitions",
            disable=not self.show,
            file=sys.stderr,
        )

    @staticmethod
    def checkpoint(phase: str) -> None:
        """Test hook: behave as if Ctrl-C came right after ``phase`` (see STOP_AFTER_ENV)."""
        if os.environ.get(STOP_AFTER_ENV) == phase:
            raise KeyboardInterrupt(f"{STOP_AFTER_ENV}={phase}")


def _run_partitions(
    function: Callable[[str, int], None],
    path: Path,
    todo: list[int],
    workers: int,
    bar,
    phase: str,
) -> None:
    """``function(path, j)`` for each partition j, in ``workers`` processes (here if <= 1)."""
    if workers <= 1:
        for j in todo:
            function(str(path), j)
            bar.update(1)
            _Progress.checkpoint(phase)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(workers) as pool:
        for future in as_completed([pool.submit(function, str(path), j) for j in todo]):
            future.result()
            bar.update(1)
            _Progress.checkpoint(phase)


class NeedsRepair(Exception):
    """bio2zarr refused the VCFs for a reason :func:`diagnose` knows."""

    def __init__(self, repair: Repair, reason: str) -> None:
        super().__init__(reason)
        self.repair, self.reason = repair, reason


def convert_vcfs(
    vcfs: Sequence[Path],
    store: Path,
    work: Path,
    *,
    workers: int = 1,
    progress: bool = True,
    say: Callable[[str], None] = lambda message: None,
) -> None:
    """VCF Zarr at ``store`` from ``vcfs`` with bio2zarr, resumable.

    ``work`` keeps the intermediate columnar format (``work/icf``) and markers; a second call
    with the same arguments after an interruption skips the partitions already exploded or
    encoded. ``store`` must not exist unless an earlier call left it unfinished. Raises
    :class:`NeedsRepair` when bio2zarr refuses the VCFs for a reason :func:`diagnose` knows.
    """
    from bio2zarr import vcf as b2z
    from bio2zarr import vcz

    work.mkdir(parents=True, exist_ok=True)
    icf = work / "icf"
    bars = _Progress(progress)
    partitions = max(1, 4 * max(workers, 1))

    # explode: VCF -> ICF
    if (icf / "metadata.json").exists():
        say(f"reusing the exploded VCF in {icf}")
    else:
        if not (icf / "wip" / "metadata.json").exists():
            remove_tree(icf)
            b2z.explode_init(
                str(icf), [str(v) for v in vcfs], target_num_partitions=partitions,
                worker_processes=0,
            )  # fmt: skip
        writer = b2z.IntermediateColumnarFormatWriter(icf)
        writer.load_metadata()
        total = writer.num_partitions
        todo = [j for j in range(total) if not (icf / "wip" / f"p{j}.json").exists()]
        if len(todo) < total:
            say(f"resuming: {total - len(todo)} of {total} partitions already exploded")
        with bars.bar(total, total - len(todo), "explode") as bar:
            _run_partitions(b2z.explode_partition, icf, todo, workers, bar, "explode-partition")
        b2z.explode_finalise(str(icf))
    _Progress.checkpoint("explode")

    # encode: ICF -> Zarr
    encoded, finalising = work / "encoded", work / "finalising"
    if encoded.exists() and store.exists():
        say(f"reusing the encoded store {store}")
        return
    if finalising.exists() or not (store / "wip" / "metadata.json").exists():
        remove_tree(store)
        finalising.unlink(missing_ok=True)
        try:
            b2z.encode_init(str(icf), str(store), partitions)
        except ValueError as e:
            if found := diagnose(e):
                remove_tree(store)
                raise NeedsRepair(*found) from e
            raise
    writer = vcz.VcfZarrWriter(b2z.IntermediateColumnarFormat, store)
    writer.load_metadata()
    total = writer.num_partitions
    todo = [j for j in range(total) if not writer.partition_path(j).exists()]
    if len(todo) < total:
        say(f"resuming: {total - len(todo)} of {total} partitions already encoded")
    with bars.bar(total, total - len(todo), "encode") as bar:
        _run_partitions(b2z.encode_partition, store, todo, workers, bar, "encode-partition")
    finalising.touch()
    b2z.encode_finalise(str(store))
    b2z.create_index(str(store))
    encoded.touch()
    finalising.unlink()
    _Progress.checkpoint("encode")


# --- validation and metadata ---------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class StoreSummary:
    """What the catalogue records about a store, from one read of its genotypes."""

    n_samples: int
    n_variants: int
    contigs: tuple[str, ...]  # contigs with variants, in store order
    ploidy: dict[str, tuple[int, ...]]  # contig -> ploidies of its called calls
    missing_rate: float  # missing calls / all calls


def describe_store(store: Path, *, progress: bool = False) -> StoreSummary:
    """Open ``store`` as researchers will (:func:`tresor.io.open_store`) and read every chunk
    of genotypes once: call ploidies per contig and the missing rate."""
    import dask
    import dask.array as da
    import numpy as np

    from tresor.io import open_store

    ds = open_store(store)
    gt = ds["call_genotype"].data
    max_ploidy = gt.shape[2]
    missing = (gt == -1).any(axis=2)
    n_valid = (gt >= 0).sum(axis=2)
    # per variant: does a called call of ploidy k occur (k = 1 .. max ploidy)
    has = da.stack([((n_valid == k) & ~missing).any(axis=1) for k in range(1, max_ploidy + 1)], 1)
    with _maybe_progress(progress):
        has, n_missing = dask.compute(has, missing.sum())
    names = [str(c) for c in ds["contig_id"].values]
    contig = ds["variant_contig"].values
    used = [int(c) for c in np.unique(contig)]
    ploidy = {
        names[c]: tuple(int(k) + 1 for k in np.flatnonzero(has[contig == c].any(axis=0)))
        for c in used
    }
    n_calls = gt.shape[0] * gt.shape[1]
    return StoreSummary(
        n_samples=int(ds.sizes["samples"]),
        n_variants=int(ds.sizes["variants"]),
        contigs=tuple(names[c] for c in used),
        ploidy=ploidy,
        missing_rate=float(n_missing) / n_calls if n_calls else 0.0,
    )


def _maybe_progress(show: bool):
    import contextlib

    if not show:
        return contextlib.nullcontext()
    from dask.diagnostics import ProgressBar

    return ProgressBar(minimum=1.0, out=sys.stderr)


def _icf_counts(icf: Path) -> tuple[int, int]:
    """(samples, records) the ICF holds: what the store must hold too."""
    from bio2zarr import vcf as b2z

    source = b2z.IntermediateColumnarFormat(icf)
    return source.num_samples, source.num_records


# --- the request ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class AddRequest:
    """What ``tresor datasets add`` was asked to do."""

    vcfs: tuple[Path, ...]
    dataset_id: str
    title: str
    grants: tuple[str, ...] = ()
    genome_build: str | None = None
    description: str = ""
    contact: str = "the node's data access committee"
    fix: bool = False
    workers: int = 1


def work_dir(site: SiteConfig, dataset_id: str) -> Path:
    return site.state_path / "ingest" / dataset_id


def _check_request(site: SiteConfig, request: AddRequest, catalogue: dict) -> None:
    try:
        DatasetEntry(id=request.dataset_id, title=request.title, store=Path("/"))
    except ConfigError as e:
        raise IngestError(f"--id: {e}") from None
    if request.dataset_id in catalogue:
        raise IngestError(
            f"--id {request.dataset_id}: the catalogue already has this dataset; choose another "
            f"id, or remove it first with: tresor datasets remove {request.dataset_id}"
        )
    _check_groups(site, request.grants, "--grant")
    for vcf in request.vcfs:
        if not vcf.is_file():
            raise IngestError(f"{vcf} does not exist or is not a file")
        if not any(Path(f"{vcf}{ext}").exists() for ext in (".tbi", ".csi")):
            raise IngestError(
                f"{vcf} has no index (.tbi or .csi): index it with bcftools index -t {vcf} "
                "(bgzip it first if it is plain text)"
            )


def _check_groups(site: SiteConfig, groups: Sequence[str], option: str) -> None:
    known = set(site.hub_groups)
    if unknown := sorted(set(groups) - known):
        raise IngestError(
            f"{option} {', '.join(unknown)}: no such project on this node (projects: "
            f"{', '.join(sorted(site.projects)) or 'none'}); add it to the site config first"
        )


class _State:
    """``work/state.json``: the sources (with checksums) and repairs this work belongs to."""

    def __init__(self, work: Path):
        self.path = work / "state.json"

    def load(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def save(self, state: dict) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.path)


def _resolve_build(request: AddRequest, inputs: Sequence[Path]) -> str:
    found = {b for v in inputs if (b := genome_build_from_header(v))}
    if request.genome_build:
        if found and request.genome_build not in found:
            raise IngestError(
                f"--genome-build {request.genome_build}: the VCF header says "
                f"{', '.join(sorted(found))}; give the build the data was called on"
            )
        return request.genome_build
    if len(found) == 1:
        return found.pop()
    if not found:
        raise IngestError(
            "the VCF header names no genome build (##reference or ##assembly): pass "
            "--genome-build, e.g. --genome-build GRCh38"
        )
    raise IngestError(
        f"the VCFs name different genome builds ({', '.join(sorted(found))}): add them "
        "separately, or pass --genome-build"
    )


def _repair_copies(sources: Sequence[Path], repairs: Sequence[Repair], work: Path) -> list[Path]:
    """Copies of ``sources`` with every repair applied, bgzipped and indexed, in ``work``."""
    if not repairs:
        return list(sources)
    if shutil.which("bcftools") is None:
        raise IngestError("repairing needs bcftools: install it (apt-get install bcftools)")
    key = hashlib.sha256("|".join(r.name for r in repairs).encode()).hexdigest()[:12]
    out = []
    for i, source in enumerate(sources):
        target = work / f"repaired-{key}-{i}.vcf.gz"
        if not Path(f"{target}.tbi").exists():
            current = source
            for step, repair in enumerate(repairs):
                nxt = work / f"step-{i}-{step}.vcf.gz"
                _bcftools(repair.command(current, nxt))
                if current != source:
                    current.unlink()
                current = nxt
            current.replace(target)
            _bcftools(["bcftools", "index", "-t", "-f", str(target)])
        out.append(target)
    return out


def _bcftools(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
        raise IngestError(f"{' '.join(argv[:3])}: {message}")


def _refusal(source: Path, repair: Repair, reason: str) -> IngestError:
    return IngestError(
        f"{source.name}: {reason}; repair a copy with: {repair.shown(source)} (then bcftools "
        "index -t fixed.vcf.gz), or rerun with --fix to let tresor do it"
    )


def prepare_store(
    site: SiteConfig,
    request: AddRequest,
    *,
    progress: bool = True,
    say: Callable[[str], None] = lambda message: None,
) -> DatasetEntry:
    """Convert, validate and describe ``request``'s VCFs into a read-only store in the
    datasets directory; returns the catalogue entry (not yet registered)."""
    catalogue = load_catalogue(site.catalogue_path)
    _check_request(site, request, catalogue)
    root = site.datasets_path
    final_dir = root / request.dataset_id
    if final_dir.exists():
        raise IngestError(
            f"{final_dir} exists but the catalogue has no dataset {request.dataset_id!r}; "
            "remove that directory (or choose another --id)"
        )
    work = work_dir(site, request.dataset_id)
    # genotypes in the making: root's only until the dataset's group guards them (an isolated
    # node's researchers may pass through the state directory)
    work.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    work.mkdir(mode=0o700, exist_ok=True)
    partial = root / f".{request.dataset_id}.partial"
    store = partial / f"{request.dataset_id}.vcz"
    sources = [v.resolve() for v in request.vcfs]

    genome_build = _resolve_build(request, sources)
    gvcf = next((v for v in sources if is_gvcf(v)), None)
    if gvcf is not None and not request.fix:
        raise _refusal(gvcf, GVCF_REPAIR, GVCF_REASON)

    state_file = _State(work)
    state = state_file.load()
    identity = [[str(v), v.stat().st_size, v.stat().st_mtime_ns] for v in sources]
    if state.get("identity") != identity:
        if state:
            say("the VCFs differ from the interrupted run's: starting again")
        remove_tree(work)
        remove_tree(partial)
        work.mkdir(mode=0o700, parents=True)
        say("computing the VCFs' checksums")
        state = {
            "identity": identity,
            "sha256": {v.name: sha256_file(v) for v in sources},
            "repairs": [],
        }
        state_file.save(state)
    repairs = [Repair(r["name"], tuple(r["args"])) for r in state["repairs"]]

    if gvcf is not None and GVCF_REPAIR not in repairs:
        repairs.append(GVCF_REPAIR)
    root.mkdir(parents=True, exist_ok=True)
    while True:
        state["repairs"] = [dataclasses.asdict(r) for r in repairs]
        state_file.save(state)
        inputs = _repair_copies(sources, repairs, work)
        partial.mkdir(mode=0o700, exist_ok=True)
        try:
            convert_vcfs(inputs, store, work, workers=request.workers, progress=progress, say=say)
            break
        except NeedsRepair as need:
            if not request.fix:
                raise _refusal(sources[0], need.repair, need.reason) from None
            if need.repair in repairs:
                shown = need.repair.shown(sources[0])
                raise IngestError(f"{need.reason}, even after: {shown}") from None
            say(f"repairing a copy: {need.repair.shown(sources[0])}")
            repairs.append(need.repair)
            remove_tree(work / "icf")
            remove_tree(partial)
    n_samples, n_records = _icf_counts(work / "icf")
    summary = describe_store(store, progress=progress)
    if (summary.n_samples, summary.n_variants) != (n_samples, n_records):
        raise IngestError(
            f"the store holds {summary.n_samples} samples x {summary.n_variants} variants but the "
            f"VCFs {n_samples} x {n_records}; remove {partial} and {work} and try again"
        )
    _Progress.checkpoint("validate")
    from tresor.stats.packed import pack_store

    pack_store(store, workers=request.workers, progress=progress, say=say)
    make_read_only(partial)
    say("computing the store's checksum")
    checksum = tree_sha256(store)
    final_store = final_dir / store.name
    entry = DatasetEntry(
        id=request.dataset_id,
        title=request.title,
        store=final_store,
        genome_build=genome_build,
        description=request.description,
        n_samples=summary.n_samples,
        n_variants=summary.n_variants,
        grants=tuple(request.grants),
        contact=request.contact,
        contigs=summary.contigs,
        ploidy=summary.ploidy,
        missing_rate=summary.missing_rate,
        sources=dict(state["sha256"]),
        repairs=tuple(" ".join(("bcftools", *r.args)) for r in repairs),
        store_sha256=checksum,
    )
    os.replace(partial, final_dir)  # the store appears whole or not at all
    remove_tree(work)
    return entry


def add_dataset(
    site: SiteConfig,
    request: AddRequest,
    *,
    progress: bool = True,
    say: Callable[[str], None] = lambda message: None,
) -> tuple[DatasetEntry, bool]:
    """:func:`prepare_store`, then, on the embedded node, register the dataset with its grants.

    Returns (entry, registered). In the docker profile the Ansible inventory is the source of
    truth for the catalogue: nothing is registered, and :func:`inventory_entry` gives the item
    to add. If registering fails the store is removed again, so no store stays without an
    entry and no entry names an unfinished store.
    """
    entry = prepare_store(site, request, progress=progress, say=say)
    if site.docker is not None:
        return entry, False
    try:
        register_dataset(entry, site.catalogue_path)
    except BaseException:
        remove_tree(entry.store.parent)
        raise
    apply_grants(site, None, entry)  # an isolated node: the dataset's group and mode, now
    return entry, True


def remove_dataset(site: SiteConfig, dataset_id: str) -> DatasetEntry | None:
    """Unregister a dataset (first, so nobody opens it any more), then delete the store if
    ``tresor datasets add`` made it (it lies in the datasets directory). A conversion that was
    interrupted and never finished is removed too; returns None when that was all."""
    unfinished = [work_dir(site, dataset_id), site.datasets_path / f".{dataset_id}.partial"]
    found = [p for p in unfinished if p.exists()]
    for path in found:
        remove_tree(path)
    if found and dataset_id not in load_catalogue(site.catalogue_path):
        return None
    entry = dataset_entry(site, dataset_id)
    (site.catalogue_path / f"{dataset_id}.toml").unlink()
    forget_dataset(site, dataset_id)
    owned = site.datasets_path / dataset_id
    if entry.store.parent == owned:
        remove_tree(owned)
    elif entry.packed.exists():  # a store made elsewhere: only the companion is the node's
        with _writable(entry.packed.parent):
            remove_tree(entry.packed)
    return entry


@contextlib.contextmanager
def _writable(directory: Path):
    """``directory`` writable by its owner for a while (a dataset's directory is read-only)."""
    mode = directory.stat().st_mode
    try:
        directory.chmod(mode | stat.S_IWUSR)
    except PermissionError:
        raise IngestError(
            f"{directory} is not writable by this account: run the command as the account that "
            "owns the dataset's files"
        ) from None
    try:
        yield
    finally:
        directory.chmod(mode)


def pack_dataset(
    site: SiteConfig,
    dataset_id: str,
    *,
    workers: int = 1,
    codec: str = "none",
    progress: bool = True,
    say: Callable[[str], None] = lambda message: None,
) -> Path:
    """Write (or rewrite) the packed genotype companion of a registered dataset, beside its
    store, with ``codec`` (:func:`tresor.stats.packed.pack_store`); returns its path. For
    datasets added before companions existed, or whose store changed (analyses then warn that
    the companion is stale and read the store)."""
    catalogue = load_catalogue(site.catalogue_path)
    if dataset_id not in catalogue:
        raise IngestError(
            f"no dataset {dataset_id!r} in the catalogue (datasets: "
            f"{', '.join(sorted(catalogue)) or 'none'})"
        )
    from tresor.stats.packed import pack_store

    store = catalogue[dataset_id].store
    if not store.is_dir():
        raise IngestError(f"{dataset_id}: its store {store} does not exist")
    with _writable(store.parent):
        return pack_store(store, workers=workers, codec=codec, progress=progress, say=say)


def grant(site: SiteConfig, dataset_id: str, projects: Sequence[str]) -> DatasetEntry:
    """Add grants to ``projects`` (from their members' next server start)."""
    entry = dataset_entry(site, dataset_id)
    return _set_grants(site, entry, [*entry.grants, *projects])


def revoke(site: SiteConfig, dataset_id: str, projects: Sequence[str]) -> DatasetEntry:
    """Take the grants of ``projects`` away."""
    entry = dataset_entry(site, dataset_id)
    if missing := sorted(set(projects) - set(entry.grants)):
        raise IngestError(
            f"{dataset_id} is not granted to {', '.join(missing)} (grants: "
            f"{', '.join(entry.grants) or 'none'})"
        )
    return _set_grants(site, entry, [g for g in entry.grants if g not in projects])


def _set_grants(site: SiteConfig, entry: DatasetEntry, grants: Sequence[str]) -> DatasetEntry:
    """Write the grants; on an isolated node the dataset groups follow at once, and the
    processes of whoever lost access are stopped (:func:`tresor.node.isolation.apply_grants`)."""
    _check_groups(site, grants, "project")
    before, entry = entry, dataclasses.replace(entry, grants=tuple(sorted(set(grants))))
    register_dataset(entry, site.catalogue_path)  # atomic, like every catalogue write
    apply_grants(site, before, entry)
    return entry


def dataset_entry(site: SiteConfig, dataset_id: str) -> DatasetEntry:
    """The catalogue entry an admin command changes; refused in the docker profile, whose
    catalogue the Ansible inventory owns."""
    if site.docker is not None:
        raise IngestError(
            "this node runs the docker profile: datasets and grants are edited in the Ansible "
            "inventory (tresor_datasets), then applied with ansible-playbook site.yml --tags "
            "data_mounts (docs/admin-guide.md)"
        )
    catalogue = load_catalogue(site.catalogue_path)
    if dataset_id not in catalogue:
        raise IngestError(
            f"no dataset {dataset_id!r} in the catalogue (datasets: "
            f"{', '.join(sorted(catalogue)) or 'none'})"
        )
    return catalogue[dataset_id]


def inventory_entry(entry: DatasetEntry) -> str:
    """The ``tresor_datasets`` item of an Ansible inventory for ``entry``, as YAML (values in
    JSON's flow style, which YAML reads)."""
    data = entry.to_toml()
    if not data.get("phenotypes"):
        del data["phenotypes"]
    lines = ["tresor_datasets:", f"  - id: {json.dumps(data.pop('id'))}"]
    lines += [f"    {key}: {json.dumps(value)}" for key, value in data.items()]
    return "\n".join(lines) + "\n"
