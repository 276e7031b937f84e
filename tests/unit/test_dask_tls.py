"""The researcher's own Dask certificate: made once, kept while valid, never written through a
name the researcher may have swapped."""

from __future__ import annotations

import os
import stat

from tresor.node.dask_tls import ensure_certificate, environment


def test_ensure_certificate__made_once_private_and_reused(tmp_path):
    path = ensure_certificate(tmp_path / "dask-tls.pem", owner=tmp_path.stat())
    first = path.read_bytes()
    assert b"PRIVATE KEY" in first and b"CERTIFICATE" in first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_certificate(path, owner=tmp_path.stat()).read_bytes() == first
    env = environment(path)
    assert env["DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION"] == "True"
    assert env["DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT"] == str(path)


def test_ensure_certificate__a_planted_link_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("root's file")
    planted = tmp_path / "dask-tls.pem"
    os.symlink(victim, planted)
    os.symlink(victim, tmp_path / ".dask-tls.pem.tmp")
    ensure_certificate(planted, owner=tmp_path.stat())
    assert victim.read_text() == "root's file"
    assert not planted.is_symlink() and b"CERTIFICATE" in planted.read_bytes()
