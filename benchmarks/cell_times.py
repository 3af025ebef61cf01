"""Where each chapter's quick-mode run spends its time, from the timings its notebook stores.

Usage::

    python benchmarks/cell_times.py                  # every chapter: totals, then the slowest cells
    python benchmarks/cell_times.py --top 5 notebooks/04_transformers.ipynb

``make execute`` (``tools/execute.py``) records each code cell's start and end in the
notebook's ``metadata.execution`` (``iopub.execute_input``, ``shell.execute_reply``) and the
whole run in ``metadata.lmbook.run_seconds``.  This prints, as Markdown tables, each
chapter's recorded run against the 200-second bar of CONTRIBUTING's budget, with the sum
against the 15-minute bar of chapters 1–8, then the ``--top`` slowest cells of all chapters,
each with its first line of code.  Nothing is run: the figures are those of the last
``make execute`` (its host, mode and commit are in each notebook's first output).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: CONTRIBUTING's bars: seconds per chapter, and seconds for chapters 1-8 together.
CHAPTER_BAR, BOOK_BAR = 200, 15 * 60


def cell_seconds(cell: dict) -> float | None:
    """The seconds a code cell ran in its notebook's last execution, or ``None`` if unrecorded.

    Example: ``cell_seconds({"metadata": {"execution": {"iopub.execute_input": "2026-01-01T00:00:00Z",
    "shell.execute_reply": "2026-01-01T00:00:02.5Z"}}})`` is 2.5.
    """
    stamps = cell.get("metadata", {}).get("execution", {})
    if "iopub.execute_input" not in stamps or "shell.execute_reply" not in stamps:
        return None
    start, end = (datetime.fromisoformat(stamps[k].replace("Z", "+00:00"))
                  for k in ("iopub.execute_input", "shell.execute_reply"))
    return (end - start).total_seconds()


def chapter_times(path: Path) -> tuple[float | None, list[tuple[int, float, str]]]:
    """``(run_seconds, [(cell index, seconds, first line), ...])`` of one stored notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for i, cell in enumerate(nb["cells"]):
        seconds = cell_seconds(cell)
        if seconds is not None:
            lines = [line for line in "".join(cell["source"]).splitlines() if line.strip()]
            cells.append((i, seconds, lines[0] if lines else ""))
    return nb["metadata"].get("lmbook", {}).get("run_seconds"), cells


def main(argv=None) -> dict[str, float | None]:
    """Print the chapters' and the slowest cells' tables; return each chapter's run seconds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--top", type=int, default=15, help="how many of the slowest cells to list")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    runs, slowest = {}, []
    print(f"| chapter | run (s) | ≤ {CHAPTER_BAR} s | cells (s) | slowest cell (s) |\n|---|---|---|---|---|")
    for path in paths:
        run, cells = chapter_times(path)
        runs[path.stem] = run
        slowest += [(seconds, path.stem[:2], i, line) for i, seconds, line in cells]
        top = max(cells, key=lambda c: c[1], default=(None, 0.0, ""))
        print(f"| {path.stem} | {run if run is None else f'{run:.0f}'} | "
              f"{'—' if run is None else 'yes' if run <= CHAPTER_BAR else 'NO'} | "
              f"{sum(c[1] for c in cells):.0f} | {top[1]:.0f} (cell {top[0]}) |")
    total = sum(r for r in runs.values() if r is not None)
    print(f"\nall {len(runs)} chapters: {total:.0f} s = {total / 60:.1f} min "
          f"({'within' if total <= BOOK_BAR else 'over'} the {BOOK_BAR // 60}-minute bar)\n")
    print("| chapter | cell | seconds | first line |\n|---|---|---|---|")
    for seconds, chapter, i, line in sorted(slowest, reverse=True)[:args.top]:
        print(f"| {chapter} | {i} | {seconds:.0f} | `{line[:60].replace('|', '/')}` |")
    return runs


if __name__ == "__main__":
    main()
