"""Heavy SDKs imported on first use: the ``kubernetes`` and ``docker`` clients cost ~40 ms each to import,
and every source module is loaded to resolve a REF even when the scan reads an OCI layout."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """``name`` as a module whose code runs at its first attribute access (a top-level package only:
    finding a submodule would import its parents at once)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
