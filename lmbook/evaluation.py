"""Evaluation with intervals and tests: the book's statistical protocol, and the metrics it is applied to.

Taught in chapter 7 (evaluation); chapters 3 and 4 already use :func:`stream_difference` to
say whether a trained model beats an n-gram on the same validation stream.

The protocol, in code:

* systems scored on the same items are compared with a paired test: :func:`bootstrap_difference`,
  :func:`block_difference` and :func:`stream_difference` for streams, :func:`mcnemar` for
  right/wrong items, :func:`binomial_test` against a fixed rate such as chance;
* seed variance goes into the interval (:func:`two_level_bootstrap`,
  :func:`paired_two_level_bootstrap`), or the interval is conditional on the trained models;
* several comparisons are corrected together (:func:`holm`).

A percentile bootstrap resamples whole examples (sentences, pairs, reviews, or contiguous
blocks of a stream), never the characters inside them, because neighbouring characters are
not independent.

Example:
    >>> interval = bootstrap_ci(np.mean, np.arange(100.0))
    >>> round(interval.estimate, 1), interval.low < 49.5 < interval.high
    (49.5, True)
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from typing import NamedTuple

import numpy as np

from lmbook.checks import check_int, check_rate

__all__ = ["BLEU_TOKENIZERS", "PRF", "ROUGE_TOKENIZERS", "Difference", "Interval", "binomial_test",
           "bits_per_byte", "bleu", "bleu_score", "bleu_statistics", "block_difference", "block_interval",
           "block_sums", "bootstrap_ci", "bootstrap_difference", "calibration_error", "chrf", "chrf_score",
           "chrf_statistics", "copy_rate", "distinct_n", "expected_calibration_error", "fit_temperature",
           "format_p", "holm", "mcnemar", "multiple_choice", "paired_bootstrap", "paired_two_level_bootstrap",
           "prf1",
           "rouge", "stream_difference", "stream_row", "two_level_bootstrap"]


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
    :func:`lmbook.metrics.stream_losses` and :func:`lmbook.ngram.stream_losses`).  The
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
    test, :func:`bootstrap_difference` on :func:`bleu_statistics` or :func:`chrf_statistics`
    rows, centres the signed differences.  Taught in chapter 7.

    Args:
        metric: e.g. :func:`bleu` or ``lambda h, r: chrf(h, r)``: a corpus score.
        a, b: the two systems' hypotheses, one per segment.
        references: as :func:`bleu` takes them.

    Example:
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


# --- BLEU ---------------------------------------------------------------------------------------

# mteval-v13a's punctuation rules, as sacreBLEU applies them after its "13a" and "zh" splits.
_13A_RULES = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),   # symbols and most punctuation
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),                   # . and , unless after a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),                   # . and , unless before a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),                         # - after a digit
]
# sacreBLEU's "zh" ranges.  Two of its bounds are written as five-hex-digit escapes, which Python
# reads as two characters ('\u2000' + '0'), so its range test lets U+2001..U+2A6D through:
# general punctuation such as “ ” — … is split off like a Chinese character.  Kept as is, to agree.
_ZH_RANGES = [("\u3400", "\u4db5"), ("\u4e00", "\u9fa5"), ("\u9fa6", "\u9fbb"), ("\uf900", "\ufa2d"),
              ("\ufa30", "\ufa6a"), ("\ufa70", "\ufad9"), ("\u20000", "\u2a6d6"), ("\u2f800", "\u2fa1d"),
              ("\uff00", "\uffef"), ("\u2e80", "\u2eff"), ("\u3000", "\u303f"), ("\u31c0", "\u31ef"),
              ("\u2f00", "\u2fdf"), ("\u2ff0", "\u2fff"), ("\u3100", "\u312f"), ("\u31a0", "\u31bf"),
              ("\ufe10", "\ufe1f"), ("\ufe30", "\ufe4f"), ("\u2600", "\u26ff"), ("\u2700", "\u27bf"),
              ("\u3200", "\u32ff"), ("\u3300", "\u33ff")]


def _punctuation(line: str) -> list[str]:
    """mteval-v13a's punctuation rules; the tokens."""
    for pattern, replacement in _13A_RULES:
        line = pattern.sub(replacement, line)
    return line.split()


