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


def test_figures_are_retina_and_fit_the_column(nb):
    """Every inline PNG has twice the pixels it is shown at (lmbook.plot.use_style), and is shown
    no wider than the HTML book's column."""
    from lmbook.plot import COLUMN_WIDTH

    pngs = [o for c in code_cells(nb) for o in c.outputs if "image/png" in o.get("data", {})]
    for out in pngs:
        shown = out.get("metadata", {}).get("image/png", {})
        assert "width" in shown, "a PNG stored without its display size: not a retina figure"
        assert shown["width"] <= COLUMN_WIDTH * 100 + 1, f"a figure {shown['width']} px wide"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_notebook_stays_under_2_mb(path):
    assert path.stat().st_size <= 2 * 2**20, f"{path.name}: {path.stat().st_size / 2**20:.1f} MB"


def test_outputs_come_from_one_in_order_run(nb):
    counts = [c.execution_count for c in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1))
    errors = [o for c in code_cells(nb) for o in c.outputs if o.output_type == "error"]
    assert not errors


def test_notebook_conventions(nb):
    text = "\n".join(c.source for c in nb.cells)
    assert nb.cells[0].source.startswith("# "), "the first cell is the chapter's title"
    badge = nb.cells[1]
    assert "colab.research.google.com" in badge.source, "the Colab badge is the second cell"
    # Colab and GitHub readers see it; the HTML book, which must load nothing from outside,
    # drops it (its launch button opens Colab)
    assert badge.metadata.get("tags") == ["remove-cell"], "tag the badge cell remove-cell"
    assert "[ -e /content ]" in code_cells(nb)[0].source, "first code cell must be the Colab set-up"
    assert "setup_notebook" in code_cells(nb)[1].source
    for heading in ("Learning objectives", "## Exercises", "## Summary", "## References"):
        assert heading in text, f"missing {heading!r}"
    assert "{footcite}" in text and "```{footbibliography}" in text
    checked = [c for c in code_cells(nb) if "nbval-check-output" in c.metadata.get("tags", [])]
    assert checked, "tag the deterministic cells nbval-check-output"
    assert "NBVAL_" not in "\n".join(c.source for c in code_cells(nb)), \
        "nbval markers are cell tags, not comments the reader sees"


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
