"""Parallel training: simulated devices, data and tensor parallelism, and its arithmetic.

Taught in chapter 6 (``notebooks/06_parallel_training.ipynb``).

- :func:`simulate_devices` splits this CPU into ``n`` devices, for JAX or TensorFlow;
- :func:`data_parallel` and :func:`model_parallel` return ``keras.distribution``
  distributions (JAX only): replicas of the whole model, or lmbook's GPT sharded
  Megatron-style over a ``(batch, model)`` mesh (:func:`gpt_layout`);
- :func:`flops_per_token`, :func:`mfu`, :data:`PEAK_FLOPS` and :func:`peak_flops`: how much
  compute a step takes and how much of the hardware it uses;
- :func:`training_memory`: bytes per device of mixed-precision Adam, replicated or sharded
  (ZeRO stages, tensor parallelism), and of the activations, with or without recomputation;
- :func:`launch`: several worker processes on this machine, one JAX "host" each, training
  one model together (``python -m lmbook.parallel train-gpt`` is the worker).

Example:
    >>> training_memory(1_000_000, n_devices=4, strategy="zero3")["total"]
    4000000.0
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lmbook import results
from lmbook.checks import check_int, check_rate
from lmbook.notebook import fill

__all__ = ["PEAK_FLOPS", "RECOMPUTE", "STRATEGIES", "Peak", "data_parallel",
           "flops_per_token", "gpt_layout", "gpu_suite_summary", "launch", "mfu", "model_parallel",
           "peak_flops", "replica_batch_size", "simulate_devices", "training_memory", "training_speed"]


@dataclass(frozen=True)
class Peak:
    """An accelerator's dense peak, in FLOP/s, at the precision named, and where it is published."""

    flops: float
    precision: str
    source: str


#: Dense (no sparsity) peaks of common accelerators: bf16, or fp16 for the T4 (no bf16).
PEAK_FLOPS = {
    "H100 SXM": Peak(989e12, "bf16", "NVIDIA H100 Tensor Core GPU datasheet (1,979 TFLOPS with sparsity)"),
    "H100 PCIe": Peak(756e12, "bf16", "NVIDIA H100 Tensor Core GPU datasheet (1,513 TFLOPS with sparsity)"),
    "H200": Peak(989e12, "bf16", "NVIDIA H200 Tensor Core GPU datasheet (1,979 TFLOPS with sparsity)"),
    "A100": Peak(312e12, "bf16", "NVIDIA A100 Tensor Core GPU datasheet"),
    "L4": Peak(121e12, "bf16", "NVIDIA L4 Tensor Core GPU datasheet (242 TFLOPS with sparsity)"),
    "T4": Peak(65e12, "fp16", "NVIDIA T4 Tensor Core GPU datasheet (mixed precision)"),
    "TPU v5e": Peak(197e12, "bf16", "Google Cloud TPU v5e documentation, per chip"),
    "TPU v4": Peak(275e12, "bf16", "Google Cloud TPU v4 documentation, per chip"),
}
# Device names as drivers report them (jax's device_kind, nvidia-smi), first match wins.
_NAMES = [(r"H100.*PCIe", "H100 PCIe"), (r"H100", "H100 SXM"), (r"H200", "H200"),
          (r"A100", "A100"), (r"\bL4\b", "L4"), (r"\bT4\b", "T4"), (r"TPU v5 ?(lite|e)", "TPU v5e"),
          (r"TPU v4", "TPU v4")]

#: What :func:`training_memory` knows: replicated, the three ZeRO stages, tensor parallelism.
STRATEGIES = ("dp", "zero1", "zero2", "zero3", "tp")

#: The recomputation modes of :func:`training_memory`, and the keys of its ``activations``.
RECOMPUTE = ("none", "selective", "full")
_SHAPE = ("seq_len", "batch_size", "layers", "d_model", "num_heads")


def peak_flops(device_name: str) -> Peak | None:
    """The :data:`PEAK_FLOPS` entry of a device name such as ``"NVIDIA H100 80GB HBM3"``, or ``None``.

    Example:
        >>> peak_flops("NVIDIA H100 80GB HBM3").flops, peak_flops("Tesla T4").precision
        (989000000000000.0, 'fp16')
        >>> peak_flops("AMD EPYC 7B13, 2 threads") is None
        True
    """
    for pattern, key in _NAMES:
        if re.search(pattern, device_name, flags=re.IGNORECASE):
            return PEAK_FLOPS[key]
    return None


