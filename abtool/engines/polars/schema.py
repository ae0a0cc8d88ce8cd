"""Schema checks run before any work: every needed column exists with a usable type."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

import polars as pl

from abtool.errors import InputError


class Kind(Enum):
    """What a column must hold, with the message shown when it does not."""

    NUMBER = "a number"
    FLOAT = "a floating-point number"
    TIME = "a timestamp or date"
    BOOL = "a boolean"
    BOOL_OR_TEXT = "a boolean or an error string"
    LABEL = "a number, string, categorical or boolean"
    TEXT = "a string or categorical"
    ANY = "any type"
    LIST = "a list"
    KEY = "a number, string, categorical, boolean, time or binary id (not a list or struct)"
    SEGMENT = "a number, string, categorical, boolean or time (a value to group by)"


def matches(dtype: pl.DataType, kind: Kind) -> bool:
    """Whether ``dtype`` is acceptable for ``kind``."""
    if kind is Kind.ANY:
        return True
    if kind is Kind.NUMBER:
        return dtype.is_numeric() or dtype == pl.Boolean
    if kind is Kind.FLOAT:
        return dtype.is_float()
    if kind is Kind.TIME:
        return isinstance(dtype, pl.Datetime | pl.Date)
    if kind is Kind.BOOL:
        return dtype == pl.Boolean
    if kind is Kind.BOOL_OR_TEXT:
        return dtype == pl.Boolean or is_text(dtype) or dtype.is_integer()
    if kind is Kind.LABEL:
        return dtype.is_numeric() or dtype == pl.Boolean or is_text(dtype)
    if kind is Kind.TEXT:
        return is_text(dtype)
    if kind is Kind.LIST:
        return isinstance(dtype, pl.List | pl.Array)
    if kind is Kind.KEY:
        return not dtype.is_nested() and dtype != pl.Object
    if kind is Kind.SEGMENT:
        return not dtype.is_nested() and dtype not in (pl.Object, pl.Binary)
    raise AssertionError(kind)


def is_text(dtype: pl.DataType) -> bool:
    """String, categorical or enum."""
    return dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)


def require(
    schema: Mapping[str, pl.DataType], source: str, column: str, kind: Kind, option: str
) -> pl.DataType:
    """Check one required column; return its dtype.

    Raises:
        InputError: naming the file, the column, the option that sets it, and what is present.
    """
    if column not in schema:
        present = ", ".join(schema) or "none"
        raise InputError(
            f"{source}: missing column '{column}' "
            f"(set it with {option}; columns present: {present})"
        )
    dtype = schema[column]
    if not matches(dtype, kind):
        raise InputError(f"{source}: column '{column}' is {dtype}, expected {kind.value}")
    return dtype


def require_columns(
    schema: Mapping[str, pl.DataType], source: str, needed: Mapping[str, str]
) -> None:
    """Every column of ``needed`` (column -> the option that sets it) exists; all the missing
    ones are named in one message.

    Raises:
        InputError: naming the file, each missing column with its option, and what is present.
    """
    missing = [(column, option) for column, option in needed.items() if column not in schema]
    if not missing:
        return
    if len(missing) == 1:
        require(schema, source, missing[0][0], Kind.ANY, missing[0][1])
    named = ", ".join(f"'{column}' ({option})" for column, option in missing)
    present = ", ".join(schema) or "none"
    raise InputError(
        f"{source}: missing columns {named}; set them with those options "
        f"(columns present: {present})"
    )


def optional(
    schema: Mapping[str, pl.DataType], source: str, column: str | None, kind: Kind
) -> pl.DataType | None:
    """Like :func:`require` for a column that may be absent: None when it is."""
    if column is None or column not in schema:
        return None
    dtype = schema[column]
    if not matches(dtype, kind):
        raise InputError(f"{source}: column '{column}' is {dtype}, expected {kind.value}")
    return dtype


def missing_value(column: str, dtype: pl.DataType) -> pl.Expr:
    """True where ``column`` holds no usable value: null, or NaN in a float column."""
    expr = pl.col(column).is_null()
    if dtype.is_float():
        expr = expr | pl.col(column).is_nan()
    return expr


def error_flag(column: str, dtype: pl.DataType) -> pl.Expr:
    """True where a request errored: a true flag, a non-zero code or a non-empty message."""
    col = pl.col(column)
    if dtype == pl.Boolean:
        return col.fill_null(False)
    if dtype.is_integer():
        return col.fill_null(0) != 0
    return col.cast(pl.String).fill_null("").str.strip_chars().str.len_chars() > 0
