"""Run directories: ``runs/<scenario>/<run-id>/`` (DESIGN.md section 6).

A run directory holds ``manifest.json`` (the resolved scenario, seed, overrides, package
versions, git revision), ``metrics.json`` (metrics, intervals, expectations),
``trace.npz`` (arrays only: per-trial results and the demo trajectory; no pickles) and
``figures/*.png``, plus ``retention.json`` when the protocol defines
``retention(scenario, points)`` (curves in the :mod:`sim.retention` format). Every file
is written to a temporary name in the same directory and renamed, so a crash never
leaves a half-written result.
"""
from __future__ import annotations

import io
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_write_bytes", "write_json", "write_npz", "new_run_dir", "versions", "git_revision", "save_run"]


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, Path):
        return str(x)
    return x


def write_json(path: str | Path, obj: Any) -> Path:
    """JSON (NaN/inf written as null) through an atomic rename."""
    return atomic_write_bytes(path, (json.dumps(_jsonable(obj), indent=2, allow_nan=False) + "\n").encode())


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """A compressed ``.npz`` of plain arrays (object arrays are refused: no pickles)."""
    clean = {}
    for k, v in arrays.items():
        a = np.asarray(v)
        if a.dtype == object:
            raise TypeError(f"array {k!r} has dtype object; trace.npz holds plain arrays only")
        clean[k] = a
    buf = io.BytesIO()
    np.savez_compressed(buf, **clean)
    return atomic_write_bytes(path, buf.getvalue())


def new_run_dir(root: str | Path, scenario_name: str, *, seed: int, smoke: bool) -> Path:
    """Create a fresh ``root/<scenario>/<UTC time>-s<seed>[-smoke][-k]/`` directory."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = Path(root) / scenario_name
    base.mkdir(parents=True, exist_ok=True)
    stem = f"{stamp}-s{seed}" + ("-smoke" if smoke else "")
    for i in range(1000):
        d = base / (stem if i == 0 else f"{stem}-{i + 1}")
        try:
            d.mkdir()
            return d
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a new run directory under {base}")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("rnnlab", "numpy", "numba", "scipy", "networkx", "matplotlib", "tqdm"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def git_revision(where: str | Path | None = None) -> str | None:
    """The git commit of the rnnlab source tree (``+dirty`` when modified), if it is a checkout.

    Changes under ``figures/`` (the gallery ``rnnlab reproduce`` itself rewrites) do not count.
    """
    where = Path(where) if where else Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5).stdout.strip()
        if not rev:
            return None
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no",
                                "--", ".", ":(exclude)figures"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _write_retention(run_dir: Path, scenario, result) -> None:
    """``retention.json`` (:mod:`sim.retention`) when the protocol has ``retention(scenario, points)``."""
    from .protocols import PROTOCOLS

    retention = getattr(PROTOCOLS[scenario.meta["protocol"]], "retention", None)
    curves = retention(scenario, result.points) if retention is not None else None
    if curves:
        from .retention import write_retention

        write_retention(run_dir, curves, scenario=scenario.meta["id"] or scenario.name)


def save_run(run_dir: Path, scenario, result, *, started: str) -> None:
    """Write manifest, metrics, trace and figures of a finished run."""
    from .plots import save_figure

    write_json(run_dir / "manifest.json", {
        "scenario": str(scenario.path), "name": scenario.name, "resolved": scenario.resolved(),
        "seed": scenario.config["run"]["seed"], "smoke": scenario.smoke, "overrides": scenario.overrides,
        "versions": versions(), "git": git_revision(), "command": sys.argv, "started": started,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"), "runtime_s": result.runtime,
    })
    write_json(run_dir / "metrics.json", {
        "metrics": result.metrics,
        "points": [{"label": p["label"], "values": p["values"], "metrics": p["metrics"],
                    "intervals": {k: list(v) for k, v in p["intervals"].items()}} for p in result.points],
        "expectations": [{"metric": c.expectation.metric, "measured": c.value, "expected": c.expectation.describe(),
                          "min": c.expectation.min, "max": c.expectation.max,
                          "published": c.expectation.published, "passed": c.passed} for c in result.checks],
        "passed": result.passed,
    })
    arrays: dict[str, np.ndarray] = {}
    for i, p in enumerate(result.points):
        for k in p["trials"][0] if p["trials"] else ():
            arrays[f"point{i}.{k}"] = np.stack([np.asarray(t[k]) for t in p["trials"]])
    if result.demo is not None:
        traj = result.demo["trajectory"]
        arrays.update(traj.arrays(prefix="demo."))
        for k, v in result.demo.items():
            if k != "trajectory":
                arrays[f"demo.{k}"] = np.asarray(v)
    write_npz(run_dir / "trace.npz", arrays)
    _write_retention(run_dir, scenario, result)
    if result.figures:
        (run_dir / "figures").mkdir(exist_ok=True)
    for stem, fig in result.figures:
        save_figure(fig, run_dir / "figures" / f"{stem}.png")
