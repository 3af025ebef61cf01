"""Chapter 7's evaluation toolkit in one place: intervals and tests, and the metrics they are applied to.

Taught in chapter 7 (evaluation); chapters 3 and 4 already use :func:`stream_difference` to
say whether a trained model beats an n-gram on the same validation stream.

The code lives in two modules, by job, and is re-exported here under the names the chapters
import:

* :mod:`lmbook.significance` — the statistical protocol: bootstrap intervals
  (:func:`bootstrap_ci`, :func:`block_interval`, :func:`two_level_bootstrap`), paired tests
  (:func:`bootstrap_difference`, :func:`stream_difference`, :func:`block_difference`,
  :func:`paired_two_level_bootstrap`, :func:`paired_bootstrap`), exact tests
  (:func:`binomial_test`, :func:`mcnemar`), Holm's correction (:func:`holm`), :func:`format_p`,
  and leaderboard rows of per-token losses (:func:`stream_row`, :func:`block_sums`,
  :func:`bits_per_byte`);
* :mod:`lmbook.output_metrics` — metrics computed on a system's outputs: :func:`bleu`,
  :func:`chrf`, :func:`rouge`, :func:`prf1` (a :class:`PRF`), calibration
  (:func:`expected_calibration_error`, :func:`calibration_error`, :func:`fit_temperature`),
  :func:`distinct_n`, :func:`copy_rate` and :func:`multiple_choice`.

Example:
    >>> hypotheses = ["the cat sat on the mat"] * 20
    >>> references = ["the cat sat on a mat"] * 20
    >>> round(bleu(hypotheses, references), 2)
    53.73
    >>> paired_bootstrap(bleu, hypotheses, ["a dog sat"] * 20, references, n=100) < 0.05
    True
"""

from __future__ import annotations

from lmbook.output_metrics import (
    BLEU_TOKENIZERS,
    PRF,
    ROUGE_TOKENIZERS,
    bleu,
    bleu_score,
    bleu_statistics,
    calibration_error,
    chrf,
    chrf_score,
    chrf_statistics,
    copy_rate,
    distinct_n,
    expected_calibration_error,
    fit_temperature,
    multiple_choice,
    prf1,
    rouge,
)
from lmbook.significance import (
    Difference,
    Interval,
    binomial_test,
    bits_per_byte,
    block_difference,
    block_interval,
    block_sums,
    bootstrap_ci,
    bootstrap_difference,
    format_p,
    holm,
    mcnemar,
    paired_bootstrap,
    paired_two_level_bootstrap,
    stream_difference,
    stream_row,
    two_level_bootstrap,
)

__all__ = ["BLEU_TOKENIZERS", "PRF", "ROUGE_TOKENIZERS", "Difference", "Interval", "binomial_test",
           "bits_per_byte", "bleu", "bleu_score", "bleu_statistics", "block_difference", "block_interval",
           "block_sums", "bootstrap_ci", "bootstrap_difference", "calibration_error", "chrf", "chrf_score",
           "chrf_statistics", "copy_rate", "distinct_n", "expected_calibration_error", "fit_temperature",
           "format_p", "holm", "mcnemar", "multiple_choice", "paired_bootstrap", "paired_two_level_bootstrap",
           "prf1", "rouge", "stream_difference", "stream_row", "two_level_bootstrap"]
