"""Exercises of chapter 1, "What is a language model?" (``notebooks/01_language_models.ipynb``).

Example:
    >>> from lmbook.exercises.ch01 import q1
    >>> q1.check(None)
    ⬜ q1: not answered yet — set your answer and run this cell again.
"""

from __future__ import annotations

import math

import numpy as np

from lmbook.exercises import Exercise, expect_function, expect_number

__all__ = ["q1", "q2", "q3", "q4", "q5", "BIGRAM_CORPUS", "Q1_PROBS"]

Q1_PROBS = (0.5, 0.25, 0.125, 0.125)
_q1_nats = -sum(math.log(p) for p in Q1_PROBS) / len(Q1_PROBS)

q1 = Exercise(
    "q1",
    f"A model gives the 4 tokens of a text the probabilities {Q1_PROBS}. What is its perplexity?",
    lambda a: expect_number(
        a,
        math.exp(_q1_nats),
        wrong=[
            (_q1_nats, "that is the cross-entropy in nats; perplexity is exp of it."),
            (_q1_nats / math.log(2), "that is the cross-entropy in bits; perplexity is 2 ** bits."),
            (math.exp(-_q1_nats), "check the sign: perplexity is exp(-mean log p), not exp(mean log p)."),
            (math.exp(len(Q1_PROBS) * _q1_nats), "average the log-probabilities, don't sum them."),
        ],
    ),
    hint="Average the natural-log probabilities, negate, and exponentiate.",
    solution="exp(-(log 0.5 + log 0.25 + 2 log 0.125) / 4) = 2 ** 2.25 ≈ 4.757",
)

_Q2_NATS = 1.2
q2 = Exercise(
    "q2",
    f"A character model reaches {_Q2_NATS} nats per character. How many bits per character is that?",
    lambda a: expect_number(
        a,
        _Q2_NATS / math.log(2),
        wrong=[
            (_Q2_NATS * math.log(2), "you multiplied by ln 2; bits = nats / ln 2."),
            (math.log2(_Q2_NATS), "don't take a log of the loss: it is already a log. Divide by ln 2."),
            (math.exp(_Q2_NATS), "that is the perplexity, not bits per character."),
        ],
    ),
    hint="One bit is ln 2 ≈ 0.693 nats.",
    solution=f"{_Q2_NATS} / ln 2 ≈ {_Q2_NATS / math.log(2):.4f} bits per character",
)

BIGRAM_CORPUS = "the cat sat on the mat and the dog sat on the cat".split()


def _bigram_counts(tokens):
    pairs = list(zip(tokens[:-1], tokens[1:]))
    return (
        sum(p == ("the", "cat") for p in pairs),
        sum(p[0] == "the" for p in pairs),
        tokens.count("the"),
        tokens.count("cat"),
    )


_pair, _context, _the, _cat = _bigram_counts(BIGRAM_CORPUS)
q3 = Exercise(
    "q3",
    "In BIGRAM_CORPUS, what is the maximum-likelihood estimate of P(cat | the)?",
    lambda a: expect_number(
        a,
        _pair / _context,
        wrong=[
            (_pair / len(BIGRAM_CORPUS), "that is the joint frequency; divide by count(the as context)."),
            (_pair / _cat, "that is P(the | cat) turned around: divide by the count of the context 'the'."),
            (_pair / (len(BIGRAM_CORPUS) - 1), "that is P(the, cat) over all bigrams, not the conditional."),
        ]
        + ([(_pair / _the, "count 'the' only where a word follows it.")] if _the != _context else []),
    ),
    hint="P(w | v) = count(v w) / count(v followed by anything).",
    solution=f"count(the cat) / count(the ·) = {_pair} / {_context}",
)

_Q4_PPL, _Q4_WORDS, _Q4_CHARS = 200.0, 1000, 5600
q4 = Exercise(
    "q4",
    f"A word model has perplexity {_Q4_PPL:g} on a text of {_Q4_CHARS} characters that it reads "
    f"as {_Q4_WORDS} word tokens (every token it predicts). What is its per-character perplexity?",
    lambda a: expect_number(
        a,
        _Q4_PPL ** (_Q4_WORDS / _Q4_CHARS),
        wrong=[
            (_Q4_PPL / (_Q4_CHARS / _Q4_WORDS), "perplexities don't divide: convert total log-loss."),
            (_Q4_PPL ** (_Q4_CHARS / _Q4_WORDS), "the exponent is upside down: words / characters."),
        ],
    ),
    hint="Total nats = words × ln(ppl_word); spread them over the characters.",
    solution=f"exp({_Q4_WORDS} ln {_Q4_PPL:g} / {_Q4_CHARS}) ≈ {_Q4_PPL ** (_Q4_WORDS / _Q4_CHARS):.4f}",
)


_rng = np.random.default_rng(1)
_PROB_CASES = [(_rng.uniform(0.01, 1.0, size),) for size in (1, 3, 50)]


def _check_cross_entropy(fn):
    expect_function(
        fn,
        lambda p: -np.mean(np.log(p)),
        _PROB_CASES,
        wrong=[
            (lambda p: -np.mean(np.log2(p)), "you returned bits (log base 2); return nats (natural log)."),
            (lambda p: np.mean(np.log(p)), "cross-entropy is the NEGATIVE mean log-probability."),
            (lambda p: -np.sum(np.log(p)), "take the mean over tokens, not the sum."),
        ],
    )


q5 = Exercise(
    "q5",
    "Write cross_entropy(probs): the mean negative natural-log probability of a numpy array.",
    _check_cross_entropy,
    hint="np.log is the natural log; np.mean averages.",
    solution="def cross_entropy(probs):\n    return -np.mean(np.log(probs))",
)
