"""Chapter 7's leaderboard: the book's models on the **test** streams, each read once.

For Tiny Shakespeare and People's Daily: chapter 1's add-one unigram and bigram, the
modified Kneser-Ney n-gram at the order that scores best on the *validation* stream (orders
2-9, each order's validation and test figure kept for chapter 7's lesson on selection), and
the built presets.  Every row is :func:`lmbook.significance.stream_row`: nats per character,
bits per byte and the sums of 64 contiguous blocks of per-character losses, from which
intervals and paired differences follow.

``python benchmarks/leaderboard.py`` runs :func:`measure` and writes ``leaderboard.json``
(:mod:`lmbook.results`), with its command, commit and device; chapter 7 loads it and
recomputes the count models' rows live.

Example:
    >>> sorted(COUNT_MODELS.values())
    [1, 2]
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from lmbook import data, ngram, presets, results
from lmbook.provenance import environment_info, git_commit
from lmbook.significance import stream_row

__all__ = ["COUNT_MODELS", "FILE", "ORDERS", "RANKED", "count_rows", "load", "measure"]

#: The leaderboard's result file (:mod:`lmbook.results`).
FILE = "leaderboard.json"
#: The modified Kneser-Ney orders compared on the validation stream.
ORDERS = range(2, 10)
#: The presets a leaderboard ranks: the causal ones (a masked LM predicts no next character).
RANKED = sorted(name for name, spec in presets.PRESETS.items() if spec.causal)
#: Chapter 1's count models: add-one (Laplace) smoothing at these orders.
COUNT_MODELS = {"unigram (add-one)": 1, "bigram (add-one)": 2}


def count_rows(corpus: str) -> list[dict]:
    """The rows of chapter 1's add-one unigram and bigram on ``corpus``'s test stream (seconds).

    Example:
        >>> [row["model"] for row in count_rows("tiny_shakespeare")]     # doctest: +SKIP
        ['unigram (add-one)', 'bigram (add-one)']
    """
    train, test = data.character_stream(corpus, "train"), data.character_stream(corpus, "test")
    return [stream_row(name, ngram.stream_losses(train, test, order, "add_k"), test)
            for name, order in COUNT_MODELS.items()]


def _corpus(corpus: str) -> dict:
    """One corpus's rows, its validation-chosen order and every order's two figures."""
    train, validation, test = (data.character_stream(corpus, s) for s in data.SPLITS)
    rows, orders, test_losses = count_rows(corpus), {}, {}
    for order in ORDERS:
        test_losses[order] = ngram.stream_losses(train, test, order)
        orders[order] = {"validation": ngram.stream_cross_entropy(train, validation, order),
                         "test": float(test_losses[order].mean())}
        print(f"  {corpus} MKN {order}-gram: validation {orders[order]['validation']:.4f}", flush=True)
    best = min(orders, key=lambda n: orders[n]["validation"])
    rows.append(stream_row(f"MKN {best}-gram", test_losses[best], test))
    for name in RANKED:
        if presets.PRESETS[name].corpus == corpus and (presets.PRETRAINED / f"{name}.json").is_file():
            rows.append(stream_row(f"preset {name}", presets.load(name).losses(test), test))
            print(f"  {corpus} {name}: {rows[-1]['nats_per_char']:.4f}", flush=True)
    return {"chosen_order": best, "orders": orders, "rows": rows}


def measure() -> dict:
    """Measure every row on both corpora (minutes): what ``benchmarks/leaderboard.py`` writes."""
    started = time.perf_counter()
    board = {"command": "python benchmarks/leaderboard.py", "commit": git_commit(),
             "environment": environment_info(), "split": "test",
             "corpora": {corpus: _corpus(corpus) for corpus in data.CHARACTER_CORPORA}}
    board["wall_s"] = round(time.perf_counter() - started, 1)
    return board


def load(path: Path | str | None = None) -> dict:
    """The leaderboard file (``path``, or the package's result file), its orders' keys as ints.

    Raises:
        FileNotFoundError: no file; the message names the command that writes it.
    """
    command = "python benchmarks/leaderboard.py (or call lmbook.leaderboard.measure())"
    if path is None:
        board = results.load(FILE, command)
    else:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no leaderboard at {path}; write it with: {command}")
        board = json.loads(path.read_text(encoding="utf-8"))
    for result in board["corpora"].values():
        result["orders"] = {int(n): figures for n, figures in result["orders"].items()}
    return board
