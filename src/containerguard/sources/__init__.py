"""Image sources, one per REF form; each registers with ``@register("source", "<prefix>")``."""
