"""tools/fetch_mathjax.py: what `make book` runs before building; its checks and its errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import fetch_mathjax  # noqa: E402  (a script folder, put on the path above)


def test_a_complete_copy_of_the_right_version_is_left_alone(tmp_path, monkeypatch):
    (tmp_path / "tex-svg.js").write_text("// MathJax")
    (tmp_path / "package.json").write_text(json.dumps({"version": fetch_mathjax.VERSION}))
    monkeypatch.setattr(fetch_mathjax, "npm_pack", lambda workdir: pytest.fail("fetched again"))
    fetch_mathjax.main(tmp_path)


def test_an_incomplete_or_other_copy_has_no_version(tmp_path):
    assert fetch_mathjax.installed_version(tmp_path) is None                # empty
    (tmp_path / "tex-svg.js").write_text("// MathJax")
    assert fetch_mathjax.installed_version(tmp_path) is None                # no package.json
    (tmp_path / "package.json").write_text("{not json")
    assert fetch_mathjax.installed_version(tmp_path) is None


def test_without_npm_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch_mathjax.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="npm not found.*apt-get install npm"):
        fetch_mathjax.main(tmp_path / "mathjax")
    assert not (tmp_path / "mathjax").exists()                              # nothing half-written
