"""The command specs: one declaration per command (see :mod:`abtool.spec`).

Importing a spec loads no heavy library, so ``abtool --help`` can build every command from
them. Adding a command is a module here with its dataclasses and a ``SPEC``, one entry in
:data:`_MODULES`, a report function and a render module (see docs/design.md).
"""

from __future__ import annotations

import importlib
from functools import cache

from abtool.spec import CommandSpec

# command name -> module holding its SPEC, in the order the CLI and the docs list them.
_MODULES = {
    "shadow-report": "abtool.commands.shadow",
    "canary-decide": "abtool.commands.canary",
    "interleave-report": "abtool.commands.interleave",
    "bandit-report": "abtool.commands.bandit",
    "sample-size": "abtool.commands.sample_size",
}


@cache
def command_spec(name: str) -> CommandSpec:
    """The spec of a command (KeyError if there is none)."""
    spec: CommandSpec = importlib.import_module(_MODULES[name]).SPEC
    return spec


def all_specs() -> tuple[CommandSpec, ...]:
    """Every command spec, in CLI order."""
    return tuple(command_spec(name) for name in _MODULES)


def gate_kinds() -> dict[str, CommandSpec]:
    """The specs a rollout policy can name, by kind."""
    return {spec.kind: spec for spec in all_specs() if spec.kind is not None}


def config_sections() -> dict[str, CommandSpec]:
    """The specs with a ``--config`` table, by table name."""
    return {spec.section: spec for spec in all_specs() if spec.section is not None}