def _tokenize_13a(line: str) -> list[str]:
    """sacreBLEU's "13a": mteval-v13a's language-independent rules, then its punctuation rules."""
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    for entity, char in (("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")):
        line = line.replace(entity, char)
    return _punctuation(f" {line} ")


def _tokenize_zh(line: str) -> list[str]:
    """sacreBLEU's "zh": spaces around every character in its Chinese ranges, then the punctuation rules."""
    return _punctuation("".join(f" {c} " if any(a <= c <= b for a, b in _ZH_RANGES) else c
                                for c in line.strip()))


#: How :func:`bleu` cuts a line into tokens, by the name sacreBLEU gives each.
BLEU_TOKENIZERS = {
    "13a": _tokenize_13a,                                  # WMT's default: words and punctuation
    "zh": _tokenize_zh,                                    # each Chinese character; 13a for the rest
    "char": lambda line: [c for c in line if not c.isspace()],   # every character but whitespace
    "none": str.split,                                     # whitespace only: pre-tokenised text
}


def _ngrams(tokens: list[str], order: int) -> Counter:
    """Every n-gram of ``tokens`` for n = 1..order, counted."""
    return Counter(tuple(tokens[i:i + n]) for n in range(1, order + 1) for i in range(len(tokens) - n + 1))


def bleu(hypotheses, references, tokenize: str = "13a", order: int = 4, normalize: bool = False) -> float:
    """Corpus BLEU on a 0–100 scale, as ``sacrebleu.corpus_bleu`` computes it.

    Per hypothesis: its n-grams (n = 1..``order``) are matched against the references, each
    count clipped to the largest count in any one reference; the reference length is the
    closest to the hypothesis's (the shorter on a tie).  Over the corpus: precisions
    p_n = matches / n-grams, a brevity penalty exp(1 − r/c) when the c hypothesis tokens are
    fewer than the r reference tokens, and BLEU = BP · exp(mean log p_n).  A precision with
    no match is smoothed as mteval does ("exp"): 1 / (2^k · n-grams) for the k-th such order.
    Taught in chapter 7.

    Args:
        hypotheses: one string per segment.
        references: one string per hypothesis, or one list of strings per hypothesis.
        tokenize: a key of :data:`BLEU_TOKENIZERS`: ``"13a"``, ``"zh"``, ``"char"`` or ``"none"``.
        order: the longest n-gram.
        normalize: NFKC-normalise every text first, so that full-width ``１９９８`` matches ``1998``
            (People's Daily writes full-width forms); off by default, as in sacreBLEU.

    Raises:
        ValueError: empty or unequal inputs, a hypothesis without references, an unknown tokenizer.

    Example:
        >>> round(bleu(["the cat sat on the mat"], ["the cat sat on a mat"]), 2)
        53.73
        >>> round(bleu(["人民日报发表社论"], ["人民日报发表评论"], tokenize="zh"), 2)
        70.71
    """
    return bleu_score(bleu_statistics(hypotheses, references, tokenize, order, normalize))


def bleu_statistics(hypotheses, references, tokenize: str = "13a", order: int = 4,
                    normalize: bool = False) -> np.ndarray:
    """BLEU's sufficient statistics, one row per segment: what :func:`bleu_score` sums.

    Each row holds the clipped n-gram matches for n = 1..``order``, the hypothesis's n-gram
    counts, its length and its reference length (arguments as :func:`bleu`).  A bootstrap
    resamples these rows instead of re-tokenising the texts, as sacreBLEU's paired bootstrap
    does.  Taught in chapter 7.

    Example:
        >>> bleu_statistics(["the cat sat"], ["the cat sat down"], order=2)
        array([[3., 2., 3., 2., 3., 4.]])
    """
    if tokenize not in BLEU_TOKENIZERS:
        raise ValueError(f"tokenize must be one of {', '.join(BLEU_TOKENIZERS)}, got {tokenize!r}")
    order = check_int("order", order, minimum=1)
    hypotheses, references = _pairs(hypotheses, references, normalize)
    split = BLEU_TOKENIZERS[tokenize]
    rows = np.zeros((len(hypotheses), 2 * order + 2))
    for row, hyp, refs in zip(rows, hypotheses, references):
        tokens = split(hyp.rstrip())
        best: Counter = Counter()
        lengths = []
        for ref in refs:
            ref_tokens = split(ref.rstrip())
            lengths.append(len(ref_tokens))
            best |= _ngrams(ref_tokens, order)           # the largest count in any one reference
        row[-2:] = len(tokens), min(lengths, key=lambda r: (abs(r - len(tokens)), r))
        for gram, count in _ngrams(tokens, order).items():
            row[order + len(gram) - 1] += count
            row[len(gram) - 1] += min(count, best[gram])
    return rows


