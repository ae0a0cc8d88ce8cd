"""Small typed result records with one ``to_dict()``, the form every output renders from.

A record is a frozen dataclass whose fields are, in order, the keys of its JSON object. Values
are converted on the way out: nested records and dataclasses become objects, enums their
value, dates ISO strings, numpy scalars Python numbers, and NaN or infinity ``null`` (JSON has
no NaN). A field declared with :func:`optional_key` is left out of the JSON when it is None,
for keys that exist only in some modes of a report (e.g. ``labels`` for class labels). A field
declared with :func:`flattened` holds a record whose keys appear in the parent's object, so
typed parts (``stats.metric.lift.ci_low``) keep the JSON flat (``metric.ci_low``).
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime
from enum import Enum
from typing import Any

_OMIT_IF_NONE = "abtool.omit_if_none"
_FLATTEN = "abtool.flatten"


def optional_key(default: Any = None) -> Any:
    """A field that is absent from the JSON while it holds None."""
    return dataclasses.field(default=default, metadata={_OMIT_IF_NONE: True})


def flattened(*, optional: bool = False) -> Any:
    """A field holding a record whose keys are merged into the parent's JSON object.

    With ``optional``, the field defaults to None and adds no key while None.
    """
    metadata = {_FLATTEN: True, _OMIT_IF_NONE: optional}
    if optional:
        return dataclasses.field(default=None, metadata=metadata)
    return dataclasses.field(metadata=metadata)


class Record:
    """Mixin of the frozen dataclasses that make up a report: one ``to_dict()`` for all."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this record (keys in field order)."""
        return record_dict(self)


def record_dict(record: Any) -> dict[str, Any]:
    """The JSON object of any dataclass instance (see the module docstring)."""
    result: dict[str, Any] = {}
    for item in dataclasses.fields(record):
        value = getattr(record, item.name)
        if value is None and item.metadata.get(_OMIT_IF_NONE):
            continue
        if item.metadata.get(_FLATTEN):
            result.update(record_dict(value))
        else:
            result[item.name] = clean(value)
    return result


def clean(value: Any) -> Any:
    """Make a value JSON-safe (records, enums, dates, numpy scalars, NaN/inf -> None)."""
    if isinstance(value, Record):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return record_dict(value)
    if isinstance(value, dict):
        return {str(clean(k)): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, str):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
