"""Retention curves: memory age -> recall fidelity, one format for every architecture (issue 7).

Every retention protocol writes ``retention.json`` into its run directory. The x axis is
the memory *age* (attractor nets: the number of patterns stored after the probed one;
sequence nets: the lag in steps between seeing a symbol and being asked for it). The y
axis is the recall fidelity normalised so that 0 is chance and 1 is perfect,

    y = (raw - chance) / (perfect - chance),

e.g. ``(accuracy - 1/K) / (1 - 1/K)`` for a K-symbol delayed recall task, or the overlap
``m`` itself for an attractor net (chance 0, perfect 1). ``lo``/``hi`` bound a 95 %
interval of ``y``; ``raw`` keeps the unnormalised metric named by ``raw_label``::

    {"scenario": "<scenario id>",
     "x_label": "memory age (items presented after it)",
     "y_label": "recall fidelity (0 = chance, 1 = perfect)",
     "curves": [{"arch": "hopfield-hebb", "family": "attractor",
                 "x": [...], "y": [...], "lo": [...], "hi": [...],
                 "raw": [...], "raw_label": "overlap m", "n": 20,
                 "detail": {"N": 200, "load": 0.2}}]}

A protocol opts in by defining ``retention(self, scenario, points) -> list of curves``
(built with :func:`retention_curve`); :func:`sim.store.save_run` then writes the file
into every run directory of that protocol (``rnnlab run``, ``reproduce``, ``compare``).
Undefined values (NaN) are stored as JSON ``null`` and read back as NaN. The file is
written through :func:`sim.store.write_json` (temporary name + atomic rename) and is
validated both when written and when read, so ``rnnlab compare`` never draws a
malformed curve: an error names the file, the curve and the key.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from .errors import UserError

__all__ = ["RETENTION_FILE", "X_LABEL", "Y_LABEL", "FAMILIES", "RetentionFormatError", "normalise",
           "retention_curve", "validate_retention", "write_retention", "read_retention"]

RETENTION_FILE = "retention.json"
X_LABEL = "memory age (items presented after it)"
Y_LABEL = "recall fidelity (0 = chance, 1 = perfect)"
FAMILIES = ("attractor", "sequence")
_SERIES = ("x", "y", "lo", "hi", "raw")
_CURVE_KEYS = {"arch", "family", *_SERIES, "raw_label", "n", "detail"}
_TOP_KEYS = {"scenario", "x_label", "y_label", "curves"}
_TOL = 1e-9  # slack for lo <= y <= hi after float rounding


class RetentionFormatError(UserError, ValueError):
    """A retention curve or ``retention.json`` does not follow the schema (names the key)."""


def normalise(raw: Any, chance: float, perfect: float = 1.0):
    """Map a raw recall metric onto 0 = chance, 1 = perfect: ``(raw - chance) / (perfect - chance)``.

    Parameters
    ----------
    raw : float or array_like
        Raw metric (accuracy, overlap, fraction recalled), any shape.
    chance, perfect : float
        The raw value of a guessing / of a perfect recaller; ``perfect != chance``.

    Returns
    -------
    float or ndarray, same shape as ``raw``.
    """
    if not (math.isfinite(chance) and math.isfinite(perfect)) or perfect == chance:
        raise ValueError(f"normalise: need finite chance != perfect, got chance={chance}, perfect={perfect}")
    import numpy as np

    out = (np.asarray(raw, dtype=float) - chance) / (perfect - chance)
    return float(out) if out.ndim == 0 else out


def retention_curve(arch: str, family: str, x: Sequence[float], y: Sequence[float], lo: Sequence[float],
                    hi: Sequence[float], raw: Sequence[float], *, raw_label: str, n: int,
                    detail: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One validated curve dict (lists of plain floats); see the module docstring for the fields.

    Parameters
    ----------
    arch : str
        Architecture name, e.g. ``"hopfield-hebb"``, ``"lstm"``.
    family : {"attractor", "sequence"}
    x : sequence of float, shape (P,)
        Memory ages, strictly increasing, >= 0.
    y, lo, hi : sequence of float, shape (P,)
        Normalised fidelity and its 95 % interval (``lo <= y <= hi``); NaN where undefined.
    raw : sequence of float, shape (P,)
        The raw metric named by ``raw_label``.
    n : int
        Trials per point (>= 1).
    detail : mapping, optional
        Free-form JSON-able settings (N, load, H, n_params, budget, ...).
    """
    c = {"arch": arch, "family": family, "x": _floats(x), "y": _floats(y), "lo": _floats(lo),
         "hi": _floats(hi), "raw": _floats(raw), "raw_label": raw_label, "n": n,
         "detail": dict(detail or {})}
    _check_curve(c, "retention_curve", 0)
    return c


def _floats(seq) -> list[float]:
    try:
        return [float("nan") if v is None else float(v) for v in seq]
    except (TypeError, ValueError) as exc:
        raise RetentionFormatError(f"retention curve: expected a sequence of numbers: {exc}") from None


def _fail(source: str, where: str, msg: str):
    raise RetentionFormatError(f"{source}: {where}: {msg}")


