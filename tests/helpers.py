"""Helpers for writing small logs in tests."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import polars as pl


def write_parquet(path: Path, data: dict[str, Any] | pl.DataFrame) -> Path:
    """Write a DataFrame (or dict of columns) to ``path`` and return it."""
    frame = data if isinstance(data, pl.DataFrame) else pl.DataFrame(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


def assert_one_line_error(result: Any, *fragments: str) -> None:
    """Exit 2, nothing on stdout, one ``abtool: error:`` line holding every fragment."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("abtool: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def differences(old: Any, new: Any, where: str = "$") -> list[str]:
    """Where ``new`` lacks a key of ``old`` or holds another value.

    Lists of checks (objects with an ``id``) are matched by id, so a check added later is an
    added key, not a change; every other list must keep its length and order.
    """
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
    if isinstance(old, list) and _by_id(old) is not None and _by_id(new) is not None:
        old_ids, new_ids = _by_id(old), _by_id(new)
        assert old_ids is not None and new_ids is not None
        return [
            f"{where}[id={key}]: missing" if key not in new_ids else diff
            for key, item in old_ids.items()
            for diff in (
                differences(item, new_ids[key], f"{where}[id={key}]") if key in new_ids else [""]
            )
        ]
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


def _by_id(items: Any) -> dict[str, Any] | None:
    if not isinstance(items, list) or not items:
        return None
    if not all(isinstance(i, dict) and "id" in i for i in items):
        return None
    return {i["id"]: i for i in items}


def write_policy(directory: Path, text: str, name: str = "policy.toml") -> Path:
    """Write a rollout policy file and return its path."""
    policy = directory / name
    policy.write_text(text)
    return policy


def junit_counts(path: Path) -> dict[str, Any]:
    """Totals of a JUnit file, after checking that every declared count matches its elements
    (CI tools trust the attributes); ``suites`` maps each suite's name to its element."""
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    for suite in suites.values():
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("errors")) == sum(c.find("error") is not None for c in cases)
        assert int(suite.get("skipped")) == sum(c.find("skipped") is not None for c in cases)
    return {
        "tests": int(root.get("tests")),
        "failures": int(root.get("failures")),
        "errors": int(root.get("errors")),
        "skipped": int(root.get("skipped")),
        "suites": suites,
    }
