"""Notebook set-up: seeds, quiet logs, and a record of the environment.

Taught in chapter 1 (``notebooks/01_language_models.ipynb``); every chapter's first code
cell calls :func:`setup_notebook`.

Example:
    >>> info = setup_notebook(seed=0)                    # doctest: +SKIP
    lmbook 0.1.0 | keras 3.15.1 (tensorflow) | device cpu | mode quick | seed 0
"""

from __future__ import annotations

import logging
import os
import platform
from importlib import metadata

__all__ = ["environment_info", "setup_notebook"]

PACKAGES = ("lmbook", "keras", "keras-hub", "tensorflow", "jax", "numpy", "jieba", "matplotlib")


def environment_info() -> dict:
    """Versions, Keras backend, accelerator and mode of this process.

    Example:
        >>> sorted(environment_info())                   # doctest: +SKIP
        ['backend', 'device', 'mode', 'python', 'versions']
    """
    import keras

    from lmbook.config import accelerator, get_mode

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {
        "python": platform.python_version(),
        "versions": versions,
        "backend": keras.backend.backend(),
        "device": accelerator() or "cpu",
        "mode": get_mode(),
    }


def setup_notebook(seed: int = 0) -> dict:
    """Seed every generator, quieten TensorFlow, print the environment, and return it.

    Args:
        seed: passed to ``keras.utils.set_random_seed`` (Python, numpy and the backend).

    Example:
        >>> setup_notebook(1)["mode"]                    # doctest: +SKIP
        lmbook 0.1.0 | keras 3.15.1 (tensorflow) | device cpu | mode quick | seed 1
        'quick'
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    import keras

    keras.utils.set_random_seed(seed)
    info = environment_info()
    v = info["versions"]
    print(
        f"lmbook {v.get('lmbook', '?')} | keras {v['keras']} ({info['backend']}) | "
        f"device {info['device']} | mode {info['mode']} | seed {seed}"
    )
    return info | {"seed": seed}
