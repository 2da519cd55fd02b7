# fivesafes: two commands matter: `make demo` and `make test`.
# Both create .venv from the pinned lockfile on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test fuzz lint format typecheck bench bench-quick lock clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)  ## create the virtualenv from the lockfile

demo: $(STAMP)  ## run the main job end to end on the embedded default
	$(VENV)/bin/fivesafes demo --out demo-output

test: $(STAMP)  ## run the whole test suite (PostgreSQL tests use 127.0.0.1:5432/test)
	$(PY) -m pytest -n 2 -q

fuzz: $(STAMP)  ## the parser fuzzers, long run (FUZZ_EXAMPLES per parser; make test runs 40)
	FIVESAFES_FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-5000} $(PY) -m pytest -q -p no:randomly tests/fuzz

lint: $(STAMP)  ## ruff and mypy
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

format: $(STAMP)  ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

bench: $(STAMP)  ## the benchmarks (prints ratios against baselines measured in the same run)
	$(PY) bench/run_all.py

bench-quick: $(STAMP)  ## the benchmarks at small sizes, a smoke run
	$(PY) bench/run_all.py --quick

lock:  ## regenerate requirements.lock from pyproject.toml in a scratch venv
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet -e '.[dev]'
	.lockvenv/bin/pip install --quiet setuptools wheel
	.lockvenv/bin/pip freeze --all --exclude-editable | grep -v "^pip==" > requirements.lock
	rm -rf .lockvenv

clean:  ## remove the virtualenv and generated output
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
