"""`tresor datasets add | show | grant | revoke | remove` on a node's state directory, with the
purpose-written VCFs: conversion resumed after an interruption at every phase, the catalogue
never naming a half-made store, VCFs bio2zarr refuses repaired on request, and the docker
profile printing the inventory entry instead of registering."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import REPO, require_tool
from tests.unit.test_site import DOCKER
from tresor.cli import cli
from tresor.core.catalogue import load_catalogue
from tresor.core.site import load_site_config
from tresor.ingest import PHASES, STOP_AFTER_ENV, inventory_entry, remove_tree, tree_sha256
from tresor.io import open_store
from tresor.stats.packed import packed_view


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(
        f'state_dir = "{tmp_path / "state"}"\n[accounts]\nresearchers = ["ann", "bob"]\n'
        '[projects.nordic]\nmembers = ["ann"]\n[projects.uk]\nmembers = ["bob"]\n'
    )
    return load_site_config(path)


def tresor(site, *args, hook: str | None = None):
    env = {"TRESOR_SITE_CONFIG": str(site.source), STOP_AFTER_ENV: hook}
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def add(site, written, dataset_id, *extra, hook=None):
    return tresor(
        site, "datasets", "add", written.vcf, "--id", dataset_id, "--title", f"{dataset_id} test",
        "--workers", "1", "--quiet", *extra, hook=hook,
    )  # fmt: skip


def assert_nothing_half_made(site, dataset_id):
    """No catalogue entry and no store under its final name: only the work in progress."""
    assert dataset_id not in load_catalogue(site.catalogue_path)
    assert not (site.state_path / "datasets" / dataset_id).exists()


def test_datasets_add__resumes_after_an_interruption_at_every_phase(site, vcf_fixtures):
    """Interrupted (as by Ctrl-C) after each phase in turn, each rerun picks up the work kept
    in <state>/ingest/<id>; the last one registers a store equal to a direct conversion, with
    its metadata and checksums."""
    written = vcf_fixtures["sex_chromosomes"]
    for i, phase in enumerate(PHASES):
        result = add(site, written, "sexchr", "--grant", "nordic", hook=phase)
        assert result.exit_code == 130, (phase, result.output)
        assert "run the same command again" in result.stderr
        if i > 0:  # picks up what the previous run did
            assert "resuming" in result.stderr or "reusing" in result.stderr, result.stderr
        assert_nothing_half_made(site, "sexchr")
        assert (site.state_path / "ingest" / "sexchr" / "state.json").exists()
    result = add(site, written, "sexchr", "--grant", "nordic")
    assert result.exit_code == 0, result.output
    assert "already encoded" in result.stderr or "reusing the encoded store" in result.stderr

    entry = load_catalogue(site.catalogue_path)["sexchr"]
    assert entry.store == site.state_path / "datasets" / "sexchr" / "sexchr.vcz"
    assert entry.grants == ("nordic",) and entry.genome_build == "GRCh38"
    assert (entry.n_samples, entry.n_variants) == (40, 280)
    assert entry.contigs == ("chr21", "chrX")
    assert entry.ploidy == {"chr21": (2,), "chrX": (1, 2)}
    direct = open_store(written.store)
    g = direct.call_genotype.values
    assert entry.missing_rate == pytest.approx((g == -1).any(-1).mean())
    assert entry.sources == {written.vcf.name: hashlib.sha256(written.vcf.read_bytes()).hexdigest()}
    assert entry.store_sha256 == tree_sha256(entry.store)
    ours = open_store(entry.store)
    np.testing.assert_array_equal(ours.call_genotype.values, g)
    np.testing.assert_array_equal(ours.variant_position.values, direct.variant_position.values)
    # read-only with its packed genotypes beside it, and the work directory is gone
    assert entry.packed.is_dir() and packed_view(ours) is not None
    files = [entry.store, *entry.store.rglob("*"), entry.packed, *entry.packed.rglob("*")]
    modes = [p.stat().st_mode for p in files]
    assert not any(m & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) for m in modes)
    assert not (site.state_path / "ingest" / "sexchr").exists()
    assert not list((site.state_path / "datasets").glob(".*"))

    listed = tresor(site, "datasets", "--all")
    assert listed.exit_code == 0 and "sexchr" in listed.stdout and "nordic" in listed.stdout
    shown = tresor(site, "datasets", "show", "sexchr")
    assert "ploidy:        chr21: [2], chrX: [1, 2]" in shown.stdout


def test_datasets_add__in_worker_processes(site, vcf_fixtures):
    """The node's cores: partitions converted by a process pool give the same store."""
    written = vcf_fixtures["haploid"]
    result = tresor(site, "datasets", "add", written.vcf, "--id", "hap", "--title", "chrY",
                    "--workers", "2", "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    entry = load_catalogue(site.catalogue_path)["hap"]
    assert entry.ploidy == {"chrY": (1,)} and entry.grants == ()
    np.testing.assert_array_equal(
        open_store(entry.store).call_genotype.values,
        open_store(written.store).call_genotype.values,
    )


@pytest.mark.parametrize(
    ("name", "field", "repair", "variants"),
    [
        ("malformed_number_a", "INFO/AF", "bcftools annotate -x INFO/AF", 2),
        ("gvcf", "<NON_REF>", "bcftools view --trim-alt-alleles --min-ac 1", 2),
    ],
)
def test_datasets_add__unreadable_vcf_names_the_field_and_fix_repairs_a_copy(
    site, vcf_fixtures, name, field, repair, variants
):
    require_tool("bcftools")
    written = vcf_fixtures[name]
    refused = add(site, written, "x")
    assert refused.exit_code == 1
    (line,) = refused.stderr.strip().splitlines()[-1:]
    assert line.startswith("error: ") and field in line and repair in line and "--fix" in line
    assert "Traceback" not in refused.output
    assert_nothing_half_made(site, "x")

    fixed = add(site, written, "x", "--fix")
    assert fixed.exit_code == 0, fixed.output
    entry = load_catalogue(site.catalogue_path)["x"]
    assert entry.repairs == (repair,) and entry.n_variants == variants
    assert entry.sources == {written.vcf.name: hashlib.sha256(written.vcf.read_bytes()).hexdigest()}
    alleles = open_store(entry.store).variant_allele.values
    assert "<NON_REF>" not in set(alleles.astype(object).ravel().tolist())


def test_datasets_pack__writes_the_packed_genotypes_of_a_registered_dataset(site, vcf_fixtures):
    """For a dataset added before packed genotypes existed (or whose store changed): pack
    writes them beside the store, and the dataset's directory stays read-only."""
    assert add(site, vcf_fixtures["haploid"], "hap").exit_code == 0
    entry = load_catalogue(site.catalogue_path)["hap"]
    directory = entry.store.parent
    directory.chmod(0o755)
    remove_tree(entry.packed)
    directory.chmod(0o555)
    assert packed_view(open_store(entry.store)) is None
    result = tresor(site, "datasets", "pack", "hap", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"hap: packed genotypes in {entry.packed}"
    assert packed_view(open_store(entry.store)) is not None
    assert stat.S_IMODE(directory.stat().st_mode) == 0o555
    missing = tresor(site, "datasets", "pack", "nope")
    assert missing.exit_code == 1 and "no dataset 'nope'" in missing.stderr


def test_datasets_grant_revoke_remove__and_their_errors(site, vcf_fixtures):
    assert add(site, vcf_fixtures["chrm"], "mt", "--grant", "uk").exit_code == 0
    store = load_catalogue(site.catalogue_path)["mt"].store
    ok = tresor(site, "datasets", "grant", "mt", "nordic")
    assert ok.exit_code == 0 and load_catalogue(site.catalogue_path)["mt"].grants == (
        "nordic",
        "uk",
    )
    assert tresor(site, "datasets", "revoke", "mt", "uk").exit_code == 0
    assert load_catalogue(site.catalogue_path)["mt"].grants == ("nordic",)
    errors = {
        ("datasets", "grant", "mt", "nope"): "no such project on this node",
        ("datasets", "revoke", "mt", "uk"): "mt is not granted to uk",
        ("datasets", "remove", "se"): "no dataset 'se'",
        ("datasets", "show", "se"): "no dataset 'se'",
    }
    for args, says in errors.items():
        result = tresor(site, *args)
        assert result.exit_code == 1 and says in result.stderr, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1
    again = add(site, vcf_fixtures["chrm"], "mt")
    assert again.exit_code == 1 and "tresor datasets remove mt" in again.stderr
    wrong = add(site, vcf_fixtures["chrm"], "mt2", "--genome-build", "GRCh37")
    assert wrong.exit_code == 1 and "the VCF header says GRCh38" in wrong.stderr
    assert tresor(site, "datasets", "remove", "mt").exit_code == 0
    assert "mt" not in load_catalogue(site.catalogue_path) and not store.parent.exists()
    # an interrupted add that nobody will finish
    assert add(site, vcf_fixtures["chrm"], "mt", hook="encode-partition").exit_code == 130
    dropped = tresor(site, "datasets", "remove", "mt")
    assert "removed the unfinished conversion of mt" in dropped.stdout
    assert not list((site.state_path / "datasets").iterdir())
    assert not (site.state_path / "ingest" / "mt").exists()


def test_datasets_add__docker_profile_prints_the_inventory_entry(tmp_path, vcf_fixtures):
    """The inventory is the catalogue's source of truth in production: the command converts
    and validates under data_root, registers nothing, and prints the tresor_datasets item;
    the data_mounts role's template turns that item into the same catalogue entry."""
    data = tmp_path / "data"
    path = tmp_path / "site.toml"
    path.write_text(
        f'profile = "docker"\nstate_dir = "{tmp_path / "state"}"\n[hub]\nip = "0.0.0.0"\n'
        '[accounts]\nresearchers = ["ann"]\n[projects.nordic]\nmembers = ["ann"]\n'
        + DOCKER.format(extra=f'data_root = "{data}"\n')
    )
    site = load_site_config(path)
    result = add(site, vcf_fixtures["sex_chromosomes"], "sexchr", "--grant", "nordic")
    assert result.exit_code == 0, result.output
    assert load_catalogue(site.catalogue_path) == {}
    (item,) = yaml.safe_load(result.stdout)["tresor_datasets"]
    assert item["store"] == str(data / "sexchr" / "sexchr.vcz")
    assert item["grants"] == ["nordic"] and item["ploidy"] == {"chr21": [2], "chrX": [1, 2]}
    assert (data / "sexchr" / "sexchr.vcz" / "call_genotype").is_dir()
    refused = tresor(site, "datasets", "grant", "sexchr", "nordic")
    assert refused.exit_code == 1 and "Ansible inventory" in refused.stderr

    # the role's template renders the printed item into a catalogue entry tresor loads
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    template = REPO / "ansible/roles/data_mounts/templates/dataset.toml.j2"
    subprocess.run(
        [str(Path(sys.executable).with_name("ansible")), "localhost", "-c", "local", "-i",
         "localhost,", "-m", "ansible.builtin.template", "-a",
         f"src={template} dest={catalogue / 'sexchr.toml'}", "-e",
         json.dumps({"item": item, "ansible_python_interpreter": sys.executable})],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    rendered = load_catalogue(catalogue)["sexchr"]
    expected = inventory_entry(rendered)
    assert yaml.safe_load(expected)["tresor_datasets"] == [item]
