"""The web pages of the airlock: server-rendered, no scripts (routes, previews, sessions)."""
