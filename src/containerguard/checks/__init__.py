"""Configuration checks: benchmark controls evaluated on collected facts (no I/O)."""
