"""lmbook.segmenter: hashing, the index, the features, the dictionary flags and the trained segmenter."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmbook.recipes import FINETUNE, recipe
from lmbook.segment import fold_width
from lmbook.segmenter import (
    WORD_LENGTHS,
    HashIndex,
    _held_out_flags,
    codes,
    dictionary_flags,
    load_segmenter,
    rolling_hashes,
    train_segmenter,
)

CORPUS = [["我们", "爱", "北京"], ["北京", "是", "首都"], ["我们", "是", "学生"], ["首都", "北京"]] * 40
strings = st.text(alphabet="中国人民北京ab1", min_size=1, max_size=4)


@given(st.lists(strings, unique=True, max_size=20), st.lists(strings, max_size=20))
def test_hash_index_agrees_with_a_python_dict(tokens, queries):
    index = HashIndex(tokens)
    position = {t: i for i, t in enumerate(tokens)}
    for k in range(1, 5):
        asked = [q for q in queries if len(q) == k]
        ids, found = index.find(rolling_hashes(codes("".join(asked)).reshape(-1, k), k))
        assert found.tolist() == [q in position for q in asked]
        assert [int(i) for i, f in zip(ids, found) if f] == [position[q] for q in asked if q in position]
        assert index.encode(rolling_hashes(codes("".join(asked)).reshape(-1, k), k), unk=-1).tolist() == [
            position.get(q, -1) for q in asked]


def test_hash_index_keeps_only_the_lengths_asked_for():
    index = HashIndex(["我", "我们", "北京天安门"], lengths=[2])
    assert len(index) == 1 and index.lengths == (2,) and "1 strings" in repr(index)
    assert HashIndex([]).find(np.zeros(3, np.uint64))[1].tolist() == [False] * 3


def test_rolling_hashes_of_a_stream_match_those_of_rows():
    stream = codes("中国人民中国")
    rows = np.stack([stream[i:i + 3] for i in range(len(stream) - 2)])
    assert rolling_hashes(stream, 3)[:len(rows)].tolist() == rolling_hashes(rows, 3).tolist()


@pytest.mark.parametrize("call, error, message", [
    (lambda: HashIndex("北京"), TypeError, "tokens must be a list of strings"),
    (lambda: HashIndex(["北京"], lengths=[0]), ValueError, "lengths must be an integer >= 1, got 0"),
    (lambda: rolling_hashes(codes("北京"), 0), ValueError, "k must be an integer >= 1, got 0"),
    (lambda: rolling_hashes(np.zeros((2, 3)), 2), ValueError, r"points must have shape \(N,\) or \(n, k=2\)"),
    (lambda: dictionary_flags(["北京"], ["北京"]), TypeError, "text must be a str, got list"),
])
def test_helper_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def flags_by_hand(text, dictionary):
    flags = [0] * len(text)
    for j, k in enumerate(WORD_LENGTHS):
        for i in range(len(text) - k + 1):
            if text[i:i + k] in dictionary:
                flags[i] |= 1 << 2 * j
                flags[i + k - 1] |= 1 << 2 * j + 1
    return flags


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(alphabet="中国人民北京", max_size=9), min_size=1, max_size=3),
       st.lists(st.text(alphabet="中国人民北京", min_size=1, max_size=5), max_size=12))
def test_dictionary_flags_match_brute_force(texts, dictionary):
    for text in texts:
        assert dictionary_flags(text, dictionary).tolist() == flags_by_hand(text, dictionary)


@pytest.fixture(scope="module")
def segmenter():
    return train_segmenter(CORPUS, steps=60)


def test_features_are_ids_of_characters_and_bigrams(segmenter):
    texts = ["我们爱北京", "", "首都"]
    f = segmenter.features(texts)
    assert f.shape == (7, 4) and f.dtype == np.int32
    assert f[:, 0].tolist() == segmenter.chars.encode("我们爱北京首都").tolist()
    padded = ["\x02" + t + "\x03" for t in texts]
    left = [p[i:i + 2] for p in padded for i in range(len(p) - 2)]
    right = [p[i + 1:i + 3] for p in padded for i in range(len(p) - 2)]
    assert f[:, 1].tolist() == segmenter.bigrams.encode(left).tolist()
    assert f[:, 2].tolist() == segmenter.bigrams.encode(right).tolist()
    # Closed track: new text is flagged with every training word of 2 to 4 characters.
    assert segmenter.dictionary == sorted({w for s in CORPUS for w in s if len(w) in WORD_LENGTHS})
    assert f[:, 3].tolist() == sum((flags_by_hand(t, set(segmenter.dictionary)) for t in texts), [])


@settings(max_examples=20, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="中国人民北京", min_size=1, max_size=4), min_size=1, max_size=4),
                min_size=1, max_size=8), st.integers(1, 4))
def test_training_flags_come_from_the_other_blocks(sentences, folds):
    texts = ["".join(s) for s in sentences]
    bounds = np.linspace(0, len(texts), folds + 1).astype(int)
    expected = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        others = {w for s in sentences[:a] + sentences[b:] for w in s}
        expected += sum((flags_by_hand(t, others) for t in texts[a:b]), [])
    assert _held_out_flags(texts, sentences, folds).tolist() == expected


def test_segmenter_learns_keeps_characters_and_reloads(segmenter, tmp_path):
    texts = ["我们爱北京", "北京是首都", "", "１９９８年我们是学生"]
    out = segmenter.segment(texts)
    assert ["".join(w) for w in out] == texts             # characters kept exactly (full-width too)
    assert out[0] == ["我们", "爱", "北京"] and out[2] == []
    assert segmenter.segment(texts, batch_size=1) == out
    x = segmenter.features(["我们爱北京"])[None]                    # padding never changes a tag score
    padded = np.concatenate([x, np.zeros((1, 7, 4), np.int32)], axis=1)
    logits = np.asarray(segmenter.model.predict_on_batch(x))
    assert np.allclose(np.asarray(segmenter.model.predict_on_batch(padded))[:, :5], logits,
                       rtol=1e-5, atol=1e-6)           # two shapes: float32 noise, relative
    assert "dictionary" in [layer.name for layer in segmenter.model.layers]
    segmenter.save(tmp_path / "seg")
    assert load_segmenter(tmp_path / "seg").segment(texts) == out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seg"]    # nothing half-written left


def test_open_track_dictionary_feature(tmp_path):
    dictionary = ["北京", "首都", "学生", "我们", "北京天安门", "Ａ"]
    segmenter = train_segmenter(CORPUS, steps=5, dictionary=dictionary)
    assert segmenter.dictionary == sorted(fold_width(w) for w in dictionary if len(w) in WORD_LENGTHS)
    assert "dictionary" in [layer.name for layer in segmenter.model.layers]
    text = "我们爱北京首都"
    assert segmenter.features([text])[:, 3].tolist() == flags_by_hand(text, set(dictionary))
    segmenter.save(tmp_path / "seg")
    reloaded = load_segmenter(tmp_path / "seg")
    assert reloaded.dictionary == segmenter.dictionary
    assert reloaded.segment([text]) == segmenter.segment([text])


def test_no_dictionary_feature():
    segmenter = train_segmenter(CORPUS, steps=5, dictionary=[])
    assert segmenter.dictionary == [] and "dictionary" not in [layer.name for layer in segmenter.model.layers]
    assert not segmenter.features(["我们爱北京"])[:, 3].any()


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(mode="fast"), ValueError, "mode must be 'quick' or 'full', got 'fast'"),
    (dict(sentences=[]), ValueError, "sentences must be a non-empty list"),
    (dict(sentences="我们"), ValueError, "sentences must be a non-empty list"),
    (dict(steps=0), ValueError, "steps must be an integer >= 1, got 0"),
    (dict(steps=True), ValueError, "steps must be an integer >= 1, got True"),
    (dict(seed=1.5), ValueError, "seed must be an integer, got 1.5"),
    (dict(dictionary="北京"), TypeError, "dictionary must be a list of words"),
    (dict(mode="quick", recipe=recipe("segmenter", "peoples_daily", "quick")), ValueError,
     "give recipe= or mode=, not both"),
    (dict(recipe=FINETUNE["quick"]), TypeError, "recipe must be a SegmenterRecipe, got FinetuneRecipe"),
])
def test_train_segmenter_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        train_segmenter(**{"sentences": CORPUS, "steps": 5, **kwargs})


def test_segmenter_errors(segmenter, tmp_path):
    with pytest.raises(TypeError, match="texts must be a list of strings"):
        segmenter.segment("我们")
    with pytest.raises(TypeError, match="texts must be a list of strings"):
        segmenter.features("我们")
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        segmenter.segment(["我们"], batch_size=0)
    with pytest.raises(ValueError, match=r"transitions must have shape \(4, 4\)"):
        type(segmenter)(segmenter.model, segmenter.chars, segmenter.bigrams, np.zeros(4))
    with pytest.raises(FileNotFoundError, match="no segmenter at"):
        load_segmenter(tmp_path / "missing")


@pytest.mark.slow
def test_a_recipe_and_its_seed_are_honoured():
    """recipe= trains with that recipe, and seed=None takes the recipe's seed."""
    import dataclasses

    spec = dataclasses.replace(recipe("segmenter", "peoples_daily", "quick"), steps=5, seed=3, units=8)
    by_recipe = train_segmenter(CORPUS, recipe=spec)
    assert by_recipe.model.get_layer(f"bi{spec.cell}").forward_layer.units == 8
    by_seed = train_segmenter(CORPUS, recipe=dataclasses.replace(spec, seed=0), seed=3)
    for a, b in zip(by_recipe.model.get_weights(), by_seed.model.get_weights()):
        np.testing.assert_array_equal(a, b)
