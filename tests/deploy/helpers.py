"""The deploy suite's shared pieces: the PostgreSQL server's address, a DAGSTER_HOME holding
deploy/dagster.yaml, and the environment that points Dagster at both."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

USER = "dagster"  # the server's superuser (trust auth on loopback: no password to leak)
PASSWORD = "unused-with-trust-auth"  # DAGSTER_PG_PASSWORD must be set; trust ignores it


@dataclass(frozen=True)
class Postgres:
    """A running server: where it listens and how to reach one of its databases."""

    host: str
    port: int
    user: str = USER

    def env(self, db: str) -> dict[str, str]:
        """The variables deploy/dagster.yaml reads, for database `db`."""
        return {
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": PASSWORD,
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": db,
        }

    def connect(self, db: str) -> psycopg.Connection:
        return psycopg.connect(host=self.host, port=self.port, user=self.user, dbname=db)


def deploy_home(folder: Path) -> Path:
    """A DAGSTER_HOME with deploy/dagster.yaml copied in unchanged (what an operator does)."""
    home = folder / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    return home


def deploy_env(home: Path, postgres: Postgres, db: str, **extra: str) -> dict[str, str]:
    """The parent's environment without STOQ_*/PREORDERS_*/DAGSTER_PG_* settings, plus the home,
    the database's DAGSTER_PG_* variables and `extra`."""
    prefixes = ("STOQ_", "PREORDERS_", "DAGSTER_PG_")
    base = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return base | {"DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"} | postgres.env(db) | extra
