# cjkit — `make help` lists every target. `make demo` and `make test` set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
SAMPLES := acme-motor brightside-energy
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help setup sysdeps sample ingest-samples demo batch serve test test-fast lint format bench clean

help: ## Show this help: every target and what it does
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-15s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

setup: $(STAMP) ## Create .venv and install cjkit with its dev and bench dependencies

sysdeps: ## Install Debian packages the browser tests need (chromium), with apt-get where missing
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian package) ..."; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v chromium >/dev/null 2>&1 && echo "chromium: $$(chromium --version 2>/dev/null)"

sample: setup ## Regenerate the committed sample clients (deterministic) into data/sample/
	$(BIN)/cj sample

ingest-samples: setup ## Build the sample clients' warehouses and print their data-health summary
	@for c in $(SAMPLES); do $(BIN)/cj ingest $$c || exit 1; echo; done

demo: setup ingest-samples ## Set up, build the sample clients, run the batch and serve the dashboard
	$(BIN)/cj run --sample
	@echo "Reports: $$(ls -d reports/*/latest | tr '\n' ' ')"
	$(BIN)/cj serve $(firstword $(SAMPLES)) --no-open

batch: setup ## Run every notebook for the sample clients into reports/<client>/<run-id>/
	$(BIN)/cj run --sample --ingest

serve: setup ## Serve the first sample client's dashboard on 127.0.0.1 (after `make batch`)
	$(BIN)/cj serve $(firstword $(SAMPLES)) --no-open

lint: setup ## ruff over the code and notebook hygiene (no outputs committed)
	$(BIN)/ruff check cjlib tests
	$(BIN)/python -m cjlib.batch.hygiene

format: setup ## Format the code with ruff
	$(BIN)/ruff format cjlib tests

test: setup sysdeps lint ## Set up and run every test (pytest, nbval, browser tests)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile -q

test-fast: setup ## Run the tests without the slow and browser ones
	$(BIN)/python -m pytest -q -m "not slow and not browser"

$(VENV)/.peers: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench,peers]'
	touch $@

bench: setup $(VENV)/.peers ## Benchmarks at 1M/10M/100M events vs pandas, polars, chdb, retentioneering; writes bench/results.md
	$(BIN)/cj bench

clean: ## Remove the venv, caches and built warehouses (raw data and reports are kept)
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
	find data -name warehouse.duckdb -delete
