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

# The suites mostly wait (local fake servers, Chromium, retry delays), so pytest-xdist runs more
# workers than cores; one at a time each test is handed to the next free worker (slow ones first,
# see tests/conftest.py). PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 4
XDIST := -n $(PYTEST_WORKERS) --dist load --maxschedchunk 1
# Each run's workers report to pytest-cov, which writes one data file per run; the floor
# (fail_under) applies to the two runs combined, so neither run checks it alone.
COV := --cov --cov-report= --cov-fail-under=0

# The system packages the suites need (Chromium, PostgreSQL, Redis) install in the background
# while the Python packages install and the code is linted and type-checked.
PACKAGES := .test-packages

test:  ## format check, lint, strict types, the suite on SQLite, then on PostgreSQL + Redis
	@rm -f $(PACKAGES).rc; (scripts/ensure-packages.sh; echo $$? >$(PACKAGES).rc) \
		>$(PACKAGES).log 2>&1 </dev/null &
	$(MAKE) --no-print-directory lint typecheck
	scripts/await-packages.sh $(PACKAGES)
	scripts/ensure-chromium.sh
	rm -f .coverage .coverage.*
	COVERAGE_FILE=.coverage.sqlite $(BIN)/python -m pytest $(XDIST) $(COV) -m "not services" \
		$(PYTEST_ARGS)
	COVERAGE_FILE=.coverage.services scripts/with-services.sh $(BIN)/python -m pytest $(XDIST) \
		$(COV) tests/integration tests/e2e -m "not sqlite_only" $(PYTEST_ARGS)
	$(BIN)/coverage combine -q
	$(BIN)/coverage report

test-sqlite: lint typecheck  ## the suite on SQLite only (quicker)
	scripts/ensure-chromium.sh
	$(BIN)/python -m pytest $(XDIST) -m "not services" $(PYTEST_ARGS)

bench: $(DEV_STAMP)  ## measure throughput, latency, the expiry sweep and memory; prints a table
	scripts/with-services.sh $(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage htmlcov
