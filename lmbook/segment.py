"""Chinese word segmentation, the teaching pieces: normalisation, evaluation, maximum matching,
BMES tagging and Viterbi decoding.

Taught in chapter 5 (``notebooks/05_chinese_segmentation.ipynb``); the trained segmenter
built from these pieces is :mod:`lmbook.segmenter`.

- :func:`fold_width` folds full-width ASCII variants (``１``, ``Ａ``, ``％``) to ASCII, one
  character for one character, so spans computed on normalised text are spans of the original
  (:func:`segment_folded` gives any segmenter normalised input that way).
- :func:`spans` and :func:`evaluate_segmentation`: word precision, recall, F1 and OOV recall
  on character spans.
- :func:`max_match`: forward or backward maximum matching with a dictionary.
- :func:`to_bmes` / :func:`from_bmes`: words ↔ one tag per character (Begin, Middle, End,
  Single).
- :func:`viterbi` (and :func:`best_paths` on a padded batch): the best tag sequence that never
  makes a forbidden transition.

Example:
    >>> to_bmes(["我们", "爱", "北京天安门"])
    'BESBMMME'
    >>> from_bmes("我们爱北京天安门", "BESBMMME")
    ['我们', '爱', '北京天安门']
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from lmbook.checks import check_int
from lmbook.output_metrics import prf_from_counts

__all__ = ["ALLOWED", "END", "FULL_WIDTH", "START", "TAGS", "best_paths", "evaluate_segmentation",
           "fold_width", "from_bmes", "max_match", "segment_folded", "spans", "to_bmes", "viterbi"]

TAGS = "BMES"
#: ALLOWED[i, j]: may tag TAGS[j] follow tag TAGS[i]?  A word that began (B, M) must go on
#: (M) or end (E); after a word ended (E, S) the next one must begin (B) or be single (S).
ALLOWED = np.array([[c in follow for c in TAGS] for follow in ("ME", "ME", "BS", "BS")])
#: Tags a sentence may start (B, S) or end (E, S) with.
START, END = np.array([t in "BS" for t in TAGS]), np.array([t in "ES" for t in TAGS])

#: The full-width fold as a ``str.translate`` table: ``！``-``～`` (U+FF01-FF5E) to ASCII, and the
#: ideographic space to a space (:func:`fold_width`; :mod:`lmbook.prompting` inverts it).
FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold_width(text: str) -> str:
    """Fold full-width ASCII variants to ASCII (``"１９９８年"`` → ``"1998年"``), length-preserving.

    This is the part of Unicode NFKC that matters for Chinese text: full-width digits,
    Latin letters and ASCII punctuation (U+FF01–U+FF5E) and the ideographic space.  Full NFKC
    also rewrites some characters into several (``"㈠"`` → ``"(一)"``), which would move
    every later character; folding one character to one keeps word spans aligned with the
    original text.  Chinese punctuation such as ``，`` and ``。`` (no ASCII twin in use) is
    folded too when it has a full-width ASCII form (``，`` U+FF0C → ``,``).

    Example:
        >>> fold_width("１９９８年ＡＰＥＣ会议％")
        '1998年APEC会议%'
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return text.translate(FULL_WIDTH)


def segment_folded(
    segment: Callable[[list[str]], list[list[str]]], texts: Sequence[str]
) -> list[list[str]]:
    """Run ``segment`` on the :func:`fold_width`-d texts and return words in the original characters.

    Normalisation keeps every character's position, so the word spans found on the
    normalised text are cut from the original: the way to give a segmenter that expects
    ASCII digits and letters (jieba) the same input as one that normalises internally.

    Example:
        >>> import re
        >>> digits_apart = lambda ts: [re.findall(r"[0-9]+|\\D", t) for t in ts]
        >>> segment_folded(digits_apart, ["１９９８年"])
        [['１９９８', '年']]
    """
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, not one string")
    out = segment([fold_width(t) for t in texts])
    if len(out) != len(texts):
        raise ValueError(f"segment returned {len(out)} segmentations for {len(texts)} texts")
    result = []
    for text, words in zip(texts, out):
        if sum(map(len, words)) != len(text):
            raise ValueError(f"segment changed the length of {text[:30]!r}")
        result.append([text[a:b] for a, b in spans(words)])
    return result


