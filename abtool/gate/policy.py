"""Read a rollout policy TOML and validate all of it before any gate runs.

A policy is a list of ``[[gate]]`` tables::

    [[gate]]
    name = "shadow"
    kind = "shadow"                 # a kind from abtool.gate.kinds
    paths = ["logs/shadow/"]        # relative to the policy file's directory
    required = true                 # false: reported, but never changes the exit code
    threshold = 0.6                 # the command's options, `_` for `-`
    config = "thresholds.toml"      # optional --config file, by the same rules as the command
    [gate.thresholds]               # overrides by check id (applied after `config`)
    agreement_rate = 0.90

Every problem is one :class:`~abtool.errors.ConfigError` line naming the file, the line and the
gate, e.g. ``policy.toml:12: gate 'canary-5pct': unknown key 'metrc' (known: ...)``. tomllib
reports no positions for values, so lines are found in the text: the ``[[gate]]`` header of the
n-th gate, then the line assigning the key inside that gate's tables.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from abtool.config import load_thresholds, thresholds_from_mapping
from abtool.errors import AbtoolError, ConfigError
from abtool.gate.kinds import get_kind, kind_names, policy_settings
from abtool.outputs import record_input
from abtool.spec import CommandSpec, validate
from abtool.spec import type_name as toml_type

TOP_LEVEL_KEYS = ("gate",)
GATE_KEYS = ("name", "kind", "paths", "required", "config", "thresholds")

# Reports a problem with a gate key (None: the gate itself) and does not return.
_Fail = Callable[[str | None, str], NoReturn]


@dataclass(frozen=True)
class Gate:
    """One validated gate, ready to run.

    Attributes:
        name: unique name from the policy.
        kind: a registered kind (``shadow`` ...).
        paths: log paths, already joined to the policy file's directory.
        required: whether the gate's verdict counts toward the exit code.
        columns: the kind's column-names dataclass.
        options: the kind's options dataclass.
        thresholds: the kind's thresholds dataclass (defaults, ``config``, then overrides).
        location: ``policy.toml:LINE`` of the gate's header, for messages.
    """

    name: str
    kind: str
    paths: tuple[str, ...]
    required: bool
    columns: Any
    options: Any
    thresholds: Any
    location: str


@dataclass(frozen=True)
class Policy:
    """A validated rollout policy: the gates in file order."""

    path: str
    gates: tuple[Gate, ...]


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file.

    Raises:
        ConfigError: the file is unreadable, not TOML, or any key or value is wrong; the
            one-line message names the file, the line and the gate.
    """
    record_input(path)  # never overwritten by an output of this run
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: policy file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read policy file ({exc})") from None
    return parse_policy(text, str(path))


