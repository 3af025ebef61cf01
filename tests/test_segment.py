"""lmbook.segment: evaluation, normalisation, maximum matching, BMES tags and Viterbi."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmbook.output_metrics import prf_from_counts
from lmbook.segment import (
    ALLOWED,
    TAGS,
    best_paths,
    evaluate_segmentation,
    fold_width,
    from_bmes,
    max_match,
    spans,
    to_bmes,
    viterbi,
)

words = st.lists(st.text(alphabet="中国人民银行北京大学生", min_size=1, max_size=4), min_size=1, max_size=8)


@given(words)
def test_bmes_round_trip(ws):
    tags = to_bmes(ws)
    assert len(tags) == len("".join(ws))
    assert from_bmes("".join(ws), tags) == ws
    assert all(ALLOWED[TAGS.index(a), TAGS.index(b)] for a, b in zip(tags, tags[1:]))


def test_bmes_errors():
    with pytest.raises(ValueError, match="chars and tags differ in length"):
        from_bmes("中国", "S")
    with pytest.raises(ValueError, match="tags must be letters of 'BMES'"):
        from_bmes("中国", "BX")
    with pytest.raises(ValueError, match="non-empty"):
        to_bmes(["中", ""])


def test_evaluation_on_spans_with_oov_recall():
    gold = [["我们", "爱", "北京", "天安门"], ["他", "来", "了"]]
    pred = [["我们", "爱", "北", "京", "天安门"], ["他来", "了"]]
    r = evaluate_segmentation(gold, pred, train_vocab={"我们", "爱", "北京", "他", "来", "了"})
    assert r["precision"] == pytest.approx(4 / 7)      # 我们 爱 天安门 了
    assert r["recall"] == pytest.approx(4 / 7)
    assert r["f1"] == pytest.approx(4 / 7)
    assert r["oov_recall"] == 1.0                       # the only OOV word, 天安门, is found
    assert math.isnan(evaluate_segmentation(gold, gold)["oov_recall"])
    assert evaluate_segmentation(gold, gold)["f1"] == 1.0


def test_word_scores_are_prf_from_counts_and_zero_without_words():
    gold, pred = [["我们", "爱", "北京"]], [["我", "们", "爱", "北京"]]
    r = evaluate_segmentation(gold, pred)
    assert (r["precision"], r["recall"], r["f1"]) == tuple(prf_from_counts(2, 4, 3))   # 爱, 北京
    empty = evaluate_segmentation([[]], [[]])
    assert (empty["precision"], empty["recall"], empty["f1"]) == (0.0, 0.0, 0.0)


def test_evaluation_refuses_different_characters():
    with pytest.raises(ValueError, match="sentence 1: gold and pred differ in their characters"):
        evaluate_segmentation([["我"], ["你们"]], [["我"], ["你", "门"]])
    with pytest.raises(ValueError, match="gold has 2 sentences but pred has 1"):
        evaluate_segmentation([["我"], ["你"]], [["我"]])


def test_normalize_folds_width_and_keeps_length():
    assert fold_width("１９９８年ＡＢＣ　ｘ") == "1998年ABC x"
    assert fold_width("中文，。") == "中文,。"
    text = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "汉字"
    assert len(fold_width(text)) == len(text)
    with pytest.raises(TypeError, match="text must be a str"):
        fold_width(["１"])


def test_maximum_matching():
    d = {"研究", "研究生", "生命", "起源", "的"}
    assert max_match("研究生命的起源", d) == ["研究生", "命", "的", "起源"]
    assert max_match("研究生命的起源", d, backward=True) == ["研究", "生命", "的", "起源"]
    assert max_match("", d) == [] and max_match("甲乙", set()) == ["甲", "乙"]
    assert max_match("研究生命的起源", d, max_len=2) == ["研究", "生命", "的", "起源"]


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(text=["研究"]), TypeError, "text must be a str, got list"),
    (dict(dictionary="研究"), TypeError, "dictionary must be a set of words"),
    (dict(max_len=0), ValueError, "max_len must be an integer >= 1, got 0"),
    (dict(max_len=2.0), ValueError, "max_len must be an integer >= 1, got 2.0"),
])
def test_maximum_matching_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        max_match(**{"text": "研究", "dictionary": {"研究"}, **kwargs})


def test_spans_tile_the_text():
    words = ["我们", "爱", "北京天安门"]
    assert spans(words) == [(0, 2), (2, 3), (3, 8)]
    assert ["".join(words)[a:b] for a, b in spans(words)] == words


def brute_force(log_probs):
    valid = [t for t in itertools.product(range(4), repeat=len(log_probs))
             if TAGS[t[0]] in "BS" and TAGS[t[-1]] in "ES"
             and all(ALLOWED[a, b] for a, b in zip(t, t[1:]))]
    best = max(valid, key=lambda t: sum(log_probs[i, j] for i, j in enumerate(t)))
    return "".join(TAGS[i] for i in best)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(0, 10_000))
def test_viterbi_is_exact_and_batched(T, seed):
    lp = np.log(np.random.default_rng(seed).dirichlet(np.ones(4), size=T))
    assert viterbi(lp) == brute_force(lp)
    batch = np.zeros((2, 7, 4))
    batch[0, :T] = lp
    batch[1] = np.log(np.random.default_rng(seed + 1).dirichlet(np.ones(4), size=7))
    assert viterbi(batch, lengths=[T, 7]) == [viterbi(lp), viterbi(batch[1])]
    paths = best_paths(batch, None, np.array([T, 7]))
    assert "".join(TAGS[i] for i in paths[0, :T]) == viterbi(lp)


def test_viterbi_uses_transitions_and_checks_shapes():
    lp = np.log(np.full((2, 4), 0.25))
    prefer_single = np.zeros((4, 4))
    prefer_single[3, 3] = 5.0
    assert viterbi(lp, prefer_single) == "SS"
    assert viterbi(lp, prefer_single, lengths=None) == viterbi(lp[None], prefer_single, lengths=[2])[0]


@pytest.mark.parametrize("args, message", [
    ((np.zeros((3, 5)),), r"log_probs must have shape \(T, 4\) or \(B, T, 4\) with T >= 1, got \(3, 5\)"),
    ((np.zeros((0, 4)),), r"with T >= 1, got \(0, 4\)"),
    ((np.zeros((3, 4)), np.zeros((3, 3))), r"transitions must have shape \(4, 4\), got \(3, 3\)"),
    ((np.zeros((3, 4)), None, [3]), "lengths must give one length per sentence of a batch"),
    ((np.zeros((2, 3, 4)), None, [3]), r"lengths must give one length per sentence of a batch \(2\)"),
    ((np.zeros((2, 3, 4)), None, [3, 4]), r"lengths must be an integer in \[1, 3\], got 4"),
    ((np.zeros((2, 3, 4)), None, [0, 3]), r"lengths must be an integer in \[1, 3\], got 0"),
    ((np.zeros((2, 3, 4)), None, [True, 3]), r"lengths must be an integer in \[1, 3\], got True"),
])
def test_viterbi_errors(args, message):
    with pytest.raises(ValueError, match=message):
        viterbi(*args)
