"""lmbook.parallel: the arithmetic against hand counts, and (under JAX, with 8 simulated devices)
distributed training against one device."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys

import keras
import numpy as np
import pytest

from lmbook import parallel
from lmbook.models import gpt_lm

GPT = dict(vocab_size=16, seq_len=8, d_model=16, num_heads=4, layers=1)
needs_devices = pytest.mark.skipif(
    keras.backend.backend() != "jax" or len(keras.distribution.list_devices()) < 8,
    reason="keras.distribution runs under JAX with 8 simulated devices: make test-jax")


@pytest.mark.parametrize("strategy, params, grads, optimizer", [
    ("dp", 2, 2, 12), ("zero1", 2, 2, 12 / 4), ("zero2", 2, 2 / 4, 12 / 4),
    ("zero3", 2 / 4, 2 / 4, 12 / 4), ("tp", 2 / 4, 2 / 4, 12 / 4)])
def test_training_memory_counts_16_bytes_per_parameter_and_shards_them(strategy, params, grads, optimizer):
    got = parallel.training_memory(1000, n_devices=4, strategy=strategy)
    assert got == {"params": params * 1000, "grads": grads * 1000, "optimizer": optimizer * 1000,
                   "total": (params + grads + optimizer) * 1000}


@pytest.mark.parametrize("strategy, t", [("dp", 1), ("zero3", 1), ("tp", 4)])
def test_training_memory_counts_korthikantis_activations(strategy, t):
    s, b, L, h, a = 128, 2, 3, 64, 4
    shape = dict(seq_len=s, batch_size=b, layers=L, d_model=h, num_heads=a)
    by_hand = {"none": L * s * b * h * (10 + 24 / t + 5 * a * s / (h * t)),    # Table 2's rows
               "selective": L * s * b * h * (10 + 24 / t), "full": L * 2 * s * b * h}
    state = parallel.training_memory(1000, 4, strategy)
    for recompute, expected in by_hand.items():
        got = parallel.training_memory(1000, 4, strategy, shape, recompute)
        assert got["activations"] == expected and got["total"] == state["total"] + expected
    if t == 1:                                        # the paper's single-device forms
        assert by_hand["none"] == L * s * b * h * (34 + 5 * a * s / h)
        assert by_hand["selective"] == L * 34 * s * b * h


@pytest.mark.parametrize("layers_from", ["lmbook", "keras_hub"])
def test_flops_per_token_is_6n_plus_attention(layers_from):
    gpt = gpt_lm(**GPT, layers_from=layers_from)
    d, T, L, V = 16, 8, 1, 16
    matrices = V * d + L * (12 * d * d + 13 * d) + 2 * d      # tied embedding once, blocks, final norm
    assert parallel.flops_per_token(gpt, T) == 6 * matrices + 12 * L * d * T


def test_mfu_and_peaks():
    assert parallel.mfu(2e4, 3e9, 1e15) == pytest.approx(0.06)
    assert parallel.peak_flops("NVIDIA H100 PCIe").flops == 756e12
    assert parallel.peak_flops("NVIDIA H100 80GB HBM3") is parallel.PEAK_FLOPS["H100 SXM"]
    assert parallel.peak_flops("NVIDIA L40S") is None and parallel.peak_flops("NVIDIA L4").flops == 121e12
    assert parallel.peak_flops("TPU v5 lite") is parallel.PEAK_FLOPS["TPU v5e"]
    assert all(peak.source and peak.precision in ("bf16", "fp16") for peak in parallel.PEAK_FLOPS.values())


@pytest.mark.parametrize("call, message", [
    (lambda: parallel.training_memory(10, 4, "zero4"), "strategy must be one of dp, zero1"),
    (lambda: parallel.training_memory(0, 4, "dp"), "n_params must be an integer >= 1, got 0"),
    (lambda: parallel.training_memory(10, -1, "dp"), "n_devices must be an integer >= 1, got -1"),
    (lambda: parallel.mfu(0, 1e9, 1e15), "tokens_per_s must be"),
    (lambda: parallel.flops_per_token(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]), 8),
     "has no decoder blocks"),
    (lambda: parallel.training_memory(10, 4, "dp", recompute="all"),
     "recompute must be one of none, selective, full, got 'all'"),
    (lambda: parallel.training_memory(10, 4, "dp", recompute="full"),
     r"recompute='full' needs activations=dict\(seq_len, batch_size"),
    (lambda: parallel.training_memory(10, 4, "dp", dict(seq_len=8, batch_size=2)),
     "activations must be a dict with the keys seq_len, batch_size, layers, d_model, num_heads"),
    (lambda: parallel.training_memory(10, 4, "dp", dict(seq_len=8, batch_size=0, layers=1, d_model=8,
                                                        num_heads=2)),
     r"activations\['batch_size'\] must be an integer >= 1, got 0"),
    (lambda: parallel.gpt_layout(vocab_size=48, num_heads=6, d_model=48, hidden_dim=192, model_size=4),
     "num_heads=6 is not divisible by the model axis"),
    (lambda: parallel.gpt_layout(vocab_size=67, num_heads=4, d_model=48, hidden_dim=192, model_size=4),
     "vocab_size=67 is not divisible by the model axis .4 devices.: pad the vocabulary to a multiple of 4"),
])
def test_bad_arguments_name_themselves(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- Under JAX, with 8 simulated devices --------------------------------------------------------


def three_steps(distribution=None):
    """Losses of 3 training steps of the small GPT, from fixed weights and batches."""
    keras.utils.set_random_seed(0)
    weights = gpt_lm(**GPT).get_weights()
    batches = np.random.default_rng(0).integers(0, 16, size=(3, 16, 9))
    with distribution.scope() if distribution else contextlib.nullcontext():
        model = gpt_lm(**GPT)
        model.set_weights(weights)
        model.compile(keras.optimizers.Adam(1e-2),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return [float(model.train_on_batch(b[:, :-1], b[:, 1:])) for b in batches]


@needs_devices
def test_simulated_devices_exist_and_cannot_change_once_running():
    assert len(parallel.simulate_devices(8)) == 8                 # what the JAX run set up
    with pytest.raises(RuntimeError, match=r"already initialised with 8 CPU device\(s\): restart"):
        parallel.simulate_devices(4)


@needs_devices
def test_data_parallel_loss_equals_one_device():
    np.testing.assert_allclose(three_steps(parallel.data_parallel()), three_steps(), rtol=1e-5)


@needs_devices
def test_model_parallel_loss_equals_one_device():
    distribution = parallel.model_parallel(gpt_lm(**GPT), (2, 4))
    with distribution.scope():
        sharded = gpt_lm(**GPT)
    spec = {v.path: tuple(v.value.sharding.spec) for v in sharded.weights}
    assert spec["block_0/attention/query/kernel"] == (None, "model", None)   # whole heads per device
    assert spec["embedding/tokens"] == ("model", None)                       # a slice of the vocabulary
    np.testing.assert_allclose(three_steps(distribution), three_steps(), rtol=1e-5)


def one_sgd_step(distribution=None):
    """The weights' change, flattened, after one SGD step at learning rate 1: the gradient applied."""
    keras.utils.set_random_seed(0)
    weights = gpt_lm(**GPT).get_weights()
    batch = np.random.default_rng(0).integers(0, 16, size=(16, 9))
    with distribution.scope() if distribution else contextlib.nullcontext():
        model = gpt_lm(**GPT)
        model.set_weights(weights)
        model.compile(keras.optimizers.SGD(1.0), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.train_on_batch(batch[:, :-1], batch[:, 1:])
    return np.concatenate([(w - np.asarray(a)).ravel() for w, a in zip(weights, model.get_weights())])


@needs_devices
@pytest.mark.parametrize("distribution", ["data", "model"])
def test_one_sgd_step_applies_the_one_device_gradient(distribution):
    """AdamW's losses cannot tell a mean of the replicas' gradients from their sum; SGD's update can."""
    mesh = (parallel.data_parallel() if distribution == "data"
            else parallel.model_parallel(gpt_lm(**GPT), (2, 4)))
    got, expected = one_sgd_step(mesh), one_sgd_step()
    assert np.linalg.norm(got - expected) <= 1e-5 * np.linalg.norm(expected)


@needs_devices
def test_distribution_errors_name_their_arguments():
    with pytest.raises(ValueError, match=r"product is the number of devices, 8; got \(2, 2\)"):
        parallel.model_parallel(gpt_lm(**GPT), (2, 2))
    with pytest.raises(ValueError, match="num_heads=4 is not divisible by the model axis"):
        parallel.model_parallel(gpt_lm(**GPT), (1, 8))
    with pytest.raises(ValueError, match="vocab_size=18 is not divisible by the model axis"):
        parallel.model_parallel(gpt_lm(**{**GPT, "vocab_size": 18}), (2, 4))
    with pytest.raises(ValueError, match="batch_size=12 is not divisible by the 8 replicas"):
        parallel.replica_batch_size(parallel.data_parallel(), 12)
    assert parallel.replica_batch_size(parallel.model_parallel(gpt_lm(**GPT), (2, 4)), 12) == 6


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="the TensorFlow backend's message")
def test_keras_distribution_on_tensorflow_says_to_use_jax():
    with pytest.raises(RuntimeError, match="keras.distribution needs the JAX backend"):
        parallel.data_parallel()


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="the workers choose JAX themselves: run once")
@pytest.mark.slow
def test_two_processes_train_as_one():
    (one,) = parallel.launch(processes=1)
    for losses in parallel.launch(processes=2):
        np.testing.assert_allclose(losses, one, rtol=1e-5)


