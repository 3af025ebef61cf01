"""The GPU figures in one command: the full-mode GPT, its speed at two precisions, with and without XLA.

Usage (JAX backend; on a GPU machine within 8 minutes)::

    KERAS_BACKEND=jax python benchmarks/gpu_suite.py
    python benchmarks/gpu_suite.py --smoke        # a few steps on CPU, TensorFlow blocked (CI)

It measures, on the first accelerator JAX sees:

1. the full-mode GPT on Tiny Shakespeare (``lmbook.recipes``' ``gpt/tiny_shakespeare/full``,
   nanoGPT's baby GPT): validation loss in nats per character, both as a stream score
   (:func:`lmbook.perplexity.stream_cross_entropy`) and in nanoGPT's protocol on nanoGPT's own
   split (:func:`lmbook.perplexity.block_cross_entropy`, whose bar is 1.47), wall time and
   tokens/s;
2. training tokens/s of the same model at float32 and ``mixed_bfloat16``, each with the
   XLA-compiled step (``jit_compile=True``) and with op-by-op dispatch
   (``jit_compile=False``, what "without XLA" means under JAX);
3. the model FLOPs utilisation (:func:`lmbook.parallel.mfu`) of the fastest setting against
   the detected device's peak (:func:`lmbook.parallel.peak_flops`).

It writes a JSON file (device, versions, commit, every figure) to
``lmbook/results/`` (:func:`lmbook.results.folder`; ``--smoke``: a temporary folder) and ends
with the line
``gpt_val_loss_nats=<x> tokens_per_s=<n> mfu=<x> bf16_speedup=<x> xla_speedup=<x> device=<name>``.
"""

from __future__ import annotations

import argparse
import os
import sys

SMOKE = "--smoke" in sys.argv
os.environ["KERAS_BACKEND"] = "jax"          # before Keras is imported, as on a GPU machine
if SMOKE:
    sys.modules["tensorflow"] = None         # the smoke run proves the suite needs no TensorFlow

import dataclasses  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import _local  # noqa: F401, E402  (this tree's lmbook, the local data copy)
import keras  # noqa: E402

from lmbook import data, results  # noqa: E402
from lmbook.parallel import flops_per_token, mfu, peak_flops, training_speed  # noqa: E402
from lmbook.perplexity import block_cross_entropy, stream_cross_entropy  # noqa: E402
from lmbook.provenance import environment_info, git_commit  # noqa: E402
from lmbook.recipes import recipe  # noqa: E402
from lmbook.text import Vocabulary  # noqa: E402
from lmbook.training import fit_windows  # noqa: E402


def main(argv=None) -> dict:
    """Run the suite; write and return its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a few steps on CPU (CI)")
    parser.add_argument("--timing-steps", type=int, default=20,
                        help="timed steps per speed measurement (their median)")
    args = parser.parse_args(argv)
    spec = recipe("gpt", "tiny_shakespeare", "full")
    timing_steps = args.timing_steps
    if args.smoke:            # the same code path, shrunk to seconds on a CPU: a one-block GPT
        spec = dataclasses.replace(spec, steps=10, batch_size=4, layers=1, d_model=64, num_heads=2,
                                   seq_len=64)
        timing_steps = 2
    keras.utils.set_random_seed(spec.seed)
    env = environment_info()
    train, validation = (data.character_stream(spec.corpus, s) for s in ("train", "validation"))
    nanogpt_text = data.character_stream(spec.corpus, data.NANOGPT_VALIDATION)
    if args.smoke:
        validation, nanogpt_text = validation[:5000], nanogpt_text[:5000]
    vocab = Vocabulary.from_tokens(train)

    model = spec.compiled(len(vocab), jit_compile=True)
    _, train_s = fit_windows(model, vocab.encode(train), spec.steps, spec.batch_size, spec.seq_len,
                             seed=spec.seed, verbose=2)
    stream = stream_cross_entropy(model, vocab.encode(validation), seq_len=spec.seq_len)
    blocks = 16 if args.smoke else 1024
    nanogpt = block_cross_entropy(model, vocab.encode(nanogpt_text), spec.seq_len, blocks=blocks)

    speeds = {f"{policy}/{'xla' if jit else 'eager'}":
              training_speed(spec, len(vocab), policy, jit, timing_steps)
              for policy in ("float32", "mixed_bfloat16") for jit in (True, False)}
    best = max(speeds.values())
    peak = peak_flops(env["device_name"])
    utilisation = mfu(best, flops_per_token(model, spec.seq_len), peak.flops) if peak else None
    result = {
        "device": env["device_name"], "backend": env["backend"], "versions": env["versions"],
        "commit": git_commit(), "smoke": args.smoke, "recipe": spec.as_dict(),
        "gpt": {"val_loss_stream": stream, "val_loss_nanogpt": nanogpt, "train_s": train_s,
                "tokens": spec.tokens, "tokens_per_s": spec.tokens / train_s},
        "tokens_per_s": speeds,
        "bf16_speedup": speeds["mixed_bfloat16/xla"] / speeds["float32/xla"],
        "xla_speedup": speeds["float32/xla"] / speeds["float32/eager"],
        "mfu": utilisation, "peak": dataclasses.asdict(peak) if peak else None,
    }
    folder = Path(tempfile.mkdtemp()) if args.smoke else results.folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"gpu_suite-{env['device_name'].replace(' ', '_').replace(',', '')}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}")
    print(f"gpt_val_loss_nats={nanogpt:.4f} tokens_per_s={best:.0f} "
          f"mfu={'n/a' if utilisation is None else f'{utilisation:.3f}'} "
          f"bf16_speedup={result['bf16_speedup']:.2f} xla_speedup={result['xla_speedup']:.2f} "
          f"device={env['device_name']}")
    return result


if __name__ == "__main__":
    main()
