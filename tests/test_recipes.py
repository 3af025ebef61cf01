"""lmbook.recipes: one home per model kind's hyperparameters, and clear errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lmbook.recipes import (
    FINETUNE,
    RECIPES,
    EncoderRecipe,
    FinetuneRecipe,
    GPTRecipe,
    RecurrentRecipe,
    SegmenterRecipe,
    recipe,
    resolve,
)
from lmbook.text import PAD, UNK


@pytest.mark.parametrize("key", sorted(k for k in RECIPES if k[0] != "segmenter"))
def test_every_language_model_recipe_builds_its_model(key):
    spec = RECIPES[key]
    model = spec.model(50)
    assert model.output_shape == (None, None, 50)
    if isinstance(spec, EncoderRecipe):          # logits at the chosen positions only
        assert [i.name for i in model.inputs] == ["ids", "positions"]
        assert model.get_layer("encoder").get_layer("embedding").seq_len == spec.seq_len
    elif isinstance(spec, GPTRecipe):
        assert model.seq_len == spec.seq_len
    else:
        assert model.get_layer(f"{spec.cell}_0") is not None


def test_recipes_are_frozen_and_differ_by_a_visible_replace():
    quick = recipe("gpt", "tiny_shakespeare", "quick")
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick.steps = 10
    shorter = dataclasses.replace(quick, steps=600)
    assert shorter.steps == 600 and quick.steps != 600
    assert shorter.tokens == 600 * quick.batch_size * quick.seq_len


def test_as_dict_names_the_kind_and_every_field():
    spec = recipe("gru", "peoples_daily", "preset")
    record = spec.as_dict()
    assert record["kind"] == "RecurrentRecipe" and record["units"] == spec.units
    assert set(record) == {"kind"} | {f.name for f in dataclasses.fields(RecurrentRecipe)}


def test_an_unknown_recipe_lists_the_known_ones():
    with pytest.raises(KeyError, match=r"no recipe for model='gpt', corpus='wiki', mode='quick'; known: .*"
                                       r"gpt/tiny_shakespeare/quick"):
        recipe("gpt", "wiki", "quick")


@pytest.mark.parametrize("change, message", [
    (dict(corpus="wiki"), "corpus must be one of tiny_shakespeare, peoples_daily, got 'wiki'"),
    (dict(steps=0), "steps must be an integer >= 1, got 0"),
    (dict(batch_size=2.5), "batch_size must be an integer >= 1, got 2.5"),
    (dict(dropout=1.0), r"dropout must be a number in \[0.0, 1.0\), got 1.0"),
    (dict(seed=-1), "seed must be an integer >= 0, got -1"),
])
def test_bad_values_name_themselves(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(recipe("lstm", "tiny_shakespeare", "quick"), **change)


def test_the_segmenter_trains_with_its_recipe():
    from lmbook.segmenter import train_segmenter

    spec = recipe("segmenter", "peoples_daily", "full")
    model = train_segmenter([["我们", "爱", "北京"]] * 20, mode="full", steps=2).model
    assert model.get_layer(f"bi{spec.cell}").forward_layer.units == spec.units
    assert model.get_layer("chars").output_dim == spec.embedding_dim


@pytest.mark.parametrize("change, message", [({"mask_rate": 0.0}, "mask_rate"),
                                             ({"max_predictions": 129}, "max_predictions")])
def test_an_encoder_recipe_checks_its_masking(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(recipe("bert", "peoples_daily", "preset"), **change)


def test_build_is_an_alias_of_model():
    """Recipe.build(vocab_size) is the old name of Recipe.model(vocab_size)."""
    spec = recipe("gpt", "peoples_daily", "quick")
    assert spec.build(40).count_params() == spec.model(40).count_params()


@pytest.mark.parametrize("key", sorted(k for k in RECIPES if k[0] != "segmenter"))
def test_each_kind_answers_the_questions_once(key):
    """Reserved tokens, folding, batches, reduction, block and causality are the recipe's answers."""
    encoder = isinstance(RECIPES[key], EncoderRecipe)
    small = {"batch_size": 2, "seq_len": 8, **({"max_predictions": 4} if encoder else {})}
    spec = dataclasses.replace(RECIPES[key], **small)
    assert spec.causal is not encoder and spec.loss_name == ("masked" if encoder else "stream")
    assert spec.reserved[:2] == (PAD, UNK) and len(spec.reserved) == (3 if encoder else 2)
    assert spec.prepare("ＡＢ１") == ("AB1" if encoder else "ＡＢ１")
    batch = spec.batches(np.arange(200) % 7 + 3, 10, steps=3)[0]
    assert len(batch[0] if not encoder else batch[0]["ids"]) == 2
    stateful = isinstance(spec, RecurrentRecipe) and spec.stateful
    assert type(spec.batches(np.arange(200) % 7, 10, 3)).__name__ == (
        "MaskedBatches" if encoder else "StreamBatches" if stateful else "WindowBatches")
    assert spec.nanogpt_seq_len == (spec.seq_len if isinstance(spec, GPTRecipe) else 256)
    assert spec.compiled(10).loss is not None


@pytest.mark.parametrize("key", [("gpt", "tiny_shakespeare", "quick"), ("gru", "peoples_daily", "quick")])
def test_the_stream_protocol_is_the_kind_s(key):
    """A GPT scores in windows, a recurrent model in one stateful pass; both give one loss per target."""
    from lmbook import perplexity

    width = {"units": 8} if key[0] == "gru" else {"d_model": 8}
    spec = dataclasses.replace(RECIPES[key], seq_len=8, **width)
    model, ids = spec.model(12), np.arange(40) % 12
    losses = spec.stream_losses(model, ids)
    assert losses.shape == (39,)
    if isinstance(spec, GPTRecipe):
        np.testing.assert_allclose(losses, perplexity.stream_losses(model, ids, seq_len=8))
    else:
        np.testing.assert_allclose(losses, perplexity.stateful_losses(spec.reader(model), ids), rtol=1e-6)


def test_an_encoder_has_no_stream_protocol():
    """An encoder is not scored on a stream: it says so."""
    spec = recipe("bert", "peoples_daily", "preset")
    with pytest.raises(NotImplementedError, match="EncoderRecipe has no stream protocol"):
        spec.stream_losses(None, np.arange(5))


def test_resolve_picks_one_recipe(monkeypatch):
    """A recipe, or a mode's, or $LMBOOK_MODE's; both, or a wrong kind, are errors."""
    monkeypatch.setenv("LMBOOK_MODE", "full")
    assert resolve(None, None, FINETUNE.__getitem__, FinetuneRecipe) is FINETUNE["full"]
    assert resolve(None, "quick", FINETUNE.__getitem__, FinetuneRecipe) is FINETUNE["quick"]
    mine = dataclasses.replace(FINETUNE["quick"], epochs=1)
    assert resolve(mine, None, FINETUNE.__getitem__, FinetuneRecipe) is mine
    with pytest.raises(ValueError, match="give recipe= or mode=, not both"):
        resolve(mine, "quick", FINETUNE.__getitem__, FinetuneRecipe)
    with pytest.raises(ValueError, match="mode must be 'quick' or 'full', got 'fast'"):
        resolve(None, "fast", FINETUNE.__getitem__, FinetuneRecipe)
    with pytest.raises(TypeError, match="recipe must be a SegmenterRecipe, got FinetuneRecipe"):
        resolve(mine, None, FINETUNE.__getitem__, SegmenterRecipe)
