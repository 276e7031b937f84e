"""Least-privilege JupyterHub roles for tresor's groups and services.

JupyterHub's default ``user`` role grants ``self`` (every permission on one's own account, tokens
included). tresor replaces it: a plain account may only see its own name; each role group adds
exactly what that job needs. Admins administer accounts and servers but get no
``access:servers``, so they cannot open a researcher's notebook server.
"""

from __future__ import annotations

from tresor.core.site import BEACON_SERVICE

#: the dask-gateway hub service (tresor.node.gateway); its authenticator admits only tokens that
#: hold this access scope
GATEWAY_SERVICE = "dask-gateway"
GATEWAY_ACCESS = f"access:services!service={GATEWAY_SERVICE}"
#: the node's own Beacon ([discovery]; tresor.discovery.node_beacon admits only tokens with it)
BEACON_ACCESS = f"access:services!service={BEACON_SERVICE}"

#: every authenticated account, whatever its groups
USER_SCOPES = ["read:users:name!user"]

RESEARCHER_SCOPES = [
    "servers!user",  # start and stop their own server
    "access:servers!user",  # use it
    "read:users:groups!user",  # lets the kernel ask which projects (grants) they are in
    "users:activity!user",
    "access:services!service=airlock",
    GATEWAY_ACCESS,  # their own Dask clusters (the gateway keeps each researcher's apart)
    BEACON_ACCESS,  # the node's own Beacon over its allele-frequency summaries
]

REVIEWER_SCOPES = [
    "read:users:groups!user",
    "access:services!service=airlock",
]

ADMIN_SCOPES = [
    "admin-ui",
    "list:users",
    "read:users",
    "admin:users",
    "admin:groups",
    "list:groups",
    "read:groups",
    "servers",  # start and stop anyone's server, but not access:servers
    "read:hub",
    "access:services!service=airlock",
]

#: scopes of the single-user server's JUPYTERHUB_API_TOKEN (the subset the user holds is granted)
SERVER_TOKEN_SCOPES = [
    "access:servers!server",
    "users:activity!user",
    "read:users:name!user",
    "read:users:groups!user",
    "access:services!service=airlock",  # tresor.airlock.submit() from a notebook
    GATEWAY_ACCESS,  # tresor.cluster() in a kernel asks the gateway with this token
    BEACON_ACCESS,  # a kernel queries the node's own Beacon with this token
]

AIRLOCK_SERVICE_SCOPES = [
    "list:users",
    "read:users:name",
    "read:users:groups",
    "read:groups",
    # reviewers are managed from the airlock, which logs who changed them (airlock.reviewers)
    "groups!group=airlock-reviewers",
]

IDLE_CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]

#: the gateway checks users' tokens with the users' own tokens; its own token only looks up
#: whether a cluster's owner still has a server (to stop clusters that outlive it)
GATEWAY_SERVICE_SCOPES = ["read:servers"]


def hub_roles() -> list[dict]:
    """The ``load_roles`` list: one role per role group and per service."""
    return [
        {"name": "user", "description": "Every account: its own name.", "scopes": USER_SCOPES},
        {
            "name": "tresor-researcher",
            "description": "Run one's own JupyterLab and use the airlock.",
            "scopes": RESEARCHER_SCOPES,
            "groups": ["researchers"],
        },
        {
            "name": "tresor-airlock-reviewer",
            "description": "Use the airlock review queue; no notebook server.",
            "scopes": REVIEWER_SCOPES,
            "groups": ["airlock-reviewers"],
        },
        {
            "name": "tresor-admin",
            "description": "Administer accounts, groups and servers; no access to servers.",
            "scopes": ADMIN_SCOPES,
            "groups": ["admins"],
        },
        {
            "name": "tresor-airlock-service",
            "description": "The airlock resolves users' groups.",
            "scopes": AIRLOCK_SERVICE_SCOPES,
            "services": ["airlock"],
        },
        {
            "name": "tresor-idle-culler",
            "description": "Stop idle servers.",
            "scopes": IDLE_CULLER_SCOPES,
            "services": ["idle-culler"],
        },
    ]


#: the federation agent's service token acts in the airlock as the node's federation account
#: (airlock.api.deps); on the hub it may do nothing else
FEDERATION_AGENT_SCOPES = ["access:services!service=airlock"]


def federation_agent_role(service: str) -> dict:
    """The federation agent service's role; loaded only when the site is in a federation."""
    return {
        "name": "tresor-federation-agent",
        "description": "Submit the federation agent's outputs to the airlock.",
        "scopes": FEDERATION_AGENT_SCOPES,
        "services": [service],
    }


def gateway_service_role() -> dict:
    """The gateway service's role; loaded only when the site enables the gateway (a role may
    not name a service the hub does not have)."""
    return {
        "name": "tresor-dask-gateway",
        "description": "See whether Dask cluster owners still have a server.",
        "scopes": GATEWAY_SERVICE_SCOPES,
        "services": [GATEWAY_SERVICE],
    }