def spans(words: Sequence[str]) -> list[tuple[int, int]]:
    """The ``(start, end)`` character offsets of each word.

    Example:
        >>> spans(["我们", "爱", "北京"])
        [(0, 2), (2, 3), (3, 5)]
    """
    out, start = [], 0
    for word in words:
        out.append((start, start + len(word)))
        start += len(word)
    return out


def evaluate_segmentation(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], train_vocab: Iterable[str] | None = None,
) -> dict[str, float]:
    """Word-level precision, recall and F1, and recall on out-of-vocabulary words.

    A predicted word is correct when its character span equals a gold word's span.  OOV
    recall is the recall over gold words not in ``train_vocab`` (NaN without one, or when
    there are no OOV words).

    Args:
        gold: gold sentences, each a list of words.
        pred: predicted sentences, aligned with ``gold``.
        train_vocab: the training vocabulary, for OOV recall.

    Example:
        >>> r = evaluate_segmentation([["我们", "爱", "北京"]], [["我", "们", "爱", "北京"]], {"我们", "爱"})
        >>> round(r["precision"], 3), round(r["recall"], 3), r["oov_recall"]
        (0.5, 0.667, 1.0)
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} sentences but pred has {len(pred)}")
    vocab = set(train_vocab) if train_vocab is not None else None
    n_gold = n_pred = correct = n_oov = oov_correct = 0
    for i, (g, p) in enumerate(zip(gold, pred)):
        if "".join(g) != "".join(p):
            raise ValueError(f"sentence {i}: gold and pred differ in their characters: "
                             f"{''.join(g)[:30]!r} vs {''.join(p)[:30]!r}")
        predicted = set(spans(p))
        n_gold, n_pred = n_gold + len(g), n_pred + len(p)
        for word, span in zip(g, spans(g)):
            hit = span in predicted
            correct += hit
            if vocab is not None and word not in vocab:
                n_oov, oov_correct = n_oov + 1, oov_correct + hit
    precision, recall, f1 = prf_from_counts(correct, n_pred, n_gold)
    return {"precision": precision, "recall": recall, "f1": f1,
            "oov_recall": oov_correct / n_oov if n_oov else math.nan}


def max_match(
    text: str, dictionary: set[str], max_len: int | None = None, backward: bool = False
) -> list[str]:
    """Greedy maximum matching: repeatedly take the longest dictionary word (or one character).

    Forward matching scans left to right; backward matching right to left, which on Chinese
    usually makes fewer errors.

    Example:
        >>> d = {"研究", "研究生", "生命", "起源"}
        >>> max_match("研究生命起源", d), max_match("研究生命起源", d, backward=True)
        (['研究生', '命', '起源'], ['研究', '生命', '起源'])
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if isinstance(dictionary, str):
        raise TypeError("dictionary must be a set of words, not one string")
    max_len = (max((len(w) for w in dictionary), default=1) if max_len is None
               else check_int("max_len", max_len, minimum=1))
    words = []
    if backward:
        end = len(text)
        while end > 0:
            n = min(max_len, end)
            while n > 1 and text[end - n:end] not in dictionary:
                n -= 1
            words.append(text[end - n:end])
            end -= n
        return words[::-1]
    start = 0
    while start < len(text):
        n = min(max_len, len(text) - start)
        while n > 1 and text[start:start + n] not in dictionary:
            n -= 1
        words.append(text[start:start + n])
        start += n
    return words


def to_bmes(words: Sequence[str]) -> str:
    """One tag per character: ``S`` for a one-character word, else ``B M… E``.

    Example:
        >>> to_bmes(["中国", "人民", "的"])
        'BEBES'
    """
    if any(not w for w in words):
        raise ValueError("words must be non-empty strings")
    return "".join("S" if len(w) == 1 else "B" + "M" * (len(w) - 2) + "E" for w in words)


def from_bmes(chars: str, tags: str) -> list[str]:
    """Cut ``chars`` after every ``E`` or ``S`` tag (the inverse of :func:`to_bmes`).

    Example:
        >>> from_bmes("中国人民的", "BEBES")
        ['中国', '人民', '的']
    """
    if len(chars) != len(tags):
        raise ValueError(f"chars and tags differ in length: {len(chars)} vs {len(tags)}")
    if set(tags) - set(TAGS):
        raise ValueError(f"tags must be letters of {TAGS!r}, got {sorted(set(tags) - set(TAGS))}")
    ends = [m.end() for m in re.finditer("[ES]", tags)]
    if not ends or ends[-1] != len(tags):
        ends.append(len(tags))                  # an unfinished last word still ends the text
    return [chars[a:b] for a, b in zip([0, *ends], ends)] if chars else []


