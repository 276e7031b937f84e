"""Where a node keeps things: repository files, and a state directory outside the repository."""

from __future__ import annotations

import os
from pathlib import Path

#: The checkout (or installed tree) that holds jupyterhub_config.py, kernels/ and node_modules/.
REPO_ROOT = Path(__file__).resolve().parents[2]

#: The site config used when TRESOR_SITE_CONFIG is not set: the embedded local node.
DEFAULT_SITE_CONFIG = REPO_ROOT / "config" / "site.local.toml"


def default_state_dir() -> Path:
    """``$TRESOR_STATE_DIR``, else ``$XDG_STATE_HOME/tresor``, else for root
    ``/var/lib/tresor`` (researchers' accounts must pass through it to their workspaces; root's
    home is closed to them), else ``~/.local/state/tresor``.

    Secrets, databases, workspaces and demo data live here, never in the repository.
    """
    if env := os.environ.get("TRESOR_STATE_DIR"):
        return Path(env).expanduser().resolve()
    if os.geteuid() == 0 and not os.environ.get("XDG_STATE_HOME"):
        return Path("/var/lib/tresor")
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return (Path(xdg).expanduser() / "tresor").resolve()
