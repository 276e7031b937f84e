"""The real jupyterhub_config.py plus one test-only service with an admin token.

Used only by tests/hub/node.py: the service gives tests a REST client, as JupyterHub's own tests
do. Nothing else differs from a node started with `tresor node start`.
"""

import os

c = get_config()  # noqa: F821 - provided by JupyterHub's config loader
load_subconfig(os.environ["TRESOR_REAL_HUB_CONFIG"])  # noqa: F821

c.JupyterHub.services.append(
    {"name": "tresor-test-admin", "api_token": os.environ["TRESOR_TEST_ADMIN_TOKEN"]}
)
c.JupyterHub.load_roles.append(
    {
        "name": "tresor-test-admin",
        "scopes": [
            "admin:users",
            "admin:groups",
            "admin:servers",
            "tokens",
            "list:users",
            "read:users",
            "list:groups",
            "read:groups",
            "read:hub",
        ],
        "services": ["tresor-test-admin"],
    }
)
