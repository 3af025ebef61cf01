"""lmbook.training and lmbook.perplexity.StreamLoss: the shared recipe trains, schedules, logs;
chapter 8's per-layer learning rates and ULMFiT's schedule."""

import math

import keras
import numpy as np
import pytest

from lmbook.models import gpt_lm, recurrent_lm
from lmbook.perplexity import StreamLoss, stream_cross_entropy
from lmbook.training import LayerwiseAdamW, SlantedTriangular, compile_lm, fit_windows, warmup_cosine


def test_schedule_warms_up_then_decays_to_the_floor():
    s = warmup_cosine(1e-2, steps=100, warmup_steps=10, final_fraction=0.1)
    lr = [float(s(t)) for t in range(0, 111)]
    assert lr[0] == pytest.approx(1e-3) and lr[10] == pytest.approx(1e-2)
    assert all(a <= b + 1e-12 for a, b in zip(lr[:10], lr[1:11]))          # rising
    assert all(a >= b - 1e-12 for a, b in zip(lr[10:], lr[11:]))           # then falling
    assert lr[110] == pytest.approx(1e-3)
    with pytest.raises(ValueError, match=r"peak_lr must be a number in \(0.0, inf\), got 0.0"):
        warmup_cosine(0.0, 10)
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 0"):
        warmup_cosine(1e-3, 0)
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got True"):
        warmup_cosine(1e-3, True)
    with pytest.raises(ValueError, match=r"final_fraction must be a number in \[0.0, 1.0\], got 1.5"):
        warmup_cosine(1e-3, 10, final_fraction=1.5)
    numpy_steps = warmup_cosine(1e-2, np.int64(100), warmup_steps=np.int32(10), final_fraction=0.1)
    assert [float(numpy_steps(t)) for t in (0, 10, 110)] == pytest.approx([lr[0], lr[10], lr[110]])


def test_training_lowers_the_loss_and_stream_loss_is_logged():
    ids = np.tile(np.arange(6), 200)                    # a perfectly predictable stream
    model = compile_lm(recurrent_lm(6, "gru", units=16), steps=60, peak_lr=1e-2)
    before = stream_cross_entropy(model, ids[:200], seq_len=16)
    track = StreamLoss(ids[:200], seq_len=16)
    history, seconds = fit_windows(model, ids, 60, batch_size=8, seq_len=16, epochs=3, callbacks=[track])
    assert len(track.values) == 3 and history.history["val_stream_loss"] == track.values
    assert track.values[-1] < 0.5 * before and seconds > 0


def test_adamw_and_tagging_labels():
    model = compile_lm(recurrent_lm(5, units=4), steps=4, weight_decay=0.1)
    assert type(model.optimizer).__name__ == "AdamW"
    ids = np.arange(40) % 5
    fit_windows(model, ids, 4, batch_size=2, seq_len=8, epochs=2, labels=(ids + 1) % 5)
    with pytest.raises(ValueError, match=r"epochs must be an integer in \[1, 4\], got 5"):
        fit_windows(model, ids, 4, batch_size=2, seq_len=8, epochs=5)
    with pytest.raises(ValueError, match="labels must have one label per id"):
        fit_windows(model, ids, 4, batch_size=2, seq_len=8, epochs=2, labels=ids[:-1])
    with pytest.raises(ValueError, match=r"weight_decay must be a number in \[0.0, inf\), got -0.1"):
        compile_lm(model, steps=4, weight_decay=-0.1)
    with pytest.raises(ValueError, match=r"clipnorm must be a number in \(0.0, inf\), got 0"):
        compile_lm(model, steps=4, clipnorm=0)


