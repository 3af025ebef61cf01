"""pytest plugin for the JAX run of ``make test``: Keras on JAX, and no TensorFlow.

``make test-jax`` loads it with ``-p jax_backend`` (``tests/`` on ``PYTHONPATH``) to run the
tests and doctests of the backend-agnostic modules a second time, as on a GPU machine or a
Colab TPU that has JAX and no TensorFlow.  Before any conftest or test imports Keras, it sets
``KERAS_BACKEND=jax`` and makes ``import tensorflow`` raise ``ImportError``, so a module that
still needs TensorFlow fails here.  It only defines hooks, so importing it (as
``--doctest-modules tests`` does in the main run) changes nothing.
"""

from __future__ import annotations

import os
import sys

import pytest


def pytest_load_initial_conftests(early_config, parser, args):
    """Choose JAX and hide TensorFlow before the conftests and tests are imported."""
    loaded = [name for name in ("keras", "tensorflow") if sys.modules.get(name) is not None]
    if loaded:
        raise pytest.UsageError(f"jax_backend must run before {' and '.join(loaded)} is imported; "
                                "load it with -p jax_backend")
    os.environ["KERAS_BACKEND"] = "jax"
    os.environ.setdefault("JAX_NUM_CPU_DEVICES", "8")   # lmbook.parallel's tests, as Keras's own CI
    sys.modules["tensorflow"] = None          # `import tensorflow` now raises ImportError


def pytest_report_header(config):
    """Check the set-up took, and say so in the run's header."""
    import keras

    if keras.backend.backend() != "jax":
        raise pytest.UsageError(f"the JAX run got Keras backend {keras.backend.backend()!r}")
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return "keras backend: jax; import tensorflow: ImportError"
    raise pytest.UsageError("the JAX run could import tensorflow")
