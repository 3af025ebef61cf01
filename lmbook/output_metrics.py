"""Metrics computed on a system's outputs: BLEU, chrF, ROUGE, precision/recall/F1, calibration,
the diversity of generated text, and multiple-choice accuracy.

Taught in chapter 7 (evaluation).  Chapter 5's word segmentation (:mod:`lmbook.segment`) and
chapter 8's named entities (:mod:`lmbook.entities`) turn their counts into F1 with
:func:`prf_from_counts`.  Where the field has a reference implementation, the metric equals it
(the tests check that):

* translation: :func:`bleu` and :func:`chrf` (= sacreBLEU), with their per-segment statistics
  (:func:`bleu_statistics`, :func:`chrf_statistics`) for a bootstrap over segments;
* summaries: :func:`rouge` (= rouge-score, and Chinese-aware);
* labels: :func:`prf1` (= scikit-learn), :func:`prf_from_counts`, both returning a :class:`PRF`;
* probabilities: :func:`expected_calibration_error`, :func:`calibration_error` (Kumar et al.'s
  debiased ℓ2 error) and :func:`fit_temperature`;
* generated text: :func:`distinct_n`, :func:`copy_rate`; cloze items: :func:`multiple_choice`.

Whether one system's score beats another's is :mod:`lmbook.significance`'s job.

Example:
    >>> hypotheses, references = ["人民日报发表社论"], ["人民日报发表评论"]
    >>> round(bleu(hypotheses, references, tokenize="zh"), 2), round(chrf(hypotheses, references), 2)
    (70.71, 61.49)
    >>> rouge(hypotheses, references)["rouge1"]
    PRF(precision=0.875, recall=0.875, f1=0.875)
    >>> prf_from_counts(7, 8, 8)       # 7 of the 8 characters shared: the same F1, from counts
    PRF(precision=0.875, recall=0.875, f1=0.875)
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from typing import NamedTuple

import numpy as np

from lmbook.checks import check_int, check_rate

__all__ = ["BLEU_TOKENIZERS", "PRF", "ROUGE_TOKENIZERS", "bleu", "bleu_score", "bleu_statistics",
           "calibration_error", "chrf", "chrf_score", "chrf_statistics", "copy_rate", "distinct_n",
           "expected_calibration_error", "fit_temperature", "multiple_choice", "prf1", "prf_from_counts",
           "rouge"]


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


# --- Precision, recall and F1 -------------------------------------------------------------------


class PRF(NamedTuple):
    """Precision, recall and their harmonic mean, F1."""

    precision: float
    recall: float
    f1: float


def prf_from_counts(matches: float, predicted: float, expected: float) -> PRF:
    """Precision ``matches / predicted``, recall ``matches / expected`` and their F1 (harmonic mean).

    ROUGE, :func:`prf1`, word segmentation (:func:`lmbook.segment.evaluate_segmentation`) and
    entities (:func:`lmbook.entities.entity_prf1`) count their matches and call this one
    function.  A zero count gives 0, as rouge-score and scikit-learn's ``zero_division=0`` do,
    and so does F1 when precision and recall are both 0.  Taught in chapter 7.

    Args:
        matches: items both predicted and expected (true positives).
        predicted: items predicted (true + false positives).
        expected: items expected (true positives + false negatives).

    Raises:
        ValueError: a negative count, or more matches than predicted or expected items.

    Example:
        >>> prf_from_counts(3, 4, 6)
        PRF(precision=0.75, recall=0.5, f1=0.6)
        >>> prf_from_counts(0, 0, 5)        # nothing predicted: precision 0, not undefined
        PRF(precision=0.0, recall=0.0, f1=0.0)
    """
    if min(matches, predicted, expected) < 0 or matches > min(predicted, expected):
        raise ValueError(f"counts must be non-negative with matches <= predicted and matches <= expected, "
                         f"got matches={matches}, predicted={predicted}, expected={expected}")
    precision = matches / predicted if predicted else 0.0
    recall = matches / expected if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(float(precision), float(recall), float(f1))


# --- ROUGE --------------------------------------------------------------------------------------


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
        scores[f"rouge{n}"] = prf_from_counts(sum((h & r).values()), sum(h.values()), sum(r.values()))
    scores["rougeL"] = prf_from_counts(_lcs(ref, hyp), len(hyp), len(ref))      # 0 if either is empty
    return scores


def rouge(hypotheses, references, tokenize: str = "auto", normalize: bool = False) -> dict[str, PRF]:
    """ROUGE-1, ROUGE-2 and ROUGE-L (Lin, 2004), each the mean over pairs of its per-pair :class:`PRF`.

    ROUGE-n matches the n-grams of each hypothesis with its reference's (clipped counts):
    precision over the hypothesis's n-grams, recall over the reference's.  ROUGE-L uses the
    longest common subsequence of tokens instead.  With several references, each ROUGE type
    takes the reference with the highest F1 for that pair (rouge-score's ``score_multi``).
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
        >>> rouge(["人民日报发表社论"], ["人民日报发表评论"])["rouge1"].f1
        0.875
        >>> rouge(["人民日报发表社论"], ["人民日报发表评论"], tokenize="rouge_score")["rouge1"].f1
        0.0
    """
    if tokenize not in ROUGE_TOKENIZERS:
        raise ValueError(f"tokenize must be one of {', '.join(ROUGE_TOKENIZERS)}, got {tokenize!r}")
    hypotheses, references = _pairs(hypotheses, references, normalize)
    split = ROUGE_TOKENIZERS[tokenize]
    per_pair = []
    for hyp, refs in zip(hypotheses, references):
        candidates = [_rouge_pair(split(hyp), split(ref)) for ref in refs]
        per_pair.append({kind: max((c[kind] for c in candidates), key=lambda s: s.f1)   # first best
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
        PRF(precision=0.6666666666666666, recall=0.6666666666666666, f1=0.6666666666666666)
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
        return prf_from_counts(float(sum(counts)), float(sum(predicted)), float(sum(expected)))
    per_class = [prf_from_counts(float(m), float(p), float(e))
                 for m, p, e in zip(counts, predicted, expected)]
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