def _check_curve(c: Any, source: str, i: int) -> dict[str, Any]:
    where = f"curves[{i}]"
    if not isinstance(c, Mapping):
        _fail(source, where, f"expected a table (dict), got {type(c).__name__}")
    unknown = sorted(set(c) - _CURVE_KEYS)
    if unknown:
        _fail(source, f"{where}.{unknown[0]}", f"unknown key; curve keys are {sorted(_CURVE_KEYS)} "
              "(free-form settings go in 'detail')")
    for k in sorted(_CURVE_KEYS - {"detail"}):
        if k not in c:
            _fail(source, f"{where}.{k}", "missing")
    where = f"curves[{i}] ({c['arch']!r})" if isinstance(c["arch"], str) else where
    if not isinstance(c["arch"], str) or not c["arch"].strip():
        _fail(source, f"{where}.arch", "expected a non-empty string")
    if c["family"] not in FAMILIES:
        _fail(source, f"{where}.family", f"expected one of {list(FAMILIES)}, got {c['family']!r}")
    if not isinstance(c["raw_label"], str) or not c["raw_label"].strip():
        _fail(source, f"{where}.raw_label", "expected a non-empty string naming the raw metric")
    if isinstance(c["n"], bool) or not isinstance(c["n"], int) or c["n"] < 1:
        _fail(source, f"{where}.n", f"expected an integer >= 1 (trials per point), got {c['n']!r}")
    detail = c.get("detail", {})
    if not isinstance(detail, Mapping):
        _fail(source, f"{where}.detail", f"expected a table (dict), got {type(detail).__name__}")
    series = {}
    for k in _SERIES:
        v = c[k]
        if isinstance(v, (str, bytes)) or not isinstance(v, Sequence):
            _fail(source, f"{where}.{k}", f"expected a list of numbers, got {type(v).__name__}")
        vals = []
        for j, e in enumerate(v):
            if e is None:
                vals.append(float("nan"))
            elif isinstance(e, bool) or not isinstance(e, (int, float)):
                _fail(source, f"{where}.{k}[{j}]", f"expected a number or null, got {e!r}")
            else:
                vals.append(float(e))
        series[k] = vals
    p = len(series["x"])
    if p == 0:
        _fail(source, f"{where}.x", "expected at least one memory age")
    for k in _SERIES[1:]:
        if len(series[k]) != p:
            _fail(source, f"{where}.{k}", f"has {len(series[k])} values but x has {p}")
    x = series["x"]
    if any(not math.isfinite(a) or a < 0 for a in x):
        _fail(source, f"{where}.x", f"memory ages must be finite and >= 0, got {x}")
    if any(b <= a for a, b in zip(x, x[1:])):
        _fail(source, f"{where}.x", f"memory ages must be strictly increasing, got {x}")
    for j, (y, lo, hi) in enumerate(zip(series["y"], series["lo"], series["hi"])):
        if all(map(math.isfinite, (y, lo, hi))) and not (lo - _TOL <= y <= hi + _TOL):
            _fail(source, f"{where}.lo/hi[{j}]", f"interval [{lo}, {hi}] does not contain y = {y}")
    return {"arch": c["arch"], "family": c["family"], **series, "raw_label": c["raw_label"], "n": c["n"],
            "detail": dict(detail)}


def validate_retention(obj: Any, source: str = "retention") -> dict[str, Any]:
    """Check a retention document; return a clean copy (lists of floats, null -> NaN).

    Raises
    ------
    RetentionFormatError
        Naming ``source``, the curve and the key that is wrong.
    """
    if not isinstance(obj, Mapping):
        _fail(source, "top level", f"expected a JSON object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - _TOP_KEYS)
    if unknown:
        _fail(source, unknown[0], f"unknown key; expected {sorted(_TOP_KEYS)}")
    for k in sorted(_TOP_KEYS):
        if k not in obj:
            _fail(source, k, "missing")
    for k in ("scenario", "x_label", "y_label"):
        if not isinstance(obj[k], str) or not obj[k].strip():
            _fail(source, k, f"expected a non-empty string, got {obj[k]!r}")
    curves = obj["curves"]
    if isinstance(curves, (str, bytes, Mapping)) or not isinstance(curves, Sequence) or not curves:
        _fail(source, "curves", "expected a non-empty list of curves")
    return {"scenario": obj["scenario"], "x_label": obj["x_label"], "y_label": obj["y_label"],
            "curves": [_check_curve(c, source, i) for i, c in enumerate(curves)]}


def write_retention(run_dir: str | Path, curves: Sequence[Mapping[str, Any]], *, scenario: str,
                    x_label: str = X_LABEL, y_label: str = Y_LABEL) -> Path:
    """Validate ``curves`` and write ``run_dir/retention.json`` atomically; return its path.

    Parameters
    ----------
    run_dir : path
        The run directory (created if missing).
    curves : sequence of dict
        Curves as built by :func:`retention_curve` (or plain dicts with the same keys).
    scenario : str
        The scenario id (``[meta] id``, or its name when it has none).
    """
    from .store import write_json

    doc = validate_retention({"scenario": scenario, "x_label": x_label, "y_label": y_label,
                              "curves": list(curves)}, source=f"write_retention({scenario!r})")
    return write_json(Path(run_dir) / RETENTION_FILE, doc)


def read_retention(path: str | Path) -> dict[str, Any]:
    """Read and validate a ``retention.json`` (or the one inside a run directory).

    Raises
    ------
    RetentionFormatError
        When the file is missing, is not JSON, or breaks the schema.
    """
    path = Path(path)
    if path.is_dir():
        path = path / RETENTION_FILE
    try:
        obj = json.loads(path.read_text())
    except OSError as exc:
        raise RetentionFormatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RetentionFormatError(f"{path}: not valid JSON: {exc}") from None
    return validate_retention(obj, source=str(path))
