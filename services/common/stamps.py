"""What a measurement or a model file is stamped with: a file's sha256 and the machine a run was made on."""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path
from typing import Any


def sha256_file(path: Path) -> str:
    """The file's sha256 (hex), streamed by ``hashlib.file_digest`` (model files are gigabytes)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def machine_info(device: str | None = None) -> dict[str, Any]:
    """The machine a run is made on, for the record beside its figures; ``device``: the configured one."""
    info: dict[str, Any] = {
        "host": platform.node(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
    }
    if device is not None:
        info["device"] = device
    return info


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    for line in cpuinfo.read_text().splitlines() if cpuinfo.exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _memory_gib() -> float | None:
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        return None
    return round(int(meminfo.read_text().split()[1]) / 2**20, 1)  # MemTotal, in KiB