def bleu_score(statistics) -> float:
    """Corpus BLEU from the rows of :func:`bleu_statistics` (summed over the segments).  Taught in chapter 7.

    Raises:
        ValueError: ``statistics`` that are not (segments, 2 · order + 2) rows.

    Example:
        >>> round(bleu_score(bleu_statistics(["the cat sat on the mat"], ["the cat sat on a mat"])), 2)
        53.73
    """
    statistics = np.asarray(statistics, dtype=float)
    if statistics.ndim != 2 or statistics.shape[1] < 4 or statistics.shape[1] % 2:
        raise ValueError(f"statistics must be bleu_statistics rows, (segments, 2 * order + 2), "
                         f"got shape {statistics.shape}")
    total = statistics.sum(axis=0)
    order = (len(total) - 2) // 2
    matches, totals, (hyp_len, ref_len) = total[:order], total[order:2 * order], total[-2:]
    if not matches.any():
        return 0.0
    brevity = 1.0 if hyp_len >= ref_len else (math.exp(1 - ref_len / hyp_len) if hyp_len else 0.0)
    logs, halvings = [], 1.0
    for m, t in zip(matches, totals):
        if t == 0:                     # no n-grams this long at all: sacreBLEU stops, and counts log 0
            break
        if m == 0:
            halvings *= 2
        logs.append(math.log(100 * (m if m else 1 / halvings) / t))
    logs += [-9999999999] * (order - len(logs))
    return brevity * math.exp(sum(logs) / order)


# --- chrF ---------------------------------------------------------------------------------------


def _chrf_statistics(hyp: str, ref: str, order: int) -> np.ndarray:
    """Per n = 1..order: hypothesis n-grams, reference n-grams and matches, whitespace removed."""
    hyp, ref = "".join(hyp.split()), "".join(ref.split())
    stats = np.zeros((order, 3))
    for n in range(1, order + 1):
        h = Counter(hyp[i:i + n] for i in range(len(hyp) - n + 1))
        r = Counter(ref[i:i + n] for i in range(len(ref) - n + 1))
        # sacreBLEU counts no hypothesis n-grams for an order the reference lacks
        stats[n - 1] = (sum(h.values()) if r else 0, sum(r.values()), sum((h & r).values()))
    return stats


def _f_beta(stats: np.ndarray, beta: float) -> float:
    """chrF from summed statistics: F-beta of the precisions and recalls averaged over the orders.

    Orders with no n-grams on either side are left out of the averages (sacreBLEU's
    "effective order").
    """
    present = (stats[:, 0] > 0) & (stats[:, 1] > 0)
    if not present.any():
        return 0.0
    precision = (stats[present, 2] / stats[present, 0]).mean()
    recall = (stats[present, 2] / stats[present, 1]).mean()
    if precision + recall == 0:
        return 0.0
    return float(100 * (1 + beta**2) * precision * recall / (beta**2 * precision + recall))


def chrf(hypotheses, references, order: int = 6, beta: float = 2.0, normalize: bool = False) -> float:
    """Corpus chrF (Popović, 2015) on a 0–100 scale, as ``sacrebleu.corpus_chrf`` computes it.

    Character n-grams (n = 1..``order``, spaces removed) of each hypothesis are matched with
    those of its best reference (the one with the highest chrF of this segment); the counts
    are summed over the corpus, and chrF is the F-beta score (recall weighted ``beta`` times
    as much as precision) of the precision and recall averaged over the orders.  It needs no
    tokenizer, so it works for Chinese as it is.  Taught in chapter 7.

    ``normalize`` is as in :func:`bleu`.

    Raises:
        ValueError: as :func:`bleu`.

    Example:
        >>> round(chrf(["人民日报发表社论"], ["人民日报发表评论"]), 2)
        61.49
    """
    return chrf_score(chrf_statistics(hypotheses, references, order, beta, normalize), beta)


