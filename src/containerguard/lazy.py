"""Heavy SDKs imported on first use: the ``kubernetes`` and ``docker`` clients cost ~40 ms each to import,
and every source module is loaded to resolve a REF even when the scan reads an OCI layout."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for a module until an attribute is read, then imports it the ordinary way.

    Not :class:`importlib.util.LazyLoader`: that puts a half-made module in ``sys.modules``, and a later
    ``import pkg.sub`` elsewhere can then load ``pkg.sub`` twice, giving two copies of its exception
    classes (an ``except`` of one misses the other)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


def lazy_module(name: str) -> Any:
    """A :class:`LazyModule` for ``name`` (typed Any: callers import the real module for type checking)."""
    return LazyModule(name)
