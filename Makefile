# Two commands on a fresh machine with Python 3.11 and make:
#   make demo   quick scale of every preset, analyses and figures
#   make test   the test suite (slow-marked signature tests included)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast lint install dev browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is pinned to the CPU wheel first, so the `torch>=2.3` requirement is already met
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/groklab suite --scale quick

# Debian's Chromium renders the HTML report in the tests; installed when missing and we are root.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	  else echo "chromium is missing and this is not root: the HTML report test will be skipped"; fi; }

test: dev browser
	$(BIN)/python -m pytest -n auto --durations=40

test-fast: dev
	$(BIN)/python -m pytest -n auto -m "not slow"

lint: dev
	$(BIN)/ruff check .
