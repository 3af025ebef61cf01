"""Shared fixtures: a private data directory, a loopback HTTP server (no real network) and a
tiny encoder preset."""

from __future__ import annotations

import hashlib
import http.server
import threading
from dataclasses import replace

import pytest

from lmbook import data, presets
from lmbook.recipes import recipe

#: A tiny masked-LM encoder, with the peoples-daily-bert preset's recipe otherwise.
TINY_ENCODER = replace(recipe("bert", "peoples_daily", "preset"), d_model=16, num_heads=2, layers=1,
                       batch_size=4, seq_len=32, steps=20, max_predictions=6, dropout=0.0)


def pytest_collection_modifyitems(items):
    """Mark every notebook cell that nbval collects ``notebooks`` (``make test-fast`` leaves them out)."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """An empty LMBOOK_DATA_DIR for this test."""
    monkeypatch.setenv("LMBOOK_DATA_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def serve():
    """``serve(payload) -> url``: serve bytes on 127.0.0.1; ``serve.hits`` counts requests."""
    servers = []

    def start(payload: bytes, name: str = "file.bin") -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                start.hits += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/{name}"

    start.hits = 0
    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture
def register(monkeypatch):
    """``register(name, url, payload, **kw)``: add a registry entry whose hash is the payload's."""

    def add(name, url, payload, **kw):
        entry = data.RemoteFile(
            folder=name, file_name=kw.pop("file_name", "file.bin"), url=url,
            sha256=hashlib.sha256(payload).hexdigest(), **kw,
        )
        monkeypatch.setitem(data.REGISTRY, name, entry)
        return entry

    return add


@pytest.fixture(scope="session")
def _tiny_encoder_folder(tmp_path_factory):
    """Build preset "tiny-bert" (20 steps) once, in a private presets folder."""
    folder = tmp_path_factory.mktemp("encoder")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(presets, "PRETRAINED", folder)
        mp.setitem(presets.PRESETS, "tiny-bert", TINY_ENCODER)
        presets.train("tiny-bert", save_every=10)
    return folder


@pytest.fixture
def tiny_encoder(_tiny_encoder_folder, monkeypatch):
    """Preset "tiny-bert" loadable by name for this test (the real presets are not)."""
    monkeypatch.setattr(presets, "PRETRAINED", _tiny_encoder_folder)
    monkeypatch.setitem(presets.PRESETS, "tiny-bert", TINY_ENCODER)
    return "tiny-bert"
