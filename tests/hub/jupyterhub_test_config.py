"""The real jupyterhub_config.py plus one test-only service with an admin token.

Used only by tests/hub/node.py: the service gives tests a REST client, as JupyterHub's own tests
do. The federation tests (tests/federation) start the federation agent through
tests.federation.run_tresor, which is ``tresor`` with their stub analyses where the real ones are
missing. Nothing else differs from a node started with `tresor node start`.
"""

import os
import sys
from pathlib import Path

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

if os.environ.get("TRESOR_TEST_FEDERATION_AGENT"):
    for service in c.JupyterHub.services:
        if service["name"] == "federation-agent":
            args = service["command"][service["command"].index("tresor") + 1 :]
            service["command"] = [sys.executable, "-m", "tests.federation.run_tresor", *args]
            service["cwd"] = str(Path(__file__).resolve().parents[2])
