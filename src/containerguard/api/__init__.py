"""The REST API (FastAPI): ``/api/v1`` resources, registry webhooks, ``/metrics``. Thin: parse,
call the store and the jobs, shape the answer."""
