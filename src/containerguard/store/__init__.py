"""The server's store: SQLAlchemy tables, small repository modules, Alembic migrations.

Everything the server remembers lives here: registries (credentials encrypted at rest), API and
webhook tokens (hashes only), images with their SBOM, findings, scans (the durable job queue) and
events. The same schema runs on SQLite (the embedded default) and PostgreSQL.
"""
