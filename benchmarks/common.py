"""Shared helpers for the benchmarks: machine description, timing, peak memory, and
writing each result as JSON + Markdown under results/benchmarks/."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # benchmark the checkout's own library

OUT = REPO / "results" / "benchmarks"


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem_gib = round(kb / 2**20, 1)
    except (OSError, StopIteration):
        pass
    gpu = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        gpu = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout.strip() or None
    return {
        "date": _dt.date.today().isoformat(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "gpu": gpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def timeit(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def versions(*modules: str) -> dict[str, str]:
    out = {}
    for m in modules:
        try:
            out[m] = __import__(m).__version__
        except Exception:  # noqa: BLE001 - best effort
            out[m] = "n/a"
    return out


def write(name: str, result: dict[str, Any], markdown: str, command: str | None = None) -> None:
    """Write results/benchmarks/<name>.json and .md and print the Markdown (``command``: how to
    rerun it, default ``python benchmarks/<name>.py``)."""
    OUT.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": name, "machine": machine(), **result}
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    m = result["machine"]
    head = (f"# {name}\n\nMeasured {m['date']} on {m['cpu']} ({m['cores']} cores, {m['memory_gib']} GiB"
            f"{', ' + m['gpu'] if m['gpu'] else ', no GPU'}), Python {m['python']}.\n"
            f"Command: `{command or f'python benchmarks/{name}.py'}`\n\n")
    (OUT / f"{name}.md").write_text(head + markdown + "\n")
    print(head + markdown)
