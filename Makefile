# lmbook: the two set-up commands are `make book` and `make test`; both create .venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# Quick mode unless the caller asks otherwise (`LMBOOK_MODE=full make execute`).
export LMBOOK_MODE ?= quick

.PHONY: help install test test-fast test-jax book test-book execute lint clean

help:
	@echo "make book     build the HTML book into _build/html"
	@echo "make test     unit tests, every notebook (quick mode), the JAX run, the strict book build, test-book"
	@echo "make test-book the built book: search index, and every chapter in headless Chromium, offline"
	@echo "make test-fast the day-to-day tier (under 10 minutes): unit tests and doctests, no slow test, no notebook"
	@echo "make test-jax the fast tests of the backend-agnostic modules again, on JAX without TensorFlow"
	@echo "make execute  re-run notebooks/*.ipynb top to bottom and store their outputs"
	@echo "make lint     ruff"

$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[book,dev,jax]"
	touch $(STAMP)

install: $(STAMP)

test: install
	$(PY) -m pytest -m "not book" --doctest-modules --nbval-lax --nbval-cell-timeout=600 tests lmbook notebooks
	$(MAKE) --no-print-directory test-jax
	$(MAKE) --no-print-directory book
	$(MAKE) --no-print-directory test-book

# Day to day: what `make test` runs minus the tests marked slow (over 10 s each), the notebooks and
# the book.  CI runs `make test`.
test-fast: install
	$(PY) -m pytest -m "not slow and not notebooks and not book" --doctest-modules tests lmbook

# The backend-agnostic modules' tests and doctests, a second time: KERAS_BACKEND=jax in a process
# where `import tensorflow` fails (tests/jax_backend.py), as on a GPU machine without TensorFlow.
# It runs with 8 simulated CPU devices, for lmbook.parallel's distributed tests.  It repeats the
# fast tier only, for the JAX run's 4-minute budget (CONTRIBUTING): the 13 tests marked slow here
# (every fine-tuning method saved and reloaded, what each one trains, gradual unfreezing, ULMFiT,
# the NER tagger on long texts, the encoder preset, a resumed preset build) run under TensorFlow
# only, and two-process training's workers run JAX in either run.
# pytest exits 5 when it collects no test, and make then fails too.  Then the GPU suite's smoke
# run: its code path for a few steps of a one-block GPT on this CPU, TensorFlow blocked.
JAX_MODULES := models transformer training generate perplexity text recipes presets parallel masked_lm lora finetune entities
test-jax: install
	PYTHONPATH=tests $(PY) -m pytest -p jax_backend -m "not slow" --doctest-modules \
		$(JAX_MODULES:%=tests/test_%.py) $(JAX_MODULES:%=lmbook/%.py)
	$(PY) benchmarks/gpu_suite.py --smoke

book: install
	$(PY) tools/fetch_mathjax.py
	rm -rf _build/html
	PYTHONWARNINGS="ignore:pkg_resources is deprecated:UserWarning" \
		$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

# The tests marked `book` read _build/html (make book first): the search index, and every chapter
# page in headless Chromium (Debian's chromium and chromium-driver), offline.
test-book: install
	$(PY) -m pytest -m book tests/test_book.py tests/test_browser.py

execute: install
	$(PY) tools/execute.py $(NOTEBOOKS)

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf _build .pytest_cache .ruff_cache
