"""Query parameters that override a gate's options for one request (``?stage=5``).

A parameter is a policy key of the gate's kind (``stage``, ``metric``, ``since`` ...) and is
validated exactly like that key in the policy file: the text is read as the TOML value it would
be in the policy (``5`` an integer, ``5.5`` a float, ``true`` a boolean; anything that is not a
TOML number or boolean stays a string, as does the text of a setting that parses text) and goes
through the command spec's :func:`abtool.spec.validate` (by way of ``CommandSpec.build``), then
through the kind's own cross-option check. So ``?stage=five`` fails with the message
``policy.toml`` would give for ``stage = "five"``.

List keys (``metric``, ``segment``) take the parameter repeated (``?segment=a&segment=b``), as
the command line takes the option repeated. The gate's identity and inputs (``paths``,
``required``, ``config``, ``thresholds``, ``name``, ``kind``) cannot be set from a request: a
request must not make the service read other files.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from abtool.errors import AbtoolError, UsageError
from abtool.gate.kinds import get_kind, policy_settings
from abtool.gate.policy import GATE_KEYS, Gate
from abtool.spec import BoundSetting, ValueType


class QueryError(UsageError):
    """A query parameter is unknown, repeated, or holds a value its policy key rejects."""


def apply_query(gate: Gate, params: Mapping[str, Sequence[str]]) -> Gate:
    """The gate with its options overridden by query parameters (``{key: [values]}``).

    Raises:
        QueryError: one line naming the parameter and the problem.
    """
    if not params:
        return gate
    spec = get_kind(gate.kind)
    settings = policy_settings(spec)
    values = {key: _value(_setting(settings, key), texts) for key, texts in params.items()}
    try:
        columns, options = spec.build(
            values, name=lambda b: f"'{b.key}'", columns=gate.columns, options=gate.options
        )
    except AbtoolError as exc:
        raise QueryError(f"query: {exc.message}") from None
    if spec.check is not None:
        try:
            spec.check(columns, options, gate.thresholds)
        except AbtoolError as exc:
            raise QueryError(f"query: gate '{gate.name}': {exc.message}") from None
    return dataclasses.replace(gate, columns=columns, options=options)


def _setting(settings: Mapping[str, BoundSetting], key: str) -> BoundSetting:
    if key in settings:
        return settings[key]
    known = ", ".join(settings)
    if key in GATE_KEYS:
        raise QueryError(
            f"query: '{key}' cannot be set by a request, only the gate's options ({known})"
        )
    close = difflib.get_close_matches(key, list(settings), n=1)
    hint = f" - did you mean '{close[0]}'?" if close else ""
    raise QueryError(f"query: unknown parameter '{key}'{hint} (known: {known})")


def _value(bound: BoundSetting, texts: Sequence[str]) -> Any:
    if bound.type is ValueType.TEXT_LIST:
        return list(texts) if len(texts) > 1 else texts[0]
    if len(texts) > 1:
        raise QueryError(f"query: '{bound.key}' is given {len(texts)} times; give it once")
    text = texts[0]
    if bound.setting.parse is None and bound.type is not ValueType.TEXT:
        return _toml_scalar(text)
    return text


def _toml_scalar(text: str) -> Any:
    """``text`` read as a TOML value (``5`` → 5, ``true`` → True); other text stays a string."""
    if "\n" in text or "\r" in text:
        return text
    try:
        parsed = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return text
    value = parsed.get("value")
    if len(parsed) != 1 or isinstance(value, dict | list | str):
        return text
    return value
