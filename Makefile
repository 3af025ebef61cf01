# lmbook: the two set-up commands are `make book` and `make test`; both create .venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# Quick mode unless the caller asks otherwise (`LMBOOK_MODE=full make execute`).
export LMBOOK_MODE ?= quick

.PHONY: help install test unit book execute lint clean

help:
	@echo "make book     build the HTML book into _build/html"
	@echo "make test     unit tests, every notebook (quick mode) and the strict book build"
	@echo "make execute  re-run notebooks/*.ipynb top to bottom and store their outputs"
	@echo "make lint     ruff"

$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[book,dev]"
	touch $(STAMP)

install: $(STAMP)

test: install
	$(PY) -m pytest --doctest-modules --nbval-lax --nbval-cell-timeout=600 tests lmbook notebooks
	$(MAKE) --no-print-directory book

book: install
	rm -rf _build/html
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

execute: install
	$(PY) tools/execute.py $(NOTEBOOKS)

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf _build .pytest_cache .ruff_cache
