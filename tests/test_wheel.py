"""What Colab does: install lmbook from its wheel, then use it from outside the checkout.

The wheel is built from the repository's tracked files (what a clean clone holds), installed
with ``pip install --no-deps --target``, and imported from a temporary folder: the preset
weights come from a local HTTP server through ``LMBOOK_PRESETS_URL``, the result files from
the package itself, and every chapter's imports must resolve.
"""

from __future__ import annotations

import ast
import functools
import http.server
import json
import shutil
import subprocess
import sys
import textwrap
import threading
import zipfile
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in listed.stdout.decode().split("\0") if name]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built, without network, from a copy of the tracked files (weights left out)."""
    source = tmp_path_factory.mktemp("clone")
    for name in _tracked_files():
        if name.endswith(".npz") or not (ROOT / name).is_file():
            continue
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
                    str(source)], check=True, capture_output=True)
    (built,) = out.glob("lmbook-*.whl")
    return built


def _requirements(lines) -> set[tuple]:
    """Requirements as comparable tuples: name, sorted specifiers, marker."""
    parsed = (Requirement(line) for line in lines)
    return {(r.name.lower(), str(r.specifier), str(r.marker) if r.marker else "") for r in parsed}


def test_the_wheels_requirements_are_pyprojects(wheel):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = list(project["dependencies"]) + [
        f'{requirement}; extra == "{extra}"'
        for extra, requirements in project["optional-dependencies"].items() for requirement in requirements]
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    declared = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Dist:")]
    assert _requirements(declared) == _requirements(expected)


def test_the_wheel_ships_the_cards_and_result_files_but_no_weights(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert {"lmbook/results/finetune-quick.json", "lmbook/results/leaderboard.json"} <= set(names)
    assert any(n.startswith("lmbook/pretrained/") and n.endswith(".json") for n in names)
    assert not any(n.endswith(".npz") for n in names)


def _chapter_imports() -> str:
    """Every top-level import statement of every chapter's code cells, one per line."""
    statements = []
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] != "code" or source.startswith("%%"):
                continue
            lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
            for node in ast.parse("\n".join(lines)).body:
                if isinstance(node, ast.Import | ast.ImportFrom):
                    statements.append(ast.unparse(node))
    return "\n".join(dict.fromkeys(statements))


@pytest.fixture(scope="module")
def preset_server():
    """A local HTTP server for the checkout's preset weights; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(ROOT / "lmbook" / "pretrained"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_an_installed_wheel_loads_presets_results_and_every_chapters_imports(wheel, preset_server,
                                                                             tmp_path):
    if not any((ROOT / "lmbook" / "pretrained").glob("*.npz")):
        pytest.skip("the checkout has no preset weights to serve")
    target, elsewhere, cache = tmp_path / "site", tmp_path / "elsewhere", tmp_path / "cache"
    elsewhere.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", str(target), str(wheel)], check=True, capture_output=True)
    script = textwrap.dedent(f"""
        import pathlib, lmbook
        assert pathlib.Path(lmbook.__file__).is_relative_to({str(target)!r}), lmbook.__file__
        from lmbook import finetune, leaderboard, parallel, presets
        for name in presets.PRESETS:
            preset = presets.load(name)
            assert preset.model.count_params() == preset.card["parameters"], name
        assert finetune.results("quick")["runs"]
        assert leaderboard.load()["corpora"]
        assert parallel.gpu_suite_summary()
    """) + _chapter_imports() + "\nprint('installed wheel: ok')\n"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(target),
           "LMBOOK_PRESETS_URL": preset_server, "LMBOOK_DATA_DIR": str(cache),
           "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run([sys.executable, "-c", script], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "installed wheel: ok" in done.stdout
    assert len(list((cache / "presets").glob("*.npz"))) == len(
        list((ROOT / "lmbook" / "pretrained").glob("*.npz")))            # every weight came by HTTP
