"""Every command's JSON still holds what it held when the goldens were written.

The goldens (``tests/golden/*.json``) were produced by the code before a refactor; keys may be
added since, but no key may disappear and no value may change (floats to 1e-9 relative, since
a different summation order may move the last digits).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.golden_cases import CASES, GOLDEN, Case, run_case


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("golden")


def differences(old: Any, new: Any, where: str = "$") -> list[str]:
    """Where ``new`` lacks a key of ``old`` or holds another value."""
    if isinstance(old, dict):
        if not isinstance(new, dict):
            return [f"{where}: was an object, now {type(new).__name__}"]
        found = []
        for key, value in old.items():
            if key not in new:
                found.append(f"{where}.{key}: missing")
            else:
                found += differences(value, new[key], f"{where}.{key}")
        return found
    if isinstance(old, list):
        if not isinstance(new, list) or len(old) != len(new):
            return [f"{where}: list changed ({old!r:.80} -> {new!r:.80})"]
        pairs = enumerate(zip(old, new, strict=True))
        return [d for i, (a, b) in pairs for d in differences(a, b, f"{where}[{i}]")]
    if isinstance(old, float) and isinstance(new, int | float) and not isinstance(new, bool):
        if math.isclose(old, new, rel_tol=1e-9, abs_tol=1e-15):
            return []
    elif old == new and type(old) is type(new):
        return []
    return [f"{where}: {old!r} -> {new!r}"]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_json_unchanged_apart_from_added_keys(case: Case, workdir: Path) -> None:
    golden = json.loads((GOLDEN / f"{case.name}.json").read_text(encoding="utf-8"))
    current = run_case(case, workdir)
    assert differences(golden, current) == []


def test_differences_sees_a_changed_and_a_missing_key() -> None:
    old = {"a": 1, "b": {"c": 0.5, "d": [1, 2]}}
    assert differences(old, {"a": 1, "b": {"c": 0.5, "d": [1, 2]}, "e": 3}) == []
    assert differences(old, {"a": 2, "b": {"d": [1, 2]}}) == ["$.a: 1 -> 2", "$.b.c: missing"]
