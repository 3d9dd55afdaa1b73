"""Shared benchmark machinery: block timing, the machine's description and load, tables, JSON.

Timing discipline (PERFORMANCE.md): each implementation is timed in blocks (a warm-up
call, then ``reps`` samples, each the mean of as many back-to-back calls as fill
``min_time`` seconds), never in alternating single calls; :func:`time_rounds` runs
``rounds`` rounds of one block per implementation so that load bursts on a shared
machine hit all of them alike. Figures are medians of all samples; ratios compare figures
from one process run.
"""
from __future__ import annotations

import ctypes
import json
import math
import os
import platform
import re
import statistics
import subprocess
import time
from pathlib import Path

import numba
import numpy as np

from ._threads import THREAD_VARS

ROOT = Path(__file__).resolve().parent.parent


# --- timing ---------------------------------------------------------------------------
def time_block(fn, *, reps: int, min_time: float) -> dict:
    """``reps`` samples of the seconds per call of ``fn``, after one warm-up call.

    A sample is the mean over as many back-to-back calls as fill ``min_time`` seconds.
    """
    fn()
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    inner = max(1, math.ceil(min_time / max(once, 1e-9)))
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return {"median_s": statistics.median(samples), "samples_s": samples, "calls_per_sample": inner}


def time_rounds(impls: dict, *, rounds: int, reps: int, min_time: float) -> dict:
    """Time every implementation in blocks of ``reps`` samples, ``rounds`` times over.

    Each round runs one block per implementation (never alternating single calls), so a
    burst of load on a shared machine hits every implementation alike rather than the one
    that happened to run then. The figure is the median of all samples of an implementation.
    """
    samples: dict = {k: [] for k in impls}
    calls: dict = {}
    for _ in range(rounds):
        for k, fn in impls.items():
            r = time_block(fn, reps=reps, min_time=min_time)
            samples[k].extend(r["samples_s"])
            calls[k] = r["calls_per_sample"]
    return {k: {"median_s": statistics.median(v), "samples_s": v, "calls_per_sample": calls[k]}
            for k, v in samples.items()}


# --- the machine ----------------------------------------------------------------------
def loadavg() -> list[float] | None:
    """``os.getloadavg()`` (1, 5, 15 minutes), or None where unavailable."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def fmt_load(load: list[float] | None) -> str:
    return "n/a" if load is None else "/".join(f"{v:.1f}" for v in load)


def loaded(cpu: dict | None, threshold: float = 0.1) -> bool:
    """Whether other processes (or the hypervisor) took more than ``threshold`` cores during a
    :class:`CpuMeter` measurement (then a ratio that needs both cores, such as 2 workers vs 1, is unreliable)."""
    return bool(cpu) and cpu.get("foreign_cores", 0.0) + cpu.get("steal_cores", 0.0) > threshold


def _cpu_jiffies() -> tuple[int, int] | None:
    """(busy, steal) CPU time of the whole machine from /proc/stat, in clock ticks.

    Steal is time the hypervisor gave this virtual machine's CPUs to someone else.
    """
    try:
        with open("/proc/stat") as fh:
            v = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return sum(v) - v[3] - v[4] - v[7], v[7]   # idle, iowait and steal are not busy here


class CpuMeter:
    """How busy the machine was during a measurement, and how much of it was someone else.

    ``machine_cores``: busy CPU time of all processes (/proc/stat) / wall time;
    ``own_cores``: this process and its reaped children (``os.times``) / wall time;
    ``foreign_cores``: the difference, i.e. other users' processes competing for the
    cores; ``steal_cores``: CPU time the hypervisor took from this virtual machine. Pool
    workers and subprocesses count as own once they have been waited for.
    """

    def __enter__(self):
        self.load_before = loadavg()
        self._j0, self._t0, self._w0 = _cpu_jiffies(), os.times(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        wall = max(time.perf_counter() - self._w0, 1e-9)
        t1, j1 = os.times(), _cpu_jiffies()
        own = sum(t1[:4]) - sum(self._t0[:4])
        out = {"wall_s": wall, "load_before": self.load_before, "load_after": loadavg(), "own_cores": own / wall}
        if self._j0 is not None and j1 is not None:
            hz = os.sysconf("SC_CLK_TCK")
            machine_s = (j1[0] - self._j0[0]) / hz
            out["machine_cores"] = machine_s / wall
            out["foreign_cores"] = max(0.0, (machine_s - own) / wall)
            out["steal_cores"] = (j1[1] - self._j0[1]) / hz / wall
        self.result = out
        return False


def fmt_cpu(c: dict | None) -> str:
    """'load 1m a -> b, others c cores' for a :class:`CpuMeter` result."""
    if not c:
        return "load n/a"
    s = f"load {fmt_load(c['load_before'][:1] if c['load_before'] else None)}" \
        f"->{fmt_load(c['load_after'][:1] if c['load_after'] else None)}"
    if "foreign_cores" in c:
        s += f", others {c['foreign_cores']:.1f} cores"
    if c.get("steal_cores", 0.0) >= 0.05:
        s += f", VM steal {c['steal_cores']:.1f}"
    return s


def blas_threads() -> int | None:
    """OpenBLAS's own thread count, read from the loaded library (None if not found)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    for lib in sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps))):
        try:
            handle = ctypes.CDLL(lib)
        except OSError:
            continue
        for sym in ("openblas_get_num_threads", "openblas_get_num_threads64_",
                    "scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads"):
            fn = getattr(handle, sym, None)
            if fn is not None:
                fn.restype = ctypes.c_int
                return int(fn())
    return None


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=False, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        rev = None
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "git_rev": rev,
            "threads_env": {v: os.environ.get(v) for v in THREAD_VARS},
            "numba_threads": numba.config.NUMBA_NUM_THREADS, "blas_threads": blas_threads()}


def machine_lines(mc: dict) -> list[str]:
    return [f"{mc['cpu']}, {mc['cores']} cores, python {mc['python']}, numpy {mc['numpy']}, "
            f"numba {mc['numba']}, git {mc['git_rev']}",
            "threads: " + ", ".join(f"{k}={v}" for k, v in mc["threads_env"].items())
            + f"; numba uses {mc['numba_threads']}, OpenBLAS reports {mc['blas_threads']}"]


# --- output ---------------------------------------------------------------------------
def table(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    w = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    line = lambda r: "  ".join(v.rjust(w[c]) if c else v.ljust(w[c]) for c, v in enumerate(r))  # noqa: E731
    return "\n".join([line(header), line(["-" * k for k in w]), *map(line, rows)])


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` to a temporary name and rename it (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)
