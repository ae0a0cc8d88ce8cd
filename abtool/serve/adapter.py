"""The one place where ``abtool serve`` calls :mod:`abtool.gate`.

:func:`evaluate_gate` turns (policy file, gate name, query parameters) into the JSON dict of that
gate, exactly as ``abtool gate POLICY --format json`` lists it under ``gates``. The server sees
only this dict, so a change in how policies are loaded or gates run is a change here alone.

The policy is read again on every call: reading and validating a policy takes well under a
millisecond next to reading logs, and a re-read sees an edited file (or a Kubernetes ConfigMap
swapped under its mount) and the ``config`` files it names at once, with no stale cache.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from abtool.errors import UsageError
from abtool.gate.policy import Gate, Policy, load_policy
from abtool.gate.run import run_policy
from abtool.serve.query import apply_query


class GateNotFound(UsageError):
    """The policy has no gate of the requested name."""


def evaluate_gate(
    policy_path: str | Path, name: str, params: Mapping[str, Sequence[str]] | None = None
) -> dict[str, Any]:
    """Run one gate of a policy on its current logs and return its JSON dict.

    Args:
        policy_path: the rollout policy TOML (read now, validated in full).
        name: the gate's ``name``.
        params: query parameters, ``{policy key: [values]}``, overriding the gate's options.

    Returns:
        The gate's dict (``name``, ``kind``, ``required``, ``location``, ``elapsed_seconds``,
        then the report: ``verdict``, ``exit_code``, ``reasons``, ``checks``, ``stats`` ...).
        Unusable logs do not raise: the dict has ``verdict: "ERROR"`` and the one-line
        ``error``, as in ``abtool gate``.

    Raises:
        ConfigError: the policy file is missing or invalid.
        GateNotFound: no gate has that name.
        QueryError: a parameter is unknown or its value invalid.
    """
    policy = load_policy(policy_path)
    gate = apply_query(find_gate(policy, name), params or {})
    run = run_policy(Policy(policy.path, (gate,)))
    return run.outcomes[0].to_dict()


def find_gate(policy: Policy, name: str) -> Gate:
    """The gate called ``name``.

    Raises:
        GateNotFound: one line naming the policy and its gates.
    """
    for gate in policy.gates:
        if gate.name == name:
            return gate
    names = ", ".join(g.name for g in policy.gates)
    raise GateNotFound(f"{policy.path}: no gate named '{name}' (gates: {names})")


def list_gates(policy_path: str | Path) -> list[dict[str, Any]]:
    """Name, kind and ``required`` of each gate, in file order (reads the policy now).

    Raises:
        ConfigError: the policy file is missing or invalid.
    """
    policy = load_policy(policy_path)
    return [{"name": g.name, "kind": g.kind, "required": g.required} for g in policy.gates]
