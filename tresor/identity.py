"""Who is asking: the hub user behind this kernel, and the hub groups they belong to.

Inside a single-user server the hub gives every process ``JUPYTERHUB_API_URL`` and the server's
``JUPYTERHUB_API_TOKEN``; the hub answers ``GET /user`` with the user's name and groups (the
server token carries ``read:users:groups!user``). Outside a hub session there is no identity,
and grant checks deny.
"""

from __future__ import annotations

import dataclasses
import functools
import os

from tresor.core.errors import AccessDeniedError


@dataclasses.dataclass(frozen=True)
class Identity:
    name: str
    groups: frozenset[str]


@functools.cache
def current_identity() -> Identity:
    """The hub user of this process; raises AccessDeniedError outside a hub session."""
    import httpx

    url = os.environ.get("JUPYTERHUB_API_URL")
    token = os.environ.get("JUPYTERHUB_API_TOKEN")
    if not (url and token):
        raise AccessDeniedError(
            "no hub session: dataset grants are checked with the hub, and JUPYTERHUB_API_URL / "
            "JUPYTERHUB_API_TOKEN are not set. Open datasets from your tresor JupyterLab; a node "
            "admin can open a store by path with tresor.io.open_store(path)."
        )
    response = httpx.get(
        url.rstrip("/") + "/user", headers={"Authorization": f"token {token}"}, timeout=30
    )
    if response.status_code != 200:
        raise AccessDeniedError(
            f"the hub did not confirm who you are (HTTP {response.status_code}); restart your "
            "server from the hub home page, and tell a node admin if this persists"
        )
    model = response.json()
    return Identity(name=model["name"], groups=frozenset(model.get("groups") or ()))
