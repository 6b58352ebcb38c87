"""What a test needs from its environment: skipped on a bare machine, a failure where ``make test`` runs.

``make test`` sets ``CG_REQUIRE_INTEGRATION=1`` and provides everything (dockerd, registry, Trivy, the
debootstrap tarball, ../shared/feeds), so there a missing piece is a broken environment, never a skip.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(reason: str) -> NoReturn:
    """Skip for ``reason``, or fail when the test environment is required to be complete."""
    if os.environ.get("CG_REQUIRE_INTEGRATION") == "1":
        pytest.fail(f"test environment incomplete: {reason}")
    pytest.skip(f"{reason} (run `make test`)")
