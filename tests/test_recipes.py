"""lmbook.recipes: one home per model kind's hyperparameters, and clear errors."""

from __future__ import annotations

import dataclasses

import pytest

from lmbook.recipes import RECIPES, EncoderRecipe, GPTRecipe, RecurrentRecipe, recipe


@pytest.mark.parametrize("key", sorted(k for k in RECIPES if k[0] != "segmenter"))
def test_every_language_model_recipe_builds_its_model(key):
    spec = RECIPES[key]
    model = spec.build(50)
    assert model.output_shape == (None, None, 50)
    if isinstance(spec, EncoderRecipe):          # logits at the chosen positions only
        assert [i.name for i in model.inputs] == ["ids", "positions"]
        assert model.get_layer("encoder").get_layer("embedding").max_length == spec.seq_len
    elif isinstance(spec, GPTRecipe):
        assert model.max_length == spec.seq_len
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
