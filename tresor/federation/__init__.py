"""Federated analysis: one request, run in each country node, released by each airlock, merged.

- :mod:`tresor.federation.analyses`: the registered analyses, the only code a node runs for a
  federated request (Parquet outputs plus a manifest).
- :mod:`tresor.federation.merge`: the merge of the nodes' released bundles (exact counts, exact
  linear regression from sufficient statistics, inverse-variance meta-analysis).

docs/federation.md describes the protocol, the trust model and the merge maths.
"""
