"""The query language: a subset of KQL (Kusto, as Azure Resource Graph speaks it) compiled to SQL.

:func:`containerguard.query.runner.run_query` parses, compiles and runs a query over the virtual tables
``securityresources`` and ``resources`` (see :mod:`.catalog`); nothing is evaluated row by row in Python.
"""