def viterbi(log_probs: np.ndarray, transitions: np.ndarray | None = None,
            lengths: Sequence[int] | None = None) -> str | list[str]:
    """The best-scoring tag string under the BMES constraints.

    Maximises ``Σ_t log_probs[t, y_t] + Σ_t transitions[y_{t-1}, y_t]`` over tag sequences
    that start with B/S, end with E/S and never make a transition that :data:`ALLOWED`
    forbids.  A batch ``(B, T, 4)`` with ``lengths`` is decoded at once (one vectorised
    pass over time), returning one string per sentence.

    Args:
        log_probs: ``(T, 4)`` per-character tag scores, columns in ``TAGS`` order, or a
            padded batch ``(B, T, 4)``.
        transitions: optional ``(4, 4)`` transition scores (zero by default).
        lengths: the true length of each sentence of a batch (default: all ``T``).

    Example:
        >>> lp = np.log(np.array([[.1, .1, .1, .7], [.1, .1, .7, .1]]))   # greedy: S then E
        >>> viterbi(lp)
        'BE'
    """
    log_probs = np.asarray(log_probs, dtype=float)
    single = log_probs.ndim == 2
    batch = log_probs[None] if single else log_probs
    if batch.ndim != 3 or batch.shape[2] != 4 or batch.shape[1] == 0:
        raise ValueError(f"log_probs must have shape (T, 4) or (B, T, 4) with T >= 1, got {log_probs.shape}")
    if transitions is not None and np.shape(transitions) != (4, 4):
        raise ValueError(f"transitions must have shape (4, 4), got {np.shape(transitions)}")
    if lengths is None:
        lengths = np.full(len(batch), batch.shape[1])
    elif single or len(lengths) != len(batch):
        raise ValueError(f"lengths must give one length per sentence of a batch ({len(batch)}), "
                         f"got {lengths!r}" + (" for a single sentence (T, 4)" if single else ""))
    else:
        lengths = np.array([check_int("lengths", n, minimum=1, maximum=batch.shape[1]) for n in lengths])
    paths = best_paths(batch, transitions, lengths)
    letters = np.array(list(TAGS))
    tags = ["".join(letters[path[:n]]) for path, n in zip(paths, lengths)]
    return tags[0] if single else tags


def best_paths(batch: np.ndarray, transitions: np.ndarray | None, lengths: np.ndarray) -> np.ndarray:
    """:func:`viterbi`'s search on a padded batch ``(B, T, 4)``, unchecked: tag indices ``(B, T)``.

    The segmenter's inner loop (:meth:`lmbook.segmenter.Segmenter.segment`), so it trusts its
    arguments: ``lengths`` (``B`` integers in ``[1, T]``) as given; positions past a
    sentence's length hold arbitrary tags.

    Example:
        >>> lp = np.log(np.array([[[.1, .1, .1, .7], [.1, .1, .7, .1]]]))
        >>> best_paths(lp, None, np.array([2])).tolist(), TAGS
        ([[0, 2]], 'BMES')
    """
    B, T, _ = batch.shape
    trans = np.where(ALLOWED, 0.0 if transitions is None else transitions, -np.inf)
    score = np.where(START, batch[:, 0], -np.inf)                         # (B, 4)
    back = np.zeros((B, T, 4), dtype=np.int8)
    for t in range(1, T):
        total = score[:, :, None] + trans                                  # (B, previous, tag)
        back[:, t] = total.argmax(1)
        live = (t < lengths)[:, None]                                      # padding keeps the score
        score = np.where(live, total.max(1) + batch[:, t], score)
    rows, last = np.arange(B), np.where(END, score, -np.inf).argmax(1)
    path = np.zeros((B, T), dtype=np.int8)
    tag = last
    for t in range(T - 1, -1, -1):                # walk back, each sentence from its own end
        tag = np.where(t == lengths - 1, last, tag)
        path[:, t] = tag
        tag = np.where(t < lengths, back[rows, t, tag], tag)
    return path