def chrf_statistics(hypotheses, references, order: int = 6, beta: float = 2.0,
                    normalize: bool = False) -> np.ndarray:
    """chrF's sufficient statistics, (segments, order, 3): n-grams of hypothesis, reference, matches.

    Each segment's counts are those of its best reference for this ``beta``, as in
    :func:`chrf`; :func:`chrf_score` sums them.  For the bootstrap (:func:`bleu_statistics`).
    Taught in chapter 7.

    Example:
        >>> chrf_statistics(["人民日报"], ["人民网"], order=2)[0]
        array([[4., 3., 2.],
               [3., 2., 1.]])
    """
    order = check_int("order", order, minimum=1)
    check_rate("beta", beta, high=math.inf, include_low=False)
    hypotheses, references = _pairs(hypotheses, references, normalize)
    return np.array([max((_chrf_statistics(hyp, ref, order) for ref in refs),
                         key=lambda st: _f_beta(st, beta))            # the best; the first on a tie
                     for hyp, refs in zip(hypotheses, references)])


def chrf_score(statistics, beta: float = 2.0) -> float:
    """Corpus chrF from the rows of :func:`chrf_statistics` (summed over the segments).  Taught in chapter 7.

    ``beta`` should be the one the statistics were made with: it chose each segment's reference.

    Raises:
        ValueError: ``statistics`` that are not (segments, order, 3).

    Example:
        >>> round(chrf_score(chrf_statistics(["人民日报发表社论"], ["人民日报发表评论"])), 2)
        61.49
    """
    check_rate("beta", beta, high=math.inf, include_low=False)
    statistics = np.asarray(statistics, dtype=float)
    if statistics.ndim != 3 or statistics.shape[2] != 3:
        raise ValueError(f"statistics must be chrf_statistics rows, (segments, order, 3), "
                         f"got shape {statistics.shape}")
    return _f_beta(statistics.sum(axis=0), beta)


# --- ROUGE --------------------------------------------------------------------------------------


class PRF(NamedTuple):
    """Precision, recall and their harmonic mean F."""

    precision: float
    recall: float
    f: float


def _prf(matches: float, predicted: float, expected: float) -> PRF:
    """``PRF`` from counts, 0 where a count is 0 (as rouge-score and scikit-learn's zero_division=0)."""
    precision = matches / predicted if predicted else 0.0
    recall = matches / expected if expected else 0.0
    f = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision, recall, f)


_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
#: How :func:`rouge` cuts a text into tokens.
ROUGE_TOKENIZERS = {
    # each Chinese character alone; runs of other letters and digits as words; lower case;
    # punctuation and spaces dropped (as rouge-score drops them)
    "auto": lambda text: re.findall(f"[{_CJK}]|[^\\W{_CJK}_]+", text.lower()),
    "char": lambda text: [c for c in text if not c.isspace()],
    # rouge-score's default: lower case, everything but a-z and 0-9 is a space.  Chinese vanishes.
    "rouge_score": lambda text: re.sub(r"[^a-z0-9]+", " ", text.lower()).split(),
}


def _lcs(a: list, b: list) -> int:
    """The length of the longest common subsequence of ``a`` and ``b`` (dynamic programming)."""
    row = [0] * (len(b) + 1)
    for x in a:
        previous_diagonal = 0
        for j, y in enumerate(b, start=1):
            previous_diagonal, row[j] = row[j], (previous_diagonal + 1 if x == y
                                                 else max(row[j], row[j - 1]))
    return row[-1]


def _rouge_pair(hyp: list, ref: list) -> dict[str, PRF]:
    """ROUGE-1, ROUGE-2 and ROUGE-L of one hypothesis against one reference (token lists)."""
    scores = {}
    for n in (1, 2):
        h = Counter(tuple(hyp[i:i + n]) for i in range(len(hyp) - n + 1))
        r = Counter(tuple(ref[i:i + n]) for i in range(len(ref) - n + 1))
        scores[f"rouge{n}"] = _prf(sum((h & r).values()), sum(h.values()), sum(r.values()))
    scores["rougeL"] = _prf(_lcs(ref, hyp), len(hyp), len(ref)) if hyp and ref else PRF(0.0, 0.0, 0.0)
    return scores


