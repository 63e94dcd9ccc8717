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

install: $(STAMP)

## Run the whole system on its embedded default (Tansu broker, SQLite files in ./data).
run: $(STAMP)
	$(PY) -m shared.stack

## Run the whole test suite (starts its own broker; uses the local PostgreSQL).
test: $(STAMP)
	$(PY) -m pytest

## With `make run` running elsewhere: walk a fresh exemplar through the five steps, print its audit.
demo: $(STAMP)
	$(PY) -m tools.demo

## Benchmark against a stack it starts itself; prints the figures.
bench: $(STAMP)
	$(PY) -m bench.run

clean:
	rm -rf data $(VENV)
