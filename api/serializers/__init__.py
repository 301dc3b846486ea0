"""The wire shape of the API: pydantic models that are both the `response_model` of the routers
(so /openapi.json documents exactly what is answered) and what the CLI prints with `--json`,
and the functions that build them from the rows and results of the use cases.

Field order is part of the shape (the published waldur-api-client and the seeds compare it):
a model lists its fields in the order they are answered.
"""
