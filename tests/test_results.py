"""lmbook.results: one folder of result files, shipped with the package, overridable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lmbook import finetune, leaderboard, parallel, results

PACKAGE = Path(results.__file__).resolve().parents[1]


def test_the_folder_is_the_packages_unless_the_variable_says_otherwise(tmp_path, monkeypatch):
    monkeypatch.delenv(results.ENV, raising=False)
    assert results.folder() == PACKAGE / "results"
    monkeypatch.setenv(results.ENV, str(tmp_path))
    assert results.folder() == tmp_path
    assert results.path("x.json") == tmp_path / "x.json"


def test_every_reader_follows_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(results.ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"finetune-quick\.json.*python benchmarks/finetune\.py"):
        finetune.results("quick")
    with pytest.raises(FileNotFoundError, match=r"leaderboard\.json.*python benchmarks/leaderboard\.py"):
        leaderboard.load()
    assert parallel.gpu_suite_summary().startswith("GPU figures: not yet measured")


def test_write_is_atomic_and_round_trips(tmp_path, monkeypatch):
    monkeypatch.setenv(results.ENV, str(tmp_path / "new"))
    written = results.write("a.json", {"b": [1, 2], "中": "文"})
    assert results.load("a.json", "no command") == {"b": [1, 2], "中": "文"}
    assert sorted(p.name for p in written.parent.iterdir()) == ["a.json"]        # no temporary file left


def test_write_leaves_the_old_file_whole_when_serialising_fails(tmp_path, monkeypatch):
    monkeypatch.setenv(results.ENV, str(tmp_path))
    results.write("a.json", {"kept": True})
    with pytest.raises(TypeError):
        results.write("a.json", {"bad": object()})
    assert results.load("a.json", "") == {"kept": True}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


@pytest.mark.parametrize("name", ["", "../x.json", "sub/x.json", None])
def test_a_name_must_be_a_bare_file_name(name):
    with pytest.raises(ValueError, match="name must be a bare file name"):
        results.path(name)


def test_the_shipped_result_files_stay_small():
    shipped = [p for p in (PACKAGE / "results").iterdir() if p.suffix == ".json"]
    assert {"finetune-quick.json", "leaderboard.json"} <= {p.name for p in shipped}
    assert sum(p.stat().st_size for p in shipped) <= 2 * 2**20          # package data: at most 2 MB


def test_no_module_builds_a_path_into_the_benchmarks_folder():
    pattern = re.compile(r"""["']benchmarks["']|/\s*["']benchmarks""")
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
