"""Signed bundles: written atomically, verified by hash and Ed25519 signature."""

from __future__ import annotations

import hashlib
import json
import stat

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from airlock import bundles
from airlock.exceptions import IntegrityError
from tresor.cli import cli

FILES = {"freq.csv": b"variant,ALT_CT\n1:1:A:G,20\n", "plots/qq.png": b"\x89PNG\r\n\x1a\nxyz"}


@pytest.fixture
def key(tmp_path):
    return bundles.load_or_create_signing_key(tmp_path / "keys" / "node.pem")


def write(tmp_path, key, files=FILES, name="node-0123456789abcdef"):
    sources = {}
    for n, data in files.items():
        p = tmp_path / "store" / hashlib.sha256(data).hexdigest()
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(data)
        sources[n] = p
    manifest = {
        "request": {"id": "0123456789abcdef"},
        "files": [
            {"name": n, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
            for n, d in files.items()
        ],
    }
    return bundles.write_bundle(tmp_path / "outbox", name, manifest, sources, key)


def test_load_or_create_signing_key__private_0600_public_published(tmp_path):
    path = tmp_path / "keys" / "node.pem"
    key = bundles.load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.with_suffix(".pub").read_bytes() == bundles.public_key_pem(key.public_key())
    again = bundles.load_or_create_signing_key(path)
    assert bundles.key_fingerprint(again.public_key()) == bundles.key_fingerprint(key.public_key())
    path.chmod(0o644)
    with pytest.raises(IntegrityError, match="chmod 600"):
        bundles.load_or_create_signing_key(path)


def test_write_bundle__complete_and_verifies(tmp_path, key):
    bundle = write(tmp_path, key)
    report = bundles.verify_bundle(bundle, key.public_key())
    assert report.ok, report.problems
    for name, data in FILES.items():
        assert (bundle / "files" / name).read_bytes() == data
    assert report.manifest["signing_key"] == bundles.key_fingerprint(key.public_key())
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [bundle.name]  # no temp dir left


def test_write_bundle__refuses_an_existing_bundle(tmp_path, key):
    write(tmp_path, key)
    with pytest.raises(FileExistsError):
        write(tmp_path, key)


def test_write_bundle__altered_source_is_not_released(tmp_path, key):
    sources_dir = tmp_path / "store"
    sources_dir.mkdir()
    p = sources_dir / "x"
    p.write_bytes(b"changed")
    manifest = {"files": [{"name": "a.csv", "sha256": "0" * 64, "size": 7}]}
    with pytest.raises(IntegrityError):
        bundles.write_bundle(tmp_path / "outbox", "b", manifest, {"a.csv": p}, key)
    assert list((tmp_path / "outbox").iterdir()) == []


def _writable(bundle):
    for p in [bundle, *bundle.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            lambda b: (b / "files" / "freq.csv").write_bytes(b"variant,ALT_CT\n1:1:A:G,2\n"),
            "freq.csv does not match",
        ),
        (lambda b: (b / "files" / "plots" / "qq.png").unlink(), "plots/qq.png is listed"),
        (lambda b: (b / "files" / "extra.csv").write_bytes(b"a\n"), "extra.csv is in the bundle"),
        (lambda b: (b / "notes.txt").write_bytes(b"a\n"), "notes.txt is in the bundle"),
        (
            lambda b: (b / "manifest.json").write_bytes(
                (b / "manifest.json").read_bytes().replace(b'"size": 26', b'"size": 25')
            ),
            "signature does not match",
        ),
        (
            lambda b: (b / "files" / "link.csv").symlink_to("/etc/passwd"),
            "link.csv is not a regular",
        ),
    ],
    ids=[
        "edited-file",
        "missing-file",
        "extra-file",
        "extra-top-level",
        "edited-manifest",
        "symlink",
    ],
)
def test_verify_bundle__tampering_is_found(tmp_path, key, tamper, expected):
    bundle = write(tmp_path, key)
    _writable(bundle)
    tamper(bundle)
    report = bundles.verify_bundle(bundle, key.public_key())
    assert not report.ok
    assert any(expected in p for p in report.problems), report.problems


def test_verify_bundle__other_nodes_key_fails(tmp_path, key):
    bundle = write(tmp_path, key)
    other = Ed25519PrivateKey.generate()
    report = bundles.verify_bundle(bundle, other.public_key())
    assert not report.ok and "signature" in report.problems[0]


def test_tresor_airlock_verify__exit_codes(tmp_path, key):
    bundle = write(tmp_path, key)
    public = tmp_path / "keys" / "node.pub"
    runner = CliRunner()
    ok = runner.invoke(cli, ["airlock", "verify", str(bundle), "--public-key", str(public)])
    assert ok.exit_code == 0, ok.output
    assert "verifies" in ok.output and "2 files" in ok.output
    _writable(bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["request"]["id"] = "ffffffffffffffff"
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    bad = runner.invoke(cli, ["airlock", "verify", str(bundle), "--public-key", str(public)])
    assert bad.exit_code == 1
    assert "signature does not match" in bad.output


def test_pack_and_unpack_bundle__round_trip_verifies(tmp_path, key):
    from tresor.core import bundles as core

    bundle = write(tmp_path, key)
    archive = core.pack_bundle_bytes(bundle)
    assert core.pack_bundle_bytes(bundle) == archive  # the same bundle packs to the same bytes
    unpacked = core.unpack_bundle(archive, tmp_path / "received")
    assert unpacked == tmp_path / "received" / bundle.name
    report = core.verify_bundle(unpacked, key.public_key())
    assert report.ok, report.problems
    assert (unpacked / "files" / "plots" / "qq.png").read_bytes() == FILES["plots/qq.png"]


@pytest.mark.parametrize("kind", ["symlink", "dotdot", "two-roots"])
def test_unpack_bundle__refuses_what_is_not_a_plain_bundle(tmp_path, kind):
    import io
    import tarfile

    from tresor.core import bundles as core

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        ok = tarfile.TarInfo("b/manifest.json")
        ok.size = 2
        tar.addfile(ok, io.BytesIO(b"{}"))
        if kind == "symlink":
            link = tarfile.TarInfo("b/files/x")
            link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(link)
        else:
            bad = tarfile.TarInfo("b/../../x" if kind == "dotdot" else "c/x")
            bad.size = 1
            tar.addfile(bad, io.BytesIO(b"x"))
    with pytest.raises(core.BundleError):
        core.unpack_bundle(buffer.getvalue(), tmp_path / "in")
    assert not (tmp_path / "x").exists()
