"""Submit outputs to the airlock from a notebook, with your hub token.

::

    import tresor.airlock
    result = tresor.airlock.submit(
        ["results/ldl_gwas_top.tsv", "plots/manhattan.png"],
        context={
            "description": "Top 100 LDL GWAS hits, dk cohort",
            "disclosure_control": "summary statistics only; every allele count is at least 10",
        },
    )
    result.status, result.verdicts   # ('submitted', {'ldl_gwas_top.tsv': 'pass', ...})

Files are read by the airlock from your workspace (never through a symlink) and snapshotted at
submission: later edits change nothing. Two reviewers then decide in the airlock's web page
(``result.url``); released files are downloaded there. Inside a tresor JupyterLab the airlock's
address (``TRESOR_AIRLOCK_URL``), your workspace (``TRESOR_WORKSPACE``) and your hub token
(``JUPYTERHUB_API_TOKEN``) are set for you.
"""

from __future__ import annotations

import dataclasses
import os
import ssl
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tresor.core.errors import TresorError

CONTEXT_KEYS = ("description", "disclosure_control")


class AirlockRequestError(TresorError):
    """The airlock refused something; the message says what and what to do."""


@dataclasses.dataclass(frozen=True)
class Submission:
    """What the airlock said about a submitted request."""

    id: str
    project: str
    status: str
    verdicts: dict[str, str]  # file name -> pass | review | block
    findings: dict[str, list[dict[str, Any]]]
    url: str  # the request's page, relative to the hub's address

    def _repr_markdown_(self) -> str:
        rows = "\n".join(
            f"| `{n}` | {v} | {len(self.findings[n])} |" for n, v in self.verdicts.items()
        )
        return (
            f"Airlock request [`{self.id}`]({self.url}) for project **{self.project}**: "
            f"**{self.status}**\n\n| file | checks | findings |\n|---|---|---|\n{rows}"
        )


def internal_tls(environ: Mapping[str, str]) -> ssl.SSLContext | bool:
    """The server's own internal-SSL identity, for an airlock behind JupyterHub's internal SSL.

    In a production notebook container the hub sets ``JUPYTERHUB_SSL_*`` (key, certificate and
    the CAs the server trusts); the airlock on the internal network checks that certificate and
    is checked against those CAs. Elsewhere: the system's CAs (True).
    """
    key, cert = environ.get("JUPYTERHUB_SSL_KEYFILE"), environ.get("JUPYTERHUB_SSL_CERTFILE")
    if not (key and cert):
        return True
    context = ssl.create_default_context(cafile=environ.get("JUPYTERHUB_SSL_CLIENT_CA") or None)
    context.load_cert_chain(cert, key)
    return context


class AirlockClient:
    """A thin REST client of the airlock service (``<airlock>/api``)."""

    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        import httpx

        url = url or os.environ.get("TRESOR_AIRLOCK_URL")
        token = token or os.environ.get("JUPYTERHUB_API_TOKEN")
        if not (url and token):
            raise AirlockRequestError(
                "no airlock session: TRESOR_AIRLOCK_URL and JUPYTERHUB_API_TOKEN are set in a "
                "tresor JupyterLab; run this there, or pass url= and token="
            )
        self.base = url.rstrip("/") + "/"
        self._http = httpx.Client(  # the airlock is on the node itself: never via a proxy
            trust_env=False,
            base_url=self.base + "api/",
            headers={"Authorization": f"token {token}"},
            timeout=300,
            verify=internal_tls(os.environ) if self.base.startswith("https:") else True,
        )

    def call(self, method: str, path: str, **kw) -> Any:
        response = self._request(method, path, **kw)
        return response.json() if response.content else None

    def raw(self, method: str, path: str, **kw) -> bytes:
        """The body as bytes (an archive), after the same error handling as :meth:`call`."""
        return self._request(method, path, **kw).content

    def _request(self, method: str, path: str, **kw):
        import httpx

        try:
            response = self._http.request(method, path, **kw)
        except httpx.TransportError as e:
            raise AirlockRequestError(
                f"the airlock at {self.base} cannot be reached ({e}); ask a node admin"
            ) from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except ValueError:
                detail = response.text
            if isinstance(detail, list):  # FastAPI validation errors
                detail = "; ".join(
                    f"{'.'.join(map(str, d['loc'][1:]))}: {d['msg']}" for d in detail
                )
            raise AirlockRequestError(f"the airlock refused ({response.status_code}): {detail}")
        return response

    def close(self) -> None:
        self._http.close()


