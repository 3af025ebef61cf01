"""Exercises of chapter 7, "Evaluation" (``notebooks/07_evaluation.ipynb``).

Every expected value is computed from the question's own numbers.

Example:
    >>> from lmbook.exercises.ch07 import q1
    >>> q1.check(None)
    ⬜ q1: not answered yet — set your answer and run this cell again.
"""

from __future__ import annotations

import math

from lmbook.exercises import Exercise, expect_equal, expect_number

__all__ = ["CONFUSION", "HYPOTHESIS", "REFERENCE", "q1", "q2", "q3", "q4", "q5"]

_HYP_LEN, _REF_LEN = 16, 20
_bp = math.exp(1 - _REF_LEN / _HYP_LEN)
q1 = Exercise(
    "q1",
    f"A system's output has {_HYP_LEN} tokens in all; the references have {_REF_LEN}. "
    "What is BLEU's brevity penalty?",
    lambda a: expect_number(
        a,
        _bp,
        wrong=[
            (_HYP_LEN / _REF_LEN, "the penalty is exponential: exp(1 − r/c), not c/r."),
            (math.exp(1 - _HYP_LEN / _REF_LEN), "upside down: r/c is the references' length / the output's."),
            (1.0, "the output is shorter than the references, so it is penalised."),
        ],
    ),
    hint="BP = 1 when c > r, else exp(1 − r/c), with c the output's length and r the references'.",
    solution=f"exp(1 − {_REF_LEN}/{_HYP_LEN}) = {_bp:.4f}",
)

HYPOTHESIS, REFERENCE = "中国人民银行今天宣布降息", "人民银行宣布下调利率"
# The longest common subsequence, character by character: 人 民 银 行 宣 布 (6 characters).
_LCS = 6
_p, _r = _LCS / len(HYPOTHESIS), _LCS / len(REFERENCE)
_rouge_l = 2 * _p * _r / (_p + _r)
q2 = Exercise(
    "q2",
    f"At character level, what is the ROUGE-L F1 of the hypothesis {HYPOTHESIS!r} against the "
    f"reference {REFERENCE!r}?",
    lambda a: expect_number(
        a,
        _rouge_l,
        wrong=[
            (_r, "that is the recall alone; F1 combines it with the precision."),
            (_p, "that is the precision alone; F1 combines it with the recall."),
            (4 / len(REFERENCE), "a subsequence need not be contiguous: 宣布 counts too."),
        ],
    ),
    hint="Find the longest common subsequence (not substring); P = LCS/len(hyp), R = LCS/len(ref).",
    solution=f"LCS = 人民银行宣布 ({_LCS}); P = {_LCS}/{len(HYPOTHESIS)}, R = {_LCS}/{len(REFERENCE)}; "
             f"F1 = {_rouge_l:.4f}",
)

# rows: the true class (negative, positive); columns: the predicted class.
CONFUSION = ((50, 10), (5, 35))
_tp, _fp, _fn = CONFUSION[1][1], CONFUSION[0][1], CONFUSION[1][0]
_f1 = 2 * _tp / (2 * _tp + _fp + _fn)
q3 = Exercise(
    "q3",
    f"A sentiment classifier's confusion matrix is {CONFUSION} (rows: true negative, positive; "
    "columns: predicted negative, positive). What is its F1 for the positive class?",
    lambda a: expect_number(
        a,
        _f1,
        wrong=[
            ((CONFUSION[0][0] + _tp) / 100, "that is the accuracy."),
            (_tp / (_tp + _fn), "that is the recall alone."),
            (_tp / (_tp + _fp), "that is the precision alone."),
        ],
    ),
    hint="F1 = 2TP / (2TP + FP + FN).",
    solution=f"2·{_tp} / (2·{_tp} + {_fp} + {_fn}) = {_f1:.4f}",
)

_NATS, _BYTES = 3.6, 3
_bpb = _NATS / _BYTES / math.log(2)
q4 = Exercise(
    "q4",
    f"A model scores {_NATS} nats per character on Chinese text in which every character takes "
    f"{_BYTES} bytes in UTF-8. How many bits per byte is that?",
    lambda a: expect_number(
        a,
        _bpb,
        wrong=[
            (_NATS / math.log(2), "that is bits per character; divide by the bytes per character."),
            (_NATS / _BYTES, "that is nats per byte; convert nats to bits too."),
            (_NATS * _BYTES / math.log(2), "divide by the bytes per character, don't multiply."),
        ],
    ),
    hint="bits = nats / ln 2; per byte = per character / bytes per character.",
    solution=f"{_NATS} / ({_BYTES} · ln 2) = {_bpb:.4f}",
)

q5 = Exercise(
    "q5",
    "Model B's validation loss is 0.012 nats/char lower than model A's, with a bootstrap 95% "
    "interval of [−0.030, +0.006] for B − A. Does this justify the claim 'B beats A'? "
    "Answer True or False.",
    lambda a: expect_equal(
        a,
        False,
        wrong=[(True, "the interval contains zero: the data are consistent with no difference.")],
    ),
    hint="A claim of improvement needs an interval for the difference that excludes zero.",
    solution="False: [−0.030, +0.006] contains 0.",
)
