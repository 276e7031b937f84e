"""The airlock for the JupyterLab extension, through the single-user server.

The browser asks these routes; they call the airlock (``TRESOR_AIRLOCK_URL``) with the server's
own hub token (``JUPYTERHUB_API_TOKEN``), as ``tresor.airlock.submit`` in a kernel does, so the
token never reaches the page. Only the server's owner (or whoever the hub lets in) reaches them.

- ``GET  tresor/airlock/requests``: the owner's own requests, newest first;
- ``POST tresor/airlock/requests`` ``{"files": [{"path", "description",
  "disclosure_control"}]}``: a draft with those workspace files, checked; its findings come
  back before anything is submitted;
- ``POST tresor/airlock/requests/<id>/submit`` or ``/withdraw``: send the draft to the
  reviewers, or drop it.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any
from urllib.parse import urlsplit

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from tresor.airlock import AirlockClient, AirlockRequestError

_ID = r"(?P<request_id>[0-9a-f]{16})"


def page_path(client: AirlockClient, request_id: str) -> str:
    """The request's page in the airlock's web UI, on the hub's public URL."""
    return f"{urlsplit(client.base).path}requests/{request_id}"


def _summary(client: AirlockClient, request: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "project", "requester", "status", "created_at", "updated_at", "files")
    out = {k: request[k] for k in keep if k in request}
    out["page"] = page_path(client, request["id"])
    return out


def list_own(client: AirlockClient, user: str) -> list[dict[str, Any]]:
    requests = [r for r in client.call("GET", "requests") if r.get("requester") == user]
    requests.sort(key=lambda r: r.get("updated_at") or "", reverse=True)
    return [_summary(client, r) for r in requests]


def draft(client: AirlockClient, files: list[dict[str, str]]) -> dict[str, Any]:
    """A draft request with ``files`` added (and so checked); withdrawn again on any refusal."""
    if not files:
        raise AirlockRequestError("choose at least one file")
    mine = client.call("GET", "me")["projects"]
    if len(mine) != 1:
        raise AirlockRequestError(
            f"you are in {len(mine)} projects ({', '.join(mine) or 'none'}); submit from a "
            "notebook with tresor.airlock.submit(..., project=...)"
        )
    request = client.call("POST", "requests", json={"project": mine[0]})
    try:
        for f in files:
            body = {k: str(f.get(k) or "").strip() for k in ("path", "description",
                                                            "disclosure_control")}  # fmt: skip
            client.call("POST", f"requests/{request['id']}/files", json=body)
        request = client.call("GET", f"requests/{request['id']}")
    except AirlockRequestError:
        client.call("POST", f"requests/{request['id']}/withdraw")
        raise
    return _summary(client, request)


def act(client: AirlockClient, request_id: str, action: str) -> dict[str, Any]:
    return _summary(client, client.call("POST", f"requests/{request_id}/{action}"))


class _AirlockHandler(APIHandler):
    """Runs one airlock call off the server's event loop; refusals become 400 with the
    airlock's message, which the extension shows as it is."""

    async def _call(self, fn, *args) -> None:
        def run():
            client = AirlockClient()
            try:
                return fn(client, *args)
            finally:
                client.close()

        try:
            result = await asyncio.to_thread(run)
        except AirlockRequestError as e:
            self.set_status(400)
            self.finish(json.dumps({"message": str(e)}))
            return
        self.finish(json.dumps(result))


class RequestsHandler(_AirlockHandler):
    @web.authenticated
    async def get(self) -> None:
        user = os.environ.get("JUPYTERHUB_USER", "")
        await self._call(list_own, user)

    @web.authenticated
    async def post(self) -> None:
        try:
            files = self.get_json_body()["files"]
            assert isinstance(files, list) and all(isinstance(f, dict) for f in files)
        except (TypeError, KeyError, AssertionError, web.HTTPError):
            raise web.HTTPError(400, 'send {"files": [{"path", "description", '
                                '"disclosure_control"}]}') from None  # fmt: skip
        await self._call(draft, files)


class ActionHandler(_AirlockHandler):
    @web.authenticated
    async def post(self, request_id: str, action: str) -> None:
        await self._call(act, request_id, action)


def handlers(base_url: str) -> list[tuple[str, type]]:
    root = url_path_join(base_url, "tresor", "airlock", "requests")
    return [
        (root, RequestsHandler),
        (url_path_join(root, _ID, "(?P<action>submit|withdraw)"), ActionHandler),
    ]
