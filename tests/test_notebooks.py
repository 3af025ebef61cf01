"""Notebooks: stored outputs come from one in-order run of the current code, by tools/execute.py."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from execute import code_hash  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no chapter notebooks found"


@pytest.fixture(params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def nb(request):
    return nbformat.read(request.param, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_outputs_are_not_stale(nb):
    meta = nb.metadata.get("lmbook")
    assert meta, "never run by tools/execute.py: run `make execute`"
    assert meta["code_sha256"] == code_hash(nb), "code changed since the last run: run `make execute`"
    for key in ("mode", "device", "device_name", "backend", "versions", "run_seconds"):
        assert key in meta


def test_outputs_come_from_one_in_order_run(nb):
    counts = [c.execution_count for c in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1))
    errors = [o for c in code_cells(nb) for o in c.outputs if o.output_type == "error"]
    assert not errors


def test_notebook_conventions(nb):
    text = "\n".join(c.source for c in nb.cells)
    first = nb.cells[0].source
    assert "colab.research.google.com" in first, "Colab badge missing from the first cell"
    assert "[ -e /content ]" in code_cells(nb)[0].source, "first code cell must be the Colab set-up"
    assert "setup_notebook" in code_cells(nb)[1].source
    for heading in ("Learning objectives", "## Exercises", "## Summary", "## References"):
        assert heading in text, f"missing {heading!r}"
    assert "{footcite}" in text and "```{footbibliography}" in text
    assert "NBVAL_CHECK_OUTPUT" in text, "mark the deterministic cells for nbval"
