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


@pytest.mark.parametrize("stem, kinds", [("03_rnn_lstm", ("lstm", "gru")), ("04_transformers", ("gpt",))])
def test_chapters_3_and_4_take_every_model_setting_from_a_recipe(stem, kinds):
    """Their Settings hold notebook knobs only (no recipe field), and their models come from recipes."""
    import dataclasses
    import re

    from lmbook import recipes

    fields = {f.name for cls in (recipes.RecurrentRecipe, recipes.GPTRecipe) for f in dataclasses.fields(cls)}
    code = "\n".join(c.source for c in code_cells(nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", 4)))
    settings = code[code.index("S = Settings("):]
    knobs = re.findall(r"^\s+(\w+)=\(", settings[:settings.index("\n)")], flags=re.M)
    shapes = fields - {"steps"}                           # a step budget is the notebook's own knob
    assert knobs and not [k for k in knobs if k in shapes or k.split("_", 1)[-1] in shapes]
    for kind in kinds:
        assert re.search(rf'recipe\("{kind}", "\w+", S\.mode\)', code), f"no recipe for {kind}"
    assert ".compiled(" in code and "S.seq_len" not in code and "S.batch_size" not in code
