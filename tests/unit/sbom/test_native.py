"""containerguard's own JSON: golden file, exact round trip (skipped entries too), bad input."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from sbom_samples import SBOM, check_golden

from containerguard.errors import SbomError
from containerguard.models.sbom import Skipped
from containerguard.sbom.formats.base import get_format, read_document
from containerguard.sbom.formats.native import NativeJson

FMT = NativeJson()
FULL = dataclasses.replace(SBOM, skipped=(Skipped("opt/app/big.jar", "over the size limit", "sha256:" + "2" * 64),))


def test_golden_and_round_trip() -> None:
    text = FMT.write(FULL)
    check_golden("sample.native.json", text)
    assert FMT.read(json.loads(text)) == FULL


def test_registered_and_detected() -> None:
    assert isinstance(get_format("json"), NativeJson)
    doc = json.loads(FMT.write(FULL))
    assert FMT.detect(doc)
    assert not FMT.detect({"bomFormat": "CycloneDX"})
    assert read_document(doc) == FULL


def _broken(*path: Any, value: Any) -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(json.loads(FMT.write(FULL)))
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize("doc", [
    _broken("artifact", value=KeyError),
    _broken("artifact", "platform", value="linux"),
    _broken("packages", 0, "name", value=KeyError),
    _broken("packages", 0, value="x"),
    _broken("distro", value={"version_id": "12"}),
    _broken("skipped", 0, value={"path": "x"}),
], ids=["no-artifact", "bad-platform", "package-without-name", "package-string", "distro-without-id",
        "skipped-without-reason"])
def test_malformed(doc: dict[str, Any]) -> None:
    with pytest.raises(SbomError):
        FMT.read(doc)
