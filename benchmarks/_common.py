"""Shared machinery: interleaved repetitions, summaries, tables, machine description."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Size presets of every suite: "tiny" (a test, seconds), "quick" (minutes), "full".
MODES = ("tiny", "quick", "full")


def summary(values: Sequence[float]) -> dict[str, Any]:
    """Median, min and max of repeated measurements (and the values themselves)."""
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("no measurement to summarise")
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "values": vals}


def ratio_summary(num: Sequence[float], den: Sequence[float]) -> dict[str, Any]:
    """Per-repetition ratios ``num[r] / den[r]`` (pairs measured back to back)."""
    return summary([a / b for a, b in zip(num, den)])


def interleaved(methods: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[Any]]:
    """Run every method once per round, ``repeats`` rounds, in rotating order.

    A busy machine then slows every method alike, and repetition ``r`` of two methods
    are measured close in time (their ratio is taken pair by pair). The order rotates
    by one each round so that no method is always first after a slow one.
    """
    names = list(methods)
    out: dict[str, list[Any]] = {n: [] for n in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            out[name].append(methods[name]())
    return out


def fitted_exponent(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of ``log y`` against ``log x`` (``y ~ x ** slope``)."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    if lx.size < 2 or np.ptp(lx) == 0:
        return float("nan")
    return float(np.polyfit(lx, ly, 1)[0])


def cpu_seconds() -> float:
    """CPU time of this process, all threads, user + system (high resolution)."""
    return time.process_time()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def fmt_range(s: dict[str, Any], spec: str = ".2f", scale: float = 1.0) -> str:
    """``median (min-max)`` of a summary."""
    return (f"{s['median'] * scale:{spec}} ({s['min'] * scale:{spec}}–"
            f"{s['max'] * scale:{spec}})")


@dataclass
class Table:
    """One Markdown table of a suite, with its title and a note on how to read it."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""
    align: str = ""  # one letter per column: l or r (default: first left, rest right)

    def markdown(self) -> str:
        align = self.align or "l" + "r" * (len(self.columns) - 1)
        lines = [f"**{self.title}**", ""] if self.title else []
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join("---:" if a == "r" else "---" for a in align) + "|")
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in self.rows]
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": self.columns, "rows": self.rows,
                "note": self.note}


def _gpu() -> str | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        return out or None
    except (OSError, subprocess.SubprocessError):
        return None


def machine() -> dict[str, Any]:
    """What ran the benchmark: CPU, cores, memory, load, versions, backend, GPU."""
    import fairtrain

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "memory_gib": _mem_total_gib(),
        "numpy": np.__version__,
        "fairtrain": fairtrain.__version__,
        "gpu": _gpu(),
        "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow (default)"),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }
    for mod in ("keras", "tensorflow", "jax", "torch", "pandas", "fairlearn", "imblearn"):
        if mod in sys.modules:  # only what the suites imported: never import TF here
            info[mod] = getattr(sys.modules[mod], "__version__", "?")
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mem_total_gib() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def mem_available_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def machine_line(info: dict[str, Any]) -> str:
    load = info.get("load_average")
    load_s = "n/a" if not load else "/".join(f"{x:.1f}" for x in load)
    parts = [f"{info['cpu']}, {info['cpus']} CPUs, {info['memory_gib']} GiB",
             f"load average {load_s} (1/5/15 min) at the end",
             f"GPU: {info['gpu'] or 'none'}", f"Python {info['python']}",
             f"NumPy {info['numpy']}"]
    for mod in ("keras", "tensorflow", "jax", "torch", "pandas", "fairlearn", "imblearn"):
        if mod in info:
            parts.append(f"{mod} {info[mod]}")
    parts.append(f"Keras backend {info['keras_backend']}")
    return "; ".join(parts)


def write_results(path: str, suite: str, mode: str, command: str, tables: list[Table],
                  extra: dict[str, Any]) -> dict[str, Any]:
    info = machine()
    doc = {"suite": suite, "mode": mode, "command": command, "machine": info,
           "tables": [t.as_dict() for t in tables], **extra}
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, default=_json_default)
    return doc


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, float) and math.isnan(obj):
        return None
    return str(obj)
