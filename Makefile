# compose-doctor: `make demo` and `make test` are the whole set-up on a fresh Debian 12 machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(ROOT)/ansible.cfg
export COMPOSE_BAKE := false
export LAB_DIR ?= $(ROOT)/.lab
PYTEST := $(BIN)/pytest

.PHONY: help setup lab-up lab-down lab-status audit remediate demo test lint unit cases integration molecule molecule-images bench clean

help:
	@echo "make demo   - install everything, start the lab, audit it"
	@echo "make test   - lint + unit + lab integration + every Molecule scenario"
	@echo "make setup | lab-up | lab-down | lab-status | audit | lint | unit | cases | integration | molecule | bench"

setup:
	@bash scripts/setup.sh

# LAB_PROFILES=crashloops also starts the crash-loop lab (lab/crashloops, project cdcrash).
LAB_PROFILES ?=
lab-up: setup
	@bash scripts/lab.sh up
	@if [[ ",$(LAB_PROFILES)," == *",crashloops,"* ]]; then bash scripts/crashloop_lab.sh up; fi

lab-down:
	@bash scripts/crashloop_lab.sh down
	@bash scripts/lab.sh down

lab-status:
	@bash scripts/lab.sh status

audit:
	$(BIN)/ansible-playbook playbooks/audit.yml

demo: lab-up
	@bash scripts/demo.sh

lint: setup
	$(BIN)/yamllint -s .
	$(BIN)/ruff check library module_utils plugins scripts tests  # rules: ruff.toml
	$(BIN)/ansible-lint
	$(BIN)/python scripts/role_readme.py --check

unit: setup
	$(PYTEST) -q tests/unit

# The audit cases (tests/cases/*/expected.json): the real audit playbook on each, static, both models.
cases: setup
	$(PYTEST) -q tests/cases

# The remediation tests fix the lab; it is put back in its broken state afterwards, pass or fail.
integration: lab-up
	@status=0; $(PYTEST) -q tests/integration || status=$$?; \
	bash scripts/lab.sh up >/dev/null; exit $$status

molecule-images: setup
	@bash molecule/resources/build-images.sh

molecule: molecule-images
	@bash molecule/resources/test-all.sh

# Each stage timed, so CI logs show where the minutes go.
test:
	@for stage in lint unit cases integration molecule; do \
	  start=$$(date +%s); echo "::: make $$stage"; \
	  $(MAKE) --no-print-directory $$stage || exit 1; \
	  echo "::: make $$stage done in $$(( $$(date +%s) - start ))s"; \
	done

bench: lab-up
	$(BIN)/python scripts/bench.py --audit-cmd "$(BIN)/ansible-playbook playbooks/audit.yml"
	$(BIN)/python scripts/bench_project.py --services 60 --repeat 3 --strict
	$(BIN)/python scripts/bench_crashloop.py --repeat 3 --strict
	$(BIN)/python scripts/bench_lab.py --repeat 5
	$(BIN)/python scripts/bench_fleet.py --sizes 1,5,20

clean: lab-down
	rm -rf reports
