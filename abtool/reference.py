"""The reference docs, generated from the command specs and ``--help``.

``docs/cli.md`` holds every command's ``--help`` and, for spec-declared commands, the tables of
options (with their policy keys) and checks (with consequence and default threshold). The README
holds the check tables between ``<!-- reference:checks COMMAND -->`` and ``<!-- /reference -->``
markers. A test regenerates both and fails on any drift; to update them::

    python -m abtool.reference --write
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from abtool.commands import all_specs
from abtool.spec import CommandSpec, bound_limits

ROOT = Path(__file__).resolve().parents[1]
CLI_DOC = ROOT / "docs" / "cli.md"
README = ROOT / "README.md"
WIDTH = 100
_BLOCK = re.compile(
    r"(<!-- reference:(?P<kind>\w+) (?P<command>[\w-]+) -->\n)(?P<body>.*?)(<!-- /reference -->)",
    re.DOTALL,
)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _default(value: Any) -> str:
    if value is None or value == ():
        return ""
    if isinstance(value, tuple):
        return ", ".join(f"`{v}`" for v in value)
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    return f"`{value}`"


def options_table(spec: CommandSpec) -> str:
    """Markdown table of a command's options: flag, default, what it sets, policy key."""
    lines = ["| option | default | meaning | policy key |", "|---|---|---|---|"]
    for bound in spec.settings():
        setting = bound.setting
        if not setting.cli:
            continue
        flag = f"`{setting.flag}`" + (f", `{setting.short}`" if setting.short else "")
        meaning = setting.help
        if setting.range is not None:
            meaning += f" ({setting.range.describe()})"
        if setting.choices is not None:
            meaning += f" (one of {', '.join(setting.choices)})"
        key = f"`{bound.key}`" if setting.policy and spec.kind is not None else ""
        lines.append(f"| {flag} | {_default(bound.default)} | {_cell(meaning)} | {key} |")
    return "\n".join(lines) + "\n"


def checks_table(spec: CommandSpec) -> str:
    """Markdown table of a command's checks: id, when it passes, default, consequence."""
    limits = {b.name: b for b in bound_limits(spec.thresholds)} if spec.thresholds else {}
    lines = [
        "| check id | passes when | default | a failure means |",
        "|---|---|---|---|",
    ]
    for check in spec.checks:
        limit = limits.get(check.id)
        default = f"`{limit.default:g}`" if limit is not None else ""
        lines.append(
            f"| `{check.id}` | {_cell(check.passes)} | {default} | {check.consequence.value} |"
        )
    qualifiers = [b for name, b in limits.items() if name not in {c.id for c in spec.checks}]
    for bound in qualifiers:
        lines.append(
            f"| `{bound.name}` | {_cell(bound.limit.help)} | `{bound.default:g}` | "
            "(qualifies a check) |"
        )
    return "\n".join(lines) + "\n"


def command_help(args: list[str]) -> str:
    """The ``--help`` text of ``abtool ARGS`` at a fixed width."""
    import typer.main

    from abtool.cli import app

    command: Any = typer.main.get_command(app)
    names = ["abtool"]
    for arg in args:
        context = command.context_class(command, info_name=" ".join(names))
        command = command.get_command(context, arg)
        names.append(arg)
    context = command.context_class(
        command, info_name=" ".join(names), terminal_width=WIDTH, max_content_width=WIDTH
    )
    text: str = command.get_help(context)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"


def _other_commands() -> list[list[str]]:
    import typer.main

    from abtool.cli import app

    group: Any = typer.main.get_command(app)
    declared = {spec.name for spec in all_specs()}
    found: list[list[str]] = []
    for name, command in group.commands.items():
        if name in declared:
            continue
        sub = getattr(command, "commands", None)
        found += [[name, s] for s in sub] if sub else [[name]]
    return found


def cli_reference() -> str:
    """The whole of docs/cli.md."""
    parts = [
        "# Command-line reference",
        "",
        "Generated from the command specs and `--help` by `python -m abtool.reference --write`;",
        "a test fails when this file and the code disagree. Exit codes: 0 GO/PROMOTE, 1",
        "NO_GO/ROLLBACK, 2 usage error or unusable input, 3 HOLD. In a rollout policy (`abtool",
        "gate`) a gate takes its command's options by their policy key, and `[gate.thresholds]`",
        "takes the check ids; a `--config` file takes the check ids in the command's table.",
        "",
    ]
    for spec in all_specs():
        parts += [f"## `abtool {spec.name}`", "", "```", command_help([spec.name]).rstrip(), "```"]
        parts += ["", "### Options", "", options_table(spec)]
        if spec.checks:
            where = f"`[{spec.section}]` of `--config`" if spec.section else "thresholds"
            parts += [f"### Checks ({where})", "", checks_table(spec)]
    for args in _other_commands():
        parts += [
            f"## `abtool {' '.join(args)}`",
            "",
            "```",
            command_help(args).rstrip(),
            "```",
            "",
        ]
    return "\n".join(parts).rstrip() + "\n"


def _block(kind: str, command: str) -> str:
    spec = next(s for s in all_specs() if s.name == command)
    if kind == "checks":
        return checks_table(spec)
    if kind == "options":
        return options_table(spec)
    raise ValueError(f"unknown reference block '{kind}'")


def readme_with_references(text: str) -> str:
    """``text`` with every reference block regenerated."""

    def replace(found: re.Match[str]) -> str:
        body = _block(found.group("kind"), found.group("command"))
        return found.group(1) + body + found.group(5)

    return _BLOCK.sub(replace, text)


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print("usage: python -m abtool.reference --write", file=sys.stderr)
        return 2
    CLI_DOC.write_text(cli_reference(), encoding="utf-8")
    README.write_text(readme_with_references(README.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
