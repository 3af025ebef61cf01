"""Provenance: what machine, software and commit produced a figure.

Presets' cards, result files, benchmarks and every executed notebook record it (Taught in
chapter 1, where :func:`lmbook.notebook.setup_notebook` prints it; chapters 6 to 8 read it
back from cards and result files), so that no stored number is separated from the machine
that made it.

Example:
    >>> sorted(environment_info())[:3]
    ['backend', 'cpu_model', 'cpu_threads']
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections import Counter
from importlib import metadata
from pathlib import Path

__all__ = ["cpu_model", "cpu_threads", "device_name", "environment_info", "git_commit"]

PACKAGES = ("lmbook", "keras", "keras-hub", "tensorflow", "jax", "numpy", "jieba", "matplotlib")

# /proc/cpuinfo fields that name the processor, best first: x86 ("model name"), Raspberry Pi
# and other boards ("Model", "Hardware"), MIPS ("cpu model"), POWER ("cpu").
CPUINFO_FIELDS = ("model name", "Model", "Hardware", "cpu model", "cpu")


def _model_from_cpuinfo(text: str) -> str | None:
    """The processor's name in the text of ``/proc/cpuinfo``, or ``None`` (e.g. on aarch64)."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and value.strip():
            fields.setdefault(key.strip(), " ".join(value.split()))
    return next((fields[f] for f in CPUINFO_FIELDS if f in fields), None)


def cpu_model() -> str:
    """The CPU's model name, as the operating system reports it.

    Linux (Colab included) reads ``/proc/cpuinfo``; macOS asks ``sysctl`` for the brand
    string (``platform.processor()`` says only ``arm`` or ``i386`` there); elsewhere, and
    where these say nothing, ``platform.processor()`` or the architecture
    (``platform.machine()``, e.g. ``aarch64``).

    Example:
        >>> cpu_model()                                   # doctest: +SKIP
        'AMD EPYC 7B13'
        >>> isinstance(cpu_model(), str) and cpu_model() != ""
        True
    """
    model = None
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        try:
            model = _model_from_cpuinfo(cpuinfo.read_text(errors="replace"))
        except OSError:
            pass
    elif sys.platform == "darwin":
        try:
            model = subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"],
                capture_output=True, text=True, timeout=5, check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return model or platform.processor() or platform.machine() or "unknown CPU"


def cpu_threads() -> int:
    """The number of hardware threads (logical CPUs) this process may run on.

    The CPUs of its affinity mask where the platform has one (Linux: what ``nproc`` prints),
    else ``os.cpu_count()``.

    Example:
        >>> cpu_threads()                                 # doctest: +SKIP
        2
        >>> cpu_threads() >= 1
        True
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _accelerator_names(kind: str) -> list[str]:
    """The names of the ``kind`` devices (``"gpu"``, ``"tpu"``) of the active Keras backend."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return [d.device_kind for d in jax.devices() if d.platform != "cpu"]
    if backend == "tensorflow":
        import tensorflow as tf

        return [
            tf.config.experimental.get_device_details(d).get("device_name", d.device_type)
            for d in tf.config.list_physical_devices(kind.upper())
        ]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


def device_name() -> str:
    """What runs the computation: the accelerator's name, else the CPU's model and threads.

    Several identical accelerators are counted (``"8 × TPU v4"``).

    Example:
        >>> device_name()                                 # doctest: +SKIP
        'AMD EPYC 7B13, 2 threads'
        >>> device_name()                                 # doctest: +SKIP
        'NVIDIA H100 80GB HBM3'
    """
    from lmbook.config import accelerator

    kind = accelerator()
    names = Counter(_accelerator_names(kind)) if kind else Counter()
    if names:
        return ", ".join(name if n == 1 else f"{n} × {name}" for name, n in names.items())
    if kind:  # the backend sees one but does not name it
        return kind.upper()
    threads = cpu_threads()
    return f"{cpu_model()}, {threads} thread{'s' if threads != 1 else ''}"


def git_commit() -> str:
    """The commit of the lmbook checkout this code runs from, ``+dirty`` if tracked files differ.

    ``"unknown"`` outside a git checkout (an installed package).  Recorded on preset cards
    and benchmark results, so every figure names the code that made it.

    Example:
        >>> git_commit()                                  # doctest: +SKIP
        '4013148e...+dirty'
    """
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    commit = git("rev-parse", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def environment_info() -> dict:
    """Versions, Keras backend, device, machine and mode of this process.

    ``device`` is the kind (``"cpu"``, ``"gpu"`` or ``"tpu"``), ``device_name`` what
    :func:`device_name` says, and ``cpu_model`` / ``cpu_threads`` describe the host.

    Example:
        >>> sorted(environment_info())                   # doctest: +SKIP
        ['backend', 'cpu_model', 'cpu_threads', 'device', 'device_name', 'mode', 'python', 'versions']
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
        "device_name": device_name(),
        "cpu_model": cpu_model(),
        "cpu_threads": cpu_threads(),
        "mode": get_mode(),
    }
