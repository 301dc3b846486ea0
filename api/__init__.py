"""The HTTP API: not built yet."""
