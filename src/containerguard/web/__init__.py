"""The dashboard: server-rendered pages behind the same tokens as the API (login with a token, then a
session cookie). Pages live in :mod:`.pages`, one module per tab with a ``router``; templates in
``templates/`` (Jinja2, autoescaped: package names and event fields are attacker-controlled)."""
