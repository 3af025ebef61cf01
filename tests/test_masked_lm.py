"""lmbook.masked_lm: BERT's masking (against its recipe and keras-hub's generator), the encoder's
padding and direction, the masked-position softmax and the masked-token scores."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from lmbook import masked_lm
from lmbook.models import gpt_lm

VOCAB = 50


def batch(rows=420, length=256, seed=0):
    """Ordinary ids (3..VOCAB-1) with some padding at the ends of rows."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(3, VOCAB, size=(rows, length))
    ids[:, -10:] = masked_lm.PAD_ID
    return ids


def test_the_masking_follows_bert_s_recipe_over_100k_positions():
    ids = batch()
    masked, positions, targets, weights = masked_lm.mask_tokens(ids, np.random.default_rng(1), VOCAB)
    chosen = weights > 0
    ordinary = (ids != masked_lm.PAD_ID).sum()
    assert ordinary > 100_000
    assert chosen.sum() / ordinary == pytest.approx(0.15, abs=0.005)
    rows = np.broadcast_to(np.arange(len(ids))[:, None], positions.shape)[chosen]
    # a random replacement equals the original with probability 1/47: the "random" share is 10% × 46/47
    assert shares(masked, rows, positions[chosen], targets[chosen]) == pytest.approx(
        [0.8, 0.1 * 46 / 47, 0.1 + 0.1 / 47], abs=0.01)
    assert (targets[chosen] == ids[rows, positions[chosen]]).all()
    untouched = np.ones(ids.shape, bool)
    untouched[rows, positions[chosen]] = False
    assert (masked[untouched] == ids[untouched]).all()


def test_special_ids_are_never_selected_nor_drawn():
    ids = batch()
    ids[:, :5] = masked_lm.UNK_ID
    rng = np.random.default_rng(2)
    masked, positions, targets, weights = masked_lm.mask_tokens(ids, rng, VOCAB, rate=0.5)
    chosen = weights > 0
    assert not np.isin(targets[chosen], [0, 1, 2]).any()
    changed = masked != ids
    assert not np.isin(masked[changed], [0, 1]).any()            # only <mask> or an ordinary id
    assert (masked[ids == masked_lm.PAD_ID] == masked_lm.PAD_ID).all()


def test_a_row_keeps_at_most_max_predictions_padded_with_zero_weights():
    ids = batch(rows=50, length=128)
    _, positions, targets, weights = masked_lm.mask_tokens(ids, np.random.default_rng(3), VOCAB,
                                                           max_predictions=20)
    assert positions.shape == (50, 20) and weights.sum(1).max() <= 20
    assert (positions[weights == 0] == 0).all() and (targets[weights == 0] == 0).all()
    a = masked_lm.mask_tokens(ids, np.random.default_rng(3), VOCAB, max_predictions=20)
    assert all((x == y).all() for x, y in zip(a, (_, positions, targets, weights)))


def shares(masked, rows, positions, targets):
    """The selected positions' mask, random and keep shares."""
    now = masked[rows, positions]
    mask, keep = now == masked_lm.MASK_ID, now == targets
    return np.array([mask.mean(), (~mask & ~keep).mean(), keep.mean()])


def test_ours_and_keras_hub_s_generator_agree_within_one_point_but_keras_hub_draws_special_ids():
    pytest.importorskip("tensorflow")
    import keras_hub

    ids = batch()
    generator = keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=VOCAB, mask_selection_rate=0.15, mask_token_id=masked_lm.MASK_ID,
        mask_selection_length=ids.shape[1], unselectable_token_ids=[0, 1, 2], random_token_rate=0.1)
    out = {k: np.asarray(v) for k, v in generator(ids).items()}
    chosen = out["mask_weights"] > 0
    hub_rows = np.broadcast_to(np.arange(len(ids))[:, None], chosen.shape)[chosen]
    hub = shares(out["token_ids"], hub_rows, out["mask_positions"][chosen], out["mask_ids"][chosen])
    masked, positions, targets, weights = masked_lm.mask_tokens(ids, np.random.default_rng(4), VOCAB)
    rows = np.broadcast_to(np.arange(len(ids))[:, None], positions.shape)[weights > 0]
    ours = shares(masked, rows, positions[weights > 0], targets[weights > 0])
    ordinary = (ids != masked_lm.PAD_ID).sum()
    assert abs(chosen.sum() / ordinary - weights.sum() / ordinary) < 0.01
    assert np.abs(hub - ours).max() < 0.01
    # keras-hub's random replacements come from every id, the special ones included
    draws = np.asarray(generator(np.full((2000, 64), 7))["token_ids"])
    assert np.isin(draws, [0, 1]).any()


