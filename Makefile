# Two commands set up everything: `make run` serves Twofold, `make test` tests it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: serving needs the package and its runtime dependencies only; the tests add the
# `test` extra (Playwright, mypy, moto, ...). Both install the exact versions of the constraints.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PIP := $(BIN)/pip install --quiet --disable-pip-version-check -c requirements/constraints.txt
# The peers the tests start (tests/peers/): identity providers and a relying party, Node programs
# installed from their lock files.
PEERS := tests/peers/oidc tests/peers/saml tests/peers/rp tests/a11y

.PHONY: run test lint typecheck unit services-test lock clean peers

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml requirements/constraints.txt
	@echo "Installing Twofold and what serving needs into $(VENV)/ (about a minute the first time, 330 MB) ..."
	$(PIP) -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	@echo "Adding the test tools to $(VENV)/ (one or two minutes the first time, 520 MB more) ..."
	$(PIP) -e '.[test]'
	touch $(TEST_STAMP)

# Reinstalled when package-lock.json is newer than the stamp (which goes away with node_modules).
# Without npm the peers' tests skip (fail under TWOFOLD_REQUIRE_SERVICES=1).
%/node_modules/.installed: %/package-lock.json
	@if command -v npm >/dev/null; then cd $* && npm ci --no-audit --no-fund && touch node_modules/.installed; \
	else echo "npm not found: $* is not installed, its tests will skip"; fi

peers: $(PEERS:%=%/node_modules/.installed)

run: $(STAMP)
	$(BIN)/twofold migrate --verbosity 0
	$(BIN)/twofold serve

test: $(TEST_STAMP) lint typecheck unit services-test

# ruff, then the layout rule's import contracts (pyproject.toml [tool.importlinter]).
lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/lint-imports --no-cache

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

# The whole suite on SQLite (with the browser tests), then again on PostgreSQL + Redis.
unit: $(TEST_STAMP) peers
	$(BIN)/pytest --cov --cov-report= -p no:cacheprovider
services-test: $(TEST_STAMP) peers
	$(BIN)/python -m tests.services --cov --cov-append --cov-report= -p no:cacheprovider -m "not browser"
	$(BIN)/coverage report --fail-under=90

lock: $(TEST_STAMP)
	$(BIN)/pip freeze --exclude-editable | grep -v '^twofold' > requirements/constraints.txt.new
	(sed -n 1,2p requirements/constraints.txt; cat requirements/constraints.txt.new) > requirements/constraints.txt.tmp
	mv requirements/constraints.txt.tmp requirements/constraints.txt; rm requirements/constraints.txt.new

clean:
	rm -rf $(VENV) .coverage .mypy_cache .ruff_cache

# Sign-in throughput against the argon2id ceiling, and session checks (docs/performance.md).
# Longer runs: make bench BENCH_ARGS="--members 100000 --duration 30"; PostgreSQL: BENCH_DATABASE_URL.
.PHONY: bench
bench: $(TEST_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# Languages (docs/languages.md). `make messages` collects the marked strings into the .po files after
# a change (then translate what it added); the build compiles them to .mo files, never committed.
# Compiling needs gettext's msgfmt: without it Twofold serves English only.
LOCALE := src/twofold/locale
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard $(LOCALE)/*/LC_MESSAGES/django.po))
.PHONY: messages catalogues
messages: $(STAMP)
	cd src/twofold && DJANGO_SETTINGS_MODULE=twofold.config.settings ../../$(BIN)/django-admin makemessages \
	  --no-location --no-obsolete --ignore 'locale/*' -l de -l fr
catalogues: $(CATALOGUES)
$(LOCALE)/%/LC_MESSAGES/django.mo: $(LOCALE)/%/LC_MESSAGES/django.po
	@if command -v msgfmt >/dev/null; then msgfmt --check-format -o $@ $<; \
	else echo "msgfmt (gettext) not found: $< is not compiled, pages stay in English"; fi
run unit services-test: catalogues
