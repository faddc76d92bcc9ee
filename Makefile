# Two commands: `make demo` and `make test` (see README.md). Everything they need is set up here.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: demo test lint bench bench-sched bench-peers system-deps clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e ".[demo]"
	touch $@

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e ".[dev]"
	touch $@ $(DEMO_STAMP)

# PostgreSQL for the store contract tests, Chromium for the board's browser tests (Debian
# packages when missing; Playwright never downloads a browser of its own)
system-deps:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { command -v apt-get >/dev/null && (apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q postgresql) ; }
	@test -x /usr/bin/chromium || \
	  { command -v apt-get >/dev/null && (apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q chromium) ; }

demo: $(DEMO_STAMP)
	$(VENV)/bin/andon demo demo-project --speed 10800 $(DEMO_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: $(STAMP) system-deps lint
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

bench: $(STAMP) system-deps
	$(PY) benchmarks/run.py

bench-sched: $(STAMP)
	cd benchmarks && ../$(PY) bench_sched.py $(BENCH_ARGS)

# andon beside Luigi, Dagster and Prefect (each installed into benchmarks/.peers/, never andon's)
bench-peers: $(STAMP)
	cd benchmarks && ../$(PY) bench_peers.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) demo-project .pytest_cache .mypy_cache .ruff_cache
