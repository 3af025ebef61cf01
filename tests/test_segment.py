"""lmbook.segment: evaluation, normalisation, maximum matching, BMES, Viterbi, the segmenter."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmbook.segment import (
    ALLOWED,
    TAGS,
    WORD_LENGTHS,
    dictionary_flags,
    evaluate_segmentation,
    from_bmes,
    load_segmenter,
    max_match,
    normalize,
    to_bmes,
    train_segmenter,
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


def test_evaluation_refuses_different_characters():
    with pytest.raises(ValueError, match="sentence 1: gold and pred differ in their characters"):
        evaluate_segmentation([["我"], ["你们"]], [["我"], ["你", "门"]])
    with pytest.raises(ValueError, match="gold has 2 sentences but pred has 1"):
        evaluate_segmentation([["我"], ["你"]], [["我"]])


def test_normalize_folds_width_and_keeps_length():
    assert normalize("１９９８年ＡＢＣ　ｘ") == "1998年ABC x"
    assert normalize("中文，。") == "中文,。"
    text = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "汉字"
    assert len(normalize(text)) == len(text)
    with pytest.raises(TypeError, match="text must be a str"):
        normalize(["１"])


def test_maximum_matching():
    d = {"研究", "研究生", "生命", "起源", "的"}
    assert max_match("研究生命的起源", d) == ["研究生", "命", "的", "起源"]
    assert max_match("研究生命的起源", d, backward=True) == ["研究", "生命", "的", "起源"]
    assert max_match("", d) == [] and max_match("甲乙", set()) == ["甲", "乙"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="中国人民北京", max_size=9), min_size=1, max_size=3),
       st.lists(st.text(alphabet="中国人民北京", min_size=1, max_size=5), max_size=12))
def test_dictionary_flags_match_brute_force(texts, dictionary):
    from lmbook.segment import _features, _tables
    from lmbook.text import Vocabulary

    def by_hand(text):
        flags = [0] * len(text)
        for j, k in enumerate(WORD_LENGTHS):
            for i in range(len(text) - k + 1):
                if text[i:i + k] in dictionary:
                    flags[i] |= 1 << 2 * j
                    flags[i + k - 1] |= 1 << 2 * j + 1
        return flags

    for text in texts:
        assert dictionary_flags(text, dictionary).tolist() == by_hand(text)
    # Several sentences at once: no word is found across the boundary between two of them.
    vocab = Vocabulary.from_tokens("中国人民北京")
    tables = _tables(vocab, vocab, dictionary)
    assert _features(texts, vocab, vocab, tables)[:, 3].tolist() == sum(map(by_hand, texts), [])


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


def test_viterbi_uses_transitions_and_checks_shapes():
    lp = np.log(np.full((2, 4), 0.25))
    prefer_single = np.zeros((4, 4))
    prefer_single[3, 3] = 5.0
    assert viterbi(lp, prefer_single) == "SS"
    with pytest.raises(ValueError, match=r"log_probs must have shape \(T, 4\)"):
        viterbi(np.zeros((3, 5)))


CORPUS = [["我们", "爱", "北京"], ["北京", "是", "首都"], ["我们", "是", "学生"], ["首都", "北京"]] * 40


@pytest.fixture(scope="module")
def segmenter():
    return train_segmenter(CORPUS, mode="quick", steps=60)


def test_segmenter_learns_keeps_characters_and_reloads(segmenter, tmp_path):
    texts = ["我们爱北京", "北京是首都", "", "１９９８年我们是学生"]
    out = segmenter.segment(texts)
    assert ["".join(w) for w in out] == texts             # characters kept exactly (full-width too)
    assert out[0] == ["我们", "爱", "北京"] and out[2] == []
    segmenter.save(tmp_path / "seg")
    assert load_segmenter(tmp_path / "seg").segment(texts) == out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seg"]    # nothing half-written left


def test_segmenter_without_dictionary(tmp_path):
    segmenter = train_segmenter(CORPUS, mode="quick", steps=5, dictionary=[])
    assert segmenter.dictionary == []
    segmenter.save(tmp_path / "seg")
    assert load_segmenter(tmp_path / "seg").segment(["我们爱北京"]) == segmenter.segment(["我们爱北京"])


def test_segmenter_errors(segmenter, tmp_path):
    with pytest.raises(TypeError, match="texts must be a list of strings"):
        segmenter.segment("我们")
    with pytest.raises(ValueError, match="mode must be 'quick' or 'full'"):
        train_segmenter(CORPUS, mode="fast")
    with pytest.raises(ValueError, match="sentences must be a non-empty list"):
        train_segmenter([])
    with pytest.raises(FileNotFoundError, match="no segmenter at"):
        load_segmenter(tmp_path / "missing")