def flops_per_token(model, seq_len: int) -> float:
    """Training FLOPs per token of a GPT: ``6 N + 12 L d T`` (PaLM, appendix B).

    ``6 N``: a forward (2) and backward (4) multiply-add per parameter of a matrix multiply;
    ``12 L d T``: attention's scores and weighted sums over ``T`` positions in ``L`` blocks
    of width ``d``.  ``N`` counts every parameter but the position embeddings (a lookup);
    lmbook's GPT ties its token embedding to the output layer, where it counts once.

    Args:
        model: a GPT from :func:`lmbook.models.gpt_lm`.
        seq_len: the training sequence length ``T``.

    Example:
        >>> from lmbook.models import gpt_lm
        >>> gpt = gpt_lm(65, seq_len=64, d_model=128, num_heads=4, layers=4)
        >>> n = gpt.count_params() - 64 * 128                   # without the position table
        >>> flops_per_token(gpt, 64) == 6 * n + 12 * 4 * 128 * 64
        True
    """
    seq_len = check_int("seq_len", seq_len, minimum=1)
    kinds = ("DecoderBlock", "TransformerDecoder")          # lmbook's or keras-hub's
    blocks = [layer for layer in model.layers if type(layer).__name__ in kinds]
    if not blocks:
        raise ValueError(f"model must be a GPT (lmbook.models.gpt_lm); {model.name!r} has no decoder blocks")
    positions = [v for v in model.weights if v.path.endswith(("positions", "position_embedding/embeddings"))]
    n = model.count_params() - sum(math.prod(v.shape) for v in positions)
    d = model.get_layer("final_norm").weights[0].shape[0]
    return float(6 * n + 12 * len(blocks) * d * seq_len)


def mfu(tokens_per_s: float, flops_per_token: float, peak_flops: float) -> float:
    """Model FLOPs utilisation: the fraction of the peak that the model's own FLOPs use.

    Example:
        >>> mfu(tokens_per_s=1e5, flops_per_token=1e9, peak_flops=1e15)
        0.1
    """
    for name, value in (("tokens_per_s", tokens_per_s), ("flops_per_token", flops_per_token),
                        ("peak_flops", peak_flops)):
        check_rate(name, value, high=math.inf, include_low=False)
    return tokens_per_s * flops_per_token / peak_flops


def training_memory(n_params: int, n_devices: int, strategy: str, activations: dict | None = None,
                    recompute: str = "none") -> dict:
    """Bytes per device of mixed-precision Adam for ``n_params`` parameters (the ZeRO paper's count).

    Per parameter: 2 bytes of 16-bit weights, 2 of 16-bit gradients and 12 of optimiser
    state (fp32 master weights, momentum and variance): 16 in all, on every device under
    data parallelism (``"dp"``).  ZeRO-1 shards the optimiser state over the devices,
    ZeRO-2 the gradients too, ZeRO-3 (FSDP) the weights too; tensor parallelism (``"tp"``)
    splits all three over its ``n_devices``.

    ``activations`` (optional) adds the bytes a Transformer stores for its backward pass,
    Korthikanti et al. 2022's Table 2 per layer times ``layers`` (16-bit activations,
    1-byte dropout masks; the embeddings, the output layer and the loss are not counted).
    With ``s`` = seq_len, ``b`` = batch_size (the micro-batch on one device), ``h`` =
    d_model, ``a`` = num_heads and ``t`` = the tensor-parallel size (``n_devices`` under
    ``"tp"``, else 1; no sequence parallelism), a layer stores
    ``s b h (10 + 24/t + 5 a s / (h t))`` bytes with ``recompute="none"``,
    ``s b h (10 + 24/t)`` with ``"selective"`` (the attention's softmax and dropout are
    recomputed) and ``2 s b h`` with ``"full"`` (only the layer's input is kept; one layer's
    activations then exist again, transiently, during its backward pass).  At ``t = 1`` the
    first two are ``s b h (34 + 5 a s / h)`` and ``34 s b h``.

    Args:
        n_params: parameters of the model.
        n_devices: devices the state is sharded over (or the tensor-parallel size).
        strategy: one of :data:`STRATEGIES`.
        activations: ``dict(seq_len=, batch_size=, layers=, d_model=, num_heads=)``, or ``None``.
        recompute: ``"none"``, ``"selective"`` or ``"full"`` (with ``activations`` only).

    Returns a dict of ``params``, ``grads``, ``optimizer`` (and ``activations``) and ``total`` bytes.
    Taught in chapter 6.

    Raises:
        ValueError: an argument is out of range or of the wrong kind, naming it.

    Example:
        >>> training_memory(1_000_000, n_devices=4, strategy="zero1")
        {'params': 2000000.0, 'grads': 2000000.0, 'optimizer': 3000000.0, 'total': 7000000.0}
        >>> gpt2 = dict(seq_len=1024, batch_size=8, layers=12, d_model=768, num_heads=12)
        >>> [training_memory(124_000_000, 1, "dp", gpt2, r)["activations"] / 2**30 for r in RECOMPUTE]
        [8.015625, 2.390625, 0.140625]
    """
    n_params = check_int("n_params", n_params, minimum=1)
    n_devices = check_int("n_devices", n_devices, minimum=1)
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    if recompute not in RECOMPUTE:
        raise ValueError(f"recompute must be one of {', '.join(RECOMPUTE)}, got {recompute!r}")
    shard = {"dp": (), "zero1": ("optimizer",), "zero2": ("optimizer", "grads"),
             "zero3": ("optimizer", "grads", "params"), "tp": ("optimizer", "grads", "params")}[strategy]
    per_param = {"params": 2, "grads": 2, "optimizer": 12}
    memory = {k: float(b * n_params) / (n_devices if k in shard else 1) for k, b in per_param.items()}
    if activations is not None:
        t = n_devices if strategy == "tp" else 1
        memory["activations"] = _activation_bytes(activations, t, recompute)
    elif recompute != "none":
        raise ValueError(f"recompute={recompute!r} needs activations=dict({', '.join(_SHAPE)})")
    return memory | {"total": sum(memory.values())}


