"""The node's data use terms: shown at login, accepted before a researcher's server starts.

The terms (the "safe people" declaration) are a text with a version (``[terms]`` in the site
config). A researcher accepts the current version on JupyterHub's spawn page (the spawner's
options form, shown only while they have not accepted it); the spawner's ``pre_spawn_hook``
refuses to start a server for anyone who has not, whatever asked for the start (the page, the
REST API). Acceptances are appended to ``<state>/terms-accepted.jsonl`` (user, version, SHA-256 of
the text, time; the hub's own file, mode 0600) and listed by ``tresor accounts terms``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import hashlib
import html
import json
import os
from pathlib import Path

from tresor.core.errors import ConfigError
from tresor.core.site import SiteConfig

DEFAULT_TEXT = Path(__file__).with_name("templates") / "terms.md"
STORE = "terms-accepted.jsonl"
#: the spawn form's field and the REST API's ``user_options`` key (its value: the version)
FIELD = "accept_terms"


@dataclasses.dataclass(frozen=True)
class Terms:
    version: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Acceptance:
    user: str
    version: str
    sha256: str
    accepted_at: str


def current(site: SiteConfig) -> Terms:
    path = site.terms.file or DEFAULT_TEXT
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"the terms file {path} cannot be read ({e}); fix [terms] file") from None
    return Terms(site.terms.version, text.replace("{node}", site.node_name))


def _store(site: SiteConfig) -> Path:
    return site.state_path / STORE


def acceptances(site: SiteConfig) -> list[Acceptance]:
    """Every acceptance, oldest first."""
    try:
        lines = _store(site).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [Acceptance(**json.loads(line)) for line in lines if line.strip()]


def has_accepted(site: SiteConfig, user: str, terms: Terms) -> bool:
    return any(a.user == user and a.version == terms.version for a in acceptances(site))


def record(site: SiteConfig, user: str, terms: Terms) -> Acceptance:
    """Append ``user``'s acceptance of ``terms`` now."""
    accepted = Acceptance(
        user=user,
        version=terms.version,
        sha256=terms.sha256,
        accepted_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    fd = os.open(_store(site), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(json.dumps(dataclasses.asdict(accepted)) + "\n")
    return accepted


def latest(site: SiteConfig) -> dict[str, Acceptance]:
    """Each user's most recent acceptance."""
    return {a.user: a for a in acceptances(site)}


# -- the hub's side ------------------------------------------------------------------------------
def options_form(site: SiteConfig):
    """``Spawner.options_form``: the terms with a checkbox, only until the user accepted them."""

    def form(spawner) -> str:
        terms = current(site)
        if has_accepted(site, spawner.user.name, terms):
            return ""
        return (
            f'<div class="tresor-terms" data-testid="terms">'
            f"<h2>Data use terms of node {html.escape(site.node_name)}"
            f" (version {html.escape(terms.version)})</h2>"
            f'<div style="white-space: pre-wrap; max-height: 24em; overflow-y: auto; '
            f'border: 1px solid #ccc; padding: 1em; margin-bottom: 1em">'
            f"{html.escape(terms.text)}</div>"
            f'<label><input type="checkbox" name="{FIELD}" value="{html.escape(terms.version)}"'
            f' required id="accept-terms"> I have read these terms and accept them</label></div>'
        )

    return form


def options_from_form(form_data: dict) -> dict:
    """The accepted version from the form (a list of strings) or the REST API (a string)."""
    value = form_data.get(FIELD)
    if isinstance(value, list):
        value = value[0] if value else None
    return {FIELD: value} if value else {}


def pre_spawn_hook(site: SiteConfig):
    """``Spawner.pre_spawn_hook``: record an acceptance the start carries; refuse a start by
    anyone who has not accepted the current terms."""

    def hook(spawner) -> None:
        terms = current(site)
        name = spawner.user.name
        if spawner.user_options.get(FIELD) == terms.version and not has_accepted(site, name, terms):
            record(site, name, terms)
            spawner.log.info("%s accepted the data use terms, version %s", name, terms.version)
        if not has_accepted(site, name, terms):
            raise RuntimeError(
                f"{name} has not accepted the data use terms (version {terms.version}) of this "
                "node: open the hub's start page in a browser, read them and accept them"
            )

    return hook


def configure(c, site: SiteConfig) -> None:
    """The login page (node, country, terms) and the terms gate before every server start."""
    terms = current(site)
    c.JupyterHub.template_paths = [str(Path(__file__).with_name("templates"))]
    c.JupyterHub.template_vars = {
        "tresor_node": site.node_name,
        "tresor_country": site.country,
        "tresor_terms": terms.text,
        "tresor_terms_version": terms.version,
    }
    c.Spawner.options_form = options_form(site)
    c.Spawner.options_from_form = options_from_form
    c.Spawner.pre_spawn_hook = pre_spawn_hook(site)
