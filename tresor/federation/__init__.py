"""Federated analysis: one request, run in each node, released by each airlock, merged.

For researchers where the coordinator is reachable (never inside a node, whose kernels have no
way out): :func:`request`, :func:`status`, :func:`result` (:mod:`tresor.federation.client`).
The protocol, the trust model and how a node joins: docs/federation.md.
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