def _activation_bytes(shape: dict, t: int, recompute: str) -> float:
    """Korthikanti et al. 2022's Table 2, per layer, times the layers (see :func:`training_memory`)."""
    if not isinstance(shape, dict) or set(shape) != set(_SHAPE):
        raise ValueError(f"activations must be a dict with the keys {', '.join(_SHAPE)}, got {shape!r}")
    s, b, layers, h, a = (check_int(f"activations[{k!r}]", shape[k], minimum=1) for k in _SHAPE)
    per_layer = {"none": s * b * h * (10 + 24 / t + 5 * a * s / (h * t)),
                 "selective": s * b * h * (10 + 24 / t), "full": 2 * s * b * h}[recompute]
    return float(layers * per_layer)


def training_speed(spec, vocab_size: int, policy: str = "float32", jit_compile: bool = True,
                   steps: int = 10) -> float:
    """Training tokens/s of recipe ``spec``'s model at dtype ``policy``: the median of ``steps`` timed steps.

    The first step (compilation, or eager warm-up) is not timed; the median of the rest
    resists the noise of a shared machine.  ``jit_compile=False`` dispatches op by op
    (under JAX: no XLA-compiled step).

    Example:
        >>> from lmbook.recipes import recipe
        >>> training_speed(recipe("gpt", "tiny_shakespeare", "quick"), 65, steps=2) > 0   # doctest: +SKIP
        True
    """

    import keras
    import numpy as np


    steps = check_int("steps", steps, minimum=1)
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = spec.compiled(vocab_size, jit_compile=jit_compile)
        batch = np.random.default_rng(0).integers(0, vocab_size, (spec.batch_size, spec.seq_len + 1))
        x, y = batch[:, :-1], batch[:, 1:]
        model.train_on_batch(x, y)                     # compiles (XLA) or warms up
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            model.train_on_batch(x, y)                 # returns numpy: waits for the device
            times.append(time.perf_counter() - start)
        return spec.batch_size * spec.seq_len / float(np.median(times))
    finally:
        keras.mixed_precision.set_global_policy(previous)


