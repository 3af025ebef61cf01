"""Exercises: every one accepts its reference answer and explains common wrong ones."""

import math

import numpy as np
import pytest

from lmbook.exercises import (
    Exercise,
    Incorrect,
    ch01,
    ch02,
    ch03,
    ch04,
    ch05,
    ch06,
    ch07,
    ch08,
    expect_equal,
    expect_number,
    score,
)

CH01 = [
    # (exercise, a correct answer, [(a wrong answer, words its message must contain)])
    (ch01.q1, 2 ** 2.25, [(2.25, "bits"), (2.25 * math.log(2), "nats"), (2 ** -2.25, "sign"),
                          (2 ** 9, "average"), (3.0, "not right")]),
    (ch01.q2, 1.2 / math.log(2), [(1.2 * math.log(2), "multiplied"), (math.exp(1.2), "perplexity")]),
    (ch01.q3, 2 / 4, [(2 / 13, "joint"), (2 / 12, "all bigrams"), (1.0, "P(the | cat)")]),
    (ch01.q4, 200 ** (1000 / 5600), [(200 / 5.6, "don't divide"), (200 ** 5.6, "upside down")]),
    (ch01.q5, lambda p: -np.mean(np.log(p)),
     [(lambda p: -np.mean(np.log2(p)), "bits"), (lambda p: np.mean(np.log(p)), "NEGATIVE"),
      (lambda p: -np.sum(np.log(p)), "mean"), (lambda p: 1 / 0, "raised"), (3.0, "function")]),
]


CH02 = [
    (ch02.q1, 2 / 4, [(2 / 31, "joint"), (2 / 5, "count(sat)"), (2 / 3, "</s>")]),
    (ch02.q2, lambda c, n, v, k: (c + k) / (n + k * v),
     [(lambda c, n, v, k: (c + k) / n, "denominator"), (lambda c, n, v, k: (c + k) / (n + k), "once per"),
      (lambda c, n, v, k: c / n, "expected"), ("add_k", "function")]),
    (ch02.q3, 2, [(4, "how often"), (3, "AFTER")]),
    (ch02.q4, 10 ** 1.2,
     [(math.exp(1.2), "log10"), (10 ** -1.2, "sign"), (1.2, "bans"), (10 ** 6, "average")]),
    (ch02.q5, 2 - 3 * (2 / 3) * 13 / 30,
     [(2 / 3, "Y"), (0.75, "fixed"), (2 - 3 * (2 / 3) * 30 / 13, "n3 / n2")]),
]


def _sig(x):
    return 1 / (1 + math.exp(-x))


_C = _sig(2.0) * 0.8 + _sig(0.5) * math.tanh(-1.0)
_P = np.exp(np.array([4.0, 2.0, 0.2]) - 4.0) / np.exp(np.array([4.0, 2.0, 0.2]) - 4.0).sum()
CH03 = [
    (ch03.q1, _C, [(_sig(2.0) * 0.8 + _sig(0.5) * _sig(-1.0), "tanh"), (2.0 * 0.8 - 0.5, "squash"),
                   (_sig(1.0) * math.tanh(_C), "h_t")]),
    (ch03.q2, 4 * (256 * 320 + 256),
     [(4 * 256 * 320, "bias"), (256 * 320 + 256, "4 gate"), (3 * (256 * 320 + 512), "GRU"),
      (4 * (256 * 320 + 256) + 1, "not right")]),
    (ch03.q3, _P[0], [(np.exp(1.0) / np.exp([1.0, 0.5, 0.05]).sum(), "divide"), (0.6590, "temperature 1")]),
    (ch03.q4, 1 / 12.5, [(12.5, "upside down"), (1.0, "scaled down")]),
    (ch03.q5, 4620 * 256, [(2 * 4620 * 256, "one V"), (4620 * 257, "bias")]),
]

_W = np.exp([1.0, 0.0, 1.0]) / np.exp([1.0, 0.0, 1.0]).sum()
CH04 = [
    (ch04.q1, _W[0], [(np.exp(2) / (2 * np.exp(2) + 1), "√d_k = 2"),
                      (np.exp(.5) / (2 * np.exp(.5) + 1), "not by d_k"), (0.5, "plain ratio")]),
    (ch04.q2, 36, [(28, "diagonal"), (64, "no mask"), (8, "0..t")]),
    (ch04.q3, 12 * 128 ** 2 + 13 * 128, [(12 * 128 ** 2, "biases"), (4 * 128 ** 2 + 8 * 128, "8 d"),
                                          (12 * 128 ** 2 + 9 * 128, "offset")]),
    (ch04.q4, math.cos(10 / 10000 ** (6 / 16)), [(math.sin(10 / 10000 ** (6 / 16)), "cosine"),
                                                  (math.cos(10 / 10000 ** (7 / 16)), "2i/d")]),
    (ch04.q5, 8, [(64, "square root"), (1, "sums d_k")]),
]

