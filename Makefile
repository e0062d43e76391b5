# Every target creates .venv and installs the project when missing, so each works on a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PREFECT_HOME ?= $(CURDIR)/.prefect
export NEWSWATCH_QUIET_PREFECT ?= 1

.PHONY: run test check lint typecheck demo bench reliability digest serve clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -qq --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/newswatch run

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check newswatch flows tests bench
	$(BIN)/ruff format --check newswatch flows tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

demo: $(STAMP)
	$(BIN)/newswatch run --source seeds
	$(BIN)/newswatch digest

bench: $(STAMP)
	$(BIN)/python -m bench.run

reliability: $(STAMP)
	$(BIN)/python -m pytest -q tests/reliability

serve: $(STAMP)
	$(BIN)/newswatch serve

clean:
	rm -rf $(VENV) .prefect .pytest_cache .mypy_cache .ruff_cache
