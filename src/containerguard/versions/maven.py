"""Maven versions, ordered as Maven 3.9's ``ComparableVersion`` (``maven-artifact``).

The string is lower-cased and split at ``.``, ``-`` and digit/letter transitions into a tree: a
``-`` or a transition opens a sub-list, and so does a qualifier after a ``.`` (Maven treats
``.X`` as ``-X``). Numbers compare numerically and beat everything else; qualifiers order
``alpha`` < ``beta`` < ``milestone`` < ``rc`` = ``cr`` < ``snapshot`` < (release: ``""`` = ``ga`` =
``final`` = ``release``) < ``sp`` < unknown qualifiers (lexically); ``a1``/``b1``/``m1`` mean
``alpha-1``/``beta-1``/``milestone-1``. Trailing nulls (``0``, release qualifiers, empty lists)
are dropped, so ``1.0.0`` == ``1`` and ``1-ga`` == ``1``.

Maven accepts every string; only the empty or blank string raises :class:`VersionError`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar, Union

from containerguard.errors import VersionError
from containerguard.registry import register
from containerguard.versions.base import VersionScheme

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
# Maven 3.9 aliases the release qualifiers to "" (so they are null and trimmed); Maven 4 keeps them.
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_RELEASE_INDEX = str(_QUALIFIERS.index(""))
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}


class _Qualifier(str):
    """A string item (a ``str`` subclass so it is told apart from numbers and lists)."""

    __slots__ = ()


Item = Union[int, _Qualifier, "list[Item]"]


def _comparable(qualifier: str) -> str:
    """Maven's ``comparableQualifier``: known qualifiers by rank, unknown ones after, lexically."""
    if qualifier in _QUALIFIERS:
        return str(_QUALIFIERS.index(qualifier))
    return f"{len(_QUALIFIERS)}-{qualifier}"


def _string_item(value: str, followed_by_digit: bool) -> _Qualifier:
    if followed_by_digit and len(value) == 1:
        value = _SHORT.get(value, value)
    return _Qualifier(_ALIASES.get(value, value))


def _number_item(text: str) -> int:
    return int(text)


def _is_null(item: Item) -> bool:
    if isinstance(item, list):
        return not item
    if isinstance(item, _Qualifier):
        return item == ""
    return item == 0


def _normalize(items: list[Item]) -> None:
    """Drop trailing null items, looking past trailing sub-lists (``ListItem.normalize``)."""
    for i in range(len(items) - 1, -1, -1):
        if _is_null(items[i]):
            del items[i]
        elif not isinstance(items[i], list):
            break


def _sign(text_a: str, text_b: str) -> int:
    return (text_a > text_b) - (text_a < text_b)


def _cmp(a: Item, b: Item | None) -> int:
    """``a.compareTo(b)``, ``b`` None meaning "nothing there" (padding)."""
    if isinstance(a, list):
        if b is None:
            for item in a:
                result = _cmp(item, None)
                if result:
                    return result
            return 0
        if isinstance(b, list):
            for i in range(max(len(a), len(b))):
                # The shorter list is padded with "nothing": invert the other side's compare to nothing.
                result = -_cmp(b[i], None) if i >= len(a) else _cmp(a[i], b[i] if i < len(b) else None)
                if result:
                    return result
            return 0
        return -1 if isinstance(b, int) else 1  # 1-1 < 1.0.x; 1-1 > 1-sp
    if isinstance(a, _Qualifier):
        if b is None:
            return _sign(_comparable(a), _RELEASE_INDEX)  # 1-rc < 1, 1-sp > 1
        if isinstance(b, _Qualifier):
            return _sign(_comparable(a), _comparable(b))
        return -1  # 1.any < 1.1, 1.any < 1-1
    if b is None:
        return 1 if a else 0
    if isinstance(b, int) and not isinstance(b, bool):
        return (a > b) - (a < b)
    return 1  # 1.1 > 1-sp, 1.1 > 1-1


@lru_cache(maxsize=65536)
def parse(version: str) -> list[Item]:
    """Maven's ``parseVersion``: the normalized item tree."""
    if not version.strip():
        raise VersionError("empty Maven version")
    text = version.lower()
    items: list[Item] = []
    current = items
    stack = [items]
    is_digit = False
    start = 0

    def open_list() -> list[Item]:
        nonlocal current
        new: list[Item] = []
        current.append(new)
        current = new
        stack.append(new)
        return new

    for i, ch in enumerate(text):
        if ch == ".":
            current.append(0 if i == start else _parse_item(is_digit, text[start:i]))
            start = i + 1
        elif ch == "-":
            current.append(0 if i == start else _parse_item(is_digit, text[start:i]))
            start = i + 1
            open_list()
        elif ch.isdecimal():
            if not is_digit and i > start:
                # 1.0.0.X1 < 1.0.0-X2: a qualifier after a dot is treated as after a hyphen.
                if current:
                    open_list()
                current.append(_string_item(text[start:i], True))
                start = i
                open_list()
            is_digit = True
        else:
            if is_digit and i > start:
                current.append(_parse_item(True, text[start:i]))
                start = i
                open_list()
            is_digit = False
    if len(text) > start:
        if not is_digit and current:
            open_list()
        current.append(_parse_item(is_digit, text[start:]))
    for lst in reversed(stack):
        _normalize(lst)
    return items


def _parse_item(is_digit: bool, text: str) -> Item:
    return _number_item(text) if is_digit else _string_item(text, False)


@register("version-scheme")
class MavenVersion(VersionScheme):
    """Maven ``ComparableVersion`` ordering."""

    name: ClassVar[str] = "maven"
    ecosystems: ClassVar[tuple[str, ...]] = ("Maven",)

    def compare(self, a: str, b: str) -> int:
        """``new ComparableVersion(a).compareTo(new ComparableVersion(b))``, as -1, 0 or 1."""
        return _cmp(parse(a), parse(b))
