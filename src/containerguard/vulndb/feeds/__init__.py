"""Feed importers, one per format, each registered with ``@register("feed")``."""
