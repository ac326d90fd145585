# Two commands on a fresh machine: `make demo` and `make test`. Both build the virtual
# environment from the pinned lock file first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120

.PHONY: demo test test-slow test-all lint schema docs clean

$(STAMP): pyproject.toml rigs/pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check setuptools==84.2.1
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e rigs  # bench, chaos, fixtures
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/journeys demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

test-slow: $(STAMP)  # the long variants (marker slow): the 20 x 10,000 chaos run, big waves
	$(BIN)/pytest -n 2 --dist loadfile -m slow --durations=0 $(PYTEST_ARGS)

test-all: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile -m "slow or not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy && $(BIN)/lint-imports --no-cache

schema: $(STAMP)
	$(BIN)/journeys schema

docs: $(STAMP)  # journey diagrams: docs/graphs.md and the README section
	$(BIN)/journeys graph --docs docs/graphs.md
	$(BIN)/python -m journeykit.authoring.readme

clean:
	rm -rf $(VENV) .journeykit .pytest_cache .mypy_cache .ruff_cache