def test_steps_must_split_into_equal_epochs():
    model = compile_lm(recurrent_lm(5, units=4), steps=6)
    ids = np.arange(40) % 5
    with pytest.raises(ValueError, match=r"epochs \(4\) must divide steps \(6\)"):
        fit_windows(model, ids, 6, batch_size=2, seq_len=8, epochs=4)
    history, _ = fit_windows(model, ids, np.int64(6), batch_size=2, seq_len=8, epochs=np.int32(3))
    assert len(history.history["loss"]) == 3
    seen = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    fit_windows(model, ids, 6, batch_size=2, seq_len=8, epochs=2, callbacks=[counter])
    assert len(seen) == 6                                  # every requested step is taken
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 2.5"):
        fit_windows(model, ids, 2.5, batch_size=2, seq_len=8, epochs=1)
    with pytest.raises(ValueError, match="seq_len must be an integer >= 1, got None"):
        fit_windows(model, ids, 2, batch_size=2, seq_len=None, epochs=1)


def test_a_gpt_trains_only_on_windows_that_fit():
    gpt = compile_lm(gpt_lm(5, seq_len=8, d_model=8, num_heads=2, layers=1), steps=2)
    ids = np.arange(60) % 5
    fit_windows(gpt, ids, 2, batch_size=2, seq_len=8, epochs=1)
    with pytest.raises(ValueError, match="got seq_len=9, longer than the model's window, seq_len=8"):
        fit_windows(gpt, ids, 2, batch_size=2, seq_len=9, epochs=1)


def test_a_stateful_model_learns_from_consecutive_windows():
    ids = np.tile(np.arange(6), 200)
    model = compile_lm(recurrent_lm(6, "gru", units=16, stateful_batch_size=4), steps=60, peak_lr=1e-2)
    history, _ = fit_windows(model, ids, 60, batch_size=4, seq_len=8, epochs=3)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    with pytest.raises(ValueError, match="batch_size must be 4, the stateful model's batch size; got 8"):
        fit_windows(model, ids, 4, batch_size=8, seq_len=8, epochs=1)
    with pytest.raises(ValueError, match="labels are for taggers"):
        fit_windows(model, ids, 4, batch_size=4, seq_len=8, epochs=1, labels=ids)


def adam_step(factors, gradient_scale=1.0, weight_decay=0.1):
    """Three variables after one LayerwiseAdamW step from zero moments (learning rate 0.1)."""
    ws = [keras.Variable(np.ones(4, "float32"), name=f"w{i}") for i in range(3)]
    opt = LayerwiseAdamW({w.path: f for w, f in zip(ws, factors)}, learning_rate=0.1,
                         weight_decay=weight_decay)
    opt.apply([np.full(4, 3.0 * gradient_scale, "float32")] * 3, ws)
    return [1.0 - float(keras.ops.convert_to_numpy(w)[0]) for w in ws]


def test_a_layer_factor_scales_the_update_not_the_gradient():
    frozen, half, whole = adam_step([0.0, 0.5, 1.0])
    assert frozen == 0.0                                           # factor 0: not even decayed
    assert half == pytest.approx(whole / 2, rel=1e-6)              # half as far from zero moments
    # the trap: under Adam, a scaled gradient gives the same step (m / sqrt(v) ignores the scale)
    assert adam_step([1.0] * 3, gradient_scale=0.5)[2] == pytest.approx(whole, rel=1e-5)


def test_layerwise_factors_must_be_rates():
    with pytest.raises(ValueError, match=r"factors\['w'\]"):
        LayerwiseAdamW({"w": -1.0}, learning_rate=0.1)


def test_the_slanted_triangular_schedule_is_ulmfit_s_equation_3():
    steps, cut_frac, ratio, peak = 200, 0.1, 32, 0.01
    cut = math.floor(steps * cut_frac)
    for t in range(0, steps + 1, 7):            # Howard & Ruder (2018), eq. 3, written out
        p = t / cut if t < cut else 1 - (t - cut) / (cut * (1 / cut_frac - 1))
        assert float(SlantedTriangular(peak, steps)(t)) == pytest.approx(peak * (1 + p * (ratio - 1)) / ratio,
                                                                         rel=1e-5)
    with pytest.raises(ValueError, match="cut_frac"):
        SlantedTriangular(peak, steps, cut_frac=0)