def test_the_encoder_ignores_padding_and_reads_both_directions():
    model = masked_lm.encoder(VOCAB, 16, d_model=16, num_heads=2, layers=2)
    ids = np.array([[5, 6, 7, 8, 0, 0]], dtype="int32")
    short = ops.convert_to_numpy(model(ids[:, :4]))
    padded = ops.convert_to_numpy(model(ids))
    np.testing.assert_allclose(padded[:, :4], short, rtol=1e-5, atol=1e-5)     # two shapes: float32 noise
    later = ids.copy()
    later[0, 3] = 9
    assert np.abs(ops.convert_to_numpy(model(later))[0, 0] - padded[0, 0]).max() > 1e-4
    gpt = gpt_lm(VOCAB, 16, d_model=16, num_heads=2, layers=1)
    np.testing.assert_allclose(ops.convert_to_numpy(gpt(later))[0, 0], ops.convert_to_numpy(gpt(ids))[0, 0],
                               rtol=1e-5, atol=1e-6)


def test_the_masked_positions_softmax_equals_the_full_output_at_those_positions():
    model = masked_lm.masked_lm(VOCAB, 16, d_model=16, num_heads=2, layers=1)
    ids = np.random.default_rng(0).integers(3, VOCAB, size=(2, 16)).astype("int32")
    positions = np.array([[1, 5, 9], [0, 0, 15]], dtype="int32")
    picked = ops.convert_to_numpy(model({"ids": ids, "positions": positions}))
    encoder = model.get_layer("encoder")
    full = ops.convert_to_numpy(encoder.get_layer("embedding")(encoder(ids), reverse=True))
    np.testing.assert_allclose(picked, np.take_along_axis(full, positions[..., None], 1), atol=1e-5)


def test_evaluate_scores_the_masked_positions_from_scratch():
    model = masked_lm.masked_lm(VOCAB, 16, d_model=16, num_heads=2, layers=1)
    ids = np.random.default_rng(0).integers(3, VOCAB, size=16 * 8 + 5)
    scores = masked_lm.evaluate(model, ids, 16, seed=7)
    windows = ids[:128].reshape(8, 16)
    masked, positions, targets, weights = masked_lm.mask_tokens(windows, np.random.default_rng(7), VOCAB)
    logits = ops.convert_to_numpy(model({"ids": masked, "positions": positions})).astype(float)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    chosen = weights > 0
    p = np.take_along_axis(probs, targets[..., None], -1)[..., 0][chosen]
    assert scores["loss"] == pytest.approx(-np.log(p).mean(), rel=1e-5)
    assert scores["accuracy"] == pytest.approx((probs.argmax(-1) == targets)[chosen].mean())
    assert scores["predictions"] == chosen.sum() and scores == masked_lm.evaluate(model, ids, 16, seed=7)


def test_batches_are_reproducible_and_fresh_each_epoch():
    ids = np.arange(3, 500) % VOCAB + 3
    data = masked_lm.MaskedBatches(ids, VOCAB + 3, 4, 32, steps=2, max_predictions=8)
    first = data[0][0]["ids"]
    assert (data[0][0]["ids"] == first).all()
    data.on_epoch_end()
    assert not (data[0][0]["ids"] == first).all()


@pytest.mark.parametrize("call, message", [
    (lambda: masked_lm.mask_tokens(np.arange(10) + 3, np.random.default_rng(0), VOCAB),
     "ids must be a batch"),
    (lambda: masked_lm.mask_tokens(batch(2, 8), np.random.default_rng(0), VOCAB, max_predictions=9),
     "max_predictions"),
    (lambda: masked_lm.mask_tokens(batch(2, 8), np.random.default_rng(0), VOCAB, rate=0.0), "rate"),
    (lambda: masked_lm.evaluate(masked_lm.masked_lm(VOCAB, 8, 16, 2, 1), np.arange(5) + 3, 8),
     "at least one window"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_fill_mask_needs_a_mask():
    from lmbook.text import Vocabulary

    vocabulary = Vocabulary([*masked_lm.RESERVED, "中", "国"])
    model = masked_lm.masked_lm(len(vocabulary), 8, 16, 2, 1)
    guesses = masked_lm.fill_mask(model, vocabulary, "中＿", top_k=2)[0]
    assert sorted(c for c, _ in guesses) == ["中", "国"]                  # never a special token
    assert sum(p for _, p in guesses) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="text must contain at least one <mask>"):
        masked_lm.fill_mask(model, vocabulary, "中国")
