# fieldbot — the two quick-start commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

.PHONY: install demo test test-sqlite test-pg lint format run bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Play the scripted demo against the built-in Bot API emulator (no token needed).
demo: $(STAMP)
	$(BIN)/fieldbot demo

## Lint, type-check, then run the whole suite on SQLite.
test: lint test-sqlite

test-sqlite: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

## The same suite on PostgreSQL (CI runs it too).
test-pg: $(STAMP)
	FIELDBOT_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Run the real bot (needs telegram.token in config.toml or FIELDBOT_TOKEN).
run: $(STAMP)
	$(BIN)/fieldbot run

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
