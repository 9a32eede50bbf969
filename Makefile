# The two commands (README): `make demo` and `make test`. Both set everything up first.
SHELL := /bin/bash
ifdef CONDA_PREFIX
PY ?= $(CONDA_PREFIX)/bin/python
else
PY ?= .venv/bin/python
endif
PORT ?= 5006
PYTEST_ARGS ?=

.PHONY: setup demo test serve db-up db-down bench bench-smoke lint clean

setup:
	@bash scripts/bootstrap.sh

## First command: database up, bundled sample ingested, dashboard on http://127.0.0.1:$(PORT)/dashboard
demo: setup
	$(PY) -m floatchat_core.cli demo --port $(PORT)

## Second command: everything set up, then the whole test suite (and the notebooks)
test: setup
	$(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env $(PYTEST_ARGS)

serve: setup
	$(PY) -m floatchat_core.cli serve --port $(PORT)

db-up: setup
	$(PY) -m floatchat_core.cli db up

db-down:
	$(PY) -m floatchat_core.cli db down

bench: setup
	$(PY) benchmarks/ingest.py

bench-smoke: setup
	$(PY) benchmarks/ingest.py --smoke

lint:
	$(PY) -m ruff check .

clean:
	rm -rf .venv build *.egg-info .pytest_cache tests/e2e/artifacts
