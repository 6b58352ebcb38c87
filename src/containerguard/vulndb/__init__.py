"""The vulnerability database: the only code that knows feeds and advisory SQL."""
