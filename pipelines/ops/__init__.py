"""Dagster ops and op jobs: job polling, offer management, report exports, bulk variant admin."""
