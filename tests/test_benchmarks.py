"""``benchmarks/char_lm.py``'s command line: ``--set NAME=VALUE`` overrides and their errors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import char_lm  # noqa: E402  (a script folder, put on the path above)

SPEC = char_lm.benchmark_recipe("gru", "peoples_daily", "quick")


@pytest.fixture
def parser():
    return argparse.ArgumentParser(prog="char_lm")


@pytest.mark.parametrize("item, expected", [
    ("units=384", ("units", 384)),
    ("peak_lr=3e-3", ("peak_lr", 0.003)),
    ("weight_decay=0", ("weight_decay", 0.0)),          # an int where a float is expected
    ("tie_embeddings=False", ("tie_embeddings", False)),
])
def test_set_parses_a_setting(item, expected, parser):
    name, value = char_lm.parse_setting(item, SPEC, parser)
    assert (name, value) == expected and type(value) is type(expected[1])


@pytest.mark.parametrize("item, message", [
    ("bogus=3", "NAME one of batch_size, seq_len, steps"),
    ("corpus='x'", "NAME one of batch_size"),               # --corpus chooses it
    ("units", "expects NAME=VALUE"),
    ("units=x", "--set units: expected a value of type int"),
    ("units=1.5", "--set units: expected a value of type int"),
    ("tie_embeddings=1", "--set tie_embeddings: expected a value of type bool"),
])
def test_set_rejects_bad_input_by_name(item, message, parser, capsys):
    with pytest.raises(SystemExit):
        char_lm.parse_setting(item, SPEC, parser)
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("flag", [["--steps", "5"], ["--set", "steps=5"], ["--steps", "1105"]])
def test_bad_step_count_is_a_usage_error_whichever_flag_sets_it(flag, capsys):
    with pytest.raises(SystemExit):
        char_lm.main(["--model", "gru", "--corpus", "peoples_daily", *flag])
    steps = flag[-1].removeprefix("steps=")
    expected = f"steps must be a multiple of 10 (training runs in 10 epochs), got {steps}"
    assert expected in capsys.readouterr().err


def test_the_benchmark_trains_the_recipes_of_lmbook_recipes():
    from dataclasses import replace

    from lmbook.recipes import recipe

    assert char_lm.benchmark_recipe("gpt", "peoples_daily", "full") is recipe("gpt", "peoples_daily", "full")
    assert char_lm.benchmark_recipe("gru", "tiny_shakespeare", "quick") == replace(
        recipe("lstm", "tiny_shakespeare", "quick"), cell="gru")


# benchmarks/segmentation.py: interleaved timing and its command line.
import segmentation  # noqa: E402  (a script folder, put on the path above)


def test_segmentation_timing_alternates_and_takes_medians(monkeypatch):
    calls = []
    speeds = iter([1.0, 2.0, 5.0, 10.0, 3.0, 20.0, 4.0, 30.0])         # cold a, cold b, then rounds a, b
    monkeypatch.setattr(segmentation, "timed", lambda segment, texts: (segment(texts), next(speeds)))
    segmenters = {"a": lambda ts: calls.append("a") or [list(t) for t in ts],
                  "b": lambda ts: calls.append("b") or [[t] for t in ts]}
    outputs, cold, warm = segmentation.alternate(segmenters, ["北京"], rounds=3)
    assert calls == ["a", "b"] * 4
    assert outputs == {"a": [["北", "京"]], "b": [["北京"]]}
    assert cold == {"a": 1.0, "b": 2.0} and warm == {"a": 4.0, "b": 20.0}


@pytest.mark.parametrize("argv, message", [
    (["--rounds", "0"], "--rounds must be at least 1, got 0"),
    (["--steps", "0"], "--steps must be at least 1, got 0"),
    (["--dictionary", "hownet"], "invalid choice: 'hownet'"),
])
def test_segmentation_command_line_errors(argv, message, capsys):
    with pytest.raises(SystemExit):
        segmentation.parse_args(argv)
    assert message in capsys.readouterr().err


def test_segmentation_defaults_to_the_closed_track():
    args = segmentation.parse_args([])
    assert (args.mode, args.dictionary, args.rounds, args.steps) == ("quick", "none", 5, None)


# benchmarks/presets.py: its command line.
import presets as presets_benchmark  # noqa: E402  (a script folder, put on the path above)


def test_the_presets_benchmark_names_its_bars_and_refuses_unknown_names(capsys):
    from lmbook.presets import PRESETS

    assert set(presets_benchmark.BARS) == {n for n, r in PRESETS.items() if r.causal}
    with pytest.raises(SystemExit):
        presets_benchmark.main(["nope"])
    assert "unknown preset nope; known: peoples-daily-gpt" in capsys.readouterr().err


def test_cell_times_reads_the_stored_timings_and_flags_slow_chapters(tmp_path, capsys):
    import json

    import cell_times

    def cell(source, start, end):
        stamps = {"iopub.execute_input": f"2026-01-01T00:00:{start}Z",
                  "shell.execute_reply": f"2026-01-01T00:{end}Z"}
        return {"cell_type": "code", "source": source, "metadata": {"execution": stamps}}

    title = {"cell_type": "markdown", "source": "# t", "metadata": {}}
    nb = {"cells": [cell("x = 1\n", "00", "00:01.5"), title, cell("\ntrain()\n", "02", "03:32")],
          "metadata": {"lmbook": {"run_seconds": 215.0}}}
    path = tmp_path / "09_demo.ipynb"
    path.write_text(json.dumps(nb))
    run, cells = cell_times.chapter_times(path)
    assert run == 215.0 and cells == [(0, 1.5, "x = 1"), (2, 210.0, "train()")]
    assert cell_times.main([str(path)]) == {"09_demo": 215.0}
    out = capsys.readouterr().out
    assert "| 09_demo | 215 | NO | 212 | 210 (cell 2) |" in out and "over the 15-minute bar" not in out
    assert cell_times.cell_seconds({"metadata": {}}) is None


def test_backends_reads_the_clock_and_the_peak_from_proc_cpuinfo():
    import os

    import backends

    cores, ghz, peak = backends.cpu_peak()
    assert cores == os.cpu_count() and 0.5 < ghz < 6 and peak == pytest.approx(cores * ghz * 1e9 * 32)
