"""Finding a version scheme: the module hints are a correct fast path, and only a fast path."""

from __future__ import annotations

import subprocess
import sys

import pytest

from containerguard.errors import VersionError
from containerguard.versions.base import MODULE_HINTS, scheme_for_ecosystem, scheme_named, schemes


@pytest.mark.parametrize(("ecosystem", "module"), sorted(MODULE_HINTS.items()))
def test_every_hint_names_the_module_serving_the_ecosystem(ecosystem: str, module: str) -> None:
    scheme = scheme_for_ecosystem(f"{ecosystem}:1")
    assert type(scheme).__module__ == f"containerguard.versions.{module}"
    assert ecosystem in scheme.ecosystems


def test_unhinted_ecosystems_still_found_and_unknown_ones_refused() -> None:
    served = {eco: s.name for s in schemes().values() for eco in s.ecosystems}
    for ecosystem in set(served) - set(MODULE_HINTS):
        assert scheme_for_ecosystem(ecosystem).name == served[ecosystem]
    with pytest.raises(VersionError, match="no version scheme"):
        scheme_for_ecosystem("NoSuchEcosystem:1")
    assert scheme_named("semver") is not None and scheme_named("nonesuch") is None


def test_a_debian_lookup_imports_only_the_dpkg_scheme() -> None:
    code = ("import sys; from containerguard.versions.base import scheme_for_ecosystem; "
            "scheme_for_ecosystem('Debian:12'); "
            "print(sorted(m for m in sys.modules if m.startswith('containerguard.versions.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['containerguard.versions.base', 'containerguard.versions.deb']"
