"""Intervals and tests: the book's statistical protocol, for any score of any system.

Taught in chapter 7 (evaluation); chapters 3 and 4 already use :func:`stream_difference` to
say whether a trained model beats an n-gram on the same validation stream.  The scores it is
applied to come from :mod:`lmbook.output_metrics` (BLEU, chrF, ROUGE, F1, calibration) or are
per-token losses; a leaderboard row of losses (:func:`stream_row`: nats per character,
:func:`bits_per_byte`, :func:`block_sums`) is kept here, beside the block bootstrap it exists for.

The protocol, in code:

* systems scored on the same items are compared with a paired test: :func:`bootstrap_difference`,
  :func:`block_difference` and :func:`stream_difference` for streams, :func:`mcnemar` for
  right/wrong items, :func:`binomial_test` against a fixed rate such as chance;
* seed variance goes into the interval (:func:`two_level_bootstrap`,
  :func:`paired_two_level_bootstrap`), or the interval is conditional on the trained models;
* several comparisons are corrected together (:func:`holm`), and p-values are printed with
  :func:`format_p`, which knows a bootstrap's floor.

A percentile bootstrap resamples whole examples (sentences, pairs, reviews, or contiguous
blocks of a stream), never the characters inside them, because neighbouring characters are
not independent.

Example:
    >>> interval = bootstrap_ci(np.mean, np.arange(100.0))
    >>> round(interval.estimate, 1), interval.low < 49.5 < interval.high
    (49.5, True)
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.random(500) < 0.7, rng.random(500) < 0.6     # right or wrong on the same 500 items
    >>> d = bootstrap_difference(lambda x, y: x.mean() - y.mean(), a, b)
    >>> round(d.estimate, 3), format_p(d.p), format_p(mcnemar(a, b))   # the bootstrap and the exact test
    (0.066, 'p = 0.041', 'p = 0.045')
    >>> p = holm([d.p, binomial_test(int(b.sum()), 500, 0.5)])     # two claims: a ≠ b, and b ≠ chance
    >>> format_p(p[0]), format_p(p[1])
    ('p = 0.041', 'p = 4e-05')
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from lmbook.checks import check_int, check_rate
from lmbook.output_metrics import _pairs

__all__ = ["Difference", "Interval", "binomial_test", "bits_per_byte", "block_difference", "block_interval",
           "block_sums", "bootstrap_ci", "bootstrap_difference", "format_p", "holm", "mcnemar",
           "paired_bootstrap", "paired_two_level_bootstrap", "stream_difference", "stream_row",
           "two_level_bootstrap"]


class Interval(NamedTuple):
    """A point estimate and its confidence interval ``[low, high]``."""

    estimate: float
    low: float
    high: float

    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly on one side of zero: a difference that is not noise."""
        return self.low > 0 or self.high < 0


class Difference(NamedTuple):
    """A paired difference between two systems, its confidence interval and its two-sided p-value.

    The percentile interval and the centred p-value are not exact duals: near the 5% level
    they can disagree.  The book's verdicts use the p-value (Holm-adjusted when there are
    several comparisons); the interval says how large the difference may be.
    """

    estimate: float
    low: float
    high: float
    p: float

    excludes_zero = Interval.excludes_zero


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
    observed, stats, level = _resample(metric, columns, n, level, seed)
    return Interval(observed, *_percentiles(stats, level))