def gpu_suite_summary(folder: Path | str | None = None) -> str:
    """A paragraph per ``benchmarks/gpu_suite.py`` result in ``folder`` (by default the result
    files' folder, :func:`lmbook.results.folder`), or one saying there is none; lines of at most
    :data:`lmbook.notebook.WIDTH` characters.

    Chapters 3, 4 and 6 print it, so that the GPU figures appear where they exist and are
    never quoted from memory.

    Example:
        >>> gpu_suite_summary("/nonexistent").startswith("GPU figures: not yet measured")
        True
    """
    lines = []
    for path in sorted(Path(folder or results.folder()).glob("gpu_suite-*.json")):
        run = json.loads(path.read_text())
        gpt = run["gpt"]
        lines.append(
            f"{run['device']} (commit {run['commit'][:7]}, {run['backend']}): the full-mode GPT reached "
            f"{gpt['val_loss_nanogpt']:.4f} nats/char (nanoGPT's protocol) in {gpt['train_s']:.0f} s at "
            f"{gpt['tokens_per_s']:,.0f} tokens/s; "
            f"best speed {max(run['tokens_per_s'].values()):,.0f} tokens/s, "
            f"MFU {'n/a' if run['mfu'] is None else format(run['mfu'], '.1%')}, "
            f"bf16 {run['bf16_speedup']:.2f}x, XLA {run['xla_speedup']:.2f}x")
    text = "\n".join(lines) or ("GPU figures: not yet measured (run `KERAS_BACKEND=jax python "
                                 "benchmarks/gpu_suite.py` on a GPU machine; its JSON appears here)")
    return fill(text)


# --- Devices and distributions ------------------------------------------------------------------


def _backend() -> str:
    keras = sys.modules.get("keras")
    if keras is not None:
        return keras.backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def simulate_devices(n: int) -> list:
    """Split this machine's CPU into ``n`` devices for the active Keras backend; return them.

    Call it before the backend runs its first operation (at the top of a notebook): JAX
    fixes its device count then (``jax_num_cpu_devices``), and TensorFlow its logical
    devices.  The devices share the same cores, so they teach the mechanics, not speed.

    Raises:
        RuntimeError: the backend is already initialised with another device count;
            the message says to restart and call this first.

    Example:
        >>> len(simulate_devices(8))                        # doctest: +SKIP
        8
    """
    n = check_int("n", n, minimum=1)
    restart = (f"restart the Python process (kernel) and call simulate_devices({n}) before any "
               f"computation, right after choosing the backend")
    if _backend() == "jax":
        import jax
        from jax._src import xla_bridge

        if xla_bridge.backends_are_initialized():
            have = jax.device_count("cpu")
            if have != n:
                raise RuntimeError(f"JAX is already initialised with {have} CPU device(s): {restart}")
        else:
            jax.config.update("jax_num_cpu_devices", n)
        return jax.devices("cpu")
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError as err:
        have = len(tf.config.list_logical_devices("CPU"))
        if have != n:
            raise RuntimeError(f"TensorFlow is already initialised with {have} CPU device(s): "
                               f"{restart}") from err
    return tf.config.list_logical_devices("CPU")


def _devices(devices) -> list:
    if _backend() != "jax":
        raise RuntimeError("keras.distribution needs the JAX backend (its TensorFlow version is a "
                           "prototype); set KERAS_BACKEND=jax, or use tf.distribute.MirroredStrategy")
    import keras

    devices = keras.distribution.list_devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("devices must not be empty")
    return devices


def data_parallel(devices=None):
    """A ``keras.distribution.DataParallel`` over ``devices`` (default: all of them).

    Every device holds the whole model and a slice of each batch; gradients are averaged
    across devices (an all-reduce) before each update.

    Example:
        >>> data_parallel()                                 # doctest: +SKIP
    """
    import keras

    return keras.distribution.DataParallel(devices=_devices(devices))


