"""Typer commands generated from command specs: one declaration, no hand-written signature.

Typer reads a command's options from its function signature. For a spec-declared command the
signature is built here from the spec's settings (:func:`abtool.spec.bound_settings`): each
setting becomes an ``Annotated[type, typer.Option(flag, help=...)]`` parameter named by its
key, then the shared edge options (``--config``, ``--format``, ``--output``) follow. The
function hands every value to :func:`abtool.cli.run.run_command`, which validates them with
the same rule a policy or a Python call goes through.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from abtool.cli.options import ConfigOption, FormatOption, OutputOption, Paths
from abtool.render import OutputFormat
from abtool.spec import BoundSetting, CommandSpec, ValueType

_CLI_TYPES: dict[ValueType, Any] = {
    ValueType.TEXT: str,
    ValueType.INTEGER: int,
    ValueType.NUMBER: float,
    ValueType.BOOLEAN: bool,
    ValueType.TEXT_LIST: list[str],
}


def help_text(bound: BoundSetting) -> str:
    """The ``--help`` line of a setting: its help, then its range or choices."""
    setting = bound.setting
    text = setting.help
    if setting.range is not None:
        text += f" [{setting.range.describe()}]"
    if setting.choices is not None:
        text += f" [one of: {', '.join(setting.choices)}]"
    return text


def _parameter(bound: BoundSetting) -> inspect.Parameter:
    setting = bound.setting
    # A list's items are parsed one by one (abtool.spec.validate): it stays a list here.
    parsed_from_text = setting.parse is not None and bound.type is not ValueType.TEXT_LIST
    base = str if parsed_from_text else _CLI_TYPES[bound.type]
    # Lists and parsed values arrive as None when not given: the field's default then applies.
    takes_none = bound.optional or parsed_from_text or bound.type is ValueType.TEXT_LIST
    cli_type = base | None if takes_none else base
    default = None if takes_none else bound.default
    declarations = [setting.flag] + ([setting.short] if setting.short else [])
    info = typer.Option(
        *declarations,
        help=help_text(bound),
        metavar=setting.metavar or ("<str>" if bound.type is ValueType.TEXT_LIST else None),
        show_default=default is not None and not isinstance(default, bool),
    )
    return inspect.Parameter(
        bound.key,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        default=default,
        annotation=Annotated[cli_type, info],
    )


def _edge(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation
    )


def typer_command(spec: CommandSpec) -> Callable[..., None]:
    """The function Typer registers for ``spec``: its signature is the spec's settings."""
    parameters = []
    if spec.reads_logs:
        parameters.append(
            inspect.Parameter("paths", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Paths)
        )
    parameters += [_parameter(b) for b in spec.settings() if b.setting.cli]
    if spec.thresholds is not None:
        parameters.append(_edge("config", ConfigOption, None))
    parameters += [
        _edge("fmt", FormatOption, OutputFormat.rich),
        _edge("output", OutputOption, None),
    ]

    def command(**values: Any) -> None:
        from abtool.cli.run import run_command

        run_command(spec, values)

    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__doc__ = spec.summary
    command.__name__ = spec.name.replace("-", "_")
    return command
