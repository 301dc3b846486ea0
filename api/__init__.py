"""The HTTP API: the REST surface of both seeds, over the use cases of `tasks/`."""
