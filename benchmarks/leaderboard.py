"""Chapter 7's leaderboard on the test streams: ``lmbook.leaderboard.measure``, written to a file.

Usage::

    python benchmarks/leaderboard.py            # writes lmbook/results/leaderboard.json

See :mod:`lmbook.leaderboard` for the rows.  The file records the command, the commit and the
device; chapter 7 loads it and recomputes the count models' rows live, and
``tests/test_leaderboard.py`` checks those rows against a fresh computation.
The last line reads ``leaderboard_rows=<n> file=<path>``.
"""

from __future__ import annotations

import _local  # noqa: F401  (this tree's lmbook, the local data copy)

from lmbook import leaderboard, results


def main() -> None:
    """Measure both corpora, write the JSON file and print the rows."""
    board = leaderboard.measure()
    path = results.write(leaderboard.FILE, board)
    for corpus, result in board["corpora"].items():
        for row in result["rows"]:
            print(f"{corpus:<17} {row['model']:<28} {row['nats_per_char']:.4f} nats/char  "
                  f"{row['bits_per_byte']:.4f} bits/byte")
    print(f"leaderboard_rows={sum(len(r['rows']) for r in board['corpora'].values())} "
          f"file={path}")


if __name__ == "__main__":
    main()
