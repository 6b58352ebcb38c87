"""CIS Docker Benchmark checks, one module per benchmark section; each control a registered check."""