_P, _R = 5 / 7, 5 / 6
CH05 = [
    (ch05.q1, "BEBEBESSBESBME",
     [("BEBEBESSBESBBE", "middle one is M"), ("BEBEBEBSBESBME", "is S"), ("BEBEBESBMESBME", "splits it"),
      ("BEBEBESBME", "not right")]),
    (ch05.q2, 2 * _P * _R / (_P + _R), [(_P, "precision"), (_R, "recall"), ((_P + _R) / 2, "harmonic")]),
    (ch05.q3, ["研究生", "命", "起源"],
     [(["研究", "生命", "起源"], "backward"), ("研究生命起源", "not right")]),
    (ch05.q4, 8, [(4, "count all"), (8 + 0.5, "not right")]),
    (ch05.q5, 0.5, [(_R, "OOV recall counts only")]),
]


CH06 = [
    (ch06.q1, sum(ch06.GRADIENTS) / 4, [(sum(ch06.GRADIENTS), "mean"), (ch06.GRADIENTS[0], "device 0")]),
    (ch06.q2, 3 / 11, [(3 / 8, "ideal compute time"), (1 / 4, "depends on m"), (8 / 11, "busy")]),
    (ch06.q3, 14.0, [(112.0, "one device"), (38.5, "ZeRO-1"), (1.75, "optimiser state too")]),
    (ch06.q4, 2e5 * 8.5e8 / 989e12, [(100 * 2e5 * 8.5e8 / 989e12, "percentage"),
                                     (2e5 * 8.5e8 / 3 / 989e12, "backward")]),
    (ch06.q5, 512, [(64, "one replica"), (128, "multiply"), (16, "one micro-batch"), (500, "not right")]),
]

CH07 = [
    (ch07.q1, math.exp(1 - 20 / 16), [(16 / 20, "exponential"), (math.exp(1 - 16 / 20), "upside down"),
                                      (1.0, "penalised")]),
    (ch07.q2, 2 * 0.5 * 0.6 / 1.1, [(0.6, "recall alone"), (0.5, "precision alone"), (0.4, "subsequence")]),
    (ch07.q3, 70 / 85, [(0.85, "accuracy"), (35 / 40, "recall alone"), (35 / 45, "precision alone")]),
    (ch07.q4, 3.6 / 3 / math.log(2), [(3.6 / math.log(2), "bits per character"), (1.2, "nats per byte"),
                                      (10.8 / math.log(2), "don't multiply")]),
    (ch07.q5, False, [(True, "contains zero")]),
]

BIO = ["B-PER", "I-PER", "I-PER", "O", "B-LOC", "I-LOC", "O", "O", "B-ORG", "I-ORG", "I-ORG", "O", "O"]
CH08 = [
    (ch08.q1, 32 * 128 * 0.15 * 0.8, [(32 * 128 * 0.15, "only 80%"), (32 * 128 * 0.8, "15%"),
                                      (128 * 0.15 * 0.8, "one window")]),
    (ch08.q2, 4 * 2 * 8 * (256 * 8 + 32), [(4 * 2 * 2 * 256 * 8, "heads axis"),
                                          (4 * 8 * (256 * 8 + 32), "both"),
                                          (2 * 8 * (256 * 8 + 32), "every block")]),
    (ch08.q3, BIO, [([t.replace("I-", "B-") for t in BIO], "first character"),
                    ([t.split("-")[0] for t in BIO], "keep the type")]),
    (ch08.q4, 4096 / 256, [(4.0, "still below"), (13888 / 256, "catches up")]),
    (ch08.q5, [32], [([32, 128, 1024, 13888], "only where"), ([128, 1024, 13888], "upside down")]),
]


@pytest.mark.parametrize(
    "q, right, wrongs", CH01 + CH02 + CH03 + CH04 + CH05 + CH06 + CH07 + CH08,
    ids=[f"ch01-{q.name}" for q, _, _ in CH01] + [f"ch02-{q.name}" for q, _, _ in CH02]
    + [f"ch03-{q.name}" for q, _, _ in CH03] + [f"ch04-{q.name}" for q, _, _ in CH04]
    + [f"ch05-{q.name}" for q, _, _ in CH05] + [f"ch06-{q.name}" for q, _, _ in CH06]
    + [f"ch07-{q.name}" for q, _, _ in CH07]
    + [f"ch08-{q.name}" for q, _, _ in CH08],
)
def test_exercise(q, right, wrongs, capsys):
    q.check(right)
    assert q.correct and "✅" in capsys.readouterr().out
    for wrong, words in wrongs:
        q.check(wrong)
        out = capsys.readouterr().out
        assert not q.correct and "❌" in out and words in out, (wrong, out)
    q.check(None)
    assert not q.correct and "not answered" in capsys.readouterr().out
    q.hint()
    q.solution()
    assert q.name in capsys.readouterr().out


def test_expect_equal_explains_wrong_values():
    expect_equal(["a"], ["a"])
    with pytest.raises(Incorrect, match="is not right"):
        expect_equal("x", "y")


def test_expect_number_rejects_non_numbers():
    with pytest.raises(Incorrect, match="expected a number, got str"):
        expect_number("four", 4)


def test_score_counts_correct_answers(capsys):
    q = Exercise("q", "2+2?", lambda a: expect_number(a, 4), hint="", solution="4")
    q.check(4)
    assert score([q, ch01.q1]) == (1, 2)
