"""The committed results of ``benchmarks/finetune.py --mode quick``: they belong to the committed
encoder preset, their summary and accuracies follow from the stored predictions.  The file's one live point
(``full`` with 256 labels, seed 0) is recomputed by chapter 8, which nbval runs in ``make test``;
the chapter asserts it within half a point."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from lmbook import data, finetune, presets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import finetune as benchmark  # noqa: E402  (a script folder, put on the path above)


@pytest.fixture(scope="module")
def results():
    return finetune.results("quick")


def test_the_results_belong_to_the_committed_preset(results):
    assert results["header"]["preset_sha256"] == presets.card("peoples-daily-bert")["weights"]["sha256"]


def test_the_summary_follows_from_the_runs(results):
    assert benchmark.summary(results) == results["summary"]


def test_each_accuracy_follows_from_its_predictions(results):
    truth = np.array(data.load_chinese_reviews("test")[1])
    checked = 0
    for key, run in results["runs"].items():
        if key.startswith(("sentiment/", "prompting/test/")):
            predicted = np.array([int(c) for c in run["predictions"]])
            assert len(predicted) == len(truth), key
            assert (predicted == truth).mean() == pytest.approx(run["accuracy"], abs=1e-12), key
            checked += 1
    assert checked >= len(results["header"]["sizes"]) * 2  # the curve's two methods, at least


def test_a_later_command_extends_the_results_file(tmp_path):
    header = {"command": "first", "preset_sha256": "abc", "recipe": {"full_lr": 0.001}, "seeds": 3,
              "sizes": [32, 0]}
    partial, final = tmp_path / "partial.json", tmp_path / "final.json"
    first = benchmark.Runs(partial, header, final)
    first.get("sentiment/full/32/0", lambda: {"accuracy": 0.5})
    final.write_text(json.dumps(first.state))
    partial.unlink()
    later = benchmark.Runs(partial, {**header, "command": "second", "seeds": 5, "sizes": [256]}, final)
    assert later.get("sentiment/full/32/0", pytest.fail)["accuracy"] == 0.5  # kept, not re-run
    assert [s["command"] for s in later.state["segments"]] == ["first", "second"]
    assert later.state["header"]["command"] == "second"
    assert (later.state["header"]["seeds"], later.state["header"]["sizes"]) == (5, [32, 256, 0])
    with pytest.raises(RuntimeError, match="another recipe"):
        benchmark.Runs(partial, {**header, "recipe": {"full_lr": 0.002}}, final)
    # a recipe field added since the file was written must be at its default to extend it
    benchmark.Runs(partial, {**header, "recipe": {"full_lr": 0.001, "layer_decay": 1.0}}, final)
    with pytest.raises(RuntimeError, match="another recipe"):
        benchmark.Runs(partial, {**header, "recipe": {"full_lr": 0.001, "layer_decay": 2.6}}, final)
