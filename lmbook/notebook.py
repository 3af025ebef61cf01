"""Notebook set-up: seeds, quiet logs, a record of the environment and the machine, and
printed lines short enough for the book's output boxes.

Taught in chapter 1 (``notebooks/01_language_models.ipynb``); every chapter's first code
cell calls :func:`setup_notebook`, and ``tools/execute.py`` stores
:func:`lmbook.provenance.environment_info` in each executed notebook's metadata, so every
stored output says what machine made it.

Example:
    >>> info = setup_notebook(seed=0)                    # doctest: +SKIP
    lmbook 0.1.0 | keras 3.15.1 (tensorflow) | mode quick | seed 0
    device cpu (AMD EPYC 7B13, 2 threads)
"""

from __future__ import annotations

import logging
import os
import textwrap

from lmbook.checks import check_int
from lmbook.provenance import environment_info

__all__ = ["WIDTH", "fill", "setup_notebook"]

#: Characters per printed line in lmbook's own output (exercises, preset tables, GPU summaries):
#: they fit an HTML output box of the book down to a 1,024-pixel window (about 90) and Colab's.
WIDTH = 76


def fill(text: str, indent: str = "") -> str:
    """``text`` wrapped at :data:`WIDTH`, each of its lines on its own, continuations indented
    by ``indent``.

    Example:
        >>> print(fill("q9: " + "word " * 20, indent="    "))
        q9: word word word word word word word word word word word word word word
            word word word word word word
    """
    return "\n".join(textwrap.fill(line, WIDTH, subsequent_indent=indent) if line.strip() else line
                     for line in text.split("\n"))

def setup_notebook(seed: int = 0) -> dict:
    """Seed every generator, quieten TensorFlow, print the environment, and return it.

    The printed lines name the device: the GPU or TPU, or the CPU's model and thread count,
    so that the timings a chapter prints can be read against the machine that made them.

    Args:
        seed: passed to ``keras.utils.set_random_seed`` (Python, numpy and the backend);
            an integer in ``[0, 2**32 - 1]``.

    Raises:
        ValueError: ``seed`` is not such an integer.

    Example:
        >>> setup_notebook(1)["mode"]                    # doctest: +SKIP
        lmbook 0.1.0 | keras 3.15.1 (tensorflow) | mode quick | seed 1
        device cpu (AMD EPYC 7B13, 2 threads)
        'quick'
    """
    seed = check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    import keras

    keras.utils.set_random_seed(seed)
    info = environment_info()
    v = info["versions"]
    print(f"lmbook {v.get('lmbook', '?')} | keras {v['keras']} ({info['backend']}) | mode {info['mode']} | "
          f"seed {seed}\ndevice {info['device']} ({info['device_name']})")
    return info | {"seed": seed}