def bootstrap_difference(metric, *columns, n: int = 1000, level: float = 0.95, seed: int = 0) -> Difference:
    """A difference ``metric(*columns)`` with a bootstrap interval and a two-sided p-value.

    ``metric`` computes a difference between two systems from rows that describe both on
    the same items (e.g. ``lambda a, b: a.mean() - b.mean()``), so that every resample keeps
    the pairs together: a paired test.  The p-value is that of "the difference is 0":
    ``(count + 1) / (n + 1)``, with ``count`` the resampled differences, centred on their
    mean, at least as far from 0 as the observed one (Koehn's paired bootstrap in its
    centred, two-sided form, Riezler and Maxwell, 2005; the smallest possible p-value is
    ``1 / (n + 1)``).  A difference of exactly 0 has p = 1.  This is the book's paired test;
    :func:`paired_bootstrap` is sacreBLEU's variant, kept to reproduce its p-values.  Taught
    in chapter 7.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.random(500)
        >>> d = bootstrap_difference(lambda x, y: x.mean() - y.mean(), a + 0.1, a, n=999)
        >>> d.excludes_zero(), d.p == 1 / 1000
        (True, True)
    """
    observed, stats, level = _resample(metric, columns, n, level, seed)
    return Difference(observed, *_percentiles(stats, level), _p_value(observed, stats))


def format_p(p: float, resamples: int | None = None, name: str = "p", raw: float | None = None) -> str:
    """A p-value as the book prints it: ``p ≤ 1/(B+1)`` at a bootstrap's floor, else ``p = …``.

    A bootstrap with B resamples cannot give a p-value below 1/(B + 1); a value there only
    says "at most this".  For an adjusted p-value (:func:`holm`), pass the unadjusted one as
    ``raw``: when that was at the floor, the adjusted value is an upper bound too.  Taught in
    chapter 7.

    Example:
        >>> format_p(1 / 1001, resamples=1000), format_p(0.0271), format_p(0.00004)
        ('p ≤ 1/1,001', 'p = 0.027', 'p = 4e-05')
        >>> format_p(2 / 1001, resamples=1000, name="Holm p", raw=1 / 1001)
        'Holm p ≤ 0.002'
    """
    at_floor = resamples is not None and (p if raw is None else raw) <= (1 + 1e-9) / (resamples + 1)
    if at_floor and raw is None:
        return f"{name} ≤ 1/{resamples + 1:,}"
    if at_floor:      # an adjusted floor is a bound too: rounded up, never below what it bounds
        return f"{name} ≤ {math.ceil(p * 1000 - 1e-9) / 1000:.3f}"
    return f"{name} = {p:.3f}" if p >= 0.001 else f"{name} = {p:.1g}"


def _resample(metric, columns, n, level, seed) -> tuple[float, np.ndarray, float]:
    """``metric`` on the columns and on ``n`` resamples of their rows (checked arguments)."""
    if not columns:
        raise ValueError("the bootstrap needs at least one column of examples")
    columns = [np.asarray(c) for c in columns]
    rows = len(columns[0])
    if rows < 1 or any(len(c) != rows for c in columns):
        lengths = [len(c) for c in columns]
        raise ValueError(f"columns must be non-empty and equally long, got lengths {lengths}")
    n = check_int("n", n, minimum=1)
    level = check_rate("level", level, include_low=False)
    picks = np.random.default_rng(seed).integers(0, rows, size=(n, rows))
    stats = np.array([metric(*(c[p] for c in columns)) for p in picks], dtype=float)
    return _finite(float(metric(*columns)), stats), stats, level


def _finite(observed: float, stats: np.ndarray) -> float:
    """``observed``, after checking that it and every resampled value are numbers (not NaN or inf)."""
    if not (np.isfinite(observed) and np.isfinite(stats).all()):
        raise ValueError("metric must return a finite number on the data and on every resample, "
                         f"got {observed} on the data and {np.sum(~np.isfinite(stats))} non-finite resamples")
    return observed


def _percentiles(stats: np.ndarray, level: float) -> tuple[float, float]:
    """The central ``level`` interval of the resampled statistics."""
    low, high = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def _p_value(observed: float, stats: np.ndarray) -> float:
    """Two-sided bootstrap p-value of "no difference": centred resamples at least as extreme."""
    if observed == 0:
        return 1.0
    count = np.sum(np.abs(stats - stats.mean()) >= abs(observed))
    return float((count + 1) / (len(stats) + 1))


