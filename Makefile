# The two commands of the README. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@# axe-core and Lighthouse for the accessibility tests (package-lock.json)
	@if command -v npm >/dev/null 2>&1; then [ node_modules/.package-lock.json -nt package-lock.json ] \
	  || npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the axe and Lighthouse tests will be skipped"; fi

## Install and serve the app on the shipped data at http://127.0.0.1:8000
run: install
	$(BIN)/mapapp serve --host 127.0.0.1 --port 8000

## Install and run the linter and the whole test suite (browser tests included), on
## every core (pytest-xdist; plain `.venv/bin/pytest` runs it in one process)
test: install-test
	$(BIN)/ruff check .
	$(BIN)/pytest -n auto

## Refresh the French catalogue after changing interface strings (then translate the
## new entries in messages.po and run it again to compile)
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k ngettext:1,2 --no-location --sort-output -w 88 -o messages.pot . >/dev/null
	$(BIN)/pybabel update -i messages.pot -d mapapp/translations -w 88 --ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d mapapp/translations
	rm -f messages.pot
