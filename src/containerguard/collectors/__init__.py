"""Package collectors, one file each; each registers itself with ``@register("collector")``."""
