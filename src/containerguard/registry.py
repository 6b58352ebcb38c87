"""A tiny plugin registry: ``@register("collector")`` on a class makes it discoverable.

Plugins live one per file in their package; :func:`load_plugins` imports every module of a package
so adding a plugin is one new file, never a dispatcher edit.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_PLUGINS: dict[str, dict[str, Any]] = {}
_LOADED: set[str] = set()


def register(kind: str, name: str | None = None) -> Callable[[T], T]:
    """Class decorator registering a plugin of ``kind`` under ``name`` (default: its ``name`` attr)."""

    def deco(obj: T) -> T:
        key = str(name or getattr(obj, "name", None) or getattr(obj, "__name__", ""))
        bucket = _PLUGINS.setdefault(kind, {})
        if key in bucket and bucket[key] is not obj:
            raise ValueError(f"duplicate {kind} plugin {key!r}")
        bucket[key] = obj
        return obj

    return deco


def load_plugins(package: str) -> None:
    """Import every module of ``package`` once so their ``@register`` calls run."""
    if package in _LOADED:
        return
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")
    _LOADED.add(package)


def plugins(kind: str) -> dict[str, Any]:
    """Every plugin registered under ``kind``, by name, in registration order."""
    return dict(_PLUGINS.get(kind, {}))
