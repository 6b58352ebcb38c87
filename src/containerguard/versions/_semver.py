"""Pre-release precedence shared by the SemVer 2.0 family (npm, Go, NuGet)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

NumericTest = Callable[[str], int | None]


def ascii_numeric(identifier: str) -> int | None:
    """The identifier's value when it is all ASCII digits (SemVer's numeric identifier)."""
    if identifier and identifier.isascii() and identifier.isdigit():
        return int(identifier)
    return None


def compare_prerelease(
    a: Sequence[str],
    b: Sequence[str],
    numeric: NumericTest = ascii_numeric,
    fold: Callable[[str], str] = str,
) -> int:
    """SemVer 2.0 §11: no pre-release beats any; identifiers left to right, numeric ones numerically
    and below alphanumeric ones, which compare in ASCII order (after ``fold``); a prefix sorts first."""
    if not a or not b:
        return (not a) - (not b)
    for x, y in zip(a, b, strict=False):
        nx, ny = numeric(x), numeric(y)
        if nx is not None and ny is not None:
            if nx != ny:
                return -1 if nx < ny else 1
        elif nx is not None:
            return -1
        elif ny is not None:
            return 1
        else:
            fx, fy = fold(x), fold(y)
            if fx != fy:
                return -1 if fx < fy else 1
    return (len(a) > len(b)) - (len(a) < len(b))
