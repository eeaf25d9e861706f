"""deploy/helm/values.yaml and deploy/Dockerfile by structure (no helm, no docker daemon here).

`helm template` needs the helm binary and the chart, neither of which this machine can fetch, so
the values file is checked against the keys Dagster's chart (dagster/dagster 1.13) reads for what
we set, and the instance the chart renders from them goes through Dagster's own config validation.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from posixpath import dirname
from typing import Any

import pytest
import yaml
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config

from tests.deploy.helpers import DEPLOY, ROOT

VALUES = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
INSTANCE = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
DOCKERFILE = (DEPLOY / "Dockerfile").read_text()
SECRET = {"name": "stoq-preorders-env"}

# The chart's values schema (helm/dagster/schema in dagster-io/dagster), the parts we touch.
CHART_TOP = {
    "global", "dagsterWebserver", "dagster-user-deployments", "postgresql",
    "generatePostgresqlPasswordSecret", "runLauncher", "dagsterDaemon", "concurrency",
    "telemetry", "computeLogManager", "scheduler", "pythonLogs", "ingress", "retention",
    "migrate", "serviceAccount", "imagePullSecrets", "additionalInstanceConfig",
}  # fmt: skip
USER_DEPLOYMENT = {
    "name", "image", "port", "dagsterApiGrpcArgs", "codeServerArgs", "env", "envConfigMaps",
    "envSecrets", "volumes", "volumeMounts", "resources", "annotations", "nodeSelector",
    "affinity", "tolerations", "labels", "readinessProbe", "livenessProbe", "startupProbe",
}  # fmt: skip
K8S_RUN_LAUNCHER = {
    "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile",
    "envConfigMaps", "envSecrets", "envVars", "volumeMounts", "volumes", "labels",
    "failPodOnRunFailure", "runK8sConfig", "resources",
}  # fmt: skip


def deployment() -> dict[str, Any]:
    (only,) = VALUES["dagster-user-deployments"]["deployments"]
    return only


def duckdb_mount(volumes: list[dict], mounts: list[dict]) -> str:
    """Where the volume backed by the DuckDB PVC is mounted."""
    (claim,) = [v for v in volumes if "persistentVolumeClaim" in v]
    (mount,) = [m for m in mounts if m["name"] == claim["name"]]
    assert claim["persistentVolumeClaim"]["claimName"] == "stoq-preorders-duckdb"
    return mount["mountPath"]


def test_values_use_only_keys_the_chart_reads():
    assert set(VALUES) <= CHART_TOP
    assert VALUES["dagster-user-deployments"]["enabled"] is True
    assert set(deployment()) <= USER_DEPLOYMENT
    assert VALUES["runLauncher"]["type"] == "K8sRunLauncher"
    assert set(VALUES["runLauncher"]["config"]) == {"k8sRunLauncher"}
    assert set(VALUES["runLauncher"]["config"]["k8sRunLauncher"]) <= K8S_RUN_LAUNCHER
    pg = VALUES["postgresql"]
    assert {"enabled", "postgresqlHost", "postgresqlUsername", "postgresqlPassword"} <= set(pg)
    assert {"postgresqlDatabase", "service"} <= set(pg) and isinstance(pg["service"]["port"], int)


def test_the_user_deployment_serves_this_package_with_its_secrets():
    user = deployment()
    assert {"repository", "tag", "pullPolicy"} <= set(user["image"])
    assert user["dagsterApiGrpcArgs"] == ["--module-name", "pipelines.definitions"]
    assert user["port"] == int(re.search(r"^EXPOSE (\d+)$", DOCKERFILE, re.M).group(1))
    assert SECRET in user["envSecrets"]
    assert SECRET in VALUES["runLauncher"]["config"]["k8sRunLauncher"]["envSecrets"]


def test_run_pods_and_the_code_server_mount_the_duckdb_file_where_they_look_for_it():
    user = deployment()
    launcher = VALUES["runLauncher"]["config"]["k8sRunLauncher"]
    (path,) = [e["value"] for e in user["env"] if e["name"] == "PREORDERS_DUCKDB_PATH"]
    assert f"PREORDERS_DUCKDB_PATH={path}" in launcher["envVars"]
    assert f"PREORDERS_DUCKDB_PATH={path}" in DOCKERFILE
    assert duckdb_mount(user["volumes"], user["volumeMounts"]) == dirname(path)
    assert duckdb_mount(launcher["volumes"], launcher["volumeMounts"]) == dirname(path)


def chart_instance(values: dict[str, Any]) -> dict[str, Any]:
    """What the chart writes into dagster.yaml from our values (its configmap-instance.yaml):
    PostgreSQL storage, the queued coordinator and the `concurrency` block; the K8s run
    launcher is left out (dagster-k8s is not installed here)."""
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    coordinator: dict[str, Any] = {
        "module": "dagster.core.run_coordinator",
        "class": "QueuedRunCoordinator",
    }
    if queued:
        coordinator["config"] = {"tag_concurrency_limits": queued["tagConcurrencyLimits"]}
    concurrency = values["concurrency"]
    assert concurrency["enabled"] is True
    return {
        "storage": INSTANCE["storage"],
        "run_coordinator": coordinator,
        "concurrency": {
            "pools": {"default_limit": concurrency["pools"]["defaultLimit"]},
            "runs": {"tag_concurrency_limits": concurrency["runs"]["tagConcurrencyLimits"]},
        },
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
    }


def validate(instance: dict[str, Any], folder: Path) -> dict[str, Any]:
    (folder / "dagster.yaml").write_text(yaml.safe_dump(instance))
    config, _ = dagster_instance_config(str(folder))
    return dict(config)


def test_the_chart_renders_the_same_limits_as_deploy_dagster_yaml(tmp_path):
    rendered = chart_instance(VALUES)
    assert VALUES["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert rendered["concurrency"] == INSTANCE["concurrency"]
    assert rendered["run_coordinator"] == INSTANCE["run_coordinator"]
    assert validate(rendered, tmp_path)["concurrency"] == INSTANCE["concurrency"]


def test_tag_limits_under_the_run_coordinator_too_would_be_refused(tmp_path):
    # Why values.yaml leaves queuedRunCoordinator empty and sets the limits under `concurrency`.
    both = yaml.safe_load(yaml.safe_dump(VALUES))
    runs = both["concurrency"]["runs"]
    both["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"] = runs
    with pytest.raises(DagsterInvalidConfigError, match="tag_concurrency_limits"):
        validate(chart_instance(both), tmp_path)


def test_the_dockerfile_builds_the_code_location_with_the_postgres_extra():
    assert re.search(r"^FROM python:3\.11-slim$", DOCKERFILE, re.M)
    assert "pip install '.[postgres]'" in DOCKERFILE
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M).group(1)
    assert yaml.safe_load(cmd)[:3] == ["dagster", "code-server", "start"]
    assert "pipelines.definitions" in cmd and '"4000"' in cmd
    # Every package the project ships is copied into the image.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", DOCKERFILE, re.M))
    assert copied == packages
    assert "postgres" in project["project"]["optional-dependencies"]