def rouge(hypotheses, references, tokenize: str = "auto", normalize: bool = False) -> dict[str, PRF]:
    """ROUGE-1, ROUGE-2 and ROUGE-L (Lin, 2004), each the mean over pairs of its per-pair :class:`PRF`.

    ROUGE-n matches the n-grams of each hypothesis with its reference's (clipped counts):
    precision over the hypothesis's n-grams, recall over the reference's.  ROUGE-L uses the
    longest common subsequence of tokens instead.  With several references, each ROUGE type
    takes the reference with the highest F for that pair (rouge-score's ``score_multi``).
    With the same tokens, this equals ``rouge_score.rouge_scorer.RougeScorer`` averaged over
    pairs.  Taught in chapter 7.

    Args:
        tokenize: a key of :data:`ROUGE_TOKENIZERS`.  ``"auto"`` splits Chinese into characters
            and keeps Latin words; ``"rouge_score"`` is rouge-score's default, which keeps only
            ``[a-z0-9]`` and so scores every Chinese pair 0 (chapter 7's pitfall).
        normalize: as in :func:`bleu`.

    Raises:
        ValueError: as :func:`bleu`, or an unknown tokenizer.

    Example:
        >>> rouge(["人民日报发表社论"], ["人民日报发表评论"])["rouge1"].f
        0.875
        >>> rouge(["人民日报发表社论"], ["人民日报发表评论"], tokenize="rouge_score")["rouge1"].f
        0.0
    """
    if tokenize not in ROUGE_TOKENIZERS:
        raise ValueError(f"tokenize must be one of {', '.join(ROUGE_TOKENIZERS)}, got {tokenize!r}")
    hypotheses, references = _pairs(hypotheses, references, normalize)
    split = ROUGE_TOKENIZERS[tokenize]
    per_pair = []
    for hyp, refs in zip(hypotheses, references):
        candidates = [_rouge_pair(split(hyp), split(ref)) for ref in refs]
        per_pair.append({kind: max((c[kind] for c in candidates), key=lambda s: s.f)   # first best
                         for kind in ("rouge1", "rouge2", "rougeL")})
    return {kind: PRF(*(float(np.mean([p[kind][i] for p in per_pair])) for i in range(3)))
            for kind in ("rouge1", "rouge2", "rougeL")}


# --- Classification -----------------------------------------------------------------------------


