"""Matchers: package + distro -> findings, through a read-only VulnStore (``@register("matcher")``)."""