def gpt_layout(vocab_size: int, num_heads: int, d_model: int, hidden_dim: int,
               model_size: int) -> dict[str, tuple]:
    """Megatron's sharding of lmbook's GPT over a mesh axis ``"model"`` of ``model_size`` devices.

    Each device holds whole heads of the query, key and value projections (column
    parallel: their ``heads`` axis) and the matching rows of the output projection (row
    parallel), the first MLP layer's columns and the second's rows, so a block needs one
    all-reduce after attention and one after the MLP.  The token embedding, tied to the
    output layer, is split along the vocabulary (Megatron's vocab-parallel embedding): each
    device computes the logits of its slice of the vocabulary, and the loss needs only a few
    numbers per token from the others.  The position table is small and replicated.  Keys
    are regular expressions that match whole variable paths, e.g.
    ``block_0/attention/query/kernel``.

    Raises:
        ValueError: a dimension ``model_size`` does not divide, naming it (pad the
            vocabulary to a multiple of ``model_size``, as Megatron does).

    Example:
        >>> layout = gpt_layout(vocab_size=72, num_heads=4, d_model=128, hidden_dim=512, model_size=2)
        >>> layout[".*embedding/tokens"], layout[".*attention/(query|key|value)/kernel"]
        (('model', None), (None, 'model', None))
    """
    model_size = check_int("model_size", model_size, minimum=1)
    if check_int("vocab_size", vocab_size, minimum=1) % model_size:
        raise ValueError(f"vocab_size={vocab_size} is not divisible by the model axis ({model_size} "
                         f"devices): pad the vocabulary to a multiple of {model_size}, as Megatron does")
    for name, value in (("num_heads", num_heads), ("d_model", d_model), ("hidden_dim", hidden_dim)):
        if check_int(name, value, minimum=1) % model_size:
            raise ValueError(f"{name}={value} is not divisible by the model axis ({model_size} devices): "
                             f"each device must hold whole heads and equal slices")
    return {
        ".*embedding/tokens": ("model", None),                             # (vocab, d)
        ".*attention/(query|key|value)/kernel": (None, "model", None),     # (d, heads, d_k)
        ".*attention/(query|key|value)/bias": ("model", None),
        ".*attention/attention_output/kernel": ("model", None, None),      # (heads, d_k, d)
        ".*mlp_in/kernel": (None, "model"),
        ".*mlp_in/bias": ("model",),
        ".*mlp_out/kernel": ("model", None),
    }


def model_parallel(model, mesh_shape: tuple[int, int], devices=None):
    """A ``keras.distribution.ModelParallel`` that shards lmbook's GPT over a ``(batch, model)`` mesh.

    ``model`` (a :func:`lmbook.models.gpt_lm` GPT) gives the dimensions to check against
    the mesh; build the model to be trained *inside* ``distribution.scope()``, so that its
    variables are created sharded.  The first mesh axis splits each batch, the second the
    weights (:func:`gpt_layout`).

    Raises:
        ValueError: ``mesh_shape`` does not multiply to the number of devices, or does not
            fit the model's dimensions.

    Example:
        >>> distribution = model_parallel(gpt, (2, 4))      # doctest: +SKIP
    """
    import keras

    devices = _devices(devices)
    if (not isinstance(mesh_shape, (tuple, list)) or len(mesh_shape) != 2
            or math.prod(check_int("mesh_shape", m, minimum=1) for m in mesh_shape) != len(devices)):
        raise ValueError(f"mesh_shape must be (batch, model) sizes whose product is the number of "
                         f"devices, {len(devices)}; got {mesh_shape!r}")
    block = next((layer for layer in model.layers if type(layer).__name__ == "DecoderBlock"), None)
    if block is None:
        raise ValueError(f"model must be lmbook's GPT (lmbook.models.gpt_lm); "
                         f"{model.name!r} has no DecoderBlock")
    d_model = model.get_layer("final_norm").weights[0].shape[0]
    vocab_size = model.get_layer("embedding").vocab_size
    mesh = keras.distribution.DeviceMesh(tuple(mesh_shape), ("batch", "model"), devices)
    layout_map = keras.distribution.LayoutMap(mesh)
    layout = gpt_layout(vocab_size, block.num_heads, d_model, block.hidden_dim, mesh_shape[1])
    for path, axes in layout.items():
        layout_map[path] = axes
    return keras.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch")


