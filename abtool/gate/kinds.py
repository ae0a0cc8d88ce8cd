"""The gate kinds a policy may name: the command specs that declare a ``kind``.

A kind's policy keys are its command's settings (:mod:`abtool.spec`), so a gate accepts
exactly the options of the command it runs, checked by the same rule; nothing here names a
kind. Adding a kind is adding a command spec with ``kind`` set (see docs/design.md).
"""

from __future__ import annotations

from abtool.commands import gate_kinds
from abtool.spec import BoundSetting, CommandSpec


def kind_names() -> tuple[str, ...]:
    """The kinds a policy may name, in command order."""
    return tuple(gate_kinds())


def get_kind(name: str) -> CommandSpec:
    """The spec of a kind (KeyError if there is none)."""
    return gate_kinds()[name]


def policy_settings(spec: CommandSpec) -> dict[str, BoundSetting]:
    """The keys a gate of this kind may set, by key."""
    return {b.key: b for b in spec.settings() if b.setting.policy}
