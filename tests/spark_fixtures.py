"""One local[2] Spark session per test module (``spark`` fixture), stopped after it.

A module's tests share the session; the JVM stays up between modules, so the next module's
session starts in a few seconds. Tests using it carry the ``spark`` marker.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark", reason="needs pyspark (the dev or spark extra)")
    from abtool.engines.spark_session import spark_session

    session = spark_session(master="local[2]")
    yield session
    session.stop()
