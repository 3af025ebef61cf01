"""Chapter 2's smoothing sweep: the validation perplexity of every smoothing at every order.

Usage::

    python benchmarks/smoothing.py        # about 3 minutes on a 2-core CPU

It fits :class:`lmbook.ngram.NGramLM` with every smoothing but ``"mle"`` (whose perplexity is
infinite from order 2 on) at orders 1 to :data:`MAX_ORDER` on the four corpora of
:func:`lmbook.data.ngram_corpora` (training split), each with its parameters tuned or
estimated as chapter 2 fits them (``k=None, discount=None``), and scores the validation
split (the test split is never read).  It writes ``smoothing.json`` to the result files'
folder (:mod:`lmbook.results`): the command, commit and machine, then one row per
(corpus, order, smoothing) with :meth:`NGramLM.evaluate`'s figures and the tuned ``k`` of
add-k.  Chapter 2 draws its figure and table from the file and refits one of its points live;
``tests/test_smoothing_results.py`` refits another.

The last line is machine-readable: ``rows=<n> seconds=<s>``.
"""

from __future__ import annotations

import argparse
import time

import _local  # noqa: F401  (this tree's lmbook, the local data copy)
from tqdm.auto import tqdm

from lmbook import data, results
from lmbook.ngram import SMOOTHINGS, NGramLM
from lmbook.provenance import environment_info, git_commit

#: The result file's name (chapter 2 and the test read it).
FILE = "smoothing.json"
#: The highest order swept: characters need longer contexts than words.
MAX_ORDER = {"char": 8, "word": 5}
#: Every smoothing but maximum likelihood.
METHODS = [m for m in SMOOTHINGS if m != "mle"]


def point(train, validation, order: int, method: str) -> dict:
    """One row of the sweep: ``method`` at ``order``, fitted on ``train``, scored on ``validation``."""
    lm = NGramLM(order, method, k=None, discount=None).fit(train)
    row = lm.evaluate(validation)
    return {**row, "tuned_k": lm.pseudo_count if method == "add_k" else None}


def main(argv=None) -> dict:
    """Run the sweep, write the file, print the summary line."""
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args(argv)
    start = time.perf_counter()
    train, validation = data.ngram_corpora("train"), data.ngram_corpora("validation")
    grid = [(name, n, m) for name in train for n in range(1, MAX_ORDER[name.split()[1]] + 1) for m in METHODS]
    rows = []
    for name, n, m in tqdm(grid, desc="smoothing sweep"):
        rows.append({"corpus": name, "order": n, "method": m, **point(train[name], validation[name], n, m)})
    seconds = time.perf_counter() - start
    out = {"command": "python benchmarks/smoothing.py", "commit": git_commit(),
           "environment": environment_info(), "seconds": round(seconds, 1), "rows": rows}
    print(f"wrote {results.write(FILE, out)}")
    print(f"rows={len(rows)} seconds={seconds:.0f}")
    return out


if __name__ == "__main__":
    main()
