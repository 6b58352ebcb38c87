"""Dashboard pages: one module per tab, each with a ``router`` (found by :func:`web.app.mount`)."""
