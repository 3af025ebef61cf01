"""lmbook.evaluation: chapter 7's toolkit gathered from lmbook.significance and lmbook.output_metrics.

The functions themselves are tested in tests/test_significance.py and tests/test_output_metrics.py;
here, that every name the chapters, benchmarks and other modules import from lmbook.evaluation is
still there, and is the very object its new module defines.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from lmbook import evaluation, output_metrics, significance

# lmbook.evaluation's public names before the split: what outside code may import from it
BEFORE_THE_SPLIT = [
    "BLEU_TOKENIZERS", "PRF", "ROUGE_TOKENIZERS", "Difference", "Interval", "binomial_test",
    "bits_per_byte", "bleu", "bleu_score", "bleu_statistics", "block_difference", "block_interval",
    "block_sums", "bootstrap_ci", "bootstrap_difference", "calibration_error", "chrf", "chrf_score",
    "chrf_statistics", "copy_rate", "distinct_n", "expected_calibration_error", "fit_temperature",
    "format_p", "holm", "mcnemar", "multiple_choice", "paired_bootstrap", "paired_two_level_bootstrap",
    "prf1", "rouge", "stream_difference", "stream_row", "two_level_bootstrap"]


def test_the_public_names_are_those_before_the_split():
    assert evaluation.__all__ == BEFORE_THE_SPLIT


def test_the_two_modules_split_the_names_between_them():
    assert not set(significance.__all__) & set(output_metrics.__all__)
    assert set(evaluation.__all__) <= set(significance.__all__) | set(output_metrics.__all__)
    for module in (significance, output_metrics):
        assert sorted(module.__all__) == module.__all__
        assert all(hasattr(module, name) for name in module.__all__)


@pytest.mark.parametrize("name", BEFORE_THE_SPLIT)
def test_each_name_is_importable_and_is_its_new_modules_object(name):
    home = significance if name in significance.__all__ else output_metrics
    got = getattr(importlib.import_module("lmbook.evaluation"), name)    # from lmbook.evaluation import name
    assert got is getattr(home, name)
    if callable(got) and not isinstance(got, dict):
        assert got.__module__ == home.__name__                          # defined there, not copied here


def test_what_other_modules_import_still_works():
    from lmbook.evaluation import binomial_test, bleu, chrf, format_p, holm, mcnemar, prf1, rouge, stream_row

    assert round(binomial_test(64, 200, 0.25), 4) == 0.0271
    assert holm([0.01, 0.04]).tolist() == [0.02, 0.04]
    assert mcnemar(np.array([True, False]), np.array([True, False])) == 1.0
    assert bleu(["a b c d"], ["a b c d"]) == pytest.approx(100) and chrf(["人民"], ["人民"]) == 100
    assert rouge(["人民日报"], ["人民日报"])["rougeL"].f1 == 1.0 and prf1([1, 0], [1, 0]).f1 == 1.0
    assert format_p(0.5) == "p = 0.500" and stream_row("m", np.zeros(3), "abcd", blocks=1)["chars"] == 3


def test_the_facade_defines_no_function_of_its_own():
    own = [name for name, value in vars(evaluation).items()
           if callable(value) and getattr(value, "__module__", None) == "lmbook.evaluation"]
    assert own == []
