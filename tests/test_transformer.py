"""lmbook.transformer and lmbook.models.gpt_lm: attention math, masks, positions, GPT builds, windows."""

import keras
import numpy as np
import pytest

from lmbook.models import WindowedLM, context_window, gpt_lm
from lmbook.text import WindowBatches
from lmbook.transformer import (
    CausalSelfAttention,
    DecoderBlock,
    EncoderBlock,
    SelfAttention,
    TokenAndPositionEmbedding,
    TransformerBlock,
    attention,
    attention_weights,
    causal_mask,
    check_length,
    sinusoidal_encoding,
)

SMALL = dict(vocab_size=23, seq_len=12, d_model=16, num_heads=4, layers=2)


def numpy_attention(q, k, v, mask):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    scores = np.where(mask, scores, -np.inf)
    w = np.exp(scores - scores.max(-1, keepdims=True))
    return (w / w.sum(-1, keepdims=True)) @ v


def test_attention_matches_numpy_and_rows_sum_to_one():
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(2, 3, 5, 8)).astype("float32") for _ in range(3))
    got = keras.ops.convert_to_numpy(attention(q, k, v, causal_mask(5)))
    np.testing.assert_allclose(got, numpy_attention(q, k, v, causal_mask(5)), atol=1e-5)
    w = keras.ops.convert_to_numpy(attention_weights(q, k, causal_mask(5)))
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    assert np.all(w[..., np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0)


def test_attention_agrees_with_keras_dot_product_attention():
    rng = np.random.default_rng(1)
    q, k, v = (rng.normal(size=(2, 6, 3, 4)).astype("float32") for _ in range(3))  # (B, T, H, d)
    ours = attention(*(np.swapaxes(t, 1, 2) for t in (q, k, v)), causal_mask(6))
    theirs = keras.ops.dot_product_attention(q, k, v, is_causal=True)
    np.testing.assert_allclose(np.swapaxes(keras.ops.convert_to_numpy(ours), 1, 2),
                               keras.ops.convert_to_numpy(theirs), atol=1e-5)


def test_self_attention_equals_keras_multi_head_attention_with_its_weights():
    x = np.random.default_rng(0).normal(size=(2, 6, 12)).astype("float32")
    mha = keras.layers.MultiHeadAttention(num_heads=3, key_dim=4)
    expected = keras.ops.convert_to_numpy(mha(x, x, use_causal_mask=True))
    ours = CausalSelfAttention(num_heads=3)
    ours.build(x.shape)
    assert [w.path.split("/", 1)[1] for w in ours.weights[::2]] == [
        "query/kernel", "key/kernel", "value/kernel", "attention_output/kernel"]
    ours.set_weights(mha.get_weights())          # same names, shapes and order
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x)), expected, atol=1e-5)


def test_a_head_is_a_slice_of_the_heads_axis():
    x = np.random.default_rng(1).normal(size=(1, 5, 8)).astype("float32")
    layer = CausalSelfAttention(num_heads=2)
    _, weights = layer(x, return_attention_scores=True)
    weights = keras.ops.convert_to_numpy(weights)
    Wq, bq, Wk, bk = (keras.ops.convert_to_numpy(w) for w in layer.weights[:4])
    q, k = x[0] @ Wq[:, 1] + bq[1], x[0] @ Wk[:, 1] + bk[1]         # head 1 alone
    np.testing.assert_allclose(weights[0, 1], keras.ops.convert_to_numpy(
        attention_weights(q[None], k[None], causal_mask(5)))[0], atol=1e-5)


