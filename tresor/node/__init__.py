"""The node runtime: what runs a tresor node (not what researchers import).

JupyterHub integration (profiles, authenticators, spawners, roles, dask-gateway), local
accounts, the kernelspec and the node's start. ``jupyterhub_config.py`` only calls
:func:`tresor.node.profiles.configure`; everything with logic lives here so it can be tested
without starting a hub. It uses the core (:mod:`tresor.core`), never the researcher library or
the airlock service.
"""
