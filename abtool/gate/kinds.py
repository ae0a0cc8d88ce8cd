"""The gate kinds a policy may name, and how each policy key reaches the report function.

A kind is one :class:`KindSpec`, built by its factory in :data:`_FACTORIES`. Its ``settings``
map every policy key (the command's option name with ``_`` for ``-``, e.g. ``primary_col`` for
``--primary-col``) onto a field of the report's columns or options dataclass, with the value's
type. The policy loader validates against the spec and the runner calls the report function
with the dataclasses it builds, so nothing else in :mod:`abtool.gate` knows any kind by name.

Registered: ``shadow`` (``shadow-report``), ``canary`` (``canary-decide``) and ``interleave``
(``interleave-report``). Adding a kind is one entry in :data:`_FACTORIES`; see :func:`_shadow`
for the template and the "Extension points" comment at the end of the module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any

from abtool.errors import ConfigError
from abtool.render.blocks import fmt_number, fmt_pvalue, fmt_rate

if TYPE_CHECKING:
    from abtool.reports.result import Report


class ValueType(Enum):
    """The TOML type a setting takes, described the way error messages name it."""

    TEXT = "a string"
    INTEGER = "an integer"
    NUMBER = "a number"
    BOOLEAN = "true or false"
    TEXT_LIST = "a string or a list of strings"


@dataclass(frozen=True)
class Setting:
    """One policy key of a kind and the dataclass field it fills.

    Attributes:
        target: ``"columns"`` or ``"options"``: which dataclass of the report call gets it.
        field: the field name in that dataclass.
        type: the value's TOML type; lists become tuples, integers given for a number become
            floats, numbers must be finite.
        minimum: the smallest accepted value of an INTEGER or NUMBER.
        maximum: the largest accepted value of an INTEGER or NUMBER.
        choices: the accepted values of a TEXT setting (e.g. ``metric_type``).
        check: further validation of the (converted) value; raises an AbtoolError whose
            message names the problem (the loader adds file, line and gate).
    """

    target: str
    field: str
    type: ValueType
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    check: Callable[[Any], None] | None = None

    def convert(self, key: str, value: Any) -> Any:
        """The value as the dataclass field wants it.

        Raises:
            ConfigError: the value has the wrong type or is out of range (message without
                location; the loader adds it).
        """
        converted = _convert(self.type, key, value)
        if self.minimum is not None and converted < self.minimum:
            raise ConfigError(f"'{key}' must be >= {self.minimum:g}, got {converted}")
        if self.maximum is not None and converted > self.maximum:
            raise ConfigError(f"'{key}' must be <= {self.maximum:g}, got {converted}")
        if self.choices is not None and converted not in self.choices:
            raise ConfigError(
                f"'{key}' must be one of {', '.join(self.choices)}; got {converted!r}"
            )
        if self.check is not None:
            self.check(converted)
        return converted


@dataclass(frozen=True)
class KindSpec:
    """Everything the gate needs to run one kind of report.

    Attributes:
        name: the ``kind`` value in the policy (``shadow``).
        command: the CLI command it mirrors (``shadow-report``); also the report's ``command``.
        section: the thresholds table name in a ``--config`` file (``shadow``).
        report: ``report(paths, *, columns, options, thresholds, progress) -> Report``.
        columns_cls: the report's column-names dataclass.
        options_cls: the report's options dataclass.
        thresholds_cls: the thresholds dataclass (field names are check ids).
        settings: policy key -> :class:`Setting`.
        key_figures: one line of the headline numbers, built from the report's JSON dict.
        validate: optional check of the built ``(columns, options, thresholds)`` that the
            report would otherwise make only when it runs (e.g. a CI level in (0, 1)); raises
            an AbtoolError, which the loader reports at the gate's line before anything runs.
    """

    name: str
    command: str
    section: str
    report: Callable[..., Report]
    columns_cls: type[Any]
    options_cls: type[Any]
    thresholds_cls: type[Any]
    settings: Mapping[str, Setting]
    key_figures: Callable[[dict[str, Any]], str]
    validate: Callable[[Any, Any, Any], None] | None = None

    def build(self, values: Mapping[str, Any]) -> tuple[Any, Any]:
        """The (columns, options) dataclasses from converted setting values."""
        by_target: dict[str, dict[str, Any]] = {"columns": {}, "options": {}}
        for key, value in values.items():
            setting = self.settings[key]
            by_target[setting.target][setting.field] = value
        return self.columns_cls(**by_target["columns"]), self.options_cls(**by_target["options"])


def _convert(kind: ValueType, key: str, value: Any) -> Any:
    def wrong() -> ConfigError:
        return ConfigError(f"'{key}' must be {kind.value}, got {toml_type(value)} {value!r}")

    if kind is ValueType.TEXT:
        if not isinstance(value, str):
            raise wrong()
        if not value:
            raise ConfigError(f"'{key}' must not be empty")
        return value
    if kind is ValueType.BOOLEAN:
        if not isinstance(value, bool):
            raise wrong()
        return value
    if kind is ValueType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong()
        return value
    if kind is ValueType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong()
        if not math.isfinite(value):
            raise ConfigError(f"'{key}' must be a finite number, got {value}")
        return float(value)
    assert kind is ValueType.TEXT_LIST
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
        raise wrong()
    if not items:
        raise ConfigError(f"'{key}' must not be an empty list")
    return tuple(items)


def toml_type(value: Any) -> str:
    """The TOML name of a parsed value's type, for error messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return "date-time"


