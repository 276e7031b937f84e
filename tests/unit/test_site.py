from pathlib import Path

import pytest

from tresor.errors import ConfigError
from tresor.paths import DEFAULT_SITE_CONFIG
from tresor.site import load_site_config


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "site.toml"
    p.write_text(text)
    return p


def test_load_site_config__default_is_local_on_loopback():
    site = load_site_config(DEFAULT_SITE_CONFIG)
    assert site.profile == "local"
    assert site.hub.ip == "127.0.0.1"
    assert set(site.hub_groups) >= {"researchers", "airlock-reviewers", "admins"}
    # every demo grant names a project or role group that exists
    for groups in site.demo.grants.values():
        assert set(groups) <= set(site.hub_groups)


def test_load_site_config__env_var_chooses_file(tmp_path, monkeypatch):
    path = write(tmp_path, 'node_name = "dk"\n')
    monkeypatch.setenv("TRESOR_SITE_CONFIG", str(path))
    assert load_site_config().node_name == "dk"


def test_load_site_config__unknown_key_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=r"hub\.prot"):
        load_site_config(write(tmp_path, "[hub]\nprot = 8000\n"))


def test_load_site_config__bad_toml_names_the_file(tmp_path):
    path = write(tmp_path, "profile = \n")
    with pytest.raises(ConfigError, match="not valid TOML") as e:
        load_site_config(path)
    assert str(path) in str(e.value)


def test_load_site_config__unknown_profile(tmp_path):
    with pytest.raises(ConfigError, match="profile"):
        load_site_config(write(tmp_path, 'profile = "cloud"\n'))


def test_load_site_config__missing_file_says_what_to_set(tmp_path):
    with pytest.raises(ConfigError, match="TRESOR_SITE_CONFIG"):
        load_site_config(tmp_path / "nope.toml")


def test_load_site_config__project_member_must_be_an_account(tmp_path):
    text = '[accounts]\nresearchers = ["ann"]\n[projects.p1]\nmembers = ["bob"]\n'
    with pytest.raises(ConfigError, match="bob"):
        load_site_config(write(tmp_path, text))


def test_load_site_config__user_names_are_validated(tmp_path):
    with pytest.raises(ConfigError, match="user name"):
        load_site_config(write(tmp_path, '[accounts]\nresearchers = ["../root"]\n'))


def test_load_site_config__relative_state_dir_is_relative_to_the_file(tmp_path):
    site = load_site_config(write(tmp_path, 'state_dir = "state"\n'))
    assert site.state_path == (tmp_path / "state").resolve()
    assert site.catalogue_path == (tmp_path / "state" / "catalogue").resolve()