def parse_policy(text: str, path: str) -> Policy:
    """Validate policy TOML ``text``; ``path`` names it in messages and anchors relative paths.

    Raises:
        ConfigError: on the first problem found, in file order.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, problem = _decode_error(str(exc), text)
        raise ConfigError(f"{path}:{line}: not valid TOML: {problem}") from None
    return _Reader(text, path).policy(data)


def _decode_error(message: str, text: str) -> tuple[int, str]:
    found = re.search(r"\s*\(at line (\d+), column \d+\)$", message)
    if found:
        return int(found.group(1)), message[: found.start()]
    found = re.search(r"\s*\(at end of document\)$", message)
    if found:
        return max(len(text.splitlines()), 1), message[: found.start()]
    return 1, message


class _Reader:
    """Validation of one policy text, with the positions of its gates and keys."""

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.base = os.path.dirname(path)
        self.locator = _Locator(text)

    def fail(self, line: int, problem: str, gate: str | None = None) -> NoReturn:
        where = f"gate {gate}: " if gate else ""
        raise ConfigError(f"{self.path}:{line}: {where}{problem}")

    def policy(self, data: Mapping[str, Any]) -> Policy:
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                self.fail(
                    self.locator.top_level(key),
                    f"unknown top-level key '{key}' (known: {', '.join(TOP_LEVEL_KEYS)}; "
                    "each gate is a [[gate]] table)",
                )
        tables = data.get("gate")
        if tables is None:
            self.fail(1, "no gates: add a [[gate]] table per report to run")
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            self.fail(self.locator.top_level("gate"), "'gate' must be [[gate]] tables")
        if not tables:
            self.fail(self.locator.top_level("gate"), "no gates: 'gate' is empty")
        first_line: dict[str, int] = {}
        gates = [self.gate(index, table, first_line) for index, table in enumerate(tables)]
        if not any(g.required for g in gates):
            self.fail(
                self.locator.gate(0),
                "every gate has required = false, so the policy could never fail CI; "
                "make at least one gate required",
            )
        return Policy(self.path, tuple(gates))

    def gate(self, index: int, table: Mapping[str, Any], first_line: dict[str, int]) -> Gate:
        header = self.locator.gate(index)
        label = f"#{index + 1}"

        def fail(key: str | None, problem: str) -> NoReturn:
            line = self.locator.gate_key(index, key) if key else header
            self.fail(line, problem, label)

        name = table.get("name")
        if name is None:
            fail(None, "missing key 'name'")
        if not isinstance(name, str) or not name.strip():
            fail("name", f"'name' must be a non-empty string, got {toml_type(name)} {name!r}")
        label = f"'{name}'"
        line = self.locator.gate_key(index, "name")
        if name in first_line:
            fail("name", f"duplicate gate name (first defined on line {first_line[name]})")
        first_line[name] = line

        kind_name = table.get("kind")
        if kind_name is None:
            fail(None, f"missing key 'kind' (one of: {', '.join(kind_names())})")
        if kind_name not in kind_names():
            fail("kind", f"unknown kind {kind_name!r} (known: {', '.join(kind_names())})")
        spec = get_kind(kind_name)

        settings = policy_settings(spec)
        known = [*GATE_KEYS, *settings]
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" - did you mean '{close[0]}'?" if close else ""
                fail(key, f"unknown key '{key}'{hint} (known: {', '.join(known)})")

        paths = self.paths(table, fail)
        required = table.get("required", True)
        if not isinstance(required, bool):
            fail("required", f"'required' must be true or false, got {toml_type(required)}")

        values: dict[str, Any] = {}
        for key, bound in settings.items():
            if key in table:
                try:
                    values[key] = validate(bound, table[key], f"'{key}'")
                except AbtoolError as exc:
                    fail(key, exc.message)
        thresholds = self.thresholds(index, table, spec, label, fail)
        try:
            columns, options = spec.build(values)
            if spec.check is not None:
                spec.check(columns, options, thresholds)
        except AbtoolError as exc:
            fail(None, exc.message)
        assert spec.kind is not None
        return Gate(
            name=name,
            kind=spec.kind,
            paths=paths,
            required=required,
            columns=columns,
            options=options,
            thresholds=thresholds,
            location=f"{self.path}:{header}",
        )

    def paths(self, table: Mapping[str, Any], fail: _Fail) -> tuple[str, ...]:
        if "paths" not in table:
            fail(None, "missing key 'paths' (the logs to read, relative to the policy file)")
        paths = table["paths"]
        if isinstance(paths, str):
            fail("paths", f"'paths' must be a list of strings, e.g. paths = [{paths!r}]")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            fail("paths", f"'paths' must be a list of strings, got {toml_type(paths)}")
        if not paths:
            fail("paths", "'paths' must not be empty (the logs to read)")
        if not all(p.strip() for p in paths):
            fail("paths", "'paths' holds an empty string")
        return tuple(self.resolve(p) for p in paths)

    def resolve(self, path: str) -> str:
        """A policy path joined to the policy file's directory (absolute paths and URLs such
        as ``s3://bucket/logs/`` unchanged)."""
        from abtool.storage import is_remote

        if is_remote(path):
            return path
        return os.path.join(self.base, os.path.expanduser(path))

    def thresholds(
        self, index: int, table: Mapping[str, Any], spec: CommandSpec, label: str, fail: _Fail
    ) -> Any:
        assert spec.thresholds is not None
        thresholds = spec.thresholds()
        config = table.get("config")
        if config is not None:
            if not isinstance(config, str) or not config:
                fail("config", f"'config' must be a file path, got {toml_type(config)}")
            try:
                thresholds = load_thresholds(spec, self.resolve(config))
            except AbtoolError as exc:
                fail("config", exc.message)
        overrides = table.get("thresholds", {})
        if not isinstance(overrides, dict):
            fail("thresholds", "'thresholds' must be a table of check id = number")
        for key, value in overrides.items():
            line = self.locator.gate_threshold(index, key)
            where = f"{self.path}:{line}: gate {label}: thresholds"
            thresholds = thresholds_from_mapping(spec.thresholds, {key: value}, where, thresholds)
        return thresholds


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]#=]+?)\s*\]\]?\s*(#.*)?$")


def _table_name(raw: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in raw.split("."))


def _assigns(line: str, key: str) -> bool:
    key = re.escape(key)
    return re.match(rf"""^\s*(?:{key}|"{key}"|'{key}')\s*=""", line) is not None


class _Locator:
    """1-based line numbers of gates and keys in policy text (best effort, never fails)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: list[tuple[int, str, bool]] = []
        for number, line in enumerate(self.lines):
            found = _HEADER.match(line)
            if found:
                self.headers.append((number, _table_name(found.group(2)), found.group(1) == "[["))
        self.gate_starts = [n for n, name, array in self.headers if name == "gate" and array]

    def _find(self, start: int, stop: int, key: str) -> int | None:
        for number in range(start, stop):
            if _assigns(self.lines[number], key):
                return number + 1
        return None

    def _section_end(self, start: int) -> int:
        """The index of the first header after line index ``start`` (or the end)."""
        return next((n for n, _, _ in self.headers if n > start), len(self.lines))

    def top_level(self, key: str) -> int:
        first_header = self.headers[0][0] if self.headers else len(self.lines)
        found = self._find(0, first_header, key)
        if found:
            return found
        for number, name, _ in self.headers:
            if name == key or name.startswith(key + "."):
                return number + 1
        return 1

    def gate(self, index: int) -> int:
        if index < len(self.gate_starts):
            return self.gate_starts[index] + 1
        return self.top_level("gate")

    def _gate_span(self, index: int) -> tuple[int, int] | None:
        if index >= len(self.gate_starts):
            return None
        start = self.gate_starts[index]
        stop = self.gate_starts[index + 1] if index + 1 < len(self.gate_starts) else len(self.lines)
        return start, stop

    def gate_key(self, index: int, key: str) -> int:
        span = self._gate_span(index)
        if span is None:
            return self.gate(index)
        start = span[0]
        return self._find(start + 1, self._section_end(start), key) or self.gate(index)

    def gate_threshold(self, index: int, key: str) -> int:
        span = self._gate_span(index)
        if span is None:
            return self.gate(index)
        start, stop = span
        for number, name, _ in self.headers:
            if start < number < stop and name == "gate.thresholds":
                found = self._find(number + 1, self._section_end(number), key)
                if found:
                    return found
        found = self._find(start + 1, self._section_end(start), f"thresholds.{key}")
        return found or self.gate_key(index, "thresholds")
