"""Single-user servers of the embedded node: local processes, one workspace each.

Isolated (the node started as root, :mod:`tresor.node.isolation`), each server runs as the
researcher's own OS account, from the shared runtime, with umask 027 in a workspace that only
they and the airlock's group may read; at each start their account joins exactly the groups of
the datasets their projects are granted (so a grant counts from the next start). Kernels talk
to the server over Unix sockets in a private directory, and a LocalCluster in a kernel uses TLS
with the researcher's own certificate, so no other account can talk to either.

Not isolated, all servers run as the OS user that runs the hub, and researchers are separated by
policy only (hub roles, airlock rules, grant checks); the start says so loudly. Production uses
DockerSpawner, where each server is its own container (tresor.node.profiles.docker).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from traitlets import Bool, Unicode, default

from tresor.core.paths import REPO_ROOT
from tresor.node.processes import python_module

#: Jupyter server and JupyterLab settings for every single-user server: no news or update check
#: (config/jupyter), and production's lockdown (images/notebook/jupyter: no terminals, no
#: /files/, /nbconvert/ or /proxy/, no download in JupyterLab)
SINGLEUSER_CONFIG = ("config/jupyter", "images/notebook/jupyter")


class TresorLocalSpawner(LocalProcessSpawner):
    """Runs ``jupyterhub-singleuser`` in ``<workspaces>/<user>``, as the user's account when
    ``isolated``, else as the hub's user."""

    workspaces_root = Unicode(
        config=True,
        help="""Directory holding one workspace per user (``<root>/<username>``).

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
    isolated = Bool(
        False,
        config=True,
        help="""Run each server as the user's OS account (``tresor-<node>-<user>``).

        Set by the local profile when ``tresor node start`` ran as root and prepared the
        accounts, the runtime and the state directory's modes (tresor.node.isolation).
        """,
    )
    site_config = Unicode(
        "",
        config=True,
        help="""The site config file (isolated: accounts and dataset groups are named from it).""",
    )
    runtime_python = Unicode(
        sys.executable,
        config=True,
        help="""The Python of the servers (isolated: the shared runtime's, which all can run).""",
    )
    runtime_code = Unicode(
        "",
        config=True,
        help="""Directory with the node's code for the servers (PYTHONPATH; isolated only).""",
    )

    @default("home_dir_template")
    def _default_home_dir_template(self) -> str:
        return os.path.join(self.workspaces_root, "{username}")

    @property
    def home_dir(self) -> str:
        return os.path.join(self.workspaces_root, self.user.name)

    @property
    def code_root(self) -> Path:
        return Path(self.runtime_code) if self.runtime_code else REPO_ROOT

    @default("cmd")
    def _default_cmd(self) -> list[str]:
        # -P: a folder in the workspace (the working directory) never stands in for a module
        return [self.runtime_python, *python_module("jupyterhub.singleuser")[1:]]

    def _site(self):
        from tresor.core.site import load_site_config

        return load_site_config(self.site_config or None)

    # -- the process -------------------------------------------------------------------------
    def make_preexec_fn(self, name: str):
        home = self.home_dir
        if not self.isolated:

            def preexec() -> None:
                os.chdir(home)

            return preexec
        from tresor.node.accounts_os import user_account
        from tresor.node.isolation import SERVER_UMASK

        become = set_user_setuid(user_account(self._site().node_name, name), chdir=False)

        def preexec() -> None:  # pragma: no cover - runs in the child
            become()
            os.umask(SERVER_UMASK)
            os.chdir(home)

        return preexec

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        env["USER"] = self.user.name
        env["HOME"] = self.home_dir
        env["SHELL"] = "/bin/false"
        return env

    def get_args(self) -> list[str]:
        args = super().get_args()
        if self.isolated:
            # kernels over Unix sockets in the private runtime directory: no TCP port of theirs
            # that another account could connect to
            args.append("--KernelManager.transport=ipc")
        elif os.geteuid() == 0:
            # an embedded node as root without isolation; the server refuses root otherwise
            args.append("--allow-root")
        return args

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        if self.jupyter_data_dir:
            env["JUPYTER_PATH"] = os.pathsep.join(
                p for p in (self.jupyter_data_dir, env.get("JUPYTER_PATH", "")) if p
            )
        config = [str(self.code_root / part) for part in SINGLEUSER_CONFIG]
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            p for p in (*config, env.get("JUPYTER_CONFIG_PATH", "")) if p
        )
        if self.catalogue_dir:
            env["TRESOR_CATALOGUE"] = self.catalogue_dir
        env["TRESOR_WORKSPACE"] = self.home_dir
        # this environment's commands (tresor, dask, vcf2zarr) first on PATH, as in the image
        bin_dir = os.path.dirname(self.runtime_python)
        env["PATH"] = os.pathsep.join([bin_dir, "/usr/local/bin:/usr/bin:/bin"])
        if self.isolated:
            env["PYTHONPATH"] = str(self.code_root)
            env.update(self._private_env())
        return env

    def _private_env(self) -> dict[str, str]:
        """The account's private directory: Jupyter's runtime files and its Dask certificate."""
        from tresor.node.dask_tls import ensure_certificate, environment
        from tresor.node.isolation import private_dir, runtime_dir

        site = self._site()
        private = private_dir(site, self.user.name)
        certificate = ensure_certificate(private / "dask-tls.pem", owner=private.stat())
        return {"JUPYTER_RUNTIME_DIR": str(runtime_dir(private)), **environment(certificate)}

    async def start(self):
        if self.isolated:
            from tresor.node.accounts_os import user_account
            from tresor.node.isolation import prepare_workspace, refuse_agent_server, sync_user

            site = self._site()
            refuse_agent_server(site, self.user.name)  # its account may reach the coordinator
            prepare_workspace(site, self.user.name)
            readable = sync_user(site, self.user.name, {g.name for g in self.user.groups})
            self.log.info(
                "%s starts as %s; datasets readable: %s",
                self.user.name,
                user_account(site.node_name, self.user.name),
                ", ".join(readable) or "none",
            )
        else:
            workspace = Path(self.home_dir)
            workspace.mkdir(mode=0o700, parents=True, exist_ok=True)
            workspace.chmod(0o700)
        return await super().start()
