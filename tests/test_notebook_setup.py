"""lmbook.notebook: set-up prints the machine and seeds every generator."""

import random

import numpy as np
import pytest

from lmbook import notebook


def test_setup_notebook_prints_the_device_and_seeds(capsys):
    info = notebook.setup_notebook(seed=3)
    line = capsys.readouterr().out
    assert f"device {info['device']} ({info['device_name']})" in line
    assert info["cpu_model"] in line or info["device"] != "cpu"
    assert "seed 3" in line and info["seed"] == 3
    first = (random.random(), np.random.rand())
    notebook.setup_notebook(seed=3)
    assert (random.random(), np.random.rand()) == first


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True, "0"])
def test_setup_notebook_rejects_a_bad_seed(seed):
    with pytest.raises(ValueError, match="seed must be an integer in"):
        notebook.setup_notebook(seed)
