# The two commands of the README. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

## Install and serve the app on the shipped data at http://127.0.0.1:8000
run: install
	$(BIN)/mapapp serve --host 127.0.0.1 --port 8000

## Install and run the linter and the whole test suite (browser tests included)
test: install-test
	$(BIN)/ruff check .
	$(BIN)/pytest