def stream_difference(a, b, blocks: int = 64, n: int = 1000, level: float = 0.95,
                      seed: int = 0) -> Difference:
    """The mean per-token loss ``a − b`` on one stream, with a bootstrap interval and p-value over blocks.

    ``a`` and ``b`` are two models' losses on the same targets (e.g.
    :func:`lmbook.perplexity.stream_losses` and :func:`lmbook.ngram.stream_losses`).  The
    stream is cut into ``blocks`` contiguous blocks, which are resampled whole
    (:func:`block_difference`).  A negative difference whose interval excludes zero says
    that ``a`` beats ``b`` on this text; the p-value lets several such comparisons be
    corrected together (:func:`holm`).

    Example:
        >>> b = np.random.default_rng(0).random(6400)
        >>> stream_difference(b - 0.1, b).high < 0
        True
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"a and b must be losses on the same targets, got shapes {a.shape} and {b.shape}")
    return block_difference(*block_sums(a - b, blocks), n=n, level=level, seed=seed)


def block_sums(losses, blocks: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """The sums and lengths of ``blocks`` contiguous blocks of a stream's per-token losses.

    What a leaderboard stores per model (chapter 7): two models' block sums on the same
    stream subtract to the block sums of their difference, so :func:`block_difference` gives
    :func:`stream_difference` without the per-token losses.

    Example:
        >>> block_sums(np.arange(10.0), blocks=3)
        (array([ 6., 15., 24.]), array([4, 3, 3]))
    """
    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 1:
        raise ValueError(f"losses must be one loss per token (1-D), got shape {losses.shape}")
    blocks = check_int("blocks", blocks, minimum=1, maximum=len(losses))
    parts = np.array_split(losses, blocks)
    return np.array([p.sum() for p in parts]), np.array([len(p) for p in parts])


def block_interval(sums, counts, n: int = 1000, level: float = 0.95, seed: int = 0) -> Interval:
    """The mean loss per token, ``sum(sums) / sum(counts)``, with a bootstrap interval over blocks.

    Example:
        >>> block_interval(*block_sums(np.ones(640))).estimate
        1.0
    """
    return bootstrap_ci(_per_token, sums, counts, n=n, level=level, seed=seed)


def block_difference(sums, counts, n: int = 1000, level: float = 0.95, seed: int = 0) -> Difference:
    """A paired difference per token from the block sums of ``a − b``: interval and p-value.

    The same blocks and resamples as :func:`block_interval`, with the two-sided p-value of
    :func:`bootstrap_difference`.  Taught in chapter 7 (the leaderboard's paired column).

    Example:
        >>> b = np.random.default_rng(0).random(6400)
        >>> sums_a, counts = block_sums(b - 0.1)
        >>> d = block_difference(sums_a - block_sums(b)[0], counts)
        >>> round(d.estimate, 3), d.p == 1 / 1001
        (-0.1, True)
    """
    return bootstrap_difference(_per_token, sums, counts, n=n, level=level, seed=seed)


def _per_token(sums: np.ndarray, counts: np.ndarray) -> float:
    """The mean loss per token of (resampled) blocks."""
    return sums.sum() / counts.sum()


def stream_row(model: str, losses, text: str, blocks: int = 64) -> dict:
    """One row of chapter 7's leaderboard: ``model``'s per-character ``losses`` on ``text[1:]``.

    Nats per character, bits per byte, and the block sums (:func:`block_sums`) from which
    intervals and paired differences with any other row on the same text are computed.

    Example:
        >>> row = stream_row("uniform", np.full(9, np.log(2)), "abcdefghij", blocks=3)
        >>> round(row["nats_per_char"], 4), row["bits_per_byte"], row["block_counts"]
        (0.6931, 1.0, [3, 3, 3])
    """
    losses = np.asarray(losses, dtype=float)
    sums, counts = block_sums(losses, blocks)
    return {"model": model, "nats_per_char": float(losses.mean()),
            "bits_per_byte": bits_per_byte(losses, text), "chars": len(losses),
            "block_sums": sums.tolist(), "block_counts": counts.tolist()}


def bits_per_byte(losses, text: str) -> float:
    """Bits per UTF-8 byte of ``text[1:]``, the tokens ``losses`` (nats, one per character) score.

    lm-evaluation-harness's unit: it compares models with any tokenisation, and English with
    Chinese, whose characters take three bytes.  Taught in chapter 7.

    Example:
        >>> round(bits_per_byte(np.full(2, np.log(2)), "中文字"), 4)    # 1 bit per character, 3 bytes each
        0.3333
    """
    losses = np.asarray(losses, dtype=float)
    if len(losses) != len(text) - 1:
        raise ValueError(f"losses must score text[1:], {len(text) - 1} characters; got {len(losses)} losses")
    return float(losses.sum() / math.log(2) / len(text[1:].encode("utf-8")))


def paired_bootstrap(metric, a, b, references, n: int = 1000, seed: int = 0) -> float:
    """Koehn's (2004) paired bootstrap test of two systems on the same test set, as sacreBLEU runs it.

    ``n`` resamples of the segments (with replacement, the same for both systems) are
    scored with ``metric(hypotheses, references)``.  The p-value is that of the hypothesis
    that the two systems score the same: the share of resampled absolute differences,
    centred on their mean, that exceed the observed one, ``(count + 1) / (n + 1)``
    (sacreBLEU's ``paired_bs``, after Moses's significance script).  It is two-sided: a
    small p-value says the systems differ; the scores say which is better.  One deliberate
    difference: two systems with the same score get p = 1, where sacreBLEU 2.6 reports
    1 / (n + 1), which would call a system significantly different from itself.  It
    re-scores texts on every resample and centres absolute differences; the book's own paired
    test, :func:`bootstrap_difference` on :func:`lmbook.output_metrics.bleu_statistics` or
    :func:`lmbook.output_metrics.chrf_statistics`
    rows, centres the signed differences.  Taught in chapter 7.

    Args:
        metric: e.g. :func:`lmbook.output_metrics.bleu` or ``lambda h, r: chrf(h, r)``: a corpus score.
        a, b: the two systems' hypotheses, one per segment.
        references: as :func:`lmbook.output_metrics.bleu` takes them.

    Example:
        >>> from lmbook.output_metrics import bleu
        >>> refs = ["the cat sat on the mat"] * 20
        >>> paired_bootstrap(bleu, ["the cat sat on the mat"] * 20, ["a dog sat"] * 20, refs, n=100) < 0.05
        True
    """
    a, references = _pairs(a, references)
    b, _ = _pairs(b, references)
    if len(a) != len(b):
        raise ValueError(f"a and b must hold one hypothesis per segment each, got {len(a)} and {len(b)}")
    n = check_int("n", n, minimum=1)
    picks = np.random.default_rng(seed).choice(len(a), size=(n, len(a)), replace=True)
    observed = abs(metric(a, references) - metric(b, references))
    if observed == 0:     # sacreBLEU 2.6 returns 1 / (n + 1) here: "significant" for a system and itself
        return 1.0
    diffs = np.array([abs(metric([a[i] for i in p], [references[i] for i in p])
                          - metric([b[i] for i in p], [references[i] for i in p])) for p in picks])
    return float(((diffs - diffs.mean() > observed).sum() + 1) / (n + 1))


# --- Tests of significance ----------------------------------------------------------------------


def binomial_test(successes, trials, p) -> float:
    """The exact two-sided binomial test: the p-value of ``successes`` in ``trials`` of probability ``p``.

    The sum of P(X = i) over every i as likely as, or less likely than, the observed count:
    P(X = i) ≤ P(X = k) · (1 + 1e-7), the tolerance scipy uses for ties
    (``scipy.stats.binomtest(k, n, p).pvalue``).  The probabilities are summed in log space
    (``math.lgamma``), so thousands of trials neither overflow nor underflow.  This is not
    twice the smaller tail, a different test (the two agree for p = 1/2).  Taught in
    chapter 7.

    Args:
        successes: the observed count k, in ``[0, trials]``.
        trials: the number of trials n, at least 1.
        p: the probability of a success under the null hypothesis, in ``[0, 1]``.

    Example:
        >>> round(binomial_test(64, 200, 0.25), 4)     # chapter 7's cloze: 64 of 200 right, chance 1/4
        0.0271
    """
    trials = check_int("trials", trials, minimum=1)
    successes = check_int("successes", successes, minimum=0, maximum=trials)
    p = check_rate("p", p, include_high=True)
    if successes == trials * p:                                # the mode itself, as scipy has it
        return 1.0
    i = np.arange(trials + 1)
    log_choose = math.lgamma(trials + 1) - np.array([math.lgamma(k + 1) + math.lgamma(trials - k + 1)
                                                     for k in i])
    with np.errstate(divide="ignore", invalid="ignore"):     # log 0 = -inf; 0 · log 0 counts as 0
        log_pmf = (log_choose + np.where(i > 0, i * np.log(p), 0.0)
                   + np.where(i < trials, (trials - i) * np.log1p(-p), 0.0))
    extreme = log_pmf[log_pmf <= log_pmf[successes] + math.log1p(1e-7)]
    if not np.isfinite(extreme.max()):
        return 0.0
    top = extreme.max()
    return min(1.0, float(math.exp(top) * np.exp(extreme - top).sum()))


def mcnemar(correct_a, correct_b) -> float:
    """McNemar's exact test of two classifiers on the same items: a two-sided p-value.

    Only the discordant items count: b where only ``a`` is right, c where only ``b`` is.
    Under "equally accurate" each is a fair coin, so the p-value is
    ``binomial_test(min(b, c), b + c, 0.5)``; 1.0 when there is no discordant item.  It
    equals statsmodels' ``mcnemar(table, exact=True)``.  Taught in chapter 7.

    Args:
        correct_a, correct_b: boolean arrays, whether each system got each item right.

    Raises:
        ValueError: arrays that are not boolean, not 1-D, or not equally long.

    Example:
        >>> a = np.array([True] * 30 + [False] * 10)
        >>> round(mcnemar(a, ~a | (np.arange(40) < 25)), 4)       # b = 5, c = 10
        0.3018
    """
    a, b = np.asarray(correct_a), np.asarray(correct_b)
    if a.dtype != bool or b.dtype != bool or a.ndim != 1 or a.shape != b.shape or not len(a):
        raise ValueError(f"correct_a and correct_b must be equally long, non-empty 1-D boolean arrays, "
                         f"got {a.dtype} {a.shape} and {b.dtype} {b.shape}")
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    if only_a + only_b == 0:
        return 1.0
    return binomial_test(min(only_a, only_b), only_a + only_b, 0.5)


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment of several p-values, returned in the input order.

    The smallest of m p-values is multiplied by m, the next by m − 1, and so on, each
    adjusted value kept at least as large as the one before it and at most 1.  Reject every
    hypothesis whose adjusted p-value is below α: the chance of any false rejection is then
    at most α (Holm, 1979).  Equals statsmodels' ``multipletests(p, method="holm")[1]``.
    Taught in chapter 7.

    Raises:
        ValueError: not a non-empty 1-D list of numbers in [0, 1].

    Example:
        >>> holm([0.01, 0.04, 0.03])
        array([0.03, 0.06, 0.06])
    """
    try:
        p = np.asarray(p_values, dtype=float)
    except (TypeError, ValueError):
        p = np.array([np.nan])
    if p.ndim != 1 or not len(p) or np.isnan(p).any() or p.min() < 0 or p.max() > 1:
        raise ValueError(f"p_values must be a non-empty 1-D list of numbers in [0, 1] (no NaN), "
                         f"got {p_values!r:.80}")
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order]))
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def two_level_bootstrap(scores, n: int = 1000, level: float = 0.95, seed: int = 0) -> Interval:
    """The mean of a (seeds × items) array of scores, with an interval that holds seed variance too.

    Each resample draws the items with replacement *and* the seeds (the independently
    trained models) with replacement, so the interval reflects both another test set and
    another training run (Bouthillier et al., 2021).  With few seeds it is rough: three
    seeds give only ten distinct seed draws, and resampling S seeds understates their
    variance by a factor (S − 1)/S.  With one seed it equals :func:`bootstrap_ci` of the
    items' mean, conditional on that one trained model.  Taught in chapter 7.

    Args:
        scores: (seeds, items): e.g. 1.0 where seed s's model got item i right.

    Example:
        >>> scores = np.random.default_rng(0).random((3, 400)) < [[0.6], [0.7], [0.8]]
        >>> ci = two_level_bootstrap(scores)
        >>> ci.low < 0.65 < 0.75 < ci.high      # wider than items alone: the seeds disagree
        True
    """
    scores = _seeds_by_items("scores", scores)
    observed, stats, level = _resample_two_levels(lambda s, i: scores[np.ix_(s, i)].mean(),
                                                  [len(scores)], scores.shape[1], n, level, seed)
    return Interval(observed, *_percentiles(stats, level))