def test_sinusoidal_encoding_interleaves_sin_and_cos():
    pe = sinusoidal_encoding(50, 16)
    pos, i = 7, 3
    assert pe[pos, 2 * i] == pytest.approx(np.sin(pos / 10000 ** (2 * i / 16)), abs=1e-6)
    assert pe[pos, 2 * i + 1] == pytest.approx(np.cos(pos / 10000 ** (2 * i / 16)), abs=1e-6)
    with pytest.raises(ValueError, match="d_model must be even, got 5"):
        sinusoidal_encoding(4, 5)
    with pytest.raises(ValueError, match="length must be an integer >= 1, got 0"):
        causal_mask(0)
    with pytest.raises(ValueError, match="length must be an integer >= 1, got True"):
        causal_mask(True)
    np.testing.assert_array_equal(sinusoidal_encoding(np.int64(50), np.int32(16)), pe)
    np.testing.assert_array_equal(causal_mask(np.int64(3)), np.tril(np.ones((3, 3), bool)))


@pytest.mark.parametrize("layers_from", ["lmbook", "keras_hub"])
def test_gpt_is_causal(layers_from):
    model = gpt_lm(**SMALL, layers_from=layers_from)
    x = np.random.default_rng(0).integers(0, 23, (3, 12)).astype("int32")
    y = keras.ops.convert_to_numpy(model(x))
    assert y.shape == (3, 12, 23)
    for t in (0, 5, 10):
        x2 = x.copy()
        x2[:, t + 1:] = (x2[:, t + 1:] + 1) % 23  # change everything after position t
        y2 = keras.ops.convert_to_numpy(model(x2))
        np.testing.assert_allclose(y[:, :t + 1], y2[:, :t + 1], atol=1e-5)
        assert not np.allclose(y[:, t + 1:], y2[:, t + 1:])


def test_both_builds_have_the_same_parameters():
    ours, hub = gpt_lm(**SMALL), gpt_lm(**SMALL, layers_from="keras_hub")
    d, V, L = SMALL["d_model"], SMALL["vocab_size"], SMALL["seq_len"]
    per_block = 2 * 2 * d + (3 * d * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d)
    assert ours.count_params() == hub.count_params() == V * d + L * d + 2 * per_block + 2 * d


def test_position_embedding_is_indexed_by_position():
    emb = TokenAndPositionEmbedding(5, seq_len=4, d_model=3)
    x = np.array([[2, 2, 2]])
    h = keras.ops.convert_to_numpy(emb(x))
    tokens, positions = (keras.ops.convert_to_numpy(w) for w in emb.weights)
    np.testing.assert_allclose(h[0], tokens[2] + positions[:3], atol=1e-6)


def test_layers_serialise_and_the_model_reloads(tmp_path):
    for layer in (CausalSelfAttention(2, 0.1), DecoderBlock(2, 32, 0.1), TokenAndPositionEmbedding(5, 4, 8),
                  SelfAttention(2), EncoderBlock(2, 32, 0.1), TransformerBlock(2, 32, causal=True)):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
    assert [CausalSelfAttention(2).causal, SelfAttention(2).causal] == [True, False]
    assert [DecoderBlock(2, 8).attention.causal, EncoderBlock(2, 8).attention.causal] == [True, False]
    model = gpt_lm(**SMALL, dropout=0.1)
    model.save(tmp_path / "gpt.keras")
    again = keras.saving.load_model(tmp_path / "gpt.keras")
    x = np.arange(10, dtype="int32")[None] % 23
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(again(x)))


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match=r"num_heads \(3\) must divide d_model \(16\)"):
        gpt_lm(10, 8, d_model=16, num_heads=3)
    with pytest.raises(ValueError, match="seq_len must be an integer >= 1, got 0"):
        gpt_lm(10, 0)
    with pytest.raises(ValueError, match="layers must be an integer >= 1, got True"):
        gpt_lm(10, 8, layers=True)
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0.0, 1.0\), got 1.0"):
        gpt_lm(10, 8, dropout=1.0)
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0.0, 1.0\), got -0.1"):
        DecoderBlock(2, 8, dropout=-0.1)
    with pytest.raises(ValueError, match="seq_len must be an integer >= 1, got 2.0"):
        TokenAndPositionEmbedding(5, 2.0, 4)
    assert context_window(gpt_lm(np.int64(10), np.int32(8), d_model=8, num_heads=np.int64(2), layers=1)) == 8
    with pytest.raises(ValueError, match="layers_from must be"):
        gpt_lm(10, 8, layers_from="torch")
    with pytest.raises(ValueError, match="must divide the input width"):
        CausalSelfAttention(3)(np.zeros((1, 2, 8), "float32"))


