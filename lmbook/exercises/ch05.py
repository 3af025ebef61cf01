"""Exercises of chapter 5, "Chinese word segmentation" (``notebooks/05_chinese_segmentation.ipynb``).

Every expected value is computed from the question's own data with :mod:`lmbook.segment`.

Example:
    >>> from lmbook.exercises.ch05 import q1
    >>> q1.check(None)
    ⬜ q1: not answered yet — set your answer and run this cell again.
"""

from __future__ import annotations

from lmbook.exercises import Exercise, expect_equal, expect_number
from lmbook.segment import ALLOWED, evaluate_segmentation, max_match, to_bmes

__all__ = ["DICTIONARY", "GOLD", "PRED", "TRAIN_VOCAB", "WORDS", "q1", "q2", "q3", "q4", "q5"]

#: A segmentation by People's Daily's PKU standard: it splits 副 / 行长 (deputy / governor).
WORDS = ["中国", "人民", "银行", "的", "副", "行长", "和", "研究生"]
_TAGS = to_bmes(WORDS)
q1 = Exercise(
    "q1",
    f"Write the BMES tags (one letter per character, as a string) of the segmentation {WORDS} "
    "(People's Daily's PKU standard, which makes 副 and 行长 two words).",
    lambda a: expect_equal(
        a,
        _TAGS,
        wrong=[
            (_TAGS[:-3] + "BBE", "a word of three characters is B M E: the middle one is M."),
            (_TAGS.replace("S", "B", 1), "a one-character word is S, not B."),
            (to_bmes([*WORDS[:4], "副行长", *WORDS[6:]]),
             "that tags 副行长 as one word; this segmentation, like People's Daily's standard, splits it "
             "into 副 (S) and 行长 (B E)."),
        ],
    ),
    hint="S for a one-character word; otherwise B, then M for each inner character, then E.",
    solution=f"{_TAGS}",
)

GOLD = [["他", "来到", "了", "网易", "杭研", "大厦"]]
PRED = [["他", "来到", "了", "网易", "杭", "研", "大厦"]]
_r = evaluate_segmentation(GOLD, PRED)
q2 = Exercise(
    "q2",
    f"Gold segmentation {GOLD[0]}, predicted {PRED[0]}. What is the word F1?",
    lambda a: expect_number(
        a,
        _r["f1"],
        wrong=[
            (_r["precision"], "that is the precision (correct / predicted); F1 combines it with recall."),
            (_r["recall"], "that is the recall (correct / gold); F1 combines it with precision."),
            ((_r["precision"] + _r["recall"]) / 2, "F1 is the harmonic mean, not the arithmetic mean."),
        ],
    ),
    hint="Compare character spans: a predicted word is correct only if the same span is a gold word. "
         "F1 = 2PR / (P + R).",
    solution=f"P = {_r['precision']:.4f}, R = {_r['recall']:.4f}, F1 = {_r['f1']:.4f}",
)

DICTIONARY = {"研究", "研究生", "生命", "命", "起源"}
_TEXT = "研究生命起源"
q3 = Exercise(
    "q3",
    f"Segment {_TEXT!r} by FORWARD maximum matching with the dictionary {sorted(DICTIONARY)} "
    "(answer a list of words).",
    lambda a: expect_equal(
        list(a) if isinstance(a, (list, tuple)) else a,
        max_match(_TEXT, DICTIONARY),
        wrong=[
            (max_match(_TEXT, DICTIONARY, backward=True),
             "that is backward matching (and the intended reading); forward matching scans from the left "
             "and greedily takes the longest word."),
        ],
    ),
    hint="From the left, take the longest dictionary word starting here (or a single character); repeat.",
    solution=f"{max_match(_TEXT, DICTIONARY)}",
)

q4 = Exercise(
    "q4",
    "Of the 16 possible transitions between BMES tags (B→B, B→M, …), how many must Viterbi forbid?",
    lambda a: expect_number(
        a,
        int((~ALLOWED).sum()),
        rel_tol=0,
        wrong=[
            (4, "count all of them: after B or M only M or E may follow; after E or S only B or S."),
            (int(ALLOWED.sum()), "that is the number of allowed transitions."),
        ],
    ),
    hint="After B or M, a word is open: only M or E may follow. After E or S it is closed: only B or S.",
    solution=f"{int((~ALLOWED).sum())}: each of the 4 tags has 2 forbidden successors",
)

TRAIN_VOCAB = {"他", "来到", "了", "大厦"}
_oov = evaluate_segmentation(GOLD, PRED, TRAIN_VOCAB)
q5 = Exercise(
    "q5",
    f"With the training vocabulary {sorted(TRAIN_VOCAB)}, what is the OOV recall of the prediction in q2?",
    lambda a: expect_number(
        a,
        _oov["oov_recall"],
        wrong=[
            (_r["recall"], "that is the recall over all gold words; OOV recall counts only gold words "
                           "missing from the training vocabulary."),
        ],
    ),
    hint="Which gold words are missing from the training vocabulary? What fraction of them did the "
         "prediction get exactly right?",
    solution=f"{_oov['oov_recall']:.4f}",
)
