# Two entry points for a fresh clone: `make run` (the main job) and `make test` (the suite).
# Both first run `setup`: virtual environment, dependencies, and the offline base model.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp

.PHONY: setup run test lint bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)
	$(BIN)/clearir model build

run: setup
	$(BIN)/clearir run $(ARGS)

test: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# Benchmarks write JSON to bench/out/ (see each module's --help for sizes).
bench: setup
	for b in losses eval run; do $(BIN)/python -m bench.bench_$$b || exit 1; done
