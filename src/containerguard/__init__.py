"""containerguard: a self-hosted container security center."""

__version__ = "0.1.0"
