"""Single-user servers of the embedded node: local processes, one workspace each.

All servers run as the OS user that runs the hub; the embedded node therefore separates
researchers by policy (hub roles, airlock rules, grant checks), not by the kernel. Production
uses DockerSpawner, where each server is its own container (tresor.node.profiles.docker).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import Unicode, default

from tresor.core.paths import REPO_ROOT
from tresor.node.processes import python_module

#: Jupyter server and JupyterLab settings for every single-user server (no news, no update check)
SINGLEUSER_CONFIG = REPO_ROOT / "config" / "jupyter"


class TresorLocalSpawner(SimpleLocalProcessSpawner):
    """Runs ``jupyterhub-singleuser`` from this environment, in ``<workspaces>/<user>``."""

    workspaces_root = Unicode(
        config=True,
        help="""Directory holding one workspace per user (``<root>/<username>``, mode 0700).

        The workspace is the server's working directory and the only place the airlock reads.
        """,
    )
    jupyter_data_dir = Unicode(
        "",
        config=True,
        help="""Jupyter data directory with the tresor kernelspec, prepended to JUPYTER_PATH.""",
    )
    catalogue_dir = Unicode(
        "", config=True, help="""The node's data catalogue, exported as TRESOR_CATALOGUE."""
    )

    @default("home_dir_template")
    def _default_home_dir_template(self) -> str:
        return os.path.join(self.workspaces_root, "{username}")

    @default("cmd")
    def _default_cmd(self) -> list[str]:
        # -P: a folder in the workspace (the working directory) never stands in for a module
        return python_module("jupyterhub.singleuser")

    def get_args(self) -> list[str]:
        args = super().get_args()
        if os.geteuid() == 0:
            # the embedded node may be started as root (CI); the server refuses root otherwise
            args.append("--allow-root")
        return args

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        if self.jupyter_data_dir:
            env["JUPYTER_PATH"] = os.pathsep.join(
                p for p in (self.jupyter_data_dir, env.get("JUPYTER_PATH", "")) if p
            )
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            p for p in (str(SINGLEUSER_CONFIG), env.get("JUPYTER_CONFIG_PATH", "")) if p
        )
        if self.catalogue_dir:
            env["TRESOR_CATALOGUE"] = self.catalogue_dir
        env["TRESOR_WORKSPACE"] = self.home_dir
        # this environment's commands (tresor, dask, vcf2zarr) first on PATH, as in the image
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
        return env

    async def start(self):
        workspace = Path(self.home_dir)
        workspace.mkdir(mode=0o700, parents=True, exist_ok=True)
        workspace.chmod(0o700)
        return await super().start()