def paired_two_level_bootstrap(a, b, n: int = 1000, level: float = 0.95, seed: int = 0) -> Difference:
    """The difference of the means of two (seeds × items) score arrays on the same items, paired.

    Every resample draws one set of items for both systems (the pairing) and each system's
    seeds independently (their training runs are independent), so the interval and the
    two-sided p-value (:func:`bootstrap_difference`'s) include seed variance.  The two may
    have different numbers of seeds.  Taught in chapter 7.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> hard = rng.random(400)                      # some items are hard for both systems
        >>> a = rng.random((3, 400)) < 0.9 - hard / 2
        >>> b = rng.random((2, 400)) < 0.7 - hard / 2
        >>> d = paired_two_level_bootstrap(a, b)
        >>> d.excludes_zero(), d.p < 0.01
        (True, True)
    """
    a, b = _seeds_by_items("a", a), _seeds_by_items("b", b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must score the same items, got {a.shape[1]} and {b.shape[1]} items")
    observed, stats, level = _resample_two_levels(
        lambda sa, sb, i: a[np.ix_(sa, i)].mean() - b[np.ix_(sb, i)].mean(), [len(a), len(b)], a.shape[1],
        n, level, seed)
    return Difference(observed, *_percentiles(stats, level), _p_value(observed, stats))


def _seeds_by_items(name: str, scores) -> np.ndarray:
    """``scores`` as a float (seeds, items) array, checked."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or 0 in scores.shape or np.isnan(scores).any():
        raise ValueError(f"{name} must be a (seeds, items) array of numbers, at least one of each, no NaN, "
                         f"got shape {scores.shape} with {np.isnan(scores).sum()} NaN")
    return scores


def _resample_two_levels(metric, seeds: list[int], items: int, n, level, seed):
    """``metric(*seed_picks, item_picks)`` on all rows, and on ``n`` two-level resamples."""
    n = check_int("n", n, minimum=1)
    level = check_rate("level", level, include_low=False)
    rng = np.random.default_rng(seed)
    stats = np.array([metric(*(rng.integers(0, s, s) for s in seeds), rng.integers(0, items, items))
                      for _ in range(n)])
    return _finite(float(metric(*(np.arange(s) for s in seeds), np.arange(items))), stats), stats, level
