"""Every command's JSON still holds what it held when the goldens were written.

The goldens (``tests/golden/*.json``) were produced by the code before a refactor; keys may be
added since, but no key may disappear and no value may change (floats to 1e-9 relative, since
a different summation order may move the last digits).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.golden_cases import CASES, GOLDEN, Case, run_case
from tests.helpers import differences


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("golden")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_json_unchanged_apart_from_added_keys(case: Case, workdir: Path) -> None:
    golden = json.loads((GOLDEN / f"{case.name}.json").read_text(encoding="utf-8"))
    current = run_case(case, workdir)
    assert differences(golden, current) == []


def test_differences_sees_a_changed_and_a_missing_key() -> None:
    old = {"a": 1, "b": {"c": 0.5, "d": [1, 2]}}
    assert differences(old, {"a": 1, "b": {"c": 0.5, "d": [1, 2]}, "e": 3}) == []
    assert differences(old, {"a": 2, "b": {"d": [1, 2]}}) == ["$.a: 1 -> 2", "$.b.c: missing"]
