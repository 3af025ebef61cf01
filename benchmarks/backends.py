"""Which Keras backend trains the quick recipes faster on this CPU: TensorFlow or JAX?

Usage::

    python benchmarks/backends.py                   # 5 runs of each backend per recipe, alternating
    python benchmarks/backends.py --runs 1 --steps 5   # a smoke run

Each run is a fresh subprocess (``KERAS_BACKEND`` is read once, at import), and the runs
alternate TF, JAX, TF, JAX, ... so that both backends meet the same machine load; the median
of each backend's tokens/s counts.  A run builds the recipe's model as the chapters do
(:meth:`lmbook.recipes.LanguageModelRecipe.compiled`; TensorFlow without XLA for a recurrent
model, as chapter 3 trains it, with XLA for the GPT, as chapter 4 does; JAX always compiles),
trains ``--warmup`` steps to build the compiled step, then times ``--steps`` more.

It also reports the FLOP/s that training reaches (6 × parameters × tokens: the forward and
backward matmuls, Kaplan et al. 2020; attention and recurrences add more, so it is a floor)
against two ceilings: this CPU's nominal FP32 peak, ``cores × GHz × 32`` (AVX2: two FMA pipes
of 8 lanes, 2 FLOPs each per cycle; the clock is read from ``/proc/cpuinfo``, since ``lscpu``
shows none on this VM), and a large float32 matmul's measured FLOP/s, the practical ceiling.

The last line reads ``<recipe>: tf=<tokens/s> jax=<tokens/s> jax/tf=<ratio>`` for each recipe.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

#: The recipes measured: (model, corpus) of lmbook.recipes' quick recipes.
RECIPES = (("gpt", "tiny_shakespeare"), ("gru", "peoples_daily"))
BACKENDS = ("tensorflow", "jax")


def worker(model: str, corpus: str, warmup: int, steps: int) -> dict:
    """In this process (``KERAS_BACKEND`` already set): train the quick recipe ``steps`` steps after
    ``warmup`` and return its tokens/s and parameter count.

    Example: ``worker("gru", "peoples_daily", 3, 20)["tokens_per_s"]``.
    """
    import _local  # noqa: F401  (this tree's lmbook, the local data copy)
    import keras

    from lmbook import data, recipes
    from lmbook.text import Vocabulary

    spec = recipes.recipe(model, corpus, "quick")
    text = data.character_stream(corpus, "train")
    vocab = Vocabulary.from_tokens(text)
    ids = vocab.encode(text)
    keras.utils.set_random_seed(spec.seed)
    net = spec.compiled(len(vocab), jit_compile=model == "gpt")   # as chapters 3 and 4 compile
    net.fit(spec.batches(ids, len(vocab), warmup), epochs=1, verbose=0)
    batches = spec.batches(ids, len(vocab), steps)
    start = time.perf_counter()
    net.fit(batches, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    tokens = steps * spec.batch_size * spec.seq_len
    return {"backend": keras.backend.backend(), "tokens_per_s": tokens / seconds,
            "parameters": net.count_params()}


def cpu_peak() -> tuple[int, float, float]:
    """``(cores, GHz, nominal FP32 FLOP/s)`` of this machine: cores × GHz × 32 FLOPs per cycle (AVX2).

    The clock is ``cpu MHz`` from ``/proc/cpuinfo``, else its BogoMIPS / 2.

    Example: ``cpu_peak()`` gives ``(2, 2.45, 1.57e11)`` on a 2-core 2.45 GHz EPYC.
    """
    info = Path("/proc/cpuinfo").read_text()
    mhz = re.findall(r"^cpu MHz\s*:\s*([\d.]+)", info, re.M)
    bogomips = re.findall(r"^bogomips\s*:\s*([\d.]+)", info, re.M)
    ghz = float(mhz[0]) / 1000 if mhz else float(bogomips[0]) / 2000
    cores = os.cpu_count()
    return cores, ghz, cores * ghz * 1e9 * 32


def matmul_flops(n: int = 4096, repeats: int = 5) -> float:
    """The median FLOP/s of an ``n × n`` float32 matmul in numpy (``2 n³`` FLOPs each).

    Example: ``matmul_flops(1024, 3)`` gives about 1e11 on this 2-core CPU.
    """
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n ** 3 / statistics.median(times)


def run(backend: str, model: str, corpus: str, warmup: int, steps: int) -> dict:
    """One :func:`worker` in a fresh subprocess under ``backend``; its result."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, __file__, "--worker", model, corpus, str(warmup), str(steps)],
                         env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"{backend} {model} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    """Alternate the backends, print the medians, the ratios and the FLOP/s; return them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each backend per recipe")
    parser.add_argument("--warmup", type=int, default=5, help="steps before the timed ones")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per run")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        model, corpus, warmup, steps = args.worker
        print(json.dumps(worker(model, corpus, int(warmup), int(steps))))
        return {}
    cores, ghz, peak = cpu_peak()
    ceiling = matmul_flops()
    print(f"CPU: {cores} cores at {ghz:.2f} GHz; nominal FP32 peak {peak / 1e9:.0f} GFLOP/s "
          f"(32 FLOPs/cycle/core, AVX2); a 4096² float32 matmul reaches {ceiling / 1e9:.0f} GFLOP/s")
    summary = {}
    for model, corpus in RECIPES:
        speeds = {b: [] for b in BACKENDS}
        for _ in range(args.runs):
            for backend in BACKENDS:
                result = run(backend, model, corpus, args.warmup, args.steps)
                speeds[backend].append(result["tokens_per_s"])
                print(f"  {model} {backend:<10} {result['tokens_per_s']:>9,.0f} tokens/s", flush=True)
        median = {b: statistics.median(v) for b, v in speeds.items()}
        flops = {b: 6 * result["parameters"] * median[b] for b in BACKENDS}
        summary[f"{model}/{corpus}"] = {**median, "ratio": median["jax"] / median["tensorflow"]}
        print(f"{model}/{corpus}: {result['parameters']:,} parameters; training reaches "
              + ", ".join(f"{b} {flops[b] / 1e9:.1f} GFLOP/s ({flops[b] / peak:.1%} of peak, "
                          f"{flops[b] / ceiling:.1%} of the matmul)" for b in BACKENDS))
    for name, row in summary.items():
        print(f"{name}: tf={row['tensorflow']:.0f} jax={row['jax']:.0f} jax/tf={row['ratio']:.2f}")
    return summary


if __name__ == "__main__":
    main()
