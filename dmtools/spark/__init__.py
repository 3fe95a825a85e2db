"""dmtools for Spark: PySpark data sources (PySpark 4's Python Data Source API).

=========================  =================================================================
``dailymotion.videos``     a channel's videos; partitions = creation-time windows read in
                           parallel by the executors (:mod:`dmtools.spark.videos`)
``dailymotion.analytics``  Reporting API results; partitions = report chunks
                           (:mod:`dmtools.spark.analytics`)
=========================  =================================================================

Needs ``pip install "dmtools[spark]"`` on the driver and on every executor.

Example:
    >>> from dmtools.spark import register
    >>> register(spark)                                                    # doctest: +SKIP
    >>> df = (spark.read.format("dailymotion.videos")
    ...       .option("grant", "client_credentials").option("client_id", KEY)
    ...       .option("client_secret", SECRET).option("fields", "title,views_total")
    ...       .load())                                                     # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__all__ = ["register"]


def register(spark: Any) -> None:
    """Register dmtools' data sources with a SparkSession (``spark.dataSource.register``)."""
    from dmtools.spark.analytics import AnalyticsDataSource
    from dmtools.spark.videos import VideosDataSource

    spark.dataSource.register(VideosDataSource)
    spark.dataSource.register(AnalyticsDataSource)
