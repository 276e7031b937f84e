"""The airlock's REST API (JSON, OpenAPI at ``<prefix>api/openapi.json``)."""
