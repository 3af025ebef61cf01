"""The result files: measured figures that the chapters read rather than recompute.

The benchmarks under ``benchmarks/`` write small JSON files into this package's folder
(``smoothing.json`` for chapter 2, ``finetune-quick.json`` for chapter 8, ``leaderboard.json``
for chapter 7, ``gpu_suite-*.json`` for chapters 3, 4 and 6), and the package ships them as
package data, so that an installed lmbook, on Colab for instance, prints the same figures as a checkout,
with no network.  ``LMBOOK_RESULTS_DIR`` points every reader and writer at another folder.

Taught in chapters 2, 7 and 8 (where each figure of a table comes from).

Example:
    >>> path("leaderboard.json").name
    'leaderboard.json'
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["ENV", "folder", "load", "path", "write"]

#: The environment variable that replaces the package's own folder.
ENV = "LMBOOK_RESULTS_DIR"


def folder() -> Path:
    """The folder of the result files: ``$LMBOOK_RESULTS_DIR`` if set, else this package's.

    Read at each call, so that a notebook or a test can set the variable at any time.

    Example:
        >>> folder().is_dir()
        True
    """
    return Path(os.environ.get(ENV) or Path(__file__).parent)


def path(name: str) -> Path:
    """The path of result file ``name`` (a bare file name such as ``"leaderboard.json"``).

    Raises:
        ValueError: ``name`` is not a bare file name.

    Example:
        >>> path("finetune-quick.json").parent == folder()
        True
    """
    if not isinstance(name, str) or not name or Path(name).name != name:
        raise ValueError(f"name must be a bare file name such as 'leaderboard.json', got {name!r}")
    return folder() / name


def load(name: str, command: str) -> dict:
    """Result file ``name``, parsed; ``command`` is what writes it, quoted if it is missing.

    Raises:
        FileNotFoundError: no such file; the message names the folder and ``command``.

    Example:
        >>> load("finetune-quick.json", "python benchmarks/finetune.py")["header"]["mode"]
        'quick'
    """
    file = path(name)
    if not file.is_file():
        raise FileNotFoundError(f"no result file {name!r} in {file.parent} (${ENV} chooses the folder); "
                                f"write it with: {command}")
    return json.loads(file.read_text(encoding="utf-8"))


def write(name: str, data: dict) -> Path:
    """Write ``data`` as result file ``name`` (indented JSON), atomically; return its path.

    The file is written by :func:`lmbook.data.write_atomic`, so an interrupted write leaves
    the previous file whole.  The folder is created if needed.

    Example:
        >>> import tempfile
        >>> os.environ[ENV] = tempfile.mkdtemp()
        >>> write("demo.json", {"a": 1}).read_text()
        '{\\n "a": 1\\n}\\n'
        >>> del os.environ[ENV]
    """
    from lmbook.data import write_atomic

    file = path(name)
    file.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(file, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
