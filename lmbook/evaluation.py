"""Evaluation with intervals: bootstrap confidence intervals for a metric and for a difference.

Taught in chapter 7 (evaluation); chapters 3 and 4 already use :func:`stream_difference` to
say whether a trained model beats an n-gram on the same validation stream.

A percentile bootstrap resamples whole examples (sentences, pairs, reviews, or contiguous
blocks of a stream), never the characters inside them, because neighbouring characters are
not independent.

Example:
    >>> interval = bootstrap_ci(np.mean, np.arange(100.0))
    >>> round(interval.estimate, 1), interval.low < 49.5 < interval.high
    (49.5, True)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lmbook.checks import check_int, check_rate

__all__ = ["Interval", "bootstrap_ci", "stream_difference"]


class Interval(NamedTuple):
    """A point estimate and its confidence interval ``[low, high]``."""

    estimate: float
    low: float
    high: float

    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly on one side of zero: a difference that is not noise."""
        return self.low > 0 or self.high < 0


def bootstrap_ci(metric, *columns, n: int = 1000, level: float = 0.95, seed: int = 0) -> Interval:
    """``metric(*columns)`` with a percentile bootstrap interval that resamples rows.

    Args:
        metric: maps the columns (numpy arrays, one row per example) to a number.
        *columns: equally long sequences, row ``i`` of each describing example ``i``.
        n: bootstrap resamples.
        level: the interval's coverage, in (0, 1).
        seed: the resampling's seed.

    Example:
        >>> sums, counts = np.array([3.0, 5.0, 4.0]), np.array([2, 2, 2])
        >>> bootstrap_ci(lambda s, c: s.sum() / c.sum(), sums, counts, n=200).estimate
        2.0
    """
    if not columns:
        raise ValueError("bootstrap_ci needs at least one column of examples")
    columns = [np.asarray(c) for c in columns]
    rows = len(columns[0])
    if rows < 1 or any(len(c) != rows for c in columns):
        lengths = [len(c) for c in columns]
        raise ValueError(f"columns must be non-empty and equally long, got lengths {lengths}")
    n = check_int("n", n, minimum=1)
    level = check_rate("level", level, include_low=False)
    picks = np.random.default_rng(seed).integers(0, rows, size=(n, rows))
    stats = np.array([metric(*(c[p] for c in columns)) for p in picks], dtype=float)
    low, high = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(metric(*columns)), float(low), float(high))


def stream_difference(a, b, blocks: int = 64, n: int = 1000, level: float = 0.95, seed: int = 0) -> Interval:
    """The mean per-token loss ``a − b`` on one stream, with a bootstrap interval over blocks.

    ``a`` and ``b`` are two models' losses on the same targets (e.g.
    :func:`lmbook.metrics.stream_losses` and :func:`lmbook.ngram.stream_losses`).  The
    stream is cut into ``blocks`` contiguous blocks, which are resampled whole.  A negative
    difference whose interval excludes zero says that ``a`` beats ``b`` on this text.

    Example:
        >>> b = np.random.default_rng(0).random(6400)
        >>> stream_difference(b - 0.1, b).high < 0
        True
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"a and b must be losses on the same targets, got shapes {a.shape} and {b.shape}")
    blocks = check_int("blocks", blocks, minimum=1, maximum=len(a))
    parts = np.array_split(a - b, blocks)
    sums, counts = np.array([p.sum() for p in parts]), np.array([len(p) for p in parts])
    return bootstrap_ci(lambda s, c: s.sum() / c.sum(), sums, counts, n=n, level=level, seed=seed)
