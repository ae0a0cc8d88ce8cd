"""Compare two reports' JSON the way every engine must agree.

Sums may differ in their last bits (engines add in different orders): floats are compared to
1e-9 relative (1e-12 absolute, for sums that cancel to about zero). Everything else (counts,
strings, verdicts, checks' pass/fail, key order) must be identical, and so must the floats at
the ``exact`` keys (KS D, quantiles: order statistics, not sums).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

REL = 1e-9


def json_differences(
    a: Any, b: Any, *, exact: Iterable[str] = (), rel: float = REL, path: str = ""
) -> list[str]:
    """Where ``a`` and ``b`` differ (empty: they agree). ``exact`` holds key names whose
    float values must be equal (any depth)."""
    exact = frozenset(exact)
    found: list[str] = []
    _walk(a, b, exact, rel, path or "$", found)
    return found


def assert_same_json(a: Any, b: Any, *, exact: Iterable[str] = (), rel: float = REL) -> None:
    problems = json_differences(a, b, exact=exact, rel=rel)
    assert not problems, "\n".join(problems[:20])


def _walk(a: Any, b: Any, exact: frozenset[str], rel: float, path: str, found: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            found.append(f"{path}: keys {list(a)} != {list(b)}")
            return
        for key in a:
            _walk(a[key], b[key], exact, rel, f"{path}.{key}", found)
        return
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            found.append(f"{path}: {len(a)} items != {len(b)}")
            return
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _walk(x, y, exact, rel, f"{path}[{i}]", found)
        return
    if isinstance(a, float) and isinstance(b, float) and not isinstance(a, bool):
        key = path.rsplit(".", 1)[-1].split("[")[0]
        if key in exact or math.isnan(a) or math.isinf(a):
            same = a == b or (math.isnan(a) and math.isnan(b))
        else:
            same = math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
        if not same:
            found.append(f"{path}: {a!r} != {b!r}")
        return
    if type(a) is not type(b) or a != b:
        found.append(f"{path}: {a!r} != {b!r}")
