"""`abtool gate` policy validation: every bad policy is one line with file and line, exit 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from abtool.commands.shadow import ShadowThresholds
from abtool.errors import ConfigError
from abtool.gate.policy import load_policy, parse_policy

GOOD_GATE = """\
[[gate]]
name = "shadow"
kind = "shadow"
paths = ["logs/shadow.parquet"]
"""

# (case id, policy text, line the error must name, fragment of the message)
BAD_POLICIES = [
    (
        "unknown kind",
        '[[gate]]\nname = "c"\nkind = "canry"\npaths = ["x"]\n',
        3,
        "gate 'c': unknown kind 'canry' (known: shadow",
    ),
    (
        "missing paths",
        '# policy\n\n[[gate]]\nname = "s"\nkind = "shadow"\n',
        3,
        "gate 's': missing key 'paths'",
    ),
    (
        "empty paths",
        '[[gate]]\nname = "s"\nkind = "shadow"\n\npaths = []\n',
        5,
        "gate 's': 'paths' must not be empty",
    ),
    (
        "paths not a list",
        '[[gate]]\nname = "s"\nkind = "shadow"\npaths = "logs/"\n',
        4,
        "'paths' must be a list of strings, e.g. paths = ['logs/']",
    ),
    (
        "threshold of the wrong type",
        GOOD_GATE + '[gate.thresholds]\nduration = 12\nagreement_rate = "high"\n',
        7,
        "gate 'shadow': thresholds: threshold 'agreement_rate' must be a number",
    ),
    (
        "threshold in an inline table",
        GOOD_GATE + 'thresholds = { agreement_rate = "high" }\n',
        5,
        "threshold 'agreement_rate' must be a number",
    ),
    (
        "unknown threshold id",
        GOOD_GATE + "[gate.thresholds]\nagreement = 0.9\n",
        6,
        "unknown threshold 'agreement' (known: duration, agreement_rate",
    ),
    (
        "option of the wrong type",
        GOOD_GATE + 'threshold = "high"\n',
        5,
        "gate 'shadow': 'threshold' must be a number, got string 'high'",
    ),
    (
        "option not finite",
        GOOD_GATE + "threshold = nan\n",
        5,
        "'threshold' must be a finite number",
    ),
    (
        "option below its minimum",
        GOOD_GATE + "top = 0\n",
        5,
        "'top' must be >= 1, got 0",
    ),
    (
        "bad time",
        GOOD_GATE + 'since = "yesterday"\n',
        5,
        "gate 'shadow': 'since' 'yesterday' is not an ISO date",
    ),
    (
        "duplicate gate names",
        GOOD_GATE + '\n[[gate]]\nname = "shadow"\nkind = "shadow"\npaths = ["y"]\n',
        7,
        "gate 'shadow': duplicate gate name (first defined on line 2)",
    ),
    (
        "unknown key",
        GOOD_GATE + '\n[[gate]]\nname = "canary-5pct"\nkind = "shadow"\npaths = ["y"]\n'
        'metrc = "clicked"\n',
        10,
        "gate 'canary-5pct': unknown key 'metrc' (known: name, kind, paths, required",
    ),
    (
        "unknown key close to a known one",
        GOOD_GATE + 'primary_column = "score"\n',
        5,
        "unknown key 'primary_column' - did you mean 'primary_col'?",
    ),
    (
        "unknown top-level key",
        "version = 2\n\n" + GOOD_GATE,
        1,
        "unknown top-level key 'version' (known: gate",
    ),
    (
        "required not a boolean",
        GOOD_GATE + 'required = "no"\n',
        5,
        "'required' must be true or false, got string",
    ),
    (
        "missing name",
        GOOD_GATE + '\n[[gate]]\nkind = "shadow"\npaths = ["y"]\n',
        6,
        "gate #2: missing key 'name'",
    ),
    (
        "missing kind",
        '[[gate]]\nname = "s"\npaths = ["y"]\n',
        1,
        "gate 's': missing key 'kind' (one of: shadow, canary, interleave, bandit)",
    ),
    (
        "no gates",
        "# nothing here\n",
        1,
        "no gates",
    ),
    (
        "nothing required",
        GOOD_GATE + "required = false\n",
        1,
        "every gate has required = false",
    ),
    (
        "not TOML",
        '[[gate]]\nname = "s"\nkind =\n',
        3,
        "not valid TOML",
    ),
    (
        "missing config file",
        GOOD_GATE + 'config = "no-such-thresholds.toml"\n',
        5,
        "no-such-thresholds.toml: config file not found",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [case[1:] for case in BAD_POLICIES],
    ids=[case[0] for case in BAD_POLICIES],
)
def test_bad_policy_is_one_line_with_file_and_line_and_exit_2(
    run_cli, tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(text)
    junit = tmp_path / "junit.xml"
    result = run_cli("gate", policy, "--junit", junit, "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"abtool: error: {policy}:{line}: ")
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert not junit.exists()  # nothing ran


def test_policy_is_validated_before_any_gate_runs(run_cli, tmp_path: Path) -> None:
    # The first gate's log does not exist; the error must still be the second gate's typo.
    policy = tmp_path / "policy.toml"
    policy.write_text(
        GOOD_GATE + '\n[[gate]]\nname = "b"\nkind = "shadow"\npaths = ["y"]\ntop = "x"\n'
    )
    result = run_cli("gate", policy)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"abtool: error: {policy}:10: gate 'b': 'top' must be an integer"
    )


def test_missing_policy_file(run_cli, tmp_path: Path) -> None:
    result = run_cli("gate", tmp_path / "nope.toml")
    assert result.exit_code == 2
    assert result.stderr == f"abtool: error: {tmp_path / 'nope.toml'}: policy file not found\n"


def test_settings_reach_the_report_dataclasses(tmp_path: Path) -> None:
    (tmp_path / "thresholds.toml").write_text("[shadow]\nduration = 12\nlatency_p99 = 2\n")
    policy = tmp_path / "policies" / "rollout.toml"
    policy.parent.mkdir()
    policy.write_text(
        """\