def test_launch_checks_its_arguments_and_bounds_its_time():
    with pytest.raises(ValueError, match="processes must be an integer >= 1, got 0"):
        parallel.launch(processes=0)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        parallel.launch(steps=0)
    with pytest.raises(TimeoutError, match=r"the 2 workers did not finish within timeout=0.5 s"):
        parallel.launch(processes=2, timeout=0.5)


def test_a_failing_worker_is_reported(monkeypatch):
    monkeypatch.setattr(sys, "executable", shutil.which("false"))   # a "Python" that exits 1 at once
    with pytest.raises(RuntimeError, match=r"worker 0 of 1 failed \(exit 1\)"):
        parallel.launch(processes=1)


def test_training_speed_is_a_positive_rate_and_restores_the_policy():
    from lmbook.recipes import GPTRecipe

    tiny = GPTRecipe(corpus="tiny_shakespeare", batch_size=2, seq_len=8, steps=10, peak_lr=1e-3,
                     weight_decay=0.0, dropout=0.0, seed=0, d_model=8, num_heads=2, layers=1)
    assert parallel.training_speed(tiny, 65, "mixed_bfloat16", steps=2) > 0
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        parallel.training_speed(tiny, 65, steps=0)


def test_gpu_suite_summary_reads_the_suites_json(tmp_path):
    assert parallel.gpu_suite_summary(tmp_path).startswith("GPU figures: not yet measured")
    run = {"device": "NVIDIA H100 80GB HBM3", "commit": "0123456789", "backend": "jax",
           "gpt": {"val_loss_nanogpt": 1.4712, "train_s": 250.0, "tokens_per_s": 3.3e5},
           "tokens_per_s": {"float32/xla": 2e5, "mixed_bfloat16/xla": 4e5}, "mfu": 0.31,
           "bf16_speedup": 2.0, "xla_speedup": 5.5}
    (tmp_path / "gpu_suite-H100.json").write_text(json.dumps(run))
    line = parallel.gpu_suite_summary(tmp_path)
    assert line.startswith("NVIDIA H100 80GB HBM3 (commit 0123456, jax)") and "1.4712" in line
    assert "400,000 tokens/s" in line and "MFU 31.0%" in line
