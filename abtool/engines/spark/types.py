"""Column types on Spark, spoken in the Polars types the schema checks and messages use.

The schema checks (:mod:`abtool.engines.polars.schema`) and every message naming a type are
shared by the engines, so a Spark column is described by the Polars type it corresponds to
(``LongType`` is ``Int64``, ``TimestampNTZType`` a naive ``Datetime("us")``, ``TimestampType``
a UTC ``Datetime("us", "UTC")``), and a unified Polars read type is turned into the Spark
type a column is cast to.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from pyspark.sql import types as T

_SIMPLE: dict[type[Any], pl.DataType] = {
    T.BooleanType: pl.Boolean(),
    T.ByteType: pl.Int8(),
    T.ShortType: pl.Int16(),
    T.IntegerType: pl.Int32(),
    T.LongType: pl.Int64(),
    T.FloatType: pl.Float32(),
    T.DoubleType: pl.Float64(),
    T.StringType: pl.String(),
    T.VarcharType: pl.String(),
    T.CharType: pl.String(),
    T.BinaryType: pl.Binary(),
    T.DateType: pl.Date(),
    T.TimestampNTZType: pl.Datetime("us"),
    T.TimestampType: pl.Datetime("us", "UTC"),
    T.NullType: pl.Null(),
}


def polars_type(spark_type: T.DataType) -> pl.DataType:
    """The Polars type a Spark column corresponds to (``Object`` for maps and the like,
    which no report accepts)."""
    for kind, dtype in _SIMPLE.items():
        if isinstance(spark_type, kind):
            return dtype
    if isinstance(spark_type, T.DecimalType):
        return pl.Decimal(spark_type.precision, spark_type.scale)
    if isinstance(spark_type, T.ArrayType):
        return pl.List(polars_type(spark_type.elementType))
    if isinstance(spark_type, T.StructType):
        return pl.Struct({f.name: polars_type(f.dataType) for f in spark_type.fields})
    return pl.Object()


def polars_schema(schema: T.StructType) -> dict[str, pl.DataType]:
    """A Spark frame's schema as Polars types."""
    return {field.name: polars_type(field.dataType) for field in schema.fields}


def spark_type(dtype: pl.DataType) -> str | None:
    """The Spark type (DDL) a column of unified Polars type ``dtype`` is read as; None where
    the natural Spark type is kept (lists, structs, a column that is null in every file)."""
    if isinstance(dtype, pl.Datetime):
        return "timestamp_ntz" if dtype.time_zone is None else "timestamp"
    if isinstance(dtype, pl.Decimal):
        return f"decimal({dtype.precision or 38},{dtype.scale or 0})"
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return "string"
    names = {
        pl.Boolean: "boolean",
        pl.Int8: "tinyint",
        pl.Int16: "smallint",
        pl.Int32: "int",
        pl.Int64: "bigint",
        pl.UInt8: "smallint",
        pl.UInt16: "int",
        pl.UInt32: "bigint",
        pl.UInt64: "decimal(20,0)",
        pl.Float32: "float",
        pl.Float64: "double",
        pl.String: "string",
        pl.Binary: "binary",
        pl.Date: "date",
    }
    for kind, name in names.items():
        if dtype == kind:
            return name
    return None
