from pathlib import Path

import pytest

from tresor.core.errors import ConfigError
from tresor.core.paths import DEFAULT_SITE_CONFIG
from tresor.core.site import load_site_config


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
    assert site.datasets_path == (tmp_path / "state" / "datasets").resolve()


DOCKER = (
    '[docker]\nimage = "tresor-notebook:0.1.0"\ndatabase_url_file = "/etc/tresor/db"\n{extra}'
    '[docker.oidc]\nclient_id = "x"\nclient_secret_file = "/etc/tresor/oidc"\n'
    'authorize_url = "https://login.example.org/a"\ntoken_url = "https://login.example.org/t"\n'
    'userdata_url = "https://login.example.org/u"\n'
    'callback_url = "https://tre.example.org/hub/oauth_callback"\n'
)


def docker_site(tmp_path: Path, before: str = "", docker_extra: str = "") -> Path:
    return write(
        tmp_path,
        f'profile = "docker"\n[hub]\nip = "0.0.0.0"\n{before}' + DOCKER.format(extra=docker_extra),
    )


def test_airlock_address__loopback_locally_internal_network_in_docker(tmp_path):
    local = load_site_config(DEFAULT_SITE_CONFIG)
    assert local.airlock_listen_ip == "127.0.0.1"
    assert local.airlock_url == f"http://127.0.0.1:{local.airlock.port}"
    docker = load_site_config(docker_site(tmp_path))
    assert docker.airlock_listen_ip == "tresor-airlock"  # the container's internal address
    assert docker.airlock_url == "https://tresor-airlock:8090"
    moved = load_site_config(docker_site(tmp_path, '[airlock]\nip = "0.0.0.0"\nport = 8443\n'))
    assert moved.airlock_listen_ip == "0.0.0.0"
    assert moved.airlock_url == "https://tresor-airlock:8443"


def test_airlock_address__local_profile_refuses_a_public_address(tmp_path):
    with pytest.raises(ConfigError, match="loopback only"):
        load_site_config(write(tmp_path, '[airlock]\nip = "0.0.0.0"\n'))
    with pytest.raises(ConfigError, match="neither an IP address nor a host name"):
        load_site_config(write(tmp_path, '[airlock]\nip = "tresor airlock"\n'))


@pytest.mark.parametrize(
    ("before", "docker_extra", "problem"),
    [
        ("", 'dask_gateway_url = "http://gw:8000"\n', r"docker\.dask_gateway_url .*\[gateway\]"),
        ("", 'airlock_url = "http://tresor-airlock:8090"\n', r"docker\.airlock_url .*delete it"),
        (
            '[gateway]\nenabled = true\nbackend = "kubernetes"\nurl = "http://t"\n'
            '[gateway.kubernetes]\nservice_url = "http://t"\n',
            "",
            r"gateway\.kubernetes\.service_url .*gateway\.url",
        ),
    ],
)
def test_load_site_config__removed_settings_name_their_replacement(
    tmp_path, before, docker_extra, problem
):
    with pytest.raises(ConfigError, match=problem):
        load_site_config(docker_site(tmp_path, before, docker_extra))


def test_gateway_settings__docker_profile_needs_the_gateway_containers_url(tmp_path):
    with pytest.raises(ConfigError, match=r"gateway\.url is required.*tresor-dask-gateway"):
        load_site_config(docker_site(tmp_path, "[gateway]\nenabled = true\n"))
    site = load_site_config(
        docker_site(
            tmp_path, '[gateway]\nenabled = true\nurl = "http://tresor-dask-gateway:8095"\n'
        )
    )
    assert site.gateway.url == "http://tresor-dask-gateway:8095"
