# The README's two commands: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# dlt for bench/vs_dlt.py, in its own venv (never the main one); the stamp holds the requirements
# it was built from, as bench/vs_dlt.py checks it.
DLT_VENV := bench/.venvs/dlt
DLT_STAMP := $(DLT_VENV)/.installed

# `dg check defs` (the Definitions load and validate) in a throwaway Dagster home holding the
# dagster.yaml the CLI writes (telemetry off): nothing is written into the repository and nothing
# is sent anywhere. VIRTUAL_ENV tells dg the project's venv is the one in use.
DG_CHECK = home=$$(mktemp -d) && cp pipelines/dagster.yaml "$$home/" && \
	DAGSTER_HOME="$$home" VIRTUAL_ENV="$(abspath $(VENV))" $(VENV)/bin/dg check defs; \
	status=$$?; rm -rf "$$home"; exit $$status

.PHONY: demo test lint typecheck check-defs venv bench-venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

bench-venv: $(DLT_STAMP)

$(DLT_STAMP): bench/requirements-dlt.txt | $(STAMP)
	$(PY) -m venv $(DLT_VENV)
	$(DLT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements-dlt.txt
	cp bench/requirements-dlt.txt $(DLT_STAMP)

demo: $(STAMP)
	$(VENV)/bin/preorders demo

# Every suite runs (the dlt arm of tests/bench needs bench-venv); the last line names what skipped.
test: $(STAMP) $(DLT_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	@$(DG_CHECK)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check-defs: $(STAMP)
	@$(DG_CHECK)

clean:
	rm -rf $(VENV) $(DLT_VENV) .pytest_cache build *.egg-info
