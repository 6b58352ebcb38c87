"""Shared test set-up: make helper modules in test folders importable, keep data home private."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Tests import with --import-mode=importlib (test files in different folders may share a name), so
# the helper modules that sit beside them (imagebuilder, layertar, matchfakes…) are put on sys.path here.
_TESTS = Path(__file__).parent
_HELPER_DIRS = [_TESTS, *(p for p in _TESTS.rglob("*")
                          if p.is_dir() and "fixtures" not in p.parts and "__pycache__" not in p.parts)]
for path in sorted(_HELPER_DIRS):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own CONTAINERGUARD_HOME so the user's cache is never touched."""
    monkeypatch.setenv("CONTAINERGUARD_HOME", str(tmp_path_factory.mktemp("cghome")))
