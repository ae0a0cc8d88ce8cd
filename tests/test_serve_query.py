"""Query parameters of `abtool serve` are validated exactly like the same keys in a policy."""

from __future__ import annotations

import json
import tomllib

import pytest

from abtool.errors import ConfigError
from abtool.gate.policy import parse_policy
from abtool.serve.adapter import GateNotFound, find_gate
from abtool.serve.query import QueryError, apply_query

BASE = """\
[[gate]]
name = "canary"
kind = "canary"
paths = ["logs/"]
metric = "clicked"
"""
SHADOW = """\
[[gate]]
name = "shadow"
kind = "shadow"
paths = ["logs/"]
"""


def _gate(text: str = BASE):
    return parse_policy(text, "policy.toml").gates[0]


def _as_toml(text: str) -> str:
    """How the query text is written in a policy: a TOML number/boolean as is, else quoted."""
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return json.dumps(text)
    return text if isinstance(value, bool | int | float) else json.dumps(text)


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("stage", "five"),
        ("stage", "0"),
        ("stage", "100"),
        ("stage", "nan"),
        ("stage", ""),
        ("bootstrap", "-1"),
        ("bootstrap", "2.5"),
        ("allow_neutral", "yes"),
        ("metric_type", "binary"),
        ("since", "yesterday"),
        ("seed", "true"),
    ],
)
def test_bad_value_fails_with_the_policy_message(key: str, text: str) -> None:
    with pytest.raises(ConfigError) as from_policy:
        parse_policy(BASE + f"{key} = {_as_toml(text)}\n", "policy.toml")
    with pytest.raises(QueryError) as from_query:
        apply_query(_gate(), {key: [text]})
    # policy: "policy.toml:6: gate 'canary': <problem>"; query: "query: <problem>"
    problem = from_query.value.message.removeprefix("query: ")
    assert from_policy.value.message.endswith(problem), (from_policy.value, problem)


@pytest.mark.parametrize(
    ("query", "field", "expected"),
    [
        ({"stage": ["5"]}, "stage", 5.0),
        ({"stage": ["2.5"]}, "stage", 2.5),
        ({"stage": ["1e1"]}, "stage", 10.0),
        ({"allow_neutral": ["true"], "nim": ["0.02"]}, "allow_neutral", True),
        ({"bootstrap": ["200"]}, "bootstrap", 200),
        ({"metric": ["revenue"]}, "metrics", ("revenue",)),
        ({"metric": ["revenue", "clicked"]}, "metrics", ("revenue", "clicked")),
        ({"segment": ["country", "device"]}, "segments", ("country", "device")),
        ({"since": ["2025-04-28T06:00:00"]}, "since", "2025-04-28T06:00:00"),
        ({"salt": ["42"]}, "salt", "42"),  # a string key keeps digits as text
    ],
)
def test_value_reaches_the_option(query, field: str, expected) -> None:
    gate = apply_query(_gate(BASE + "stage = 50\n"), query)
    value = getattr(gate.options, field)
    assert value == expected and type(value) is type(expected)


def test_same_value_as_the_policy_key() -> None:
    for text in ("5", "2.5", "33"):
        from_policy = _gate(BASE + f"stage = {text}\n")
        assert apply_query(_gate(), {"stage": [text]}) == from_policy


def test_column_keys_override_columns() -> None:
    gate = apply_query(_gate(SHADOW), {"primary_col": ["score_a"], "id_col": ["a", "b"]})
    assert gate.columns.primary == "score_a"
    assert gate.columns.id_columns == ("a", "b")


def test_cross_option_checks_run() -> None:
    with pytest.raises(QueryError, match="--salt needs --stage"):
        apply_query(_gate(), {"salt": ["canary"]})
    with pytest.raises(QueryError, match="given 2 times"):
        apply_query(_gate(), {"stage": ["5", "6"]})


@pytest.mark.parametrize("key", ["paths", "required", "config", "thresholds", "name", "kind"])
def test_gate_identity_cannot_be_set(key: str) -> None:
    with pytest.raises(QueryError, match=f"'{key}' cannot be set by a request"):
        apply_query(_gate(), {key: ["/etc"]})


def test_unknown_key_suggests_the_close_one() -> None:
    with pytest.raises(QueryError, match="unknown parameter 'stag' - did you mean 'stage'"):
        apply_query(_gate(), {"stag": ["5"]})


def test_no_parameters_is_the_gate_itself() -> None:
    gate = _gate()
    assert apply_query(gate, {}) is gate


def test_find_gate_names_the_others() -> None:
    policy = parse_policy(BASE + "\n" + SHADOW, "policy.toml")
    assert find_gate(policy, "shadow").kind == "shadow"
    with pytest.raises(GateNotFound, match=r"no gate named 'x' \(gates: canary, shadow\)"):
        find_gate(policy, "x")
