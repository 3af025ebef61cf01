"""Exercises of chapter 2, "n-gram models" (``notebooks/02_ngram_models.ipynb``).

Every expected value is computed from the exercise's own small corpus.

Example:
    >>> from lmbook.exercises.ch02 import q1
    >>> q1.check(None)
    ⬜ q1: not answered yet — set your answer and run this cell again.
"""

from __future__ import annotations

import math
from collections import Counter

from lmbook.exercises import Exercise, expect_function, expect_number

__all__ = ["CORPUS", "COUNTS_OF_COUNTS", "LOG10_PROBS", "q1", "q2", "q3", "q4", "q5"]

# A toy corpus, one sentence per string; each is padded as <s> ... </s>.
CORPUS = [
    "the cat sat", "the cat ran", "a cat sat", "the dog sat",
    "my dog ran", "the cat", "a dog sat", "my dog sat",
]
_padded = [["<s>"] + s.split() + ["</s>"] for s in CORPUS]
_bigrams = Counter(b for s in _padded for b in zip(s[:-1], s[1:]))
_unigrams = Counter(w for s in _padded for w in s)
_contexts = Counter(v for s in _padded for v in s[:-1])

_p_sat_cat = _bigrams["cat", "sat"] / _contexts["cat"]
q1 = Exercise(
    "q1",
    "In CORPUS (with <s> and </s>), what is the maximum-likelihood P(sat | cat)?",
    lambda a: expect_number(
        a,
        _p_sat_cat,
        wrong=[
            (_bigrams["cat", "sat"] / sum(_bigrams.values()), "that is the joint P(cat, sat)."),
            (_bigrams["cat", "sat"] / _unigrams["sat"], "you divided by count(sat); divide by count(cat ·)."),
            (_bigrams["cat", "sat"] / (_unigrams["cat"] - 1), "'cat' is followed by </s> once: count it."),
        ],
    ),
    hint="count(cat sat) / count(cat followed by anything, </s> included).",
    solution=f"{_bigrams['cat', 'sat']} / {_contexts['cat']}",
)


def _check_add_k(fn):
    expect_function(
        fn,
        lambda c_vw, c_v, size, k: (c_vw + k) / (c_v + k * size),
        [(0, 10, 5, 1.0), (3, 10, 5, 1.0), (2, 4, 100, 0.1), (0, 0, 7, 0.5)],
        wrong=[
            (lambda c_vw, c_v, size, k: (c_vw + k) / c_v,
             "the denominator needs + k * vocab_size, or the row won't sum to 1."),
            (lambda c_vw, c_v, size, k: (c_vw + k) / (c_v + k),
             "add k once per vocabulary word to the denominator: + k * vocab_size."),
        ],
        rel_tol=1e-9,
    )


q2 = Exercise(
    "q2",
    "Write add_k(count_vw, count_v, vocab_size, k): the add-k estimate of P(w | v).",
    _check_add_k,
    hint="Add k to every count in the row, so the row total grows by k times the vocabulary size.",
    solution="def add_k(count_vw, count_v, vocab_size, k):\n"
    "    return (count_vw + k) / (count_v + k * vocab_size)",
)

_left_of_cat = {s[i - 1] for s in _padded for i in range(1, len(s)) if s[i] == "cat"}
q3 = Exercise(
    "q3",
    "What is the continuation count N1+(• cat): the number of distinct words before 'cat' in CORPUS?",
    lambda a: expect_number(
        a,
        len(_left_of_cat),
        wrong=[
            (_unigrams["cat"], "that is how often 'cat' occurs; count distinct LEFT neighbours."),
            (len({b for (a_, b) in _bigrams if a_ == "cat"}), "those are the words AFTER 'cat'."),
        ],
    ),
    hint="List the word just before each 'cat' and count the distinct ones.",
    solution=f"{{{', '.join(sorted(_left_of_cat))}}} → {len(_left_of_cat)}",
)

LOG10_PROBS = (-1.2, -0.8, -2.0, -0.5, -1.5)  # log10 q(w_t | history) of 5 tokens, as in ARPA files
_mean10 = sum(LOG10_PROBS) / len(LOG10_PROBS)
q4 = Exercise(
    "q4",
    f"A toolkit reports the log10 probabilities {LOG10_PROBS} for 5 tokens. What is the perplexity?",
    lambda a: expect_number(
        a,
        10 ** (-_mean10),
        wrong=[
            (math.exp(-_mean10), "these are log10 values: perplexity = 10 ** (-mean)."),
            (10**_mean10, "check the sign: 10 ** (-mean log10 p)."),
            (-_mean10, "that is the cross-entropy in log10 units (bans); exponentiate it."),
            (10 ** (-sum(LOG10_PROBS)), "average over the tokens before exponentiating."),
        ],
    ),
    hint="Perplexity = base ** (-mean log_base p), whatever the base.",
    solution=f"10 ** {-_mean10:.2f} ≈ {10 ** -_mean10:.4f}",
)

COUNTS_OF_COUNTS = {1: 120_000, 2: 30_000, 3: 13_000, 4: 7_500}  # n_k: types seen exactly k times
_n = COUNTS_OF_COUNTS
_Y = _n[1] / (_n[1] + 2 * _n[2])
_D2 = 2 - 3 * _Y * _n[3] / _n[2]
q5 = Exercise(
    "q5",
    f"Modified Kneser-Ney: a trigram table has counts of counts n_k = {COUNTS_OF_COUNTS}. "
    "Compute the discount D2 = 2 - 3 Y n3 / n2, where Y = n1 / (n1 + 2 n2).",
    lambda a: expect_number(
        a,
        _D2,
        wrong=[
            (_Y, "that is Y (which is also D1); D2 = 2 - 3 Y n3 / n2."),
            (0.75, "0.75 is a common fixed discount; estimate D2 from the counts of counts."),
            (2 - 3 * _Y * _n[2] / _n[3], "n3 / n2, not n2 / n3."),
        ],
    ),
    hint="D_k = k - (k + 1) Y n_{k+1} / n_k; here k = 2.",
    solution=f"Y = {_Y:.4f}; D2 = 2 - 3 × {_Y:.4f} × {_n[3]} / {_n[2]} = {_D2:.4f}",
)
