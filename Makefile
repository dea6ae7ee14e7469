# The two commands that do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 8000
PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
PY := $(VENV)/bin/python
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := .tools/bin/uv
UV_DEP := .tools/bin/uv
endif
CHROMIUM := /usr/bin/chromium

.PHONY: help run test soak lint format install install-dev browser haproxy bench bench-quick

help:
	@echo "make run    install, migrate, seed the demo and serve it on http://127.0.0.1:$(PORT)"
	@echo "make test   install what tests need and run the whole suite"
	@echo "make soak   the fault, concurrency and state-machine tests, again and harder (minutes)"
	@echo "make lint   ruff check and format check"
	@echo "make bench  benchmarks of the live pipeline (make bench-quick: about 4 minutes)"

.tools/bin/uv:
	@echo "==> installing uv $(UV_VERSION) into .tools/"
	@$(PYTHON) -m venv .tools
	@.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

install: $(UV_DEP)
	@echo "==> installing locked runtime dependencies into $(VENV)"
	@$(UV) sync --frozen --no-dev --inexact --quiet

install-dev: $(UV_DEP)
	@echo "==> installing locked dependencies, with test tools, into $(VENV)"
	@$(UV) sync --frozen --quiet

browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "==> installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "!! $(CHROMIUM) is missing and this user cannot apt-get install it; browser tests will fail under CI=true" >&2; \
	  fi; \
	fi

run: install
	@$(PY) manage.py migrate --no-input -v0
	@$(PY) manage.py demo_ready --credentials .demo-credentials.json
	@echo "==> serving on http://127.0.0.1:$(PORT)  (Ctrl-C to stop)"
	@PORT=$(PORT) exec $(PY) -m edgeboard.server --port $(PORT) --demo-traffic .demo-credentials.json

haproxy:
	@if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "==> installing Debian's haproxy for the edge tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; \
	  else \
	    echo "!! haproxy is missing and this user cannot apt-get install it; edge tests will fail under CI=true" >&2; \
	  fi; \
	fi

test: install-dev browser haproxy
	@echo "==> lint"
	@$(VENV)/bin/ruff check --quiet .
	@echo "==> migrations are up to date"
	@$(PY) manage.py makemigrations --check --dry-run >/dev/null
	@echo "==> test suite (database: $${DATABASE_URL:-embedded SQLite}, channel layer: $${REDIS_URL:-in-memory})"
	@$(VENV)/bin/pytest

SOAK_ROUNDS ?= 3
SOAK_TESTS := tests/e2e/test_faults_redis.py tests/e2e/test_faults_database.py \
	tests/e2e/test_faults_daphne.py tests/dashboard/test_feature_concurrency.py \
	tests/edges/test_upgrade_concurrency.py tests/edges/test_edge_concurrency.py \
	tests/edges/test_report_ordering.py \
	tests/edges/test_workflow_machine.py

soak: install-dev browser haproxy
	@for round in $$(seq $(SOAK_ROUNDS)); do \
	  echo "==> soak round $$round of $(SOAK_ROUNDS) (database: $${DATABASE_URL:-embedded SQLite}, channel layer: $${REDIS_URL:-in-memory})"; \
	  STATEFUL_EXAMPLES=$${STATEFUL_EXAMPLES:-300} STORM_SOCKETS=$${STORM_SOCKETS:-1000} \
	    $(VENV)/bin/pytest -q $(SOAK_TESTS) || exit 1; \
	done

lint: install-dev
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

format: install-dev
	@$(VENV)/bin/ruff check --fix --quiet .
	@$(VENV)/bin/ruff format --quiet .

bench: install-dev
	@$(PY) -m bench.run $(ARGS)

bench-quick: install-dev
	@$(PY) -m bench.run --quick $(ARGS)
