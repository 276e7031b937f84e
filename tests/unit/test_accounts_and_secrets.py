import stat

import pytest

from tresor.core.errors import ConfigError
from tresor.core.secrets import ensure_private_dir, ensure_secret
from tresor.node.accounts import AccountStore


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ensure_secret__generated_once_with_mode_0600(tmp_path):
    path = tmp_path / "cookie"
    first = ensure_secret(path)
    assert mode(path) == 0o600
    assert len(first) == 64
    assert ensure_secret(path) == first
    assert ensure_secret(tmp_path / "other") != first


def test_ensure_secret__refuses_a_file_others_can_read(tmp_path):
    path = tmp_path / "token"
    ensure_secret(path)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        ensure_secret(path)


def test_ensure_private_dir__refuses_group_writable(tmp_path):
    d = tmp_path / "state"
    d.mkdir(mode=0o770)
    d.chmod(0o770)
    with pytest.raises(ConfigError, match="writable by other users"):
        ensure_private_dir(d)


def test_account_store__passwords_generated_shown_once_and_verified(tmp_path):
    store = AccountStore(tmp_path / "accounts.json")
    created = store.ensure(["ann", "bob"])
    assert set(created) == {"ann", "bob"}
    assert created["ann"] != created["bob"]
    assert mode(tmp_path / "accounts.json") == 0o600
    # only hashes are stored
    assert created["ann"] not in (tmp_path / "accounts.json").read_text()
    assert store.verify("ann", created["ann"])
    assert not store.verify("ann", created["bob"])
    assert not store.verify("nobody", created["ann"])
    # a second start creates nothing and shows nothing
    assert store.ensure(["ann", "bob"]) == {}
    assert store.ensure(["ann", "cy"]).keys() == {"cy"}


def test_account_store__reset_password(tmp_path):
    store = AccountStore(tmp_path / "accounts.json")
    old = store.ensure(["ann"])["ann"]
    new = store.reset("ann")
    assert new != old
    assert store.verify("ann", new) and not store.verify("ann", old)
    with pytest.raises(KeyError):
        store.reset("nobody")
