# fivesafes: two commands matter: `make demo` and `make test`.
# Both create .venv from the pinned lockfile on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# acro (ACRO's pandas<=2.3.3 cannot live beside ours): its own venv, for the parity tests only
ACRO_VENV  := .venv-acro
ACRO_STAMP := $(ACRO_VENV)/.installed-stamp

.PHONY: demo test fuzz java office chromium softhsm venv-acro lint format typecheck bench bench-quick lock clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)  ## create the virtualenv from the lockfile

$(ACRO_STAMP): requirements-acro.lock
	$(PYTHON) -m venv $(ACRO_VENV)
	$(ACRO_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-acro.lock
	@touch $(ACRO_STAMP)

venv-acro: $(ACRO_STAMP)  ## create the acro virtualenv (parity tests and the ACRO benchmark)

demo: $(STAMP)  ## run the main job end to end on the embedded default
	$(VENV)/bin/fivesafes demo --out demo-output

test: $(STAMP) $(ACRO_STAMP) java office chromium softhsm  ## run the whole test suite (PostgreSQL tests use 127.0.0.1:5432/test)
	FIVESAFES_ACRO_PYTHON=$(CURDIR)/$(ACRO_VENV)/bin/python $(PY) -m pytest -n 2 -q

# The Spark engine's tests run Spark in local mode, which needs Java 17+. Where java is
# absent and we are root (CI), Debian's default runtime is installed; elsewhere the Spark
# tests skip and say why.
java:  ## a Java runtime for the Spark tests (apt-get, only where java is absent)
	@if command -v java >/dev/null 2>&1 || [ -x "$${JAVA_HOME:-/nonexistent}/bin/java" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing a Java runtime for the Spark tests (apt-get install default-jre-headless)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends default-jre-headless; } >/dev/null 2>&1 \
		|| echo "no Java runtime could be installed: the Spark tests will skip"; \
	else echo "no java, and not root to install one: the Spark tests will skip"; fi

# The published bundle's spreadsheets are opened by LibreOffice in one test (a real reader of
# .ods and .xlsx). Where it is absent and we are root (CI), Debian's package is installed;
# elsewhere that test skips and says why.
office:  ## LibreOffice Calc for the spreadsheet test (apt-get, only where soffice is absent)
	@if command -v soffice >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing LibreOffice Calc for the spreadsheet test (apt-get install libreoffice-calc-nogui)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends libreoffice-calc-nogui; } >/dev/null 2>&1 \
		|| echo "LibreOffice could not be installed: the spreadsheet test will skip"; \
	else echo "no LibreOffice, and not root to install one: the spreadsheet test will skip"; fi

# The web pages' browser tests drive Debian's chromium through Playwright (never a browser
# download). Where it is absent and we are root (CI), Debian's package is installed;
# elsewhere those tests skip and say why.
chromium:  ## Debian's chromium for the web pages' browser tests (apt-get, only where absent)
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium for the browser tests (apt-get install chromium)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends chromium; } >/dev/null 2>&1 \
		|| echo "chromium could not be installed: the browser tests will skip"; \
	else echo "no chromium, and not root to install one: the browser tests will skip"; fi

# The PKCS#11 key provider's tests run against SoftHSM2 (a software token). Where it is
# absent and we are root (CI), Debian's package is installed; elsewhere those tests skip
# and say why.
softhsm:  ## SoftHSM2 for the PKCS#11 key provider's tests (apt-get, only where absent)
	@if command -v softhsm2-util >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing SoftHSM2 for the PKCS#11 tests (apt-get install softhsm2)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends softhsm2; } >/dev/null 2>&1 \
		|| echo "SoftHSM2 could not be installed: the PKCS#11 tests will skip"; \
	else echo "no SoftHSM2, and not root to install it: the PKCS#11 tests will skip"; fi

fuzz: $(STAMP)  ## the parser fuzzers, long run (FUZZ_EXAMPLES per parser; make test runs 40)
	FIVESAFES_FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-5000} $(PY) -m pytest -q -p no:randomly tests/fuzz

lint: $(STAMP)  ## ruff and mypy
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

format: $(STAMP)  ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

bench: $(STAMP) $(ACRO_STAMP)  ## the benchmarks (prints ratios against baselines measured in the same run)
	$(PY) bench/run_all.py

bench-quick: $(STAMP) $(ACRO_STAMP)  ## the benchmarks at small sizes, a smoke run
	$(PY) bench/run_all.py --quick

lock:  ## regenerate requirements.lock from pyproject.toml in a scratch venv
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet -e '.[dev,spark]'
	.lockvenv/bin/pip install --quiet setuptools wheel
	.lockvenv/bin/pip freeze --all --exclude-editable | grep -v "^pip==" > requirements.lock
	rm -rf .lockvenv

clean:  ## remove the virtualenv and generated output
	rm -rf $(VENV) $(ACRO_VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
