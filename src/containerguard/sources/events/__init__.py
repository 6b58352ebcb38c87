"""Runtime event sources: readers that turn audit logs, exec records, Docker events and Falco output into
:class:`~containerguard.rules.model.Event` objects (or alerts). Malformed or oversized input is skipped
and counted, never fatal."""
