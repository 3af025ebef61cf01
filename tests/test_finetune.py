"""lmbook.finetune on a tiny encoder preset (conftest.py): every method's behaviours, what each
one freezes, LoRA's parameter count, the taggers, saving and loading, and the errors."""

from __future__ import annotations

from dataclasses import replace

import keras
import numpy as np
import pytest

from lmbook import data, finetune, presets, prompting
from lmbook.entities import bio_spans, peoples_daily_entities
from lmbook.recipes import FINETUNE, ULMFIT
from lmbook.segment import TAGS, to_bmes
from lmbook.text import pad_rows


@pytest.fixture(autouse=True)
def short_recipe(monkeypatch):
    """The quick recipe with fewer steps: these tests check behaviour, not accuracy."""
    short = replace(FINETUNE["quick"], min_steps=8, max_steps=12, adapt_steps=8)
    monkeypatch.setitem(FINETUNE, "quick", short)


@pytest.fixture(scope="module")
def reviews():
    """64 training and 32 held-out reviews, both labels mixed."""
    texts, labels = data.load_chinese_reviews("validation")
    order = np.random.default_rng(0).permutation(len(texts))[:96]
    return [texts[i] for i in order], [labels[i] for i in order]


def encoder_weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.get_layer("encoder").weights
            if "lora" not in w.path.rsplit("/", 1)[-1]]


@pytest.mark.parametrize("method", finetune.METHODS)
@pytest.mark.slow
def test_every_method_trains_a_classifier_that_predicts_saves_and_reloads(method, tiny_encoder, reviews,
                                                                          tmp_path):
    texts, labels = reviews
    clf = finetune.train_classifier(texts[:64], labels[:64], preset=tiny_encoder, method=method)
    proba = clf.predict_proba(texts[64:])
    assert proba.shape == (32, 2) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert set(clf.predict(texts[64:]).tolist()) <= {0, 1}
    assert clf.config["steps"] == FINETUNE["quick"].steps(64) and clf.config["method"] == method
    clf.save(tmp_path / "clf.npz")
    again = finetune.load_classifier(tmp_path / "clf.npz")
    np.testing.assert_allclose(again.predict_proba(texts[64:]), proba, atol=1e-5)
    assert [p.name for p in tmp_path.iterdir()] == ["clf.npz"]           # no temporary file left


