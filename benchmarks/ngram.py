"""Benchmark lmbook.ngram: build time, scoring throughput, peak memory and perplexity.

Usage::

    python benchmarks/ngram.py                       # People's Daily 1998, words, 3-gram MKN
    python benchmarks/ngram.py --order 5 --corpus shakespeare-char

Corpora: ``pd`` (People's Daily 1998-01, gold segmentation: the words of
:func:`lmbook.data.peoples_daily_words`), ``shakespeare-char`` and ``shakespeare-word``
(Tiny Shakespeare lines, blank lines dropped).  Each is fitted on the ``"train"`` split and
scored on ``"validation"`` (:data:`lmbook.data.SPLITS`; the test split is never read).

The last line is machine-readable: ``build_s=<s> tokens_per_s=<n> peak_mb=<n>``, where
``tokens_per_s`` counts the scored validation tokens (``</s>`` included) per second of
:meth:`NGramLM.evaluate` (best of 3) and ``peak_mb`` is the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import _local  # noqa: F401  (this tree's lmbook, the local data copy)

from lmbook import data
from lmbook.ngram import SMOOTHINGS, NGramLM

CORPORA = ("pd", "shakespeare-char", "shakespeare-word")


def load(corpus: str) -> tuple[list, list]:
    """The train and validation sentences of ``corpus``, as token lists."""
    if corpus == "pd":
        return tuple(data.peoples_daily_words(split) for split in ("train", "validation"))
    tokenize = list if corpus == "shakespeare-char" else str.split
    return tuple([tokenize(ln) for ln in data.load_tiny_shakespeare_lines(split)]
                 for split in ("train", "validation"))


def peak_mb() -> float:
    """Peak resident memory of this process in MB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


def main(argv=None) -> None:
    """Build, score, print a table, then the one-line summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--order", type=int, default=3)
    parser.add_argument("--corpus", choices=CORPORA, default="pd")
    parser.add_argument("--smoothing", choices=SMOOTHINGS, default="mkn")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    train, validation = load(args.corpus)
    load_s, loaded_mb = time.perf_counter() - t0, peak_mb()

    t0 = time.perf_counter()
    lm = NGramLM(args.order, args.smoothing).fit(train)
    build_s = time.perf_counter() - t0

    score_s = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        result = lm.evaluate(validation)
        score_s = min(score_s, time.perf_counter() - t0)
    tokens_per_s = result["tokens"] / score_s
    mem = peak_mb()

    rows = [
        ("corpus", args.corpus),
        ("model", f"{args.order}-gram {args.smoothing}"),
        ("train sentences / tokens", f"{len(train):,} / {sum(map(len, train)):,}"),
        ("vocabulary (with <unk> <s> </s>)", f"{len(lm.vocab):,}"),
        ("n-grams per order", ", ".join(f"{len(lm.counts[n]):,}" for n in lm.counts)),
        ("load corpus (s)", f"{load_s:.2f}"),
        ("build (s)", f"{build_s:.3f}"),
        ("scored tokens (</s> incl.) / OOV", f"{result['tokens']:,} / {result['oov']:,}"),
        ("scoring (s, best of 3)", f"{score_s:.3f}"),
        ("scoring (tokens/s)", f"{tokens_per_s:,.0f}"),
        ("perplexity (OOV incl.)", f"{result['perplexity']:.2f}"),
        ("perplexity (OOV excl.)", f"{result['perplexity_excluding_oov']:.2f}"),
        ("peak memory after loading (MB)", f"{loaded_mb:.0f}"),
        ("peak memory (MB)", f"{mem:.0f}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"build_s={build_s:.3f} tokens_per_s={tokens_per_s:.0f} peak_mb={mem:.0f}")


if __name__ == "__main__":
    main()