def _check_time(key: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        from abtool.logs.source import parse_time

        parse_time(value, key)

    return check


def column(field: str) -> Setting:
    """A column-name setting (``*_col`` keys)."""
    return Setting("columns", field, ValueType.TEXT)


def time_window() -> dict[str, Setting]:
    """The ``since`` / ``until`` settings every report takes (ISO date or date-time)."""
    return {
        "since": Setting("options", "since", ValueType.TEXT, check=_check_time("since")),
        "until": Setting("options", "until", ValueType.TEXT, check=_check_time("until")),
    }


def check_value(report: dict[str, Any], check_id: str) -> Any:
    """The measured value of a check in a report dict (None if absent or skipped)."""
    for check in report.get("checks", []):
        if check["id"] == check_id:
            return check["value"]
    return None


def _shadow_figures(report: dict[str, Any]) -> str:
    stats = report["stats"]
    parts = [
        f"agreement {fmt_rate(stats.get('agreement_rate'))}",
        f"KS D {fmt_number(stats.get('ks_statistic'))}",
    ]
    ratio = check_value(report, "latency_p99")
    if ratio is not None:
        parts.append(f"p99 {ratio:.2f}x")
    if stats.get("shadow_error_rate") is not None:
        parts.append(f"errors {fmt_rate(stats['shadow_error_rate'])}")
    parts.append(f"{stats.get('duration_hours', 0.0):.1f} h")
    parts.append(f"{fmt_number(stats.get('rows'))} rows")
    return ", ".join(parts)


def _shadow() -> KindSpec:
    """``shadow``: ``abtool shadow-report`` (keys mirror its options)."""
    from abtool.config import ShadowThresholds
    from abtool.logs.shadow import ShadowColumns
    from abtool.reports.shadow import ShadowOptions, shadow_report

    return KindSpec(
        name="shadow",
        command="shadow-report",
        section="shadow",
        report=shadow_report,
        columns_cls=ShadowColumns,
        options_cls=ShadowOptions,
        thresholds_cls=ShadowThresholds,
        settings={
            "threshold": Setting("options", "threshold", ValueType.NUMBER),
            "segment": Setting("options", "segments", ValueType.TEXT_LIST),
            "top": Setting("options", "top", ValueType.INTEGER, minimum=1),
            "min_segment_rows": Setting(
                "options", "min_segment_rows", ValueType.INTEGER, minimum=1
            ),
            **time_window(),
            "time_col": column("time"),
            "primary_col": column("primary"),
            "shadow_col": column("shadow"),
            "primary_latency_col": column("primary_latency"),
            "shadow_latency_col": column("shadow_latency"),
            "error_col": column("shadow_error"),
            "id_col": Setting("columns", "id_columns", ValueType.TEXT_LIST),
        },
        key_figures=_shadow_figures,
    )


def _check_open_range(key: str, low: float, high: float, what: str) -> Callable[[Any], None]:
    """A check that ``low < value < high`` (Setting's minimum/maximum are inclusive)."""

    def check(value: Any) -> None:
        if not low < value < high:
            raise ConfigError(f"'{key}' must be {what}, got {value:g}")

    return check


def _signed(value: Any) -> str:
    return "n/a" if value is None else f"{value:+.4g}"


def _canary_figures(report: dict[str, Any]) -> str:
    stats = report["stats"]
    metric = stats.get("metric")
    if metric is None:
        parts = ["no metric"]
    else:
        level = f"{100 * (1 - metric['alpha']):g}% CI"
        lift = f"{metric['name']} lift {_signed(metric.get('lift_abs'))}"
        if metric.get("lift_rel") is not None:
            lift += f" ({100 * metric['lift_rel']:+.2f}%)"
        if metric.get("ci_low") is not None:
            lift += f" {level} [{_signed(metric['ci_low'])}, {_signed(metric['ci_high'])}]"
        parts = [lift, f"p {fmt_pvalue(metric.get('pvalue'))}"]
    parts.append(f"SRM p {fmt_pvalue(stats.get('srm_pvalue'))}")
    stage, following = stats.get("stage"), stats.get("next_stage")
    if following is None:
        parts.append("no stage given")
    elif stage is None:
        parts.append(f"next stage {following:g}%")
    else:
        parts.append(f"stage {stage:g}% -> {following:g}%")
    return ", ".join(parts)


def _canary() -> KindSpec:
    """``canary``: ``abtool canary-decide`` (keys mirror its options)."""
    from abtool.config import CanaryThresholds
    from abtool.logs.canary import CanaryColumns
    from abtool.reports.canary import METRIC_TYPES, CanaryOptions, canary_report, validate_settings

    return KindSpec(
        name="canary",
        command="canary-decide",
        section="canary",
        report=canary_report,
        columns_cls=CanaryColumns,
        options_cls=CanaryOptions,
        thresholds_cls=CanaryThresholds,
        settings={
            # A string or a list: the first column is the primary metric.
            "metric": Setting("options", "metrics", ValueType.TEXT_LIST),
            "metric_type": Setting("options", "metric_type", ValueType.TEXT, choices=METRIC_TYPES),
            "stage": Setting(
                "options",
                "stage",
                ValueType.NUMBER,
                check=_check_open_range(
                    "stage", 0, 100, "a percentage between 0 and 100 (exclusive)"
                ),
            ),
            "control": Setting("options", "control", ValueType.TEXT),
            "treatment": Setting("options", "treatment", ValueType.TEXT),
            "segment": Setting("options", "segments", ValueType.TEXT_LIST),
            "allow_neutral": Setting("options", "allow_neutral", ValueType.BOOLEAN),
            "bootstrap": Setting("options", "bootstrap", ValueType.INTEGER, minimum=0),
            # numpy generators take non-negative seeds only.
            "seed": Setting("options", "seed", ValueType.INTEGER, minimum=0),
            "salt": Setting("options", "salt", ValueType.TEXT),
            **time_window(),
            "unit": column("unit"),
            "variant_col": column("variant"),
            "time_col": column("time"),
            "prediction_col": column("prediction"),
            "latency_col": column("latency"),
            "error_col": column("error"),
        },
        key_figures=_canary_figures,
        validate=lambda _columns, options, thresholds: validate_settings(options, thresholds),
    )


def _interleave_figures(report: dict[str, Any]) -> str:
    stats = report["stats"]
    b_name = stats.get("teams", {}).get("b", {}).get("name", "B")
    level = f"{100 * stats.get('confidence', 0.95):g}% CI"
    return ", ".join(
        [
            f"{b_name} win rate {fmt_rate(stats.get('win_rate_b'))}",
            f"delta {_signed(stats.get('delta_ab'))} {level} "
            f"[{_signed(stats.get('ci_low'))}, {_signed(stats.get('ci_high'))}]",
            f"p {fmt_pvalue(stats.get('pvalue'))}",
            f"{fmt_number(stats.get('decisive_sessions'))} decisive of "
            f"{fmt_number(stats.get('sessions'))} sessions",
        ]
    )


def _interleave() -> KindSpec:
    """``interleave``: ``abtool interleave-report`` (keys mirror its options)."""
    from abtool.config import InterleaveThresholds
    from abtool.logs.interleave import InterleaveColumns
    from abtool.reports.interleave import InterleaveOptions, interleave_report, validate_settings

    return KindSpec(
        name="interleave",
        command="interleave-report",
        section="interleave",
        report=interleave_report,
        columns_cls=InterleaveColumns,
        options_cls=InterleaveOptions,
        thresholds_cls=InterleaveThresholds,
        settings={
            "a_name": Setting("options", "a_name", ValueType.TEXT),
            "b_name": Setting("options", "b_name", ValueType.TEXT),
            "bootstrap": Setting("options", "bootstrap", ValueType.INTEGER, minimum=1),
            "confidence": Setting(
                "options",
                "confidence",
                ValueType.NUMBER,
                check=_check_open_range("confidence", 0, 1, "in (0, 1)"),
            ),
            "seed": Setting("options", "seed", ValueType.INTEGER, minimum=0),
            "team_a": Setting("columns", "team_a", ValueType.TEXT),
            "team_b": Setting("columns", "team_b", ValueType.TEXT),
            "session_col": column("session"),
            "position_col": column("position"),
            "item_col": column("item"),
            "team_col": column("team"),
            "clicked_col": column("clicked"),
            "attribution_col": column("attribution"),
            "clicked_items_col": column("clicked_items"),
        },
        key_figures=_interleave_figures,
        validate=lambda _columns, options, thresholds: validate_settings(options, thresholds),
    )


# Extension points. A new kind is a factory like `_shadow` plus one line in `_FACTORIES`: the
# report function must take (paths, *, columns, options, thresholds, progress) and return a
# Report; its settings mirror the command's options (`_` for `-`, repeatable options as
# TEXT_LIST); `validate` calls the report's own option/threshold checks so that a bad value fails
# at load time. The loader, the runner, JUnit and every renderer need nothing else.
_FACTORIES: dict[str, Callable[[], KindSpec]] = {
    "shadow": _shadow,
    "canary": _canary,
    "interleave": _interleave,
}


def kind_names() -> Sequence[str]:
    """The kinds a policy may name, in registry order."""
    return tuple(_FACTORIES)


@cache
def get_kind(name: str) -> KindSpec:
    """The spec of a registered kind (KeyError if there is none).

    Specs are built on first use so that importing the registry does not load Polars.
    """
    return _FACTORIES[name]()
