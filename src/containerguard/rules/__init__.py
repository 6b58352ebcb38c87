"""A Falco-compatible rule language: parse, load, compile and evaluate rules over runtime events.

Rules are data compiled up front (lists spliced, macros substituted on the AST, exceptions turned into
``and not (...)``) into closures; the engine indexes them by source and by discriminating fields.
"""
