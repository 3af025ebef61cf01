"""lmbook.lora: Hu et al.'s LoRA against Keras's per-head form: the rank of each update,
measured; the parameter counts; the start at the pre-trained map; what is frozen; the errors."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from lmbook import lora, masked_lm

D, HEADS, RANK = 32, 4, 2


def projection():
    """A query projection as lmbook.transformer builds it: kernel (d, heads, d_k)."""
    dense = keras.layers.EinsumDense("btd,dhk->bthk", (None, HEADS, D // HEADS), bias_axes="hk")
    dense.build((None, None, D))
    return dense


def randomise(weights, seed=0):
    rng = np.random.default_rng(seed)
    for w in weights:
        w.assign(rng.normal(size=w.shape).astype("float32"))


def test_hu_lora_adds_a_rank_r_update_to_the_whole_map():
    adapter = lora.LoRA(projection(), RANK)
    adapter.build((None, None, D))
    randomise(adapter.trainable_weights)
    delta = lora.update(adapter)
    assert delta.shape == (D, D) and np.linalg.matrix_rank(delta) == RANK
    assert sum(math.prod(w.shape) for w in adapter.trainable_weights) == 2 * D * RANK
    x = np.random.default_rng(1).normal(size=(2, 3, D)).astype("float32")
    expected = adapter.projection(x) + (x @ delta).reshape(2, 3, HEADS, D // HEADS)
    np.testing.assert_allclose(adapter(x), expected, rtol=1e-5, atol=1e-5)


def test_keras_per_head_lora_reaches_heads_times_r():
    dense = projection()
    dense.enable_lora(RANK)
    randomise([dense.lora_kernel_a, dense.lora_kernel_b])
    assert np.linalg.matrix_rank(lora.update(dense)) == HEADS * RANK
    assert dense.lora_kernel_a.shape == (D, HEADS, RANK) and dense.lora_kernel_b.shape == (RANK, D // HEADS)


def test_an_adapter_starts_at_the_pre_trained_map_and_freezes_it():
    dense = projection()
    randomise(dense.weights)
    adapter = lora.LoRA(dense, RANK)
    x = np.random.default_rng(2).normal(size=(1, 5, D)).astype("float32")
    np.testing.assert_array_equal(adapter(x), dense(x))
    assert not dense.trainable and [w.path.rsplit("/", 1)[-1] for w in adapter.trainable_weights] == [
        "lora_a", "lora_b"]


@pytest.mark.parametrize("form, per_projection", [("hu", 2 * D * RANK),
                                                   ("per_head", RANK * (D * HEADS + D // HEADS))])
def test_enable_lora_adapts_query_and_value_of_every_block(form, per_projection):
    enc = masked_lm.encoder(vocab_size=50, seq_len=16, d_model=D, num_heads=HEADS, layers=2)
    ids = np.random.default_rng(3).integers(3, 50, (2, 16)).astype("int32")
    before, count = np.asarray(enc(ids)), len(enc.weights)
    lora.enable_lora(enc, RANK, form)
    assert sum(math.prod(w.shape) for w in enc.trainable_weights) == 2 * 2 * per_projection
    assert all(w.path.startswith("block_") for w in enc.trainable_weights)
    assert len({id(w) for w in enc.weights}) == len(enc.weights) == count + 2 * 2 * 2   # nothing twice
    np.testing.assert_allclose(enc(ids), before, rtol=1e-5, atol=1e-6)             # B starts at zero
    randomise(enc.trainable_weights)
    assert np.abs(np.asarray(enc(ids)) - before).max() > 1e-3                    # and is on the path


def test_errors_are_named():
    with pytest.raises(ValueError, match="form must be one of hu, per_head"):
        lora.enable_lora(masked_lm.encoder(50, 16, D, HEADS, 1), RANK, "full")
    with pytest.raises(ValueError, match="rank"):
        lora.LoRA(projection(), 0)
    unbuilt = keras.layers.EinsumDense("btd,dhk->bthk", (None, HEADS, D // HEADS))
    with pytest.raises(ValueError, match="must be built"):
        lora.LoRA(unbuilt, RANK)
    with pytest.raises(ValueError, match="has no LoRA update"):
        lora.update(projection())
