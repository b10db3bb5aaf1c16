"""Peak memory per file, GPU figures, and a description of the machine a run used.

Peak resident memory is per file, not per process: on Linux the kernel's high-water mark
(``VmHWM``) is reset before each file by writing ``5`` to ``/proc/self/clear_refs``. Where
that is not possible the process-wide maximum from ``getrusage`` is reported instead (and
marked as such).
"""

from __future__ import annotations

import os
import platform
import resource
import sys
from pathlib import Path

__all__ = [
    "cpu_model",
    "gpu_name",
    "gpu_peak_mb",
    "machine_info",
    "peak_rss_mb",
    "reset_gpu_peak",
    "reset_peak_rss",
]


def reset_peak_rss() -> bool:
    """Reset this process's peak-RSS mark; ``False`` where the platform does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    """Peak resident memory of this process since the last `reset_peak_rss`, in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _torch():
    return sys.modules.get("torch")


def gpu_name() -> str | None:
    """The CUDA card's name when torch is loaded and sees one, else ``None``."""
    torch = _torch()
    if torch is None or not torch.cuda.is_available():
        return None
    return str(torch.cuda.get_device_name(0))


def reset_gpu_peak() -> None:
    """Reset torch's peak GPU memory counter (no-op without CUDA)."""
    torch = _torch()
    if torch is not None and torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def gpu_peak_mb() -> float | None:
    """Peak GPU memory torch allocated since `reset_gpu_peak`, in MiB (``None`` without CUDA)."""
    torch = _torch()
    if torch is None or not torch.cuda.is_available():
        return None
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() / (1024 * 1024)


def cpu_model() -> str:
    """The CPU's model name, with "AVX-512" or "no AVX-512" (some peers' code needs it)."""
    name, flags = platform.processor() or platform.machine(), None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and flags is None:
                flags = line.split(":", 1)[1].split()
    except OSError:
        pass
    if flags is None:
        return name
    return f"{name}, {'AVX-512' if 'avx512f' in flags else 'no AVX-512'}"


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine_info() -> dict:
    """CPU model, usable cores, RAM, OS, Python and library versions, and the GPU (if any)."""
    info = {
        "cpu": cpu_model(),
        "cores": _usable_cores(),
        "ram_gib": _ram_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "gpu": None,
    }
    try:
        import torch

        info["torch"] = torch.__version__
        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            info["gpu"] = torch.cuda.get_device_name(0)
            info["gpu_memory_gib"] = round(props.total_memory / 1024**3, 1)
    except ImportError:
        pass
    return info
