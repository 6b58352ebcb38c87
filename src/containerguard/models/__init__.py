"""Frozen dataclasses exchanged between stages. No I/O here."""
