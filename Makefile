# Klachtroute: `make run` to try it, `make test` to test it. Needs Python 3.11+ and Node 20.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
export DATABASE_URL ?= sqlite:///$(CURDIR)/instance/klachtroute.db
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 5000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run test test-sqlite test-postgres lint bench browser verify check clean templates-before templates-after

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The modeller and form editor bundles (bpmn-js with our side panel), built with esbuild.
BUNDLE := webapp/web/static/build/modeller.js
$(BUNDLE): $(NODE_STAMP) $(wildcard webapp/web/assets/*)
	npm run --silent build

install: $(PY_STAMP) $(NODE_STAMP) $(BUNDLE)

# Debian's Chromium and ChromeDriver, for the tests that only a browser can prove.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver fonts-dejavu-core)

run: install
	$(BIN)/klachtroute db upgrade
	$(BIN)/klachtroute load --demo-complaints 40
	$(BIN)/klachtroute serve --host $(HOST) --port $(PORT) --with-worker

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: install browser lint templates-before test-sqlite test-postgres templates-after

# The templates of bpmn/, forms/ and handlers/ are only read: nothing the suite does may write them
# (procedures live in the database). In a git checkout, `make test` fails when the suite changed them.
TEMPLATES_STATE = .templates-before
templates-before:
	@git status --porcelain -- bpmn forms handlers > $(TEMPLATES_STATE) 2>/dev/null || true
templates-after:
	@if [ -f $(TEMPLATES_STATE) ] && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git status --porcelain -- bpmn forms handlers | diff -u $(TEMPLATES_STATE) - \
	    || { echo "the suite wrote into the templates (above)"; rm -f $(TEMPLATES_STATE); exit 1; }; \
	  echo "== templates untouched (bpmn/, forms/, handlers/) =="; fi; rm -f $(TEMPLATES_STATE)

test-sqlite: install
	@echo "== tests on SQLite =="
	$(BIN)/pytest

test-postgres: install
	@echo "== tests on PostgreSQL ($(PG_TEST_URL)) =="
	@$(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)', connect_timeout=5).close()" || \
	  (echo "PostgreSQL is not reachable at $(PG_TEST_URL): start it or set PG_TEST_URL"; exit 1)
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest

verify: install
	$(BIN)/klachtroute verify

check: install
	$(BIN)/klachtroute check

# SQLite (the runtime, one process), the check gate, then PostgreSQL at scale: 1,000 organisations and
# 1,000,000 complaints, built once (about 40 minutes) into the schema klachtroute_bench of PG_TEST_URL.
bench: install
	$(BIN)/python bench/bench_runtime.py
	$(BIN)/python bench/bench_check.py
	BENCH_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python bench/bench_scale.py

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache .ruff_cache .import_linter_cache .grimp_cache
