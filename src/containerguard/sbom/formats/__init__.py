"""SBOM document formats, one file each: ``@register("sbom-format", NAME)``."""
