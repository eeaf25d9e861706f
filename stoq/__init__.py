"""Python client for the STOQ Preorders v2 API (httpx only; no Dagster, no DuckDB)."""

from stoq import errors
from stoq.client import DEFAULT_BASE_URL, StoqClient
from stoq.jobs import JobHandle, JobStatus
from stoq.pagination import Walk, WalkStats
from stoq.ratelimit import RateBudget
from stoq.stats import ClientStats

__all__ = [
    "DEFAULT_BASE_URL",
    "ClientStats",
    "JobHandle",
    "JobStatus",
    "RateBudget",
    "StoqClient",
    "Walk",
    "WalkStats",
    "errors",
]
