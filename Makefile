# Two entry points for a fresh clone: `make run` (the main job) and `make test` (the suite).
# Both first run `setup`: virtual environment, dependencies, and the offline base model.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp

.PHONY: setup data chromium run test lint bench

# The code never downloads a model or data set at run time; say so to the hub libraries too.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)
	$(BIN)/clearir model build

# The data directory is searched (`clearir data where`); where there is none, the official files are downloaded
# (to $$CLEARIR_HOME/data), which fails with one line saying what to do when there is no network.
data: $(STAMP)
	@$(BIN)/clearir data where >/dev/null 2>&1 || $(BIN)/clearir data download

# The report test renders report.html in headless Chromium: Debian's package, installed when missing.
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	    echo "error: the report test needs Chromium: run \`apt-get install -y chromium\` as root" >&2; exit 2; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: setup data
	$(BIN)/clearir run $(ARGS)

test: setup chromium
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# Benchmarks write JSON to bench/out/ (see each module's --help for sizes).
bench: setup
	for b in losses eval run; do $(BIN)/python -m bench.bench_$$b || exit 1; done
