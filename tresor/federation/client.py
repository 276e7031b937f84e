"""Federated requests from a notebook or script where the coordinator is reachable (never
inside a node: its kernels have no way out)::

    import tresor.federation as fed
    r = fed.request("allele_counts", project="nordic-gwas",
                    targets={"dk": "dk", "se": "se", "uk": "uk"})
    fed.status(r.id)                 # each node: waiting, running, in_review, released, refused
    path = fed.result(r.id, "out/")  # once every node has answered and the merge is done

The coordinator's URL and your token come from ``url=``/``token=`` or from
``TRESOR_FEDERATION_URL`` and ``TRESOR_FEDERATION_TOKEN`` (``tresor federation users add``
prints a token once).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tresor.core.errors import TresorError

URL_ENV = "TRESOR_FEDERATION_URL"
TOKEN_ENV = "TRESOR_FEDERATION_TOKEN"  # noqa: S105 - a variable name


class FederationError(TresorError):
    """The coordinator refused, or cannot be reached; the message says why."""


@dataclasses.dataclass(frozen=True)
class RequestStatus:
    """Where a federated request stands, per node."""

    id: str
    state: str  # open, merging, merged, failed
    message: str
    nodes: dict[str, str]  # node -> waiting | running | in_review | released | refused
    reasons: dict[str, str]
    crate_sha256: str

    @property
    def done(self) -> bool:
        return self.state in ("merged", "failed")

    def _repr_markdown_(self) -> str:
        rows = "\n".join(
            f"| {n} | {s} | {self.reasons.get(n, '')} |" for n, s in sorted(self.nodes.items())
        )
        return (
            f"Federated request `{self.id}`: **{self.state}** {self.message}\n\n"
            f"| node | status | reason |\n|---|---|---|\n{rows}"
        )


class Client:
    """A thin client of the coordinator's researcher API."""

    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        import httpx

        url = url or os.environ.get(URL_ENV)
        token = token or os.environ.get(TOKEN_ENV)
        if not (url and token):
            raise FederationError(
                f"say where the coordinator is and who you are: url= and token=, or "
                f"{URL_ENV} and {TOKEN_ENV}"
            )
        self.base = url.rstrip("/") + "/"
        self._http = httpx.Client(
            base_url=self.base + "api/", headers={"Authorization": f"Bearer {token}"}, timeout=300
        )

    def call(self, method: str, path: str, **kw) -> Any:
        response = self._request(method, path, **kw)
        return response.json() if response.content else None

    def _request(self, method: str, path: str, **kw):
        import httpx

        try:
            response = self._http.request(method, path, **kw)
        except httpx.TransportError as e:
            raise FederationError(
                f"the coordinator at {self.base} cannot be reached: {e}"
            ) from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except ValueError:
                detail = response.text
            raise FederationError(f"the coordinator refused ({response.status_code}): {detail}")
        return response

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _status(document: dict[str, Any]) -> RequestStatus:
    return RequestStatus(
        id=document["id"],
        state=document["state"],
        message=document["message"],
        nodes={t["node"]: t["status"] for t in document["targets"]},
        reasons={t["node"]: t["reason"] for t in document["targets"] if t["reason"]},
        crate_sha256=document["crate_sha256"],
    )


def request(
    analysis: str,
    *,
    project: str,
    targets: Mapping[str, str],
    parameters: Mapping[str, Any] | None = None,
    url: str | None = None,
    token: str | None = None,
) -> RequestStatus:
    """Ask nodes to run a registered analysis: ``targets`` maps node -> dataset."""
    body = {
        "project": project,
        "analysis": analysis,
        "parameters": dict(parameters or {}),
        "targets": [{"node": n, "dataset": d} for n, d in targets.items()],
    }
    with Client(url, token) as client:
        return _status(client.call("POST", "requests", json=body))


def status(request_id: str, *, url: str | None = None, token: str | None = None) -> RequestStatus:
    with Client(url, token) as client:
        return _status(client.call("GET", f"requests/{request_id}"))


def result(
    request_id: str,
    into: str | os.PathLike,
    *,
    wait: float = 0,
    poll_seconds: float = 5,
    url: str | None = None,
    token: str | None = None,
) -> Path:
    """Download the merged result into ``into/<request id>``; with ``wait`` (seconds), wait
    that long for every node to answer and the merge to finish. Returns the directory."""
    import io
    import tarfile

    deadline = time.monotonic() + wait
    with Client(url, token) as client:
        while True:
            current = _status(client.call("GET", f"requests/{request_id}"))
            if current.done or time.monotonic() >= deadline:
                break
            time.sleep(poll_seconds)
        if current.state != "merged":
            waiting = [n for n, s in current.nodes.items() if s not in ("released", "refused")]
            raise FederationError(
                f"request {request_id} is {current.state}"
                + (f", waiting for {', '.join(waiting)}" if waiting else "")
                + (f": {current.message}" if current.message else "")
            )
        archive = client._request("GET", f"requests/{request_id}/result").content
    target = Path(into)
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / request_id
