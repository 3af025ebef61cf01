"""The package's index: lmbook/__init__.py and the README's table name every module."""

import json
import pkgutil
import re
from pathlib import Path

import pytest

import lmbook

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(m.name for m in pkgutil.iter_modules(lmbook.__path__))


def test_there_are_modules_to_index():
    assert {"data", "presets", "results", "provenance"} <= set(MODULES)


def test_the_package_docstring_indexes_every_module():
    missing = [m for m in MODULES if f":mod:`lmbook.{m}`" not in lmbook.__doc__]
    assert missing == []


def test_the_readme_table_lists_every_module():
    rows = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| `lmbook.")]
    missing = [m for m in MODULES if not any(row.startswith(f"| `lmbook.{m}` |") for row in rows)]
    assert missing == []


def _version() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _extras_needed(notebook: dict) -> set[str]:
    """The extras whose libraries a chapter imports (from pyproject's optional dependencies)."""
    import ast

    import tomllib
    from packaging.requirements import Requirement

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    modules = {"scikit-learn": "sklearn", "rouge-score": "rouge_score",      # import names
               "uncertainty-calibration": "calibration"}
    provides = {modules.get(Requirement(r).name, Requirement(r).name): extra
                for extra in ("eval", "jax") for r in extras[extra]}
    imported = set()
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or source.startswith("%%"):
            continue
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
    return {provides[m] for m in imported if m in provides}


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_the_colab_cell_installs_this_version_with_the_extras_its_imports_need(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    first = "".join(next(c for c in notebook["cells"] if c["cell_type"] == "code")["source"])
    pattern = r'pip install -q "lmbook(?:\[([a-z,]+)\])? @ git\+https://github\.com/lmbook/lmbook@v([^"]+)"'
    match = re.search(pattern, first)
    assert match, f"{path.name}: no Colab install cell"
    assert match.group(2) == _version()
    assert set(filter(None, (match.group(1) or "").split(","))) == _extras_needed(notebook)