def _contexts(paths: list[str], context: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """One {description, disclosure_control} per path; refuses anything missing up front."""
    if set(context) <= {*CONTEXT_KEYS, "exception"}:
        per_path = dict.fromkeys(paths, context)
    else:
        per_path = {p: context.get(p) for p in paths}
    out = {}
    for path, ctx in per_path.items():
        if not isinstance(ctx, Mapping) or not all(
            str(ctx.get(k) or "").strip() for k in CONTEXT_KEYS
        ):
            raise AirlockRequestError(
                f"say for {path} what it is and how disclosure was controlled: "
                'context={"description": "...", "disclosure_control": "..."} for all files, '
                "or a dict of such dicts keyed by path"
            )
        out[path] = {k: str(ctx[k]).strip() for k in CONTEXT_KEYS} | {
            k: str(ctx[k]) for k in ("exception", "name") if ctx.get(k)
        }
    return out


def _workspace_relative(path: str | os.PathLike, workspace: Path) -> str:
    absolute = Path(os.path.abspath(Path.cwd() / path))  # no symlink resolution: the airlock checks
    try:
        return absolute.relative_to(workspace).as_posix()
    except ValueError:
        raise AirlockRequestError(
            f"{path} is outside your workspace {workspace}; the airlock reads only from there"
        ) from None


def submit(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    context: Mapping[str, Any],
    project: str | None = None,
    url: str | None = None,
    token: str | None = None,
    workspace: str | os.PathLike | None = None,
    federation: Mapping[str, str] | None = None,
) -> Submission:
    """Submit workspace files as one airlock request; returns once the checks have run.

    ``context`` is ``{"description": ..., "disclosure_control": ...}`` for every file, or a
    dict of such dicts keyed by path (add ``"exception"`` to explain why a file the checks
    block should still be released, ``"name"`` for its name in the bundle instead of its path
    in the workspace). ``project`` defaults to your only project.
    ``workspace`` defaults to ``TRESOR_WORKSPACE`` (else the current directory).
    ``federation`` (``{"request_id", "crate_sha256"}``) binds the request to the federated
    request it answers; only the node's federation agent may.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise AirlockRequestError("give at least one file to submit")
    contexts = _contexts(paths, context)
    workspace = Path(os.path.abspath(workspace or os.environ.get("TRESOR_WORKSPACE") or Path.cwd()))
    relative = {p: _workspace_relative(p, workspace) for p in paths}

    client = AirlockClient(url, token)
    try:
        if project is None:
            mine = client.call("GET", "me")["projects"]
            if len(mine) != 1:
                raise AirlockRequestError(
                    f"you are in {len(mine)} projects ({', '.join(mine) or 'none'}); "
                    "say which one with project="
                )
            project = mine[0]
        body: dict[str, Any] = {"project": project}
        if federation is not None:
            body["federation"] = dict(federation)
        request = client.call("POST", "requests", json=body)
        try:
            for path in paths:
                client.call(
                    "POST",
                    f"requests/{request['id']}/files",
                    json={"path": relative[path], **contexts[path]},
                )
            request = client.call("POST", f"requests/{request['id']}/submit")
        except AirlockRequestError:
            client.call("POST", f"requests/{request['id']}/withdraw")  # leave no half request
            raise
        return _submission(request, client.base)
    finally:
        client.close()


def status(request_id: str, *, url: str | None = None, token: str | None = None) -> Submission:
    """Where one of your requests is now (submitted, in_review, returned, released...)."""
    client = AirlockClient(url, token)
    try:
        return _submission(client.call("GET", f"requests/{request_id}"), client.base)
    finally:
        client.close()


def download_bundle(
    request_id: str, into: str | os.PathLike, *, url: str | None = None, token: str | None = None
) -> Path:
    """Take the whole signed bundle of one of your released requests (manifest, signature,
    files) and unpack it into ``into``; returns the bundle's directory. Anyone with the node's
    public key can verify it (``tresor airlock verify``)."""
    from tresor.core.bundles import BundleError, unpack_bundle

    client = AirlockClient(url, token)
    try:
        response = client.raw("GET", f"requests/{request_id}/bundle")
    finally:
        client.close()
    try:
        return unpack_bundle(response, Path(into))
    except BundleError as e:
        raise AirlockRequestError(f"the airlock sent no usable bundle: {e}") from None


def _submission(request: dict, base: str) -> Submission:
    from urllib.parse import urlsplit

    page = urlsplit(base).path  # the same path through the hub's public URL
    return Submission(
        id=request["id"],
        project=request["project"],
        status=request["status"],
        verdicts={f["name"]: f["verdict"] for f in request["files"]},
        findings={f["name"]: f["findings"] for f in request["files"]},
        url=f"{page}requests/{request['id']}",
    )
