"""Version comparators, one per scheme: ``@register("version-scheme")``."""
