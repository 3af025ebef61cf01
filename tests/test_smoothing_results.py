"""The committed result of ``benchmarks/smoothing.py`` (chapter 2's smoothing sweep): it covers
the whole grid, names its command and commit, and one of its points, not the one chapter 2
refits, is refitted here and must reproduce its row."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from lmbook import data, results

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import smoothing as benchmark  # noqa: E402  (a script folder, put on the path above)


@pytest.fixture(scope="module")
def sweep():
    return results.load(benchmark.FILE, "python benchmarks/smoothing.py")


def test_the_file_covers_the_grid_and_names_its_command(sweep):
    grid = {(row["corpus"], row["order"], row["method"]) for row in sweep["rows"]}
    expected = {(name, n, m) for name in data.ngram_corpora("validation")
                for n in range(1, benchmark.MAX_ORDER[name.split()[1]] + 1) for m in benchmark.METHODS}
    assert grid == expected and len(sweep["rows"]) == len(expected)
    assert sweep["command"] == "python benchmarks/smoothing.py"
    assert len(sweep["commit"]) >= 7 and sweep["environment"]["device_name"]
    assert all((row["tuned_k"] is None) == (row["method"] != "add_k") for row in sweep["rows"])


@pytest.mark.parametrize(("corpus", "order", "method"),
                         [("English word", 2, "add_k"), ("English char", 4, "interpolated")])
def test_a_point_of_the_file_is_reproduced(sweep, corpus, order, method):
    """Add-k's k and Jelinek-Mercer's lambdas are tuned on held-out training text: both refit the same."""
    train, validation = data.ngram_corpora("train")[corpus], data.ngram_corpora("validation")[corpus]
    row = next(r for r in sweep["rows"] if (r["corpus"], r["order"], r["method"]) == (corpus, order, method))
    live = benchmark.point(train, validation, order, method)
    assert math.isclose(live["logprob"], row["logprob"], rel_tol=1e-9)
    assert (live["tokens"], live["oov"], live["tuned_k"]) == (row["tokens"], row["oov"], row["tuned_k"])