@pytest.mark.slow
def test_each_method_trains_what_it_should(tiny_encoder, reviews):
    texts, labels = reviews
    preset = presets.load(tiny_encoder)
    pretrained = encoder_weights(preset.model)
    d, layers, heads = preset.recipe.d_model, preset.recipe.layers, preset.recipe.num_heads
    head = d * 2 + 2
    trained = {m: finetune.train_classifier(texts[:64], labels[:64], preset=tiny_encoder, method=m)
               for m in ("frozen", "lora", "lora_per_head", "full", "scratch")}
    total = trained["full"].config["parameters"]
    assert trained["frozen"].trainable_parameters == head
    rank = FINETUNE["quick"].lora_rank
    # Hu et al.: A is (d, r), B is (r, d), for the query and the value of every block
    assert trained["lora"].trainable_parameters == layers * 2 * rank * (d + d) + head
    # Keras's EinsumDense LoRA: A is (d, heads, r), B is (r, d / heads)
    per_head = layers * 2 * rank * (d * heads + d // heads)
    assert trained["lora_per_head"].trainable_parameters == per_head + head
    assert trained["full"].trainable_parameters == trained["scratch"].trainable_parameters == total
    for method in ("frozen", "lora", "lora_per_head"):                       # the encoder did not move
        for before, after in zip(pretrained, encoder_weights(trained[method].model)):
            np.testing.assert_array_equal(before, after)
    moved = [np.abs(a - b).max() for a, b in zip(pretrained, encoder_weights(trained["full"].model))]
    assert max(moved) > 0
    for method in ("lora", "lora_per_head"):
        lora_b = [w for w in trained[method].model.weights if w.path.endswith(("lora_b", "lora_kernel_b"))]
        assert len(lora_b) == 2 * layers
        assert any(np.abs(keras.ops.convert_to_numpy(w)).max() > 0 for w in lora_b)


@pytest.mark.slow
def test_gradual_unfreezing_trains_the_head_first_then_one_more_layer_per_stage(tiny_encoder, reviews):
    texts, labels = reviews
    preset = presets.load(tiny_encoder)
    layers = preset.recipe.layers
    recipe = replace(FINETUNE["quick"], **ULMFIT)
    ids = pad_rows([preset.vocabulary.encode(t) for t in texts[:64]], 32)
    targets = np.asarray(labels[:64], "int32")
    mlm = preset.recipe.model(len(preset.vocabulary))
    mlm.set_weights(preset.model.get_weights())
    model = finetune._head_model(mlm.get_layer("encoder"), 2, False, 0.0)
    start = {w.path: keras.ops.convert_to_numpy(w).copy() for w in model.weights}
    moved_at = []                          # the depths that had moved when each stage began

    def batches(n, first):
        moved_at.append({finetune._depth(w.path, layers) for w in model.weights
                         if not np.array_equal(keras.ops.convert_to_numpy(w), start[w.path])})
        return finetune._Batches(ids, targets, None, 16, n, 0, first)

    steps = 2 * (layers + 2)
    trained = finetune._train(model, recipe, "full", layers, steps, batches, "sum_over_batch_size")
    assert moved_at == [set(range(k)) for k in range(layers + 2)]   # stage k had moved depths < k
    assert trained == finetune._parameters(model.weights)


@pytest.mark.slow
def test_ulmfit_s_recipe_trains_every_weight_at_the_end(tiny_encoder, reviews):
    texts, labels = reviews
    recipe = replace(FINETUNE["quick"], **ULMFIT)
    clf = finetune.train_classifier(texts[:64], labels[:64], preset=tiny_encoder, recipe=recipe)
    assert clf.config["recipe"]["gradual_unfreezing"] and clf.trainable_parameters == clf.config["parameters"]
    assert clf.config["steps"] == recipe.steps(64)


@pytest.mark.parametrize("fields, message", [({"layer_decay": 0.5}, "layer_decay"),
                                             ({"schedule": "cosine"}, "schedule must be")])
def test_bad_ulmfit_fields_are_named(fields, message):
    with pytest.raises(ValueError, match=message):
        replace(FINETUNE["quick"], **fields)


def test_adaptation_moves_the_encoder_and_leaves_the_preset_alone(tiny_encoder, reviews):
    texts, _ = reviews
    preset = presets.load(tiny_encoder)
    before = encoder_weights(preset.model)
    adapted = finetune.adapt(preset, texts, seed=0)
    assert adapted.name == "tiny-bert+adapted"
    assert max(np.abs(a - b).max() for a, b in zip(before, encoder_weights(adapted.model))) > 0
    for a, b in zip(before, encoder_weights(preset.model)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="more than seq_len=32 characters"):
        finetune.adapt(preset, ["太短"])


@pytest.mark.slow
def test_a_ner_tagger_tags_every_character_of_long_texts(tiny_encoder, tmp_path):
    texts, tags = peoples_daily_entities("validation")
    tagger = finetune.train_tagger(texts[:40], tags[:40], preset=tiny_encoder, method="full")
    long = texts[0] * 3                                      # longer than the 32-character window
    predicted = tagger.predict([long, "江泽民"])
    assert [len(p) for p in predicted] == [len(long), 3]
    assert set(sum(predicted, [])) <= set(tagger.classes)
    bio_spans(predicted[0])                                  # well-formed tags
    tagger.save(tmp_path / "ner.npz")
    assert finetune.load_tagger(tmp_path / "ner.npz").predict([long]) == predicted[:1]
    with pytest.raises(ValueError, match="holds a tagger, not a classifier"):
        finetune.load_classifier(tmp_path / "ner.npz")


def test_a_bmes_tagger_decodes_well_formed_words(tiny_encoder):
    words = data.peoples_daily_words("validation")[:40]
    texts = ["".join(w) for w in words]
    tags = [list(to_bmes(w)) for w in words]
    tagger = finetune.train_tagger(texts, tags, preset=tiny_encoder, method="lora")
    assert sorted(tagger.classes) == sorted(TAGS)
    for text, tags in zip(texts[:5], tagger.predict(texts[:5])):
        assert len(tags) == len(text) and tags[0] in "BS" and tags[-1] in "ES"
        assert all(b in {"B": "ME", "M": "ME", "E": "BS", "S": "BS"}[a] for a, b in zip(tags, tags[1:]))


def test_input_is_normalised_as_the_encoder_was_pre_trained():
    assert finetune.clean(" 很好　ＯＫ\n ") == "很好 OK"
    assert len(finetune.clean("１２３")) == 3


@pytest.mark.parametrize("texts, labels, kwargs, error, message", [
    (["好", "差"], [1], {}, ValueError, "2 texts, 1 labels"),
    (["好", "差"], [1, 1], {}, ValueError, "at least two classes"),
    (["好", "差"], [1, 0], {"method": "prompt"}, ValueError, "method must be one of scratch, frozen"),
    (["好", "差"], [1, 0], {"mode": "slow"}, ValueError, "mode must be 'quick' or 'full', got 'slow'"),
    (["好", "差"], [1, 0], {"mode": "quick", "recipe": FINETUNE["quick"]}, ValueError,
     "give recipe= or mode=, not both"),
    (["好", "差"], [1, 0], {"recipe": "quick"}, TypeError, "recipe must be a FinetuneRecipe, got str"),
    (["好", "差"], [1, 0], {"seed": -1}, ValueError, "seed must be an integer >= 0, got -1"),
    ([], [], {}, ValueError, "texts is empty"),
    (["好", "  "], [1, 0], {}, ValueError, r"texts\[1\] is empty"),
    ("好差", [1, 0], {}, TypeError, "texts must be a list of strings"),
    (["好", "差"], [1.0, 0.0], {}, TypeError, "labels must be integers"),
    (["好", "差"], [1, 0], {"preset": "nope"}, KeyError, "unknown preset 'nope'"),
])
def test_bad_classifier_input_is_named(tiny_encoder, texts, labels, kwargs, error, message):
    with pytest.raises(error, match=message):
        finetune.train_classifier(texts, labels, **{"preset": tiny_encoder, **kwargs})


def test_a_causal_preset_cannot_be_fine_tuned(monkeypatch):
    monkeypatch.setattr(presets, "load", lambda name: presets.Preset(name, None, None, {},
                                                                      presets.PRESETS["peoples-daily-gpt"]))
    with pytest.raises(ValueError, match="'peoples-daily-gpt' is a causal LM; fine-tuning needs an encoder"):
        finetune.train_classifier(["好", "差"], [1, 0], preset="peoples-daily-gpt")


@pytest.mark.parametrize("tags, message", [
    ([["B", "E"], ["S"]], r"tags\[0\] has 2 tags for the 1 characters of texts\[0\]"),
    ([["S"]], "2 texts, 1 tag lists"),
    ([["S"], ["S", "S"]], "at least two classes"),
])
def test_bad_tagger_input_is_named(tiny_encoder, tags, message):
    with pytest.raises(ValueError, match=message):
        finetune.train_tagger(["我", "我们"], tags, preset=tiny_encoder)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no fine-tuned classifier at"):
        finetune.load_classifier(tmp_path / "none.npz")


def test_the_recipe_clips_steps_to_its_bounds():
    recipe = replace(FINETUNE["full"], epochs=2, batch_size=10, min_steps=5, max_steps=50)
    assert [recipe.steps(n) for n in (1, 100, 101, 10**6)] == [5, 20, 22, 50]
    with pytest.raises(ValueError, match="examples"):
        recipe.steps(0)


def test_a_labelled_subset_keeps_each_label_s_share():
    texts, labels = data.load_chinese_reviews("train")
    known = set(texts)
    for n in (2, 32, 257):
        x, y = finetune.labelled_subset(texts, labels, n, seed=1)
        assert len(x) == n and set(y) == {0, 1} and known.issuperset(x)
        assert abs(np.mean(y) - np.mean(labels)) <= 1 / n
    assert finetune.labelled_subset(texts, labels, 32, 1) != finetune.labelled_subset(texts, labels, 32, 2)
    with pytest.raises(ValueError, match="n"):
        finetune.labelled_subset(texts, labels, 1)


def test_zero_shot_scores_the_choices_after_the_prompt_whatever_the_batch():
    gpt = presets.load("peoples-daily-gpt")
    texts = ["质量很好，推荐", "太差了，用了两天就坏了，不推荐购买，大家千万别买，真是浪费钱"]
    raw = finetune.zero_shot(gpt, texts, calibrate=False)
    alone = finetune.zero_shot(gpt, texts[:1], calibrate=False)
    np.testing.assert_allclose(alone[0], raw[0], atol=1e-4)          # right-padding is harmless
    prior = finetune.zero_shot(gpt, ["x"], calibrate=False) - finetune.zero_shot(gpt, ["x"])
    np.testing.assert_allclose(finetune.zero_shot(gpt, texts), raw - prior, atol=1e-4)
    ids = gpt.vocabulary.encode(finetune.PROMPT.format(text="质量很好，推荐"))
    log_p = prompting.next_log_probs(gpt.model, [ids])[0]
    # two batch compositions: float32 sums on threads differ in the last bits, so a relative tolerance
    np.testing.assert_allclose(raw[0], log_p[gpt.vocabulary.encode(["差", "好"])], rtol=1e-5)


def test_zero_shot_needs_a_causal_preset(tiny_encoder):
    with pytest.raises(ValueError, match="'tiny-bert' is a masked LM: prompting needs a causal LM"):
        finetune.zero_shot(tiny_encoder, ["好"])


def test_zero_shot_needs_single_character_choices():
    with pytest.raises(ValueError, match="single characters"):
        finetune.zero_shot("peoples-daily-gpt", ["好"], choices=("很好", "差"))
