"""Building the SBOM from layer inventories, and reading/writing SBOM documents."""
