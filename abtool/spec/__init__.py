"""One declaration per command, from which its CLI, gate kind, ``--config`` table and docs derive.

A command declares three frozen dataclasses (see :mod:`abtool.commands`):

* its **columns** — each field made with :func:`column`: the log's column names;
* its **options** — each field made with :func:`option`: flag, help, range, choices;
* its **thresholds** — each field made with :func:`threshold`: named after a check id (or a
  qualifier of one), with its default, meaning and range;

plus a :class:`CommandSpec` that names them with the command's checks (:class:`CheckSpec`).
The Typer command (``abtool.cli.build``), the gate kind's policy keys (``abtool.gate.kinds``),
the ``--config`` table (``abtool.config``) and the reference tables in the docs
(``abtool.docs``) are all read from these declarations, and one :func:`validate` checks a value
wherever it comes from (command line, policy, Python call), so nothing is declared twice.

A setting's **key** is its flag without dashes, ``_`` for ``-`` (``--min-segment-rows`` ->
``min_segment_rows``): the policy key, the Python keyword and the Typer parameter name.
"""

from abtool.spec.command import CheckSpec, CommandSpec, check_all, check_thresholds
from abtool.spec.fields import (
    ANY,
    AT_LEAST_ONE,
    FRACTION,
    NON_NEGATIVE,
    OPEN_FRACTION,
    POSITIVE,
    Limit,
    Range,
    Role,
    Setting,
    column,
    column_list,
    option,
    threshold,
)
from abtool.spec.values import (
    BoundLimit,
    BoundSetting,
    Problem,
    ValueType,
    bound_limits,
    bound_settings,
    check_number,
    type_name,
    validate,
)

__all__ = [
    "ANY",
    "AT_LEAST_ONE",
    "FRACTION",
    "NON_NEGATIVE",
    "OPEN_FRACTION",
    "POSITIVE",
    "BoundLimit",
    "BoundSetting",
    "CheckSpec",
    "CommandSpec",
    "Limit",
    "Problem",
    "Range",
    "Role",
    "Setting",
    "ValueType",
    "bound_limits",
    "bound_settings",
    "check_all",
    "check_number",
    "check_thresholds",
    "column",
    "column_list",
    "option",
    "threshold",
    "type_name",
    "validate",
]
