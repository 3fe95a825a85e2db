"""The line the benchmarks print first: which machine, how busy, when (figures depend on it)."""

from __future__ import annotations

import os
import platform
import sys
import time


def cpu_model() -> str:
    """The CPU model name (from ``/proc/cpuinfo`` on Linux), else the machine type."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> str:
    """CPU model, cores, Python version, load average and date, on one line."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average {load:.1f}, {time.strftime('%Y-%m-%d %H:%M')}"
    )
