"""JupyterHub integration: authenticator, spawner, roles and the two site profiles.

``jupyterhub_config.py`` only calls :func:`tresor.hub.profiles.configure`; everything with logic
lives here so it can be tested without starting a hub.
"""
