"""Execute notebooks top to bottom and record how they were run.

This is the only way stored outputs get into ``notebooks/``: ``make execute`` (or
``python tools/execute.py notebooks/01_language_models.ipynb``).  Each notebook is run in a
fresh kernel, in order, in the mode of ``$LMBOOK_MODE`` (default ``quick``), and its
metadata gets an ``lmbook`` record: mode, device, backend, package versions, run time and
the SHA-256 of its code cells.  ``tests/test_notebooks.py`` fails when the code changed
after the run (stale outputs) or when execution counts are not 1..n.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from lmbook.data import write_atomic

ROOT = Path(__file__).resolve().parents[1]


def code_hash(nb) -> str:
    """SHA-256 of the notebook's code cells, in order (outputs and metadata excluded)."""
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    return hashlib.sha256(json.dumps(sources, ensure_ascii=False).encode()).hexdigest()


def kernel_environment(client) -> dict:
    """``lmbook.provenance.environment_info()`` as the notebook's kernel sees it."""
    from jupyter_core.utils import run_sync

    printed = []

    def keep(msg):
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])

    code = "import json as _json, lmbook.provenance as _p; print(_json.dumps(_p.environment_info()))"
    run_sync(client.kc.execute_interactive)(code, output_hook=keep, timeout=120)
    return json.loads("".join(printed).strip().splitlines()[-1])


def execute(path: Path, timeout: int) -> float:
    """Run ``path`` in place in a fresh kernel; return the wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    start = time.perf_counter()
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        # C++ libraries' log lines (TensorFlow's) go to this terminal, not into the book.
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
    )
    with client.setup_kernel():
        client.execute(cleanup_kc=False)
        seconds = time.perf_counter() - start
        # The kernel's own environment: a chapter may choose another backend (chapter 6: JAX).
        environment = kernel_environment(client)
    nb.metadata["lmbook"] = environment | {
        "run_seconds": round(seconds, 1),
        "code_sha256": code_hash(nb),
        "executed": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python tools/execute.py",
    }
    write_atomic(path, nbformat.writes(nb) + "\n")  # never leave a half-written notebook
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per cell")
    args = parser.parse_args(argv)
    os.environ.setdefault("LMBOOK_MODE", "quick")
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        print(f"executing {path} (mode {os.environ['LMBOOK_MODE']}) ...", flush=True)
        print(f"  done in {execute(path.resolve(), args.timeout):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
