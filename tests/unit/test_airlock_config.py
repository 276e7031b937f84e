"""The airlock's limits are declared once (tresor.core.airlock_config): the site config, the
admin API, the web form, the service and the checks' thresholds file validate through it."""

from __future__ import annotations

import pytest

from airlock.api.schemas import ConfigUpdate
from airlock.config import load_check_config
from airlock.domain import User
from airlock.exceptions import InvalidInput
from tests.airlock_support import USERS, make_airlock, make_settings
from tests.checks_support import write
from tresor.core.airlock_config import AirlockConfig, MiB
from tresor.core.errors import ConfigError
from tresor.core.site import load_site_config


def test_config__the_api_schema_has_the_declared_bounds():
    schema = ConfigUpdate.model_json_schema()["properties"]
    assert set(schema) == set(AirlockConfig.ADMIN_SETTINGS)
    for name in AirlockConfig.ADMIN_SETTINGS:
        branch = schema[name]["anyOf"][0]
        assert (branch["minimum"], branch["maximum"]) == AirlockConfig.bounds(name)
    assert AirlockConfig.bounds("approvals_required") == (2, 10)
    assert AirlockConfig.bounds("max_file_bytes") == (1, 256 * MiB)


def test_site_config__limits_and_thresholds_are_one_object(tmp_path):
    site = load_site_config(
        write(tmp_path, "site.toml", "[airlock]\napprovals_required = 3\nmax_file_mb = 4\n"
              "[airlock.checks]\nmin_cell_count = 20\n")
    )  # fmt: skip
    config = site.airlock.config
    assert (config.approvals_required, config.max_file_bytes) == (3, 4 * MiB)
    assert config.min_cell_count == 20 and config.max_files_per_request == 50


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ("[airlock]\napprovals_required = 11\n", "approvals_required"),
        (
            "[airlock]\nmax_file_mb = 300\n",
            "max_file_mb must be a whole number of MiB from 1 to 256",
        ),
        ("[airlock.checks]\nmax_file_bytes = 5\n", "write it as \\[airlock\\] max_file_mb"),
        ("[airlock.checks]\np_percent = 2\n", "p_percent"),
        ("[airlock.checks]\nmin_cel_count = 2\n", "min_cel_count"),
    ],
)
def test_site_config__airlock_mistakes_are_errors_at_load(tmp_path, section, words):
    with pytest.raises(ConfigError, match=words):
        load_site_config(write(tmp_path, "site.toml", section))


def test_load_check_config__a_site_config_gives_its_file_size_limit(tmp_path):
    site = write(tmp_path, "site.toml", "[airlock]\nmax_file_mb = 4\n[airlock.checks]\nnk_n = 3\n")
    config = load_check_config(site)
    assert (config.max_file_bytes, config.nk_n) == (4 * MiB, 3)
    with pytest.raises(ConfigError, match="max_file_mb"):
        load_check_config(write(tmp_path, "bad.toml", "[airlock]\nmax_file_mb = 0\n"))


def test_set_config__validated_by_the_declaration(tmp_path):
    airlock = make_airlock(make_settings(tmp_path / "node"))
    admin = User("admin1", USERS["admin1"])
    with pytest.raises(InvalidInput, match=r"approvals_required must be in \[2, 10\]"):
        airlock.set_config(admin, approvals_required=11)
    with pytest.raises(InvalidInput, match="max_file_bytes must be a number"):
        airlock.set_config(admin, max_file_bytes="big")
    with pytest.raises(InvalidInput, match="min_cell_count cannot be changed here"):
        airlock.set_config(admin, min_cell_count=5)
    assert airlock.set_config(admin, max_files_per_request=7).max_files_per_request == 7
    assert airlock.config().max_files_per_request == 7
    airlock.dal.engine.dispose()
