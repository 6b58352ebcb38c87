"""dumps_indented writes exactly what json.dumps(indent=2) writes, through orjson or not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containerguard.jsontext import dumps_indented

# Floats are left out of the generated documents: orjson spells exponents 1e16 where json writes 1e+16.
_SCALARS = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text()
_DOCS = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(_DOCS, st.booleans())
def test_same_text_as_json(doc: Any, ensure_ascii: bool) -> None:
    assert dumps_indented(doc, ensure_ascii=ensure_ascii) == json.dumps(doc, indent=2, ensure_ascii=ensure_ascii) + "\n"


@pytest.mark.parametrize("doc", [
    {"path": "caf\udce9"},            # a lone surrogate (an undecodable file name): orjson refuses it
    {1: "int key", "b": [1, 2]},       # a non-string key: json writes "1"
    {"n": 2**64},                      # beyond orjson's 64-bit integers
    {"t": (1, "two", None)},           # tuples are arrays
    {"s": "Ünïcödé ✓", "e": [], "o": {}},
    {"del": "\x7f", "ctl": "\x00\x1f\n\t"},  # json escapes DEL only when ensure_ascii
    {"cvss": 7.5, "score": 0.1},
])
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_edge_cases(doc: Any, ensure_ascii: bool) -> None:
    assert dumps_indented(doc, ensure_ascii=ensure_ascii) == json.dumps(doc, indent=2, ensure_ascii=ensure_ascii) + "\n"
