"""Discovery: what a data user sees of a node before applying for access.

- :mod:`.dcat`: the node's catalogue as HealthDCAT-AP / DCAT-AP 3 (rdflib), JSON-LD and Turtle,
  valid against the project's SHACL shapes (``shapes/``);
- :mod:`.summary`: the disclosure control of allele-frequency summaries (floor, symmetric
  suppression, collapse to the total), the rules every summary follows;
- :mod:`.beacon`: a Beacon v2 API (framework and genomic-variations model) over summaries;
- :mod:`.portal`: the portal pages (datasets of every node, variant lookup, harvest endpoint);
- :mod:`.node_beacon`: a node's own Beacon for its researchers, over summaries computed on the
  node (a hub service).

The summaries leave a node only as the registered analysis ``allele_frequency_summary``
(tresor.federation.analyses), through the node's airlock; see docs/discovery.md.
"""
