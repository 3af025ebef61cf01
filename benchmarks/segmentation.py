"""Benchmark Chinese word segmentation on People's Daily: lmbook's segmenter against jieba.

Usage::

    python benchmarks/segmentation.py --mode quick      # trains in under 4 minutes on a 2-core CPU
    python benchmarks/segmentation.py --mode full

Trains :func:`lmbook.segment.train_segmenter` on the training split of
:func:`lmbook.data.load_peoples_daily`, then segments the held-out validation split with it
and with jieba's default mode (precise, with its HMM for unknown words), timing both in batch
on this CPU: a first, cold pass of each, then three rounds of one pass each, alternating so
that both meet the same machine load; each one's fastest warm pass counts.  Word F1 and OOV recall come from
:func:`lmbook.segment.evaluate_segmentation` (OOV = not in the training split's words).  The last line reads
``f1=<x> oov_recall=<x> kb_per_s=<x> jieba_f1=<x> jieba_kb_per_s=<x>``.
"""

from __future__ import annotations

import argparse
import logging
import time

import _local  # noqa: F401  (this tree's lmbook, the local data copy)
import jieba

from lmbook import data
from lmbook.segment import evaluate_segmentation, train_segmenter


def timed(segment, texts):
    """``(segmentation, KB/s)`` of ``segment(texts)``, in UTF-8 kilobytes per second."""
    start = time.perf_counter()
    result = segment(texts)
    return result, sum(len(t.encode("utf-8")) for t in texts) / 1024 / (time.perf_counter() - start)


def main(argv=None) -> dict:
    """Train, segment, evaluate, print the summary line; return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("quick", "full"), default="quick")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    train = [[w for w, _ in s] for s in data.load_peoples_daily("train")]
    gold = [[w for w, _ in s] for s in data.load_peoples_daily("validation")]
    texts = ["".join(words) for words in gold]
    vocab = {w for s in train for w in s}

    start = time.perf_counter()
    segmenter = train_segmenter(train, mode=args.mode, seed=args.seed, verbose=2)
    train_s = time.perf_counter() - start
    # Warm passes count: jieba has loaded its dictionary and the tagger's compiled functions
    # exist.  The cold first pass is printed too.
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    segmenters = {"lmbook": segmenter.segment, "jieba": lambda ts: [jieba.lcut(t) for t in ts]}
    cold = {name: timed(segment, texts)[1] for name, segment in segmenters.items()}
    rounds = [{name: timed(segment, texts) for name, segment in segmenters.items()} for _ in range(3)]
    (ours, _), (theirs, _) = rounds[0]["lmbook"], rounds[0]["jieba"]
    kb_per_s, jieba_kb_per_s = (max(r[name][1] for r in rounds) for name in segmenters)
    for name in segmenters:
        warm = ", ".join(f"{r[name][1]:,.0f}" for r in rounds)
        print(f"{name}: first (cold) pass {cold[name]:,.0f} KB/s; warm passes {warm} KB/s")

    r, j = evaluate_segmentation(gold, ours, vocab), evaluate_segmentation(gold, theirs, vocab)
    print(f"{len(train):,} training and {len(gold):,} held-out sentences; trained in {train_s:.0f} s "
          f"(mode {args.mode})")
    for name, m, speed in (("lmbook", r, kb_per_s), ("jieba", j, jieba_kb_per_s)):
        print(f"{name:<7} P {m['precision']:.4f}  R {m['recall']:.4f}  F1 {m['f1']:.4f}  "
              f"OOV recall {m['oov_recall']:.4f}  {speed:,.0f} KB/s")
    print(f"f1={r['f1']:.4f} oov_recall={r['oov_recall']:.4f} kb_per_s={kb_per_s:.1f} "
          f"jieba_f1={j['f1']:.4f} jieba_kb_per_s={jieba_kb_per_s:.1f}")
    return {"f1": r["f1"], "oov_recall": r["oov_recall"], "kb_per_s": kb_per_s, "train_s": train_s}


if __name__ == "__main__":
    main()