[[gate]]
name = "shadow"
kind = "shadow"
paths = ["../logs/date=*/", "/abs/shadow.parquet"]
required = false
threshold = 1
segment = "device"
top = 3
since = "2025-04-28"
primary_col = "score_v1"
id_col = ["request_id", "trace_id"]
config = "../thresholds.toml"
[gate.thresholds]
latency_p99 = 1.25

[[gate]]
name = "shadow-strict"
kind = "shadow"
paths = ["shadow.parquet"]
"""
    )
    loaded = load_policy(policy)
    first, second = loaded.gates
    assert first.name == "shadow" and first.kind == "shadow" and first.required is False
    assert first.paths == (
        os.path.join(str(policy.parent), "../logs/date=*/"),
        "/abs/shadow.parquet",
    )
    assert first.options.threshold == 1.0 and isinstance(first.options.threshold, float)
    assert first.options.segments == ("device",)
    assert first.options.top == 3
    assert first.options.since == "2025-04-28"
    assert first.columns.primary == "score_v1"
    assert first.columns.shadow == "shadow_prediction"  # untouched default
    assert first.columns.id_columns == ("request_id", "trace_id")
    # defaults, then the config file, then the policy's own overrides
    assert first.thresholds == ShadowThresholds(duration=12.0, latency_p99=1.25)
    assert first.location == f"{policy}:1"
    assert second.required is True
    assert second.thresholds == ShadowThresholds()
    assert second.location == f"{policy}:16"


def test_gates_as_an_inline_array_point_at_the_gate_key() -> None:
    text = 'gate = [\n  { name = "s", kind = "shadow", paths = [] },\n]\n'
    with pytest.raises(ConfigError, match=r"^p\.toml:1: gate 's': 'paths' must not be empty"):
        parse_policy(text, "p.toml")
