"""Exercises of chapter 4, "Transformers" (``notebooks/04_transformers.ipynb``).

Every expected value is computed from the question's own numbers.

Example:
    >>> from lmbook.exercises.ch04 import q1
    >>> q1.check(None)
    ⬜ q1: not answered yet — set your answer and run this cell again.
"""

from __future__ import annotations

import math

import numpy as np

from lmbook.exercises import Exercise, expect_number

__all__ = ["KEYS", "QUERY", "q1", "q2", "q3", "q4", "q5"]

# One query and three keys of width d_k = 4.
QUERY = (1.0, 0.0, 1.0, 0.0)
KEYS = ((2.0, 0.0, 0.0, 0.0), (0.0, 2.0, 0.0, 0.0), (1.0, 0.0, 1.0, 0.0))
_scores = np.array(KEYS) @ np.array(QUERY)


def _softmax(z):
    z = np.asarray(z, dtype=float)
    return np.exp(z - z.max()) / np.exp(z - z.max()).sum()


_w = float(_softmax(_scores / math.sqrt(len(QUERY)))[0])
q1 = Exercise(
    "q1",
    f"A query q = {QUERY} attends to the keys {KEYS} (no mask). "
    "What attention weight does the first key get?",
    lambda a: expect_number(
        a,
        _w,
        wrong=[
            (float(_softmax(_scores)[0]), "divide the scores by √d_k = 2 before the softmax."),
            (float(_softmax(_scores / len(QUERY))[0]), "scale by √d_k, not by d_k."),
            (float(_scores[0] / _scores.sum()), "normalise with the softmax, not a plain ratio."),
        ],
    ),
    hint="scores = K q / √d_k, then softmax over the three keys.",
    solution=f"scores {(_scores / 2).tolist()} → softmax → {_w:.4f}",
)

_T = 8
q2 = Exercise(
    "q2",
    f"A causal mask for a sequence of {_T} tokens is a {_T} × {_T} boolean matrix. "
    "How many (query, key) pairs may attend, i.e. how many entries are True?",
    lambda a: expect_number(
        a,
        _T * (_T + 1) // 2,
        rel_tol=0,
        wrong=[
            (_T * (_T - 1) // 2, "a token may attend to itself: count the diagonal too."),
            (_T * _T, "that is no mask at all: keys after the query are hidden."),
            (_T, "that is only the diagonal; query t sees keys 0..t."),
        ],
    ),
    hint="Row t (query t) allows keys 0..t: t + 1 entries.",
    solution=f"1 + 2 + … + {_T} = {_T * (_T + 1) // 2}",
)

_D = 128
_block = 4 * _D + (4 * _D * _D + 4 * _D) + (8 * _D * _D + 5 * _D)
q3 = Exercise(
    "q3",
    f"How many parameters has one GPT decoder block of width d = {_D} (biases everywhere, "
    "MLP width 4d, two LayerNorms)?",
    lambda a: expect_number(
        a,
        _block,
        rel_tol=0,
        wrong=[
            (12 * _D * _D, "that is only the weight matrices; add biases and LayerNorm scales/offsets."),
            (4 * _D * _D + 4 * _D + 4 * _D, "the MLP (d → 4d → d) has 8 d² weights too."),
            (_block - 4 * _D, "each LayerNorm has a scale and an offset: 2 d parameters."),
        ],
    ),
    hint="Attention: q, k, v and output, each d × d + d. MLP: d × 4d + 4d, 4d × d + d. "
         "LayerNorms: 2 × 2d.",
    solution=f"12·{_D}² + 13·{_D} = {_block:,}",
)

_POS, _I, _DIM = 10, 3, 16
_pe_sin = math.sin(_POS / 10000 ** (2 * _I / _DIM))
_pe_cos = math.cos(_POS / 10000 ** (2 * _I / _DIM))
q4 = Exercise(
    "q4",
    f"For the sinusoidal encoding of width {_DIM}, what is PE[pos={_POS}, dim={2 * _I + 1}]?",
    lambda a: expect_number(
        a,
        _pe_cos,
        wrong=[
            (_pe_sin, "odd dimensions hold the cosine; even ones the sine."),
            (math.cos(_POS / 10000 ** ((2 * _I + 1) / _DIM)),
             "dimension 2i+1 shares the frequency of dimension 2i: use 2i/d in the exponent."),
            (_pe_sin + _pe_cos, "sin and cos are interleaved, not added."),
        ],
    ),
    hint="PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)).",
    solution=f"cos({_POS} / 10000^({2 * _I}/{_DIM})) = {_pe_cos:.4f}",
)

_DK = 64
q5 = Exercise(
    "q5",
    f"Queries and keys have d_k = {_DK} independent components of mean 0 and variance 1. "
    "What is the standard deviation of the raw score q·k, the factor attention divides it by?",
    lambda a: expect_number(
        a,
        math.sqrt(_DK),
        rel_tol=0.01,  # a simulated estimate is fine
        wrong=[
            (float(_DK), "that is the variance; the standard deviation is its square root."),
            (1.0, "each product has variance 1, but the score sums d_k of them."),
        ],
    ),
    hint="Var(Σ q_i k_i) = Σ Var(q_i k_i) = d_k.",
    solution=f"√{_DK} = {math.sqrt(_DK):g}",
)
