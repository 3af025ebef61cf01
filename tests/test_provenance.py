"""lmbook.provenance: the environment record names the machine (CPU model and threads, or GPU)."""

import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import keras
import pytest

from lmbook import config, provenance

X86 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13 64-Core Processor
flags\t\t: fpu vme

processor\t: 1
model name\t: AMD EPYC 7B13 64-Core Processor
"""
RASPBERRY_PI = """processor\t: 0
model name\t:
BogoMIPS\t: 108.00
Hardware\t: BCM2835
Model\t\t: Raspberry Pi 4 Model B Rev 1.4
"""
AARCH64 = """processor\t: 0
BogoMIPS\t: 243.75
CPU implementer\t: 0x41
CPU part\t: 0xd0c
"""
POWER = "processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\nclock\t\t: 2166 MHz\n"


def test_the_cpu_model_is_read_from_cpuinfo_on_every_architecture():
    assert provenance._model_from_cpuinfo(X86) == "AMD EPYC 7B13 64-Core Processor"
    assert provenance._model_from_cpuinfo(RASPBERRY_PI) == "Raspberry Pi 4 Model B Rev 1.4"
    assert provenance._model_from_cpuinfo(POWER) == "POWER9 (raw), altivec supported"
    assert provenance._model_from_cpuinfo(AARCH64) is None
    assert provenance._model_from_cpuinfo("") is None


def test_the_cpu_model_matches_lscpu():
    model = provenance.cpu_model()
    assert model and model == model.strip()
    cpuinfo = Path("/proc/cpuinfo")
    if not (shutil.which("lscpu") and cpuinfo.is_file() and "model name" in cpuinfo.read_text()):
        pytest.skip("needs lscpu and an x86-style /proc/cpuinfo to compare with")
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True,
                           env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"}).stdout
    expected = re.search(r"^Model name:\s*(.+)$", lscpu, re.MULTILINE).group(1).strip()
    assert model == " ".join(expected.split())


def test_without_cpuinfo_the_platform_is_asked(monkeypatch):
    monkeypatch.setattr(provenance, "Path", lambda path: Path("/no/such/cpuinfo"))
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(provenance.platform, "processor", lambda: "Intel64 Family 6 Model 85")
    assert provenance.cpu_model() == "Intel64 Family 6 Model 85"
    monkeypatch.setattr(provenance.platform, "processor", lambda: "")
    assert provenance.cpu_model() == provenance.platform.machine()


def test_the_thread_count_matches_nproc():
    if shutil.which("nproc") is None:
        pytest.skip("nproc is not available")
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout
    assert provenance.cpu_threads() == int(nproc)


def test_the_environment_records_the_machine():
    info = provenance.environment_info()
    assert info["cpu_model"] == provenance.cpu_model()
    assert info["cpu_threads"] == provenance.cpu_threads()
    assert info["device"] == (config.accelerator() or "cpu")
    if info["device"] == "cpu":
        threads = f"{info['cpu_threads']} thread" + ("" if info["cpu_threads"] == 1 else "s")
        assert info["device_name"] == f"{info['cpu_model']}, {threads}"


def fake_jax(*devices):
    return types.SimpleNamespace(devices=lambda: [
        types.SimpleNamespace(platform=platform, device_kind=kind) for platform, kind in devices])


def test_a_gpu_is_named_by_the_backend_and_counted(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    monkeypatch.setattr(config, "accelerator", lambda: "gpu")
    monkeypatch.setitem(sys.modules, "jax", fake_jax(("gpu", "NVIDIA H100 80GB HBM3")))
    assert provenance.device_name() == "NVIDIA H100 80GB HBM3"
    monkeypatch.setitem(sys.modules, "jax", fake_jax(*[("tpu", "TPU v4")] * 4))
    assert provenance.device_name() == "4 × TPU v4"
    monkeypatch.setitem(sys.modules, "jax", fake_jax())
    assert provenance.device_name() == "GPU"


def test_git_commit_names_this_checkout():
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", provenance.git_commit())
