"""A local Spark session for the tests of the Spark data sources (PySpark must be installed)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from _support import TESTS


@contextmanager
def local_spark(app_name: str) -> Iterator[Any]:
    """A ``local[2]`` session in UTC with the dmtools sources registered; its workers run
    this interpreter with the tests folder on their path (one JVM serves every session of a
    test process, so the environment is set for the session's life and put back after)."""
    from pyspark.sql import SparkSession

    from dmtools.spark import register

    saved = {k: os.environ.get(k) for k in ("PYSPARK_PYTHON", "PYTHONPATH")}
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), saved["PYTHONPATH"]) if p)
    session = (
        SparkSession.builder.master("local[2]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    register(session)
    try:
        yield session
    finally:
        session.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
