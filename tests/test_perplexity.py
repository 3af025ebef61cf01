"""lmbook.perplexity: the stream cross-entropy scores every token once, with its context."""

import keras
import numpy as np
import pytest

from lmbook.models import gpt_lm, recurrent_lm
from lmbook.perplexity import (
    bits,
    stateful_cross_entropy,
    stateful_losses,
    stream_cross_entropy,
    stream_losses,
)


def bigram_model(table):
    """A 'network' whose logits depend on the current token only: a bigram table."""
    V = table.shape[0]
    model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(V, V)])
    model.layers[0].set_weights([table])
    return model


@pytest.mark.parametrize("n, context, stride", [(50, 8, None), (50, 8, 8), (51, 7, 3), (5, 16, 4)])
def test_bigram_stream_loss_is_exact(n, context, stride):
    rng = np.random.default_rng(0)
    table = rng.normal(size=(5, 5)).astype("float32")
    ids = rng.integers(0, 5, n)
    logp = table - np.log(np.exp(table).sum(1, keepdims=True))
    exact = -logp[ids[:-1], ids[1:]].mean()
    got = stream_cross_entropy(bigram_model(table), ids, seq_len=context, stride=stride, batch_size=3)
    assert got == pytest.approx(exact, rel=1e-5)
    each = stream_losses(bigram_model(table), ids, seq_len=context, stride=stride, batch_size=3)
    np.testing.assert_allclose(each, -logp[ids[:-1], ids[1:]], rtol=1e-5)     # in stream order


def test_context_is_used():
    # A causal model that sees further back must score no worse with a longer context.
    model = recurrent_lm(6, "gru", units=8)
    ids = np.random.default_rng(1).integers(0, 6, 200)
    short = stream_cross_entropy(model, ids, seq_len=2, stride=1)
    long = stream_cross_entropy(model, ids, seq_len=64)
    assert np.isfinite(short) and np.isfinite(long) and short != long


def test_errors_and_units():
    model = bigram_model(np.zeros((3, 3), "float32"))
    with pytest.raises(ValueError, match="at least 2 ids"):
        stream_cross_entropy(model, np.array([1]), seq_len=4)
    with pytest.raises(ValueError, match=r"stride must be an integer in \[1, 4\], got 5"):
        stream_cross_entropy(model, np.arange(10) % 3, seq_len=4, stride=5)
    with pytest.raises(ValueError, match="seq_len must be an integer >= 1, got True"):
        stream_cross_entropy(model, np.arange(10) % 3, seq_len=True)
    numpy_args = stream_cross_entropy(model, np.arange(10) % 3, seq_len=np.int64(4), stride=np.int32(2))
    assert numpy_args == pytest.approx(np.log(3))           # all logits 0: uniform over 3
    assert bits(np.log(8)) == pytest.approx(3.0)


@pytest.mark.parametrize("n, chunk", [(40, 4), (41, 1), (41, 100)])
def test_stateful_scoring_reads_each_piece_with_its_history(n, chunk):
    rng = np.random.default_rng(0)
    stateless = recurrent_lm(5, "gru", units=6)
    stateful = recurrent_lm(5, "gru", units=6, stateful_batch_size=3)
    stateful.set_weights(stateless.get_weights())
    ids = rng.integers(0, 5, n)
    length = -(-(n - 1) // 3)                     # 3 pieces, each scoring `length` targets
    expected = []
    for b in range(3):                            # the stateless model reads each piece whole
        piece = ids[b * length: (b + 1) * length + 1]
        logits = keras.ops.convert_to_numpy(stateless(piece[None, :-1])).astype(np.float64)[0]
        logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        expected.extend(-logp[np.arange(len(piece) - 1), piece[1:]])
    np.testing.assert_allclose(stateful_losses(stateful, ids, chunk=chunk), expected, rtol=1e-5)
    got = stateful_cross_entropy(stateful, ids, chunk=chunk)
    assert got == pytest.approx(np.mean(expected), rel=1e-5)
    assert stateful_cross_entropy(stateful, ids, chunk=chunk) == pytest.approx(got, rel=1e-6)  # state reset


def test_stateful_scoring_errors():
    with pytest.raises(ValueError, match="model must be stateful"):
        stateful_cross_entropy(recurrent_lm(3, "gru", units=2), np.arange(10) % 3)
    stateful = recurrent_lm(3, "gru", units=2, stateful_batch_size=2)
    with pytest.raises(ValueError, match="at least 2 ids"):
        stateful_cross_entropy(stateful, np.array([1]))
    with pytest.raises(ValueError, match="chunk must be an integer >= 1, got 0"):
        stateful_cross_entropy(stateful, np.arange(10) % 3, chunk=0)


def test_a_gpt_is_scored_within_its_window():
    gpt = gpt_lm(5, seq_len=8, d_model=8, num_heads=2, layers=1)
    ids = np.random.default_rng(2).integers(0, 5, 40)
    assert np.isfinite(stream_cross_entropy(gpt, ids, seq_len=8))
    with pytest.raises(ValueError, match="got a sequence of length 9, longer than seq_len=8"):
        stream_cross_entropy(gpt, ids, seq_len=9)


def test_log_softmax_agrees_with_keras_and_survives_large_logits():
    """lmbook's log-softmax equals Keras's, and huge or -inf logits stay finite where they should."""
    from lmbook.perplexity import log_softmax

    logits = np.random.default_rng(0).normal(size=(3, 4, 7)) * 5
    np.testing.assert_allclose(log_softmax(logits),
                               keras.ops.convert_to_numpy(keras.ops.log_softmax(logits, axis=-1)), atol=1e-5)
    np.testing.assert_allclose(log_softmax(logits, axis=0).sum(), np.log(np.exp(logits)
                               / np.exp(logits).sum(0, keepdims=True)).sum())
    out = log_softmax(np.array([1e4, 1e4, -np.inf]))
    assert np.allclose(out[:2], np.log(0.5)) and out[2] == -np.inf
