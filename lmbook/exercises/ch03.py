"""Exercises of chapter 3, "Recurrent language models" (``notebooks/03_rnn_lstm.ipynb``).

Every expected value is computed from the question's own numbers.

Example:
    >>> from lmbook.exercises.ch03 import q1
    >>> q1.check(None)
    ⬜ q1: not answered yet — set your answer and run this cell again.
"""

from __future__ import annotations

import math

import numpy as np

from lmbook.exercises import Exercise, expect_number

__all__ = ["GATES", "LOGITS", "q1", "q2", "q3", "q4", "q5"]


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# Pre-activations of one LSTM unit at one step, and its previous cell state.
GATES = {"i": 0.5, "f": 2.0, "g": -1.0, "o": 1.0, "c_prev": 0.8}
_i, _f, _o = (_sigmoid(GATES[k]) for k in "ifo")
_g = math.tanh(GATES["g"])
_c = _f * GATES["c_prev"] + _i * _g
q1 = Exercise(
    "q1",
    f"One LSTM unit has pre-activations {GATES}. What is its new cell state c_t?",
    lambda a: expect_number(
        a,
        _c,
        wrong=[
            (_f * GATES["c_prev"] + _i * _sigmoid(GATES["g"]),
             "the candidate g uses tanh, not the sigmoid."),
            (GATES["f"] * GATES["c_prev"] + GATES["i"] * GATES["g"],
             "squash the gates first: sigmoid(i), sigmoid(f), tanh(g)."),
            (_o * math.tanh(_c), "that is h_t = o * tanh(c_t); the question asks for c_t."),
            (_i * GATES["c_prev"] + _f * _g,
             "the forget gate multiplies c_prev, the input gate multiplies g."),
        ],
    ),
    hint="c_t = sigmoid(f) * c_prev + sigmoid(i) * tanh(g).",
    solution=f"σ(2.0)·0.8 + σ(0.5)·tanh(-1.0) = {_c:.4f}",
)

_D, _H = 64, 256
_lstm = 4 * (_H * (_D + _H) + _H)
q2 = Exercise(
    "q2",
    f"How many parameters has keras.layers.LSTM({_H}) on inputs of width {_D}?",
    lambda a: expect_number(
        a,
        _lstm,
        rel_tol=0,
        wrong=[
            (4 * _H * (_D + _H), "each of the 4 gates also has a bias of size units."),
            (_H * (_D + _H) + _H, "an LSTM has 4 gate blocks (i, f, c, o), each this size."),
            (3 * (_H * (_D + _H) + 2 * _H), "that is a GRU (3 blocks, two biases with reset_after)."),
        ],
    ),
    hint="4 blocks of: input kernel (D × H) + recurrent kernel (H × H) + bias (H).",
    solution=f"4 × ({_H}·({_D} + {_H}) + {_H}) = {_lstm:,}",
)

LOGITS = (2.0, 1.0, 0.1)
_T = 0.5


def _softmax(z):
    z = np.asarray(z) - max(z)
    return np.exp(z) / np.exp(z).sum()


q3 = Exercise(
    "q3",
    f"With logits {LOGITS} and temperature {_T}, what probability does sampling give the first token?",
    lambda a: expect_number(
        a,
        float(_softmax(np.array(LOGITS) / _T)[0]),
        wrong=[
            (float(_softmax(np.array(LOGITS) * _T)[0]),
             "divide the logits by the temperature; don't multiply."),
            (float(_softmax(LOGITS)[0]), "that is temperature 1."),
            (LOGITS[0] / _T / sum(x / _T for x in LOGITS),
             "take the softmax, not a plain ratio of logits."),
        ],
    ),
    hint="softmax(logits / T)[0]; a lower temperature sharpens the distribution.",
    solution=f"softmax({[x / _T for x in LOGITS]})[0] = {_softmax(np.array(LOGITS) / _T)[0]:.4f}",
)

_NORM, _CLIP = 12.5, 1.0
q4 = Exercise(
    "q4",
    f"A list of gradients has global norm {_NORM}; global_clipnorm={_CLIP}. By what factor is each scaled?",
    lambda a: expect_number(
        a,
        min(1.0, _CLIP / _NORM),
        wrong=[
            (_NORM / _CLIP, "upside down: scale by clip / norm, so the new norm is the clip."),
            (1.0, "the norm exceeds the threshold, so the gradient is scaled down."),
        ],
    ),
    hint="g ← g · min(1, c / ||g||).",
    solution=f"min(1, {_CLIP} / {_NORM}) = {min(1.0, _CLIP / _NORM)}",
)

_V, _E = 4_620, 256
q5 = Exercise(
    "q5",
    f"A character LM on Chinese has a vocabulary of {_V:,} and embedding width {_E}. "
    "How many parameters does tying the input and output embeddings save?",
    lambda a: expect_number(
        a,
        _V * _E,
        rel_tol=0,
        wrong=[
            (2 * _V * _E, "tying shares one matrix between two uses: it saves one V × d matrix, not two."),
            (_V * _E + _V, "the output layer of lmbook has no bias; it saves exactly V × d."),
        ],
    ),
    hint="The output layer reuses the V × d embedding matrix (transposed).",
    solution=f"{_V:,} × {_E} = {_V * _E:,}",
)
