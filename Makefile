# The two commands of the README: `make run` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test bench demo clean install

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# The npm packages: the @asyncapi/parser the tests check the AsyncAPI documents with, and htmx,
# whose file web/static/vendor holds (tests/web/test_vendored.py compares the two).
NODE_STAMP := tools/asyncapi/node_modules/.installed node_modules/.installed
tools/asyncapi/node_modules/.installed: tools/asyncapi/package-lock.json
	npm ci --prefix tools/asyncapi --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@
node_modules/.installed: package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: system-packages
system-packages:
	@tools/system-packages

install: $(STAMP)

## Run the whole system on its embedded default (Tansu broker, SQLite files in ./data).
run: system-packages $(STAMP)
	$(PY) -m shared.stack

## Run the whole test suite (starts its own broker; uses the local PostgreSQL).
test: system-packages $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest

## With `make run` running elsewhere: walk a fresh exemplar through the five steps, print its audit.
demo: $(STAMP)
	$(PY) -m tools.demo

## Benchmark against a stack it starts itself; prints the figures.
bench: $(STAMP)
	$(PY) -m bench.run

clean:
	rm -rf data $(VENV)