WINDOW = r"got a sequence of length {}, longer than seq_len={}"


@pytest.mark.parametrize("layers_from", ["lmbook", "keras_hub"])
def test_a_gpt_refuses_more_tokens_than_its_window(layers_from):
    model = gpt_lm(**SMALL, layers_from=layers_from)                # a window of 12 positions
    assert isinstance(model, WindowedLM) and context_window(model) == 12
    too_long = np.zeros((2, 13), "int32")
    for fits in (np.zeros((2, 12), "int32"), np.zeros((2, 5), "int32")):
        assert np.isfinite(keras.ops.convert_to_numpy(model(fits))).all()
    with pytest.raises(ValueError, match=WINDOW.format(13, 12)):    # an eager call
        model(too_long)
    with pytest.raises(ValueError, match=WINDOW.format(13, 12)):    # predict, before any trace
        model.predict(too_long, verbose=0)
    for length in (4, 7):                                            # a TensorFlow step traced for
        model.predict(np.zeros((2, length), "int32"), verbose=0)     # two lengths serves any length
    with pytest.raises(ValueError, match=WINDOW.format(13, 12)):
        model.predict(too_long, verbose=0)
    with pytest.raises(ValueError, match=WINDOW.format(13, 12)):
        model.predict_on_batch(too_long)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(ValueError, match=WINDOW.format(13, 12)):
        model.evaluate(too_long, too_long, verbose=0)
    with pytest.raises(ValueError, match=WINDOW.format(13, 12)):
        model.train_on_batch(too_long, too_long)


@pytest.mark.parametrize("layers_from", ["lmbook", "keras_hub"])
def test_the_window_is_checked_inside_a_compiled_step(layers_from):
    # A PyDataset has no shape to check in advance: the model's own call sees the length.
    model = gpt_lm(**SMALL, layers_from=layers_from)
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    batches = WindowBatches(np.arange(200) % 23, batch_size=2, seq_len=13, steps=1)
    with pytest.raises(ValueError, match=WINDOW.format(13, 12)):
        model.fit(batches, verbose=0)
    model.fit(WindowBatches(np.arange(200) % 23, batch_size=2, seq_len=12, steps=1), verbose=0)


def test_the_position_embedding_checks_its_length_too():
    emb = TokenAndPositionEmbedding(5, seq_len=4, d_model=3)
    assert tuple(emb(np.zeros((1, 4), "int32")).shape) == (1, 4, 3)
    with pytest.raises(ValueError, match=WINDOW.format(5, 4)):
        emb(np.zeros((1, 5), "int32"))
    with pytest.raises(ValueError, match=WINDOW.format(6, 4)):   # a symbolic input of known length
        emb(keras.Input(shape=(6,), dtype="int32"))
    h = emb(keras.Input(shape=(None,), dtype="int32"))            # unknown length: checked when called
    assert tuple(h.shape) == (None, None, 3) and tuple(emb(h, reverse=True).shape) == (None, None, 5)


def test_check_length_reads_the_last_axis_when_it_is_known():
    x = np.zeros((3, 4))
    assert check_length(x, 4) is x
    with pytest.raises(ValueError, match=WINDOW.format(4, 3)):
        check_length(x, 3)
    assert check_length(keras.KerasTensor((3, None)), 3).shape == (3, None)   # unknown: passes
    assert check_length([[1, 2, 3, 4]], 3) == [[1, 2, 3, 4]]                   # no shape: passes


def test_the_window_survives_saving(tmp_path):
    model = gpt_lm(**SMALL)
    model.save(tmp_path / "gpt.keras")
    again = keras.saving.load_model(tmp_path / "gpt.keras")
    assert isinstance(again, WindowedLM) and context_window(again) == 12
    with pytest.raises(ValueError, match=WINDOW.format(13, 12)):
        again.predict(np.zeros((1, 13), "int32"), verbose=0)
