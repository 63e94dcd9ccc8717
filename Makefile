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

# The npm @asyncapi/parser that the tests check the AsyncAPI documents with (Debian's Node.js).
NODE_STAMP := tools/asyncapi/node_modules/.installed
$(NODE_STAMP): tools/asyncapi/package-lock.json
	npm ci --prefix tools/asyncapi --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP)

## Run the whole system on its embedded default (Tansu broker, SQLite files in ./data).
run: $(STAMP)
	$(PY) -m shared.stack

## Run the whole test suite (starts its own broker; uses the local PostgreSQL).
test: $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest

## With `make run` running elsewhere: walk a fresh exemplar through the five steps, print its audit.
demo: $(STAMP)
	$(PY) -m tools.demo

## Benchmark against a stack it starts itself; prints the figures.
bench: $(STAMP)
	$(PY) -m bench.run

clean:
	rm -rf data $(VENV)