def replica_batch_size(distribution, batch_size: int) -> int:
    """Each replica's share of a global ``batch_size`` under ``distribution``.

    Raises:
        ValueError: ``batch_size`` is not divisible by the number of replicas.

    Example:
        >>> replica_batch_size(data_parallel(), 64)         # doctest: +SKIP
        8
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    mesh = distribution.device_mesh
    replicas = mesh.shape[mesh.axis_names.index(getattr(distribution, "batch_dim_name", mesh.axis_names[0]))]
    if batch_size % replicas:
        raise ValueError(f"batch_size={batch_size} is not divisible by the {replicas} replicas: "
                         f"use a multiple of {replicas}")
    return batch_size // replicas


# --- Several processes ----------------------------------------------------------------------------


def _free_port() -> int:
    """A TCP port on localhost that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def launch(processes: int = 2, steps: int = 3, timeout: float = 180.0) -> list[list[float]]:
    """Train a small GPT data-parallel over ``processes`` worker processes; return each one's losses.

    Each worker is ``python -m lmbook.parallel train-gpt``, a JAX process with one CPU
    device, as one host of a cluster is: :func:`keras.distribution.initialize` connects it
    to the coordinator (process 0, on a free localhost port), and the gradients are
    all-reduced across processes (JAX's CPU collectives, gloo).  Every process feeds its own
    slice of each global batch.  With ``processes=1`` it is the one-process reference.

    Raises:
        TimeoutError: the workers did not finish within ``timeout`` seconds (all are killed).
        RuntimeError: a worker failed; the message holds the end of its error output.

    Example:
        >>> launch(processes=2, steps=3)                    # doctest: +SKIP
        [[4.17..., 4.09..., 4.00...], [4.17..., 4.09..., 4.00...]]
    """
    processes = check_int("processes", processes, minimum=1)
    steps = check_int("steps", steps, minimum=1)
    check_rate("timeout", timeout, high=math.inf, include_low=False)
    coordinator = f"localhost:{_free_port()}"
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "JAX_NUM_CPU_DEVICES": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        logs = [open(os.path.join(tmp, f"{i}.log"), "w+") for i in range(processes)]
        workers = [subprocess.Popen(
            [sys.executable, "-m", "lmbook.parallel", "train-gpt", "--steps", str(steps),
             "--coordinator", coordinator, "--processes", str(processes), "--process-id", str(i)],
            stdout=log, stderr=subprocess.STDOUT, env=env) for i, log in enumerate(logs)]
        try:
            deadline = time.monotonic() + timeout
            for worker in workers:
                worker.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"the {processes} workers did not finish within timeout={timeout} s") from None
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
        outputs = []
        for i, (worker, log) in enumerate(zip(workers, logs)):
            log.seek(0)
            text = log.read()
            log.close()
            if worker.returncode != 0:
                raise RuntimeError(f"worker {i} of {processes} failed "
                                   f"(exit {worker.returncode}):\n{text[-2000:]}")
            outputs.append(json.loads(text.strip().splitlines()[-1])["losses"])
    return outputs


def _train_gpt(steps: int, coordinator: str, processes: int, process_id: int) -> list[float]:
    """One worker of :func:`launch`: join the cluster, train a small GPT, return its losses."""
    import jax

    if processes > 1:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")   # collectives across processes
    import keras

    from lmbook import data
    from lmbook.models import gpt_lm
    from lmbook.text import Vocabulary, WindowBatches

    if processes > 1:
        keras.distribution.initialize(coordinator, processes, process_id)
        keras.distribution.set_distribution(data_parallel(jax.devices()))
    text = data.load_tiny_shakespeare("train")[:100_000]
    ids = Vocabulary.from_tokens(text).encode(text)
    batches = WindowBatches(ids, batch_size=8, seq_len=32, steps=steps, seed=0)
    share = replica_batch_size(keras.distribution.distribution(), 8) if processes > 1 else 8
    mine = slice(process_id * share, (process_id + 1) * share)      # this process's slice of a batch
    keras.utils.set_random_seed(0)                                   # the same initial weights everywhere
    model = gpt_lm(65, seq_len=32, d_model=32, num_heads=4, layers=2)
    model.compile(keras.optimizers.AdamW(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return [float(model.train_on_batch(x[mine], y[mine])) for x, y in (batches[k] for k in range(steps))]


def main(argv=None) -> None:
    """``python -m lmbook.parallel train-gpt ...``: one worker of :func:`launch`."""
    parser = argparse.ArgumentParser(prog="python -m lmbook.parallel", description=__doc__.split("\n")[0])
    worker = parser.add_subparsers(dest="command", required=True).add_parser(
        "train-gpt", help="one worker process of lmbook.parallel.launch")
    worker.add_argument("--steps", type=int, default=3)
    worker.add_argument("--coordinator", default="localhost:0", help="host:port of process 0")
    worker.add_argument("--processes", type=int, default=1)
    worker.add_argument("--process-id", type=int, default=0)
    args = parser.parse_args(argv)
    print(json.dumps({"losses": _train_gpt(args.steps, args.coordinator, args.processes, args.process_id)}))


if __name__ == "__main__":
    main()
