"""A command's spec: its dataclasses, checks and verdicts, and what every edge derives from them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from abtool.reports.result import Check, Consequence, Verdicts
from abtool.spec.fields import Role
from abtool.spec.values import (
    BoundSetting,
    bound_limits,
    bound_settings,
    check_number,
    validate,
)


@dataclass(frozen=True)
class CheckSpec:
    """A check a command runs: its id, what a failure does, and when it passes (for the docs).

    Attributes:
        id: the check id (and the name of its threshold field, where it has one).
        consequence: what its failure does; a check whose consequence depends on the
            direction of an effect lists the harsher one here and says so in ``passes``.
        passes: when it passes, in words (the docs' "passes when" column).
    """

    id: str
    consequence: Consequence
    passes: str


@dataclass(frozen=True)
class CommandSpec:
    """Everything that defines one command (see the module docstring).

    Attributes:
        name: the command, e.g. ``shadow-report``.
        summary: one line for ``abtool --help`` and the docs.
        options: the options dataclass.
        run: ``module:function`` of the library function that runs it.
        render: the module with ``sections(report)`` (and ``key_figures``) of its output.
        columns: the columns dataclass (commands that read logs).
        thresholds: the thresholds dataclass (commands with checks).
        checks: the checks, in checklist order.
        verdicts: the verdicts it speaks.
        kind: its gate kind in a rollout policy (None: not a gate kind).
        section: its table in a ``--config`` file.
        check: checks of combinations of settings, ``check(columns, options, thresholds)``,
            run before any log is read (raises an AbtoolError).
        prefetch: modules the command line imports on a thread while the log is read (see
            :mod:`abtool.prefetch`; only where ``make bench`` shows it pays).
    """

    name: str
    summary: str
    options: type[Any]
    run: str
    render: str
    columns: type[Any] | None = None
    thresholds: type[Any] | None = None
    checks: tuple[CheckSpec, ...] = ()
    verdicts: Verdicts | None = None
    kind: str | None = None
    section: str | None = None
    check: Callable[[Any, Any, Any], None] | None = None
    prefetch: tuple[str, ...] = ()

    @property
    def reads_logs(self) -> bool:
        return self.columns is not None

    def settings(self) -> tuple[BoundSetting, ...]:
        """Every setting: options first, then columns."""
        classes = (self.options,) if self.columns is None else (self.options, self.columns)
        return bound_settings(*classes)

    def setting(self, key: str) -> BoundSetting:
        for bound in self.settings():
            if bound.key == key:
                return bound
        raise KeyError(key)

    def check_spec(self, check_id: str) -> CheckSpec:
        for spec in self.checks:
            if spec.id == check_id:
                return spec
        raise KeyError(check_id)

    def make_check(
        self,
        check_id: str,
        passed: bool | None,
        value: float | None,
        threshold: float | None,
        message: str,
        *,
        consequence: Consequence | None = None,
        required: bool = False,
    ) -> Check:
        """A check result carrying its declared consequence (KeyError: undeclared id).

        ``consequence`` overrides the declared one for a check whose failure depends on the
        direction of an effect (declared as the harsher of the two).
        """
        declared = self.check_spec(check_id).consequence
        return Check(check_id, passed, value, threshold, message, consequence or declared, required)

    def runner(self) -> Callable[..., Any]:
        """The library function that runs the command (imported on first use)."""
        import importlib

        module, _, function = self.run.partition(":")
        runner: Callable[..., Any] = getattr(importlib.import_module(module), function)
        return runner

    def build(
        self,
        values: Mapping[str, Any],
        *,
        name: Callable[[BoundSetting], str] = lambda b: b.key,
        columns: Any = None,
        options: Any = None,
    ) -> tuple[Any, Any]:
        """The (columns, options) dataclasses from setting values by key, each validated.

        ``columns``/``options`` are the bases the values override (default: the defaults).

        Raises:
            Problem: a value is not accepted (the message names it with ``name(bound)``).
            KeyError: an unknown key.
        """
        changes: dict[Role, dict[str, Any]] = {Role.OPTION: {}, Role.COLUMN: {}}
        for key, value in values.items():
            bound = self.setting(key)
            changes[bound.role][bound.field] = validate(bound, value, name(bound))
        built_options = dataclasses.replace(
            options if options is not None else self.options(), **changes[Role.OPTION]
        )
        if self.columns is None:
            return None, built_options
        built_columns = dataclasses.replace(
            columns if columns is not None else self.columns(), **changes[Role.COLUMN]
        )
        return built_columns, built_options


def check_all(spec: CommandSpec, columns: Any, options: Any) -> None:
    """Every setting's value in ``columns``/``options`` that is not its default is accepted.

    Raises:
        Problem: names the setting by its key.
    """
    for bound in spec.settings():
        holder = options if bound.role is Role.OPTION else columns
        value = getattr(holder, bound.field)
        if value != bound.default:  # defaults are valid by declaration
            validate(bound, value, bound.key)


def check_thresholds(cls: type[Any], values: Any, where: str) -> None:
    """Every threshold of ``values`` inside its declared range.

    Raises:
        Problem: names ``where`` and the threshold.
    """
    for bound in bound_limits(cls):
        value = getattr(values, bound.name)
        check_number(
            f"{where}threshold '{bound.name}'",
            value,
            bound.limit.range,
            integer=bound.limit.integer,
        )