def prf1(y_true, y_pred, average: str = "binary") -> PRF:
    """Precision, recall and F1 of predicted labels, as scikit-learn computes them (``zero_division=0``).

    ``"binary"``: of the positive class 1.  ``"micro"``: from the true positives, false
    positives and false negatives summed over the classes.  ``"macro"``: the unweighted mean
    of each class's precision, recall and F1, over the classes in either array.  Taught in
    chapter 7.

    Raises:
        ValueError: empty or unequally long labels, an unknown ``average``, or, for
            ``"binary"``, labels other than 0 and 1.

    Example:
        >>> prf1([1, 0, 1, 1], [1, 1, 0, 1])
        PRF(precision=0.6666666666666666, recall=0.6666666666666666, f=0.6666666666666666)
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape or not len(y_true):
        raise ValueError(f"y_true and y_pred must be equally long, non-empty label lists, "
                         f"got shapes {y_true.shape} and {y_pred.shape}")
    averages = ("binary", "micro", "macro")
    if average not in averages:
        raise ValueError(f"average must be one of {', '.join(averages)}, got {average!r}")
    classes = np.union1d(y_true, y_pred)
    if average == "binary":
        if not set(classes.tolist()) <= {0, 1}:
            raise ValueError(f"average='binary' needs labels 0 and 1, got {classes.tolist()}; "
                             f"use 'micro' or 'macro'")
        classes = np.array([1])
    counts = [((y_pred == c) & (y_true == c)).sum() for c in classes]
    predicted = [(y_pred == c).sum() for c in classes]
    expected = [(y_true == c).sum() for c in classes]
    if average == "micro":
        return _prf(float(sum(counts)), float(sum(predicted)), float(sum(expected)))
    per_class = [_prf(float(m), float(p), float(e)) for m, p, e in zip(counts, predicted, expected)]
    return PRF(*(float(np.mean([c[i] for c in per_class])) for i in range(3)))


# --- Calibration --------------------------------------------------------------------------------


def _probabilities(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    """``probs`` as rows of class probabilities (a 1-D array is P(class 1) of a binary task), checked."""
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    if probs.ndim == 1:
        probs = np.stack([1 - probs, probs], axis=1)
    if probs.ndim != 2 or len(probs) != len(labels) or not len(labels):
        raise ValueError(f"probs must be (examples, classes) or (examples,) and labels as many, "
                         f"got shapes {np.shape(probs)} and {labels.shape}")
    if probs.min() < 0 or probs.max() > 1 or not np.allclose(probs.sum(axis=1), 1, atol=1e-6):
        raise ValueError("probs must lie in [0, 1] and each row must sum to 1")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= probs.shape[1]:
        raise ValueError(f"labels must be class indices in [0, {probs.shape[1] - 1}]")
    return probs, labels


def expected_calibration_error(probs, labels, bins: int = 15) -> float:
    """ECE: how far confidence is from accuracy, averaged over equal-width confidence bins.

    The confidence of an example is its top probability, and the prediction its arg-max.
    Bin k holds the confidences in ((k-1)/bins, k/bins]; ECE = Σ_k (n_k / n) · |accuracy_k −
    mean confidence_k| (Naeini et al., 2015; Guo et al., 2017): the ℓ1 plug-in estimate, biased
    upward by the noise in each bin's accuracy (:func:`calibration_error` has a debiased ℓ2
    estimate).  Taught in chapter 7.

    Raises:
        ValueError: probabilities outside [0, 1] or rows not summing to 1, mismatched labels.

    Example:
        >>> expected_calibration_error([0.9, 0.9, 0.2, 0.6], [1, 0, 0, 1], bins=10)
        0.35
    """
    probs, labels = _probabilities(probs, labels)
    bins = check_int("bins", bins, minimum=1)
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    # k / bins itself belongs to bin k - 1, whatever rounding confidence * bins suffered
    which = np.clip(np.ceil(confidence * bins - 1e-9).astype(int) - 1, 0, bins - 1)
    gap = sum(abs(correct[which == k].mean() - confidence[which == k].mean()) * (which == k).sum()
              for k in np.unique(which))
    return round(float(gap / len(labels)), 12)


def calibration_error(probs, labels, bins: int = 15, p: int = 2, debiased: bool = True) -> float:
    """The top-label ℓp calibration error with equal-mass bins; by default Kumar et al.'s debiased ℓ2.

    The confidences are sorted and cut into ``bins`` groups of (nearly) equal size; bin k's
    gap is its mean confidence minus its accuracy.  The plug-in estimate
    (``debiased=False``) is (Σ_k (n_k / n) · |gap_k|^p)^(1/p).  It is biased upward: even a
    calibrated model's bins show gaps, from sampling noise alone.  For p = 2 the debiased
    estimator (Kumar et al., 2019) subtracts each bin's expected squared noise,
    acc_k (1 − acc_k) / (n_k − 1), from gap_k², so it estimates the *squared* ℓ2 error
    without bias; this returns √max(that, 0).  It is not a debiased ℓ1 ECE
    (:func:`expected_calibration_error`, equal-width bins, Naeini et al., 2015), which has no
    such correction.  For (examples, classes) probabilities it equals the
    ``uncertainty-calibration`` package's ``lower_bound_scaling_ce(..., mode="top-label")``;
    a 1-D ``probs`` is P(class 1) and is scored by its top label, max(p, 1 − p), as here
    everywhere (that package scores class 1 instead).  Taught in chapter 7.

    Args:
        probs, labels: as :func:`expected_calibration_error`.
        bins: equal-mass bins; the debiased estimate needs at least two examples in each.
        p: the norm, an integer >= 1.
        debiased: subtract the noise term; only for ``p=2``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> confidence = rng.uniform(0.5, 1, 20000)
        >>> labels = (rng.random(20000) < confidence).astype(int)   # calibrated by construction
        >>> plug_in = calibration_error(confidence, labels, debiased=False)
        >>> debiased = calibration_error(confidence, labels)
        >>> debiased < 0.005 < plug_in
        True
    """
    probs, labels = _probabilities(probs, labels)
    bins = check_int("bins", bins, minimum=1)
    p = check_int("p", p, minimum=1)
    if debiased and p != 2:
        raise ValueError(f"debiased=True needs p=2 (Kumar et al. debias the squared error), got p={p}")
    if debiased and bins > len(labels) // 2:
        raise ValueError(f"debiased=True needs two examples per bin: bins must be at most {len(labels) // 2} "
                         f"for {len(labels)} examples, got {bins}")
    confidence, correct = probs.max(axis=1), (probs.argmax(axis=1) == labels).astype(float)
    groups = np.array_split(np.sort(confidence), min(bins, len(confidence)))
    edges = np.unique([(low[-1] + high[0]) / 2 for low, high in zip(groups, groups[1:])] + [1.0])
    which = np.searchsorted(edges, confidence)       # bin k holds (edges[k-1], edges[k]]
    total = 0.0
    for k in np.unique(which):
        size = np.sum(which == k)
        gap, accuracy = confidence[which == k].mean() - correct[which == k].mean(), correct[which == k].mean()
        if not debiased:
            total += size * abs(gap) ** p
        elif size > 1:                               # a bin of one has no variance estimate: it adds 0
            total += size * (gap**2 - accuracy * (1 - accuracy) / (size - 1))
    total /= len(confidence)
    return float(max(total, 0.0) ** 0.5 if debiased else total ** (1 / p))


def fit_temperature(logits, labels) -> float:
    """The temperature T that minimises the NLL of ``softmax(logits / T)`` (Guo et al., 2017).

    Fit it on validation data; dividing the test logits by it changes no prediction, only
    the confidence.  A golden-section search on log T in [1/100, 100].  Taught in chapter 7.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> labels = rng.integers(0, 2, 2000)
        >>> logits = 3 * np.stack([labels == 0, labels == 1], 1) + rng.normal(size=(2000, 2)) * 3
        >>> round(fit_temperature(logits, labels), 1) > 1      # over-confident logits: T > 1
        True
    """
    logits, labels = np.asarray(logits, dtype=float), np.asarray(labels)
    if logits.ndim != 2 or len(logits) != len(labels) or not len(labels):
        raise ValueError(f"logits must be (examples, classes) and labels as many, "
                         f"got shapes {logits.shape} and {labels.shape}")

    def nll(log_t):
        z = logits / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(z)), labels]))

    low, high, golden = math.log(0.01), math.log(100.0), (math.sqrt(5) - 1) / 2
    for _ in range(80):
        a, b = high - golden * (high - low), low + golden * (high - low)
        low, high = (low, b) if nll(a) < nll(b) else (a, high)
    return math.exp((low + high) / 2)


# --- Generated text ------------------------------------------------------------------------------


def _char_ngrams(text: str, n: int) -> list[str]:
    return [text[i:i + n] for i in range(len(text) - n + 1)]


def distinct_n(texts, n: int) -> float:
    """Distinct character n-grams over all n-grams of ``texts`` (Li et al., 2016); 0 if there are none.

    Low values flag repetition.  N-grams do not cross from one text to the next.  Taught in
    chapter 7.

    Example:
        >>> distinct_n(["abab", "ab"], 2)
        0.5
    """
    n = check_int("n", n, minimum=1)
    grams = [g for text in texts for g in _char_ngrams(text, n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def copy_rate(texts, train_text: str, n: int) -> float:
    """The share of the character n-grams of ``texts`` that occur somewhere in ``train_text``.

    Near 1 for long n, a model is copying its training text rather than composing.  Taught
    in chapter 7.

    Example:
        >>> copy_rate(["abcx"], "abcd", 3)
        0.5
    """
    n = check_int("n", n, minimum=1)
    seen = set(_char_ngrams(train_text, n))
    grams = [g for text in texts for g in _char_ngrams(text, n)]
    return sum(g in seen for g in grams) / len(grams) if grams else 0.0


# --- Multiple choice -----------------------------------------------------------------------------


def multiple_choice(score_fn, contexts, choices, answers, unconditional=None) -> dict[str, float]:
    """Accuracy on multiple-choice items, as lm-evaluation-harness scores them: ``acc``, ``acc_norm``.

    ``score_fn(context, continuation)`` returns the continuation's total log-probability
    (nats).  ``acc`` picks the choice with the highest total; ``acc_norm`` divides each total
    by the choice's length in characters first, so that long choices, which collect more
    negative log-probability, are not penalised for their length.  Given an ``unconditional``
    context (one string for every item, or one per item, e.g. the start of a sentence),
    ``acc_mutual_info`` picks the choice with the highest log P(choice | context) −
    log P(choice | unconditional): how much the context raised its probability, so that
    choices that are likely anywhere do not win (Holtzman et al., 2021; lm-evaluation-harness's
    ``acc_mutual_info``).  Ties go to the first choice.  Taught in chapter 7.

    Raises:
        ValueError: lists of different lengths, an item without choices, an answer out of range.

    Example:
        >>> score = lambda context, choice: -1.0 * len(choice)          # every character costs 1 nat
        >>> multiple_choice(score, ["x", "y"], [["ab", "abcd"], ["abc", "a"]], [1, 0])
        {'acc': 0.0, 'acc_norm': 0.5}
        >>> prior = lambda context, choice: -2.0 * len(choice) if context == "" else score(context, choice)
        >>> multiple_choice(prior, ["x", "y"], [["ab", "abcd"], ["abc", "a"]], [1, 0], unconditional="")
        {'acc': 0.0, 'acc_norm': 0.5, 'acc_mutual_info': 1.0}
    """
    contexts, choices, answers = list(contexts), [list(c) for c in choices], list(answers)
    if not contexts or not len(contexts) == len(choices) == len(answers):
        raise ValueError(f"contexts, choices and answers must be non-empty and equally long, got "
                         f"{len(contexts)}, {len(choices)} and {len(answers)}")
    priors = [unconditional] * len(contexts) if unconditional is None or isinstance(unconditional, str) \
        else list(unconditional)
    if len(priors) != len(contexts) or not all(isinstance(u, str) or unconditional is None for u in priors):
        raise ValueError(f"unconditional must be one string, or one string per item ({len(contexts)}), "
                         f"got {unconditional!r:.80}")
    hits = np.zeros((len(contexts), 3))
    for i, (context, options, answer, prior) in enumerate(zip(contexts, choices, answers, priors)):
        if not options or not 0 <= answer < len(options):
            raise ValueError(f"item {i}: answer {answer!r} is not an index of its {len(options)} choices")
        totals = np.array([score_fn(context, option) for option in options], dtype=float)
        lengths = np.array([max(len(option), 1) for option in options])
        hits[i, :2] = totals.argmax() == answer, (totals / lengths).argmax() == answer
        if prior is not None:
            gains = totals - np.array([score_fn(prior, option) for option in options], dtype=float)
            hits[i, 2] = gains.argmax() == answer
    result = {"acc": float(hits[:, 0].mean()), "acc_norm": float(hits[:, 1].mean())}
    if unconditional is not None:
        result["acc_mutual_info"] = float(hits[:, 2].mean())
    return result


def _pairs(hypotheses, references, normalize: bool = False) -> tuple[list[str], list[list[str]]]:
    """Hypotheses and, for each, its list of references; checked, and NFKC-normalised if asked."""
    hypotheses = list(hypotheses)
    references = [[r] if isinstance(r, str) else list(r) for r in references]
    if not hypotheses:
        raise ValueError("hypotheses must not be empty")
    if len(hypotheses) != len(references):
        raise ValueError(f"hypotheses and references must be equally long, got {len(hypotheses)} "
                         f"hypotheses and {len(references)} references")
    for i, (hyp, refs) in enumerate(zip(hypotheses, references)):
        if not isinstance(hyp, str) or not refs or not all(isinstance(r, str) for r in refs):
            raise ValueError(f"item {i}: expected a hypothesis string and at least one reference "
                             f"string, got {hyp!r} and {refs!r}")
    if normalize:      # full-width letters, digits and punctuation become their ASCII forms
        hypotheses = [unicodedata.normalize("NFKC", h) for h in hypotheses]
        references = [[unicodedata.normalize("NFKC", r) for r in refs] for refs in references]
    return hypotheses, references
