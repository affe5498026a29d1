# Kommunalportal — the two commands of the README are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test setup translations browser lint check-forms test-suite clean

## make run: set everything up, load the demo data and serve the portal on http://127.0.0.1:5000/
run: setup translations
	$(FLASK) db upgrade
	$(FLASK) portal demo
	$(FLASK) run --host $(HOST) --port $(PORT)

## make test: set everything up and run lint, the form check and the whole suite
test: setup translations browser lint check-forms test-suite

setup: $(STAMP)

$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Kommunalportal needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

translations: setup
	@if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
	  $(BIN)/pybabel --quiet compile -d translations; fi

## Debian packages the tests need (Chromium, poppler-utils), installed when missing and allowed
browser:
	@scripts/ensure-test-tools

lint: setup
	$(BIN)/ruff check .

check-forms: setup
	$(FLASK) forms check

test-suite: setup
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
