"""Data access for the dashboard pages: SQL that pages and counts in the database, one module per tab."""
