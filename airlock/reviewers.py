"""Who reviews: the hub group ``airlock-reviewers``, managed from the airlock so that every change
is in its audit log with who made it.

Separation of duties: an admin may add anyone, themself included, but the approval of a reviewer
whose membership they gave themself does not count towards the approvals a release needs
(:func:`self_appointed`, used by :meth:`airlock.workflow.Airlock.decide`). Memberships made
elsewhere (the site config at start, the hub's admin page, an OIDC group claim) are not in this
log; each review decision records the groups the hub showed for its reviewer, so the log still
says which membership every decision relied on.

The airlock changes the group through the hub's REST API with its service token, whose role
allows exactly that group (``groups!group=airlock-reviewers``, tresor.node.roles).
"""

from __future__ import annotations

import re
import ssl
from typing import Protocol
from urllib.parse import quote

from airlock.domain import AuditEvent, User
from airlock.enums import AuditEventType, Role
from airlock.exceptions import HubRefused, InvalidInput
from airlock.permissions import check_user_can_manage_reviewers

GROUP = Role.REVIEWER.value
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class HubGroups(Protocol):
    """The hub's groups, as far as the airlock changes them."""

    def members(self, group: str) -> set[str]: ...
    def add(self, group: str, user: str) -> None: ...
    def remove(self, group: str, user: str) -> None: ...


class HubGroupsApi:
    """The hub's REST API with the airlock's service token, as its HubOAuth reaches the hub
    (the same URL and, with internal SSL, the same client certificate)."""

    def __init__(self, api_url: str, token: str, *, tls: ssl.SSLContext | bool = True) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.tls = tls

    @classmethod
    def like(cls, auth) -> HubGroupsApi:
        """From the service's :class:`jupyterhub.services.auth.HubOAuth`."""
        tls: ssl.SSLContext | bool = True
        if auth.certfile and auth.keyfile:
            tls = ssl.create_default_context(cafile=auth.client_ca or None)
            tls.load_cert_chain(auth.certfile, auth.keyfile)
        return cls(auth.api_url, auth.api_token, tls=tls)

    def _call(self, method: str, path: str, **kwargs):
        import httpx

        try:
            response = httpx.request(
                method,
                f"{self.api_url}{path}",
                headers={"Authorization": f"token {self.token}"},
                timeout=30,
                verify=self.tls,
                **kwargs,
            )
        except httpx.HTTPError as e:
            raise HubRefused(f"the hub did not answer ({e}); try again in a minute") from None
        if response.status_code == 404:
            kind, name = path.split("/")[1].rstrip("s"), path.rsplit("/", 1)[-1]
            raise InvalidInput(f"the hub has no {kind} {name!r}")
        if response.is_error:
            raise HubRefused(
                f"the hub refused {method} {path} ({response.status_code}): {response.text[:200]}"
            )
        return response

    def members(self, group: str) -> set[str]:
        return set(self._call("GET", f"/groups/{quote(group)}").json()["users"])

    def add(self, group: str, user: str) -> None:
        self._call("GET", f"/users/{quote(user)}")  # NotFound for a name the hub lacks
        self._call("POST", f"/groups/{quote(group)}/users", json={"users": [user]})

    def remove(self, group: str, user: str) -> None:
        self._call("DELETE", f"/groups/{quote(group)}/users", json={"users": [user]})


def change(airlock, admin: User, user: str, *, add: bool, hub: HubGroups) -> set[str]:
    """Add ``user`` to the reviewers or remove them, in the hub and in the audit log together
    (the hub is changed inside the audit transaction: if it refuses, nothing is logged).
    Returns the members afterwards."""
    check_user_can_manage_reviewers(admin)
    if not _NAME.match(user or ""):
        raise InvalidInput(f"{user!r} is not a user name")
    with airlock.dal.write() as tx:
        (hub.add if add else hub.remove)(GROUP, user)
        members = hub.members(GROUP)
        tx.append_audit(
            AuditEvent(
                AuditEventType.REVIEWERS_CHANGED,
                admin.name,
                None,
                {
                    "action": "added" if add else "removed",
                    "user": user,
                    "by_themself": user == admin.name,
                    "reviewers": sorted(members),
                },
            )
        )
    return members


def self_appointed(tx) -> set[str]:
    """Reviewers whose latest membership change in the log is one they made themself."""
    latest: dict[str, bool] = {}
    for entry in tx.audit_of_type(AuditEventType.REVIEWERS_CHANGED.value):
        user = entry.details["user"]
        latest[user] = entry.details["action"] == "added" and entry.actor == user
    return {user for user, themself in latest.items() if themself}
