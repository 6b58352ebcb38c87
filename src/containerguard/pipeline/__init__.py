"""Orchestration only: sources -> layers -> collectors -> SBOM (-> matching, later stages)."""
