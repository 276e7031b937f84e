"""Federated analysis: one request, run in each node, released by each airlock, merged.

For researchers where the coordinator is reachable (never inside a node, whose kernels have no
way out): :func:`request`, :func:`status`, :func:`result` (:mod:`tresor.federation.client`).
The protocol, the trust model and how a node joins: docs/federation.md.

- :mod:`tresor.federation.analyses`: the registered analyses, the only code a node runs for a
  federated request (Parquet outputs plus a manifest);
- :mod:`tresor.federation.merge`: the merge of the nodes' released bundles (exact counts, exact
  linear regression from sufficient statistics, inverse-variance meta-analysis);
- :mod:`tresor.federation.agent`, :mod:`tresor.federation.coordinator`: the node's agent and
  the coordinator; :mod:`~tresor.federation.registry`, :mod:`~tresor.federation.signing`,
  :mod:`~tresor.federation.crate`, :mod:`~tresor.federation.verify`: trust.
"""

from __future__ import annotations

__all__ = ["request", "result", "status"]


def __getattr__(name: str):
    """The researcher's functions, imported on first use (the agent and coordinator need
    none of them)."""
    if name in __all__:
        from tresor.federation import client

        return getattr(client, name)
    raise AttributeError(name)
