"""What the embedded node decides about isolation, before any account exists: names, the
firewall's rules, and why a start cannot isolate."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from tests.hub.node import open_directory, write_site_config
from tresor.core.errors import ConfigError
from tresor.core.site import load_site_config
from tresor.node import accounts_os, firewall, isolation


def test_account_names__node_scoped_and_at_most_32_characters():
    assert accounts_os.user_account("dk", "researcher1") == "tresor-dk-researcher1"
    assert accounts_os.dataset_group("dk", "uk") == "tresor-dk-d-uk"
    long = accounts_os.user_account("a-rather-long-node-name", "a-rather-long-user-name")
    assert len(long) == 32 and long.startswith("tresor-a-rather-long-no-")
    assert long == accounts_os.user_account("a-rather-long-node-name", "a-rather-long-user-name")
    other = accounts_os.user_account("a-rather-long-node-name", "a-rather-long-user-name2")
    assert other != long


@pytest.mark.parametrize("user", ["airlock", "beacon", "d-uk"])
def test_account_names__a_user_named_like_a_service_or_a_dataset_group_has_none(user):
    """User "beacon" would run as the Beacon's account, "d-uk" in dataset uk's group."""
    with pytest.raises(ConfigError, match=f"hub user {user!r} cannot have an account"):
        accounts_os.user_account("dk", user)
    assert accounts_os.beacon_account("dk") == "tresor-dk-beacon"


def test_firewall_rules__researchers_reach_the_node_services_and_nothing_else():
    rules = firewall.ruleset("dk-1", [1001, 1002], [8000, 8081, 8090])
    low, high = firewall.ephemeral_range()
    assert "table inet tresor_dk_1" in rules
    assert "elements = { 1001, 1002 }" in rules
    assert "meta skuid @researchers jump researcher_out" in rules
    assert "tcp dport { 8000, 8081, 8090 } accept" in rules
    assert f"th dport {low}-{high} accept" in rules
    assert "counter reject" in rules
    if os.geteuid() == 0 and firewall.available() is None:  # nft checks the syntax
        checked = subprocess.run(["nft", "-c", "-f", "-"], input=rules, text=True,
                                 capture_output=True)  # fmt: skip
        assert checked.returncode == 0, checked.stderr


def test_assess__says_why_a_start_cannot_isolate(tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    path = write_site_config(closed, demo=False)
    site = load_site_config(path)
    found = isolation.assess(site)
    assert not found.enabled
    if os.geteuid() == 0:
        assert any(str(closed) in reason and "cannot enter" in reason for reason in found.reasons)
    else:
        assert any("not started as root" in reason for reason in found.reasons)
    text = isolation.warning(site, found)
    assert "NOT isolated" in text and "every dataset" in text
    path.write_text('isolation = "off"\n' + path.read_text())
    off = load_site_config(path)
    assert isolation.assess(off).reasons == ('the site config says isolation = "off"',)


@pytest.mark.parametrize("profile", ["docker"])
def test_assess__the_docker_profile_isolates_with_containers(profile):
    from tresor.core.site import SiteConfig

    site = SiteConfig.model_construct(profile=profile, isolation="auto")
    assert isolation.assess(site) == isolation.Assessment(
        False, ("the docker profile isolates with containers",)
    )
    assert isolation.warning(site, isolation.assess(site)) == ""


@pytest.mark.skipif(os.geteuid() != 0, reason="a dataset's group is set as root")
@pytest.mark.parametrize("inside", [True, False])
def test_guard__the_packed_genotypes_are_the_datasets_groups_like_its_store(tmp_path, inside):
    """Packed genotypes are individual-level data: in the dataset's guarded directory, or, for a
    store of its own (not in a directory named after the dataset), guarded themselves."""
    import grp

    from tresor.core.catalogue import DatasetEntry

    site = load_site_config(write_site_config(tmp_path, demo=False))
    parent = site.state_path / "datasets" / ("dk" if inside else "elsewhere")
    store = parent / "cohort.vcz"
    packed = parent / "cohort.vcz.packed"
    for directory in (store, packed):
        directory.mkdir(mode=0o755, parents=True)
        (directory / "zarr.json").write_text("{}")
    gid = grp.getgrnam("nogroup").gr_gid
    entry = DatasetEntry(id="dk", title="Danish genomes", store=store)
    assert entry.packed == packed
    isolation._guard(site, entry, gid)
    guarded = parent if inside else packed
    assert (guarded.stat().st_gid, guarded.stat().st_mode & 0o777) == (gid, 0o750)
    assert (store.stat().st_gid, store.stat().st_mode & 0o777) == (
        (0, 0o755) if inside else (gid, 0o750)
    )


def test_adopt_workspace_tree__what_root_left_there_is_the_researchers_and_the_airlock_reads_it(
    tmp_path,
):
    """A workspace written before its account existed (by an admin, a restore, a test) is handed
    over so that what the researcher writes in it later is still readable by the airlock's group:
    its directories setgid, nothing readable by others, symbolic links never followed."""
    root = tmp_path / "researcher1"
    (root / "results").mkdir(parents=True, mode=0o755)
    (root / "results" / "table.csv").write_text("a\n")
    (root / "results" / "table.csv").chmod(0o604)
    outside = tmp_path / "outside.txt"
    outside.write_text("not the workspace's")
    outside.chmod(0o600)
    (root / "link").symlink_to(outside)
    uid, gid = (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())

    isolation.adopt_workspace_tree(root, uid, gid)

    results = (root / "results").stat()
    assert (results.st_uid, results.st_gid) == (uid, gid)
    assert stat.S_IMODE(results.st_mode) == 0o2750
    table = (root / "results" / "table.csv").stat()
    assert stat.S_IMODE(table.st_mode) == 0o640 and table.st_gid == gid
    assert stat.S_IMODE(outside.stat().st_mode) == 0o600  # the link's target is untouched
    assert os.lstat(root / "link").st_uid == uid


def test_unreadable__by_the_mode_bits_of_the_file_and_every_directory_above():
    """What the node checks before its federation agent, not root, reads the registry."""
    with open_directory("tresor-unreadable-") as directory:  # pytest's are root's only
        _check_unreadable(directory)


def _check_unreadable(tmp_path):
    top = tmp_path / "etc"
    (top / "federation").mkdir(parents=True)
    registry = top / "federation" / "registry.toml"
    registry.write_text("federation = 'x'\n")
    os.chmod(top, 0o755)
    os.chmod(top / "federation", 0o755)
    stranger = (54321, {54321})  # neither the files' owner nor in their group
    os.chmod(registry, 0o644)
    assert isolation.unreadable(registry, *stranger) is None
    os.chmod(registry, 0o640)
    assert "mode" in isolation.unreadable(registry, *stranger)
    # the group the account is in may read it
    assert isolation.unreadable(registry, 54321, {54321, registry.stat().st_gid}) is None
    os.chmod(registry, 0o644)
    os.chmod(top / "federation", 0o750)
    assert isolation.unreadable(registry, *stranger) == f"it may not enter {top / 'federation'}"
    # the owner of a directory needs its own x bit, not others'
    os.chmod(top / "federation", 0o601)
    owner = (os.stat(top / "federation").st_uid, {54321})
    assert isolation.unreadable(registry, *owner) == f"it may not enter {top / 'federation'}"
    assert isolation.unreadable(top / "missing.toml", *stranger) == "it does not exist"
