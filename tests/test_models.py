"""lmbook.models: recurrent LMs build, save, reload and carry state; keras-hub only when asked for."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from lmbook.models import context_window, gpt_lm, recurrent_lm


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_shapes_and_causality(cell):
    model = recurrent_lm(30, cell, units=8, layers=2, embedding_dim=6)
    x = np.random.default_rng(0).integers(0, 30, (2, 7)).astype("int32")
    y = keras.ops.convert_to_numpy(model(x))
    assert y.shape == (2, 7, 30)
    x2 = x.copy()
    x2[:, 4:] = (x2[:, 4:] + 1) % 30  # change the future: the past's outputs must not move
    y2 = keras.ops.convert_to_numpy(model(x2))
    np.testing.assert_allclose(y[:, :4], y2[:, :4], rtol=1e-5, atol=1e-6)


def test_tied_embeddings_share_the_matrix():
    tied = recurrent_lm(40, "lstm", units=8, tie_embeddings=True)
    untied = recurrent_lm(40, "lstm", units=8)
    assert untied.count_params() - tied.count_params() == 40 * 8


def test_a_recurrent_model_has_no_window():
    assert context_window(recurrent_lm(5, units=4)) is None
    long = np.zeros((1, 300), "int32")
    assert keras.ops.convert_to_numpy(recurrent_lm(5, units=4)(long)).shape == (1, 300, 5)


def test_lmbook_imports_keras_hub_only_for_the_keras_hub_build():
    blocked = "tensorflow" in sys.modules and sys.modules["tensorflow"] is None   # the JAX run's rule
    code = ("import sys\n"
            + ("sys.modules['tensorflow'] = None\n" if blocked else "")
            + "from lmbook import generate, models, perplexity, text, training, transformer\n"
            "models.recurrent_lm(5, units=2, tie_embeddings=True); models.gpt_lm(5, 4, 8, 2, 1)\n"
            "assert 'keras_hub' not in sys.modules, 'keras_hub was imported'\n"
            "models.gpt_lm(5, 4, 8, 2, 1, layers_from='keras_hub')\n"
            "assert 'keras_hub' in sys.modules\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"})
    assert run.returncode == 0, run.stderr[-2000:]


def test_dropout_is_variational_one_mask_for_all_time_steps():
    model = recurrent_lm(20, "gru", units=8, dropout=0.5)
    dropouts = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert len(dropouts) == 2
    ones = np.ones((4, 7, 8), "float32")
    for layer in dropouts:
        y = keras.ops.convert_to_numpy(layer(ones, training=True))
        assert 0 < (y == 0).mean() < 1
        np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1], y.shape))


def test_save_and_reload_give_identical_predictions(tmp_path):
    model = recurrent_lm(20, "gru", units=8, tie_embeddings=True, dropout=0.1)
    path = tmp_path / "lm.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    x = np.arange(12, dtype="int32").reshape(2, 6) % 20
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(x)),
                                  keras.ops.convert_to_numpy(again(x)))


def test_stateful_model_carries_state_across_batches():
    full = recurrent_lm(10, "lstm", units=4)
    stateful = recurrent_lm(10, "lstm", units=4, stateful_batch_size=1)
    stateful.set_weights(full.get_weights())
    x = np.array([[1, 2, 3, 4, 5, 6]], dtype="int32")
    whole = keras.ops.convert_to_numpy(full(x))
    first = keras.ops.convert_to_numpy(stateful(x[:, :3]))
    second = keras.ops.convert_to_numpy(stateful(x[:, 3:]))  # continues from the state
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-5)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="cell must be one of rnn, gru, lstm, got 'transformer'"):
        recurrent_lm(10, "transformer")
    with pytest.raises(ValueError, match="units must be an integer >= 1, got 0"):
        recurrent_lm(10, units=0)
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0.0, 1.0\), got 1.0"):
        recurrent_lm(10, dropout=1.0)
    with pytest.raises(ValueError, match="layers must be an integer >= 1, got True"):
        recurrent_lm(10, layers=True)
    with pytest.raises(ValueError, match="stateful_batch_size must be an integer >= 1, got 0"):
        recurrent_lm(10, stateful_batch_size=0)
    with pytest.raises(ValueError, match="embedding_dim must be an integer >= 1, got 2.5"):
        recurrent_lm(10, embedding_dim=2.5)
    numpy_args = recurrent_lm(np.int64(10), "gru", units=np.int32(4), stateful_batch_size=np.int64(2))
    assert numpy_args.output_shape == (2, None, 10)


@pytest.mark.parametrize("build", [lambda: recurrent_lm(10, "gru", units=8, tie_embeddings=True),
                                   lambda: recurrent_lm(10, "lstm", units=8),
                                   lambda: gpt_lm(10, seq_len=8, d_model=8, num_heads=2, layers=1)],
                         ids=["tied-gru", "lstm", "gpt"])
def test_logits_stay_float32_under_mixed_precision(build):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build()
        assert model.layers[-2].compute_dtype == "bfloat16"          # the body computes in bfloat16
        assert keras.backend.standardize_dtype(model(np.ones((1, 4), "int32")).dtype) == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")
