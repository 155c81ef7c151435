# 12345 hotline platform. `make run` and `make test` work on a fresh machine.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp

.PHONY: install run test test-fast lint bench eval faults migrate up down postgres chromium assets clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || (apt-get update && apt-get install -y python3-venv && $(PYTHON) -m venv $(VENV))
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## run: all five services in one process (embedded: SQLite + in-process bus), demo city loaded
run: install
	HOTLINE_LOAD_DEMO=true $(PY) -m services

## test: unit, service, e2e, contract and distributed tests (PostgreSQL + Kafka-protocol broker)
test: install postgres chromium
	$(PY) -m pytest -q

## test-fast: everything except the distributed tests
test-fast: install
	$(PY) -m pytest -q -m "not postgres and not broker"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared services intake routing sla callback analytics accounts web tests

## bench: every bench module, or only those named: make bench BENCH="accept storm"
## (real-HTTP ones load with Debian's wrk; PostgreSQL for their distributed and PG ceiling parts)
bench: install postgres
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(PY) -m tests.bench $(BENCH)

## eval: intake's suggestions (keyword rules, a plain TF-IDF + LinearSVC baseline and the
## platform's model, side by side) and same-matter measure on ../shared/data/real-complaints/
## (evaluation only: nothing is stored or printed row by row); see docs/suggestions.md
eval: install
	$(PY) -m tests.bench.eval_suggestions

## faults: fault drills on the distributed stack under a steady load (docs/faults.md); not part
## of `make test`. Scaled down: FAULTS_SECONDS=20 FAULTS_RATE=5 FAULTS_PAUSE_SECONDS=15 make faults
faults: install postgres
	$(PY) -m tests.faults

migrate: install
	$(PY) -m services migrate

## up/down: the distributed stack on this machine (PostgreSQL databases, tansu broker, 5 processes)
up: install postgres
	$(PY) -m services.stack up

down: install
	$(PY) -m services.stack down

# The browser tests (tests/web) drive Debian's chromium; a CJK font makes their screenshots
# legible. Playwright's own browser download is not used.
chromium:
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
	  (apt-get update && apt-get install -y chromium fonts-wqy-microhei)

## assets: fetch the pages' vendored browser assets (htmx, Swagger UI, ReDoc) by version from
## the npm registry and check them by sha256 (web/static/vendor/assets.json; they are committed)
assets: install
	$(PY) -m web.assets fetch

# Start the local PostgreSQL cluster if it is installed but not running.
postgres:
	@if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; fi

clean:
	rm -rf data .run .pytest_cache .mypy_cache .ruff_cache
