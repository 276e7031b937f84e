"""Directories file by file, symlinks never followed, the config file, and the CLI."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from airlock.checks import Verdict, check_file, check_paths
from airlock.config import load_check_config
from tests.checks_support import write
from tresor.cli import cli
from tresor.core.airlock_config import AirlockConfig
from tresor.core.errors import ConfigError


@pytest.fixture
def outputs(tmp_path):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    write(out, "counts.csv", "group,n\na,20\nb,30\n")
    write(out / "sub", "small.csv", "group,n\na,3\nb,30\n")
    secret = write(tmp_path, "secret.csv", "iid,ldl\nDK1,3.1\n")
    os.symlink(secret, out / "link.csv")
    os.symlink(tmp_path, out / "linkdir")
    return out


def test_check_paths__directories_file_by_file_symlinks_blocked_not_followed(outputs):
    reports = {os.path.relpath(r.path, outputs): r for r in check_paths([outputs])}
    assert set(reports) == {"counts.csv", "link.csv", "linkdir", "sub/small.csv"}
    assert reports["counts.csv"].verdict is Verdict.PASS
    assert reports["sub/small.csv"].verdict is Verdict.BLOCK
    for name in ("link.csv", "linkdir"):
        [f] = reports[name].findings
        assert f.rule == "symlink" and f.verdict is Verdict.BLOCK


def test_check_file__symlink_is_not_opened(outputs):
    report = check_file(outputs / "link.csv")
    assert [f.rule for f in report.findings] == ["symlink"]


def test_check_file__fifo_is_blocked_without_hanging(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    assert check_file(tmp_path / "pipe").verdict is Verdict.BLOCK
    [report] = check_paths([tmp_path / "pipe"])
    assert report.verdict is Verdict.BLOCK


def test_check_paths__zarr_store_directory_is_one_block(tmp_path):
    import zarr

    store = tmp_path / "cohort.vcz"
    group = zarr.open_group(store, mode="w")
    group.create_array("call_genotype", shape=(4, 2, 2), dtype="int8")
    [report] = check_paths([store])
    assert report.findings[0].rule == "individual-level.format"


def test_config__defaults_are_the_brief(tmp_path):
    c = AirlockConfig()
    assert (c.min_cell_count, c.min_minor_allele_count, c.rounding_base) == (10, 10, 5)
    assert (c.p_percent, c.nk_n, c.nk_k, c.min_residual_dof) == (0.10, 2, 0.90, 10)
    assert (c.max_file_bytes, c.max_table_rows) == (16 * 1024 * 1024, 5000)


def test_config__top_level_or_site_config_section(tmp_path):
    top = write(tmp_path, "checks.toml", "min_cell_count = 20\nnk_k = 0.8\n")
    assert load_check_config(top).min_cell_count == 20
    site = write(tmp_path, "site.toml", 'profile = "local"\n[airlock]\nport = 1\n[airlock.checks]\n'
                 "max_table_rows = 100\n")  # fmt: skip
    assert load_check_config(site).max_table_rows == 100


@pytest.mark.parametrize(
    "text, words",
    [
        ("min_cel_count = 5", "unknown airlock check settings: min_cel_count"),
        ("p_percent = 1.5", "p_percent must be in (0, 1]"),
        ('min_cell_count = "ten"', "must be a number"),
        ("min_cell_count = -1", "must not be negative"),
        ("min_cell_count = [", "not valid TOML"),
    ],
)
def test_config__mistakes_are_errors(tmp_path, text, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_check_config(write(tmp_path, "c.toml", text))


def _cli(*args, catalogue):
    return CliRunner().invoke(cli, ["airlock", "check", *args, "--catalogue", str(catalogue)])


def test_cli__json_document_and_exit_zero_whatever_the_verdict(outputs, tmp_path):
    result = _cli("--json", str(outputs), catalogue=tmp_path / "none")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "block"
    assert {f["verdict"] for f in doc["files"]} == {"pass", "block"}
    small = next(f for f in doc["files"] if f["path"].endswith("small.csv"))
    [finding] = [x for x in small["findings"] if x["rule"] == "min-cell-count"]
    assert finding["location"] == {"row": 1, "column": "n", "value": "3"}
    assert set(finding) == {"rule", "verdict", "message", "location"}
    assert "NOT matched against sample IDs" in result.stderr


def test_cli__readable_report(outputs, tmp_path):
    result = _cli(str(outputs / "counts.csv"), str(outputs / "sub"), catalogue=tmp_path / "none")
    assert result.exit_code == 0
    assert "PASS" in result.stdout and "BLOCK" in result.stdout
    assert "min-cell-count  (row 1, column n, value 3)" in result.stdout
    assert result.stdout.rstrip().endswith("Overall verdict: block.")


def test_cli__config_file_changes_thresholds(outputs, tmp_path):
    config = write(tmp_path, "c.toml", "min_cell_count = 2\nrounding_base = 0\n")
    result = _cli("--json", "--config", str(config), str(outputs / "sub"), catalogue=tmp_path)
    assert json.loads(result.stdout)["verdict"] == "pass"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["/no/such/file"],
        ["--config", "/no/such/config.toml", "."],
        ["--bogus", "."],
    ],
)
def test_cli__usage_errors_exit_2(tmp_path, args):
    result = _cli(*args, catalogue=tmp_path)
    assert result.exit_code == 2, result.output


def test_cli__malformed_config_is_a_usage_error(tmp_path):
    config = write(tmp_path, "c.toml", "min_cel_count = 5\n")
    result = _cli("--config", str(config), str(config), catalogue=tmp_path)
    assert result.exit_code == 2 and "min_cel_count" in result.output
