# zooticket-bot: the whole set-up is `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
PYTEST_ARGS ?=

.PHONY: install install-runtime run test test-sqlite lint fmt typecheck migrate bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(RUNTIME_STAMP)

install: $(DEV_STAMP)  ## create .venv and install with dev extras

install-runtime: $(RUNTIME_STAMP)

run: $(RUNTIME_STAMP)  ## install if needed, migrate, start the service
	$(BIN)/python main.py

migrate: $(RUNTIME_STAMP)  ## bring the database schema to head (DATABASE_URL from the environment or .env)
	@url="$$($(BIN)/python -m settings DATABASE_URL)" && DATABASE_URL="$$url" $(BIN)/python -m db.migrate

lint: $(DEV_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy .

fmt: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint typecheck  ## format check, lint, strict types, the suite on SQLite, then on PostgreSQL + Redis
	scripts/ensure-chromium.sh
	$(BIN)/coverage erase
	$(BIN)/coverage run -p -m pytest -m "not services" $(PYTEST_ARGS)
	scripts/with-services.sh $(BIN)/coverage run -p -m pytest tests/integration tests/e2e \
		-m "not sqlite_only" $(PYTEST_ARGS)
	$(BIN)/coverage combine -q
	$(BIN)/coverage report

test-sqlite: lint typecheck  ## the suite on SQLite only (quicker)
	scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -m "not services" $(PYTEST_ARGS)

bench: $(DEV_STAMP)  ## measure throughput, latency, the expiry sweep and memory; prints a table
	scripts/with-services.sh $(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage htmlcov
