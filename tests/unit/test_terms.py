"""The data use terms: shown in the spawn form until accepted, recorded with time and version,
required again when the version changes, and enforced before any server start."""

from __future__ import annotations

import types

import pytest

from tresor.core.site import SiteConfig
from tresor.node import terms


def make_site(tmp_path, version="1", text=None) -> SiteConfig:
    data = {"state_dir": str(tmp_path), "terms": {"version": version}}
    if text is not None:
        (tmp_path / "terms.txt").write_text(text)
        data["terms"]["file"] = str(tmp_path / "terms.txt")
    return SiteConfig.model_validate(data)


def spawner(name: str, options: dict | None = None):
    log = types.SimpleNamespace(info=lambda *a: None)
    return types.SimpleNamespace(user=types.SimpleNamespace(name=name),
                                 user_options=options or {}, log=log)  # fmt: skip


def test_terms__form_until_accepted_then_again_for_a_new_version(tmp_path):
    site = make_site(tmp_path, text="Be careful with <data> on {node}.")
    form = terms.options_form(site)(spawner("ann"))
    assert "Be careful with &lt;data&gt; on demo." in form  # escaped, node named
    assert f'name="{terms.FIELD}" value="1"' in form and "required" in form

    hook = terms.pre_spawn_hook(site)
    with pytest.raises(RuntimeError, match="has not accepted the data use terms"):
        hook(spawner("ann"))  # a start without accepting: refused
    # the form's answer (lists of strings) and the REST API's (a string) both carry it
    assert terms.options_from_form({terms.FIELD: ["1"]}) == {terms.FIELD: "1"}
    assert terms.options_from_form({terms.FIELD: "1"}) == {terms.FIELD: "1"}
    assert terms.options_from_form({}) == {}
    with pytest.raises(RuntimeError):
        hook(spawner("ann", {terms.FIELD: "0"}))  # an older version's box: not these terms
    hook(spawner("ann", {terms.FIELD: "1"}))
    hook(spawner("ann"))  # accepted once: later starts need nothing
    assert terms.options_form(site)(spawner("ann")) == ""
    assert terms.options_form(site)(spawner("bob")) != ""  # per user

    [accepted] = terms.acceptances(site)
    assert (accepted.user, accepted.version) == ("ann", "1")
    assert accepted.sha256 == terms.current(site).sha256
    assert accepted.accepted_at.endswith("+00:00")
    assert oct((tmp_path / terms.STORE).stat().st_mode & 0o777) == "0o600"

    # new terms: asked again, refused until accepted, both acceptances kept
    site2 = make_site(tmp_path, version="2", text="New terms.")
    assert "New terms." in terms.options_form(site2)(spawner("ann"))
    with pytest.raises(RuntimeError, match=r"version 2"):
        terms.pre_spawn_hook(site2)(spawner("ann"))
    terms.pre_spawn_hook(site2)(spawner("ann", {terms.FIELD: "2"}))
    assert [a.version for a in terms.acceptances(site2)] == ["1", "2"]
    assert terms.latest(site2)["ann"].version == "2"


def test_terms__default_text_and_login_page_settings(tmp_path):
    site = make_site(tmp_path).model_copy(update={"country": "Denmark"})
    assert "airlock" in terms.current(site).text
    c = types.SimpleNamespace(JupyterHub=types.SimpleNamespace(), Spawner=types.SimpleNamespace())
    terms.configure(c, site)
    assert c.JupyterHub.template_vars["tresor_country"] == "Denmark"
    assert c.JupyterHub.template_vars["tresor_terms_version"] == "1"
    assert (terms.DEFAULT_TEXT.parent / "login.html").exists()
    assert c.JupyterHub.template_paths == [str(terms.DEFAULT_TEXT.parent)]


def test_terms__cli_lists_who_accepted_which_version(tmp_path):
    from click.testing import CliRunner

    from tresor.cli import cli

    site_file = tmp_path / "site.toml"
    site_file.write_text(
        f'state_dir = "{tmp_path}"\n[accounts]\nresearchers = ["ann", "bob"]\n'
        '[terms]\nversion = "3"\n'
    )
    site = make_site(tmp_path, version="3")
    terms.record(site, "ann", terms.current(site))
    result = CliRunner().invoke(cli, ["accounts", "terms", "--site-config", str(site_file)])
    assert result.exit_code == 0, result.output
    assert "current terms: version 3" in result.output
    assert "ann              version 3" in result.output
    assert "bob              not accepted yet" in result.output
