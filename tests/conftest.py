"""Shared test set-up: make helper modules in test folders importable, keep data home private."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

for helper_dir in ("unit/layers", "unit/sources", "integration"):
    path = Path(__file__).parent / helper_dir
    if path.is_dir() and str(path) not in sys.path:
        sys.path.insert(0, str(path))


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own CONTAINERGUARD_HOME so the user's cache is never touched."""
    monkeypatch.setenv("CONTAINERGUARD_HOME", str(tmp_path_factory.mktemp("cghome")))
