"""Bulk delete: :mod:`dmtools.bulk.delete_plan` (the plan, pure) and
:mod:`dmtools.bulk.delete_apply` (carrying it out). This module keeps the names importable
from ``dmtools.bulk.deletes``.
"""

from __future__ import annotations

from dmtools.bulk.delete_apply import DeleteWorker, delete_videos
from dmtools.bulk.delete_plan import MAX_DELETES, MAX_SHARE, DeletePlan, delete_cap, plan_deletes

__all__ = [
    "MAX_DELETES",
    "MAX_SHARE",
    "DeletePlan",
    "DeleteWorker",
    "delete_videos",
    "delete_cap",
    "plan_deletes",
]
