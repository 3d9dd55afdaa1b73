"""Shared figure helpers: fresh Agg figures, styles, time axes, status notes, atomic PNG saving."""
from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..record import Trajectory


__all__ = ["save_figure"]

_ON, _OFF = "#222222", "#f4f4f4"          # binary units: black = on, white = off
_BINARY_CMAP = ListedColormap([_OFF, _ON], name="rnnlab_on_off")
_CONT_CMAP = "RdBu_r"
_TIME_LABEL = "time (sweeps)"
_MAX_LEGEND_PATTERNS = 10                  # above this, highlight the 3 closest patterns
_MAX_COLUMNS = 2000                        # raster columns kept (more cannot be seen)
_DPI = 120


# --- helpers ---------------------------------------------------------------------------
def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _check_traj(traj: Any) -> Trajectory:
    if not isinstance(traj, Trajectory):
        raise TypeError(f"expected a sim.Trajectory, got {type(traj).__name__}")
    return traj


def _probe(traj: Trajectory, name: str) -> np.ndarray:
    if name not in traj.probes:
        have = ", ".join(sorted(traj.probes)) or "none"
        raise ValueError(
            f"the trajectory has no {name!r} probe (recorded probes: {have}); "
            f"run sim.simulate with record=Record(probes=(..., {name!r}))")
    return np.asarray(traj.probes[name])


def _field(traj: Trajectory, field: str) -> np.ndarray:
    """The recorded values of one state field, flattened to (R, N)."""
    if field not in traj.states:
        raise ValueError(f"the trajectory has no state field {field!r}; "
                         f"its fields are {', '.join(traj.states)}")
    x = np.asarray(traj.states[field])
    return x.reshape(len(x), -1)


def _off_level(*arrays: np.ndarray) -> int | None:
    """The 'off' value of binary states (-1 for spins, 0 for 0/1 units), None if not binary.

    States that are all on (no off value seen) count as 0/1 units.
    """
    vals = np.unique(np.concatenate([np.unique(np.asarray(a)) for a in arrays]))
    if np.all(np.isin(vals, (-1, 1))) and np.any(vals == -1):
        return -1
    if np.all(np.isin(vals, (0, 1))):
        return 0
    return None


def _colours(x: np.ndarray, off: int | None) -> dict:
    """imshow/pcolormesh colouring: two colours for binary states (drawn as ``x == 1``),
    a diverging map centred on 0 for continuous ones."""
    if off is not None:
        return {"cmap": _BINARY_CMAP, "vmin": 0.0, "vmax": 1.0}
    finite = np.abs(x[np.isfinite(x)])
    lim = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return {"cmap": _CONT_CMAP, "vmin": -lim, "vmax": lim}


def _fmt_t(t: float) -> str:
    return np.format_float_positional(float(t), precision=3, trim="-")


def _status_note(traj: Trajectory) -> str:
    n = traj.ticks
    sweeps = f"{n} sweep" + ("" if n == 1 else "s")
    if traj.status == "converged":
        what = f"converged (fixed point) after {sweeps}"
    elif traj.status == "cycle":
        what = f"{traj.period}-cycle detected after {sweeps}"
    elif traj.status == "diverged":
        what = f"diverged (NaN/inf) after {sweeps}"
    else:
        what = f"ran {sweeps} (status ok)"
    parts = [what]
    if traj.schedule:
        parts.append(f"{traj.schedule} schedule")
    T = np.asarray(traj.temperature, dtype=float)
    if T.size and np.any(T != 0):
        lo, hi = float(T[0]), float(T[-1])
        parts.append(f"T = {lo:.3g}" if np.all(T == T[0]) else f"T = {lo:.3g} → {hi:.3g}")
    R = len(traj.t)
    parts.append(f"{R} record" + ("" if R == 1 else "s"))
    return " · ".join(parts)


def _titles(fig: Figure, ax, title: str | None, default: str, traj: Trajectory) -> None:
    fig.suptitle(default if title is None else title, fontsize=12)
    ax.set_title(_status_note(traj), fontsize=9, color="0.35")


def _time_axis(ax, t: np.ndarray) -> None:
    """x axis in sweeps, from the first record to the last."""
    lo, hi = float(t[0]), float(t[-1])
    ax.set_xlabel(_TIME_LABEL)
    if hi <= lo:                 # a single record (a run of 0 ticks)
        ax.set_xlim(lo - 0.5, lo + 0.5)
        ax.set_xticks([lo])
        return
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10], integer=hi - lo >= 2))


def _markers(R: int) -> dict:
    # markers show where the records are, when there are few enough to see them
    # (unclipped, so that the first and last markers on the axis edges show whole)
    return {"marker": "o", "markersize": 4, "clip_on": False} if R <= 60 else {}


# --- trajectory figures ----------------------------------------------------------------

def save_figure(fig: Figure, path: str | os.PathLike) -> Path:
    """Write ``fig`` to a PNG file atomically and close it.

    The figure is rendered to a temporary file in the target directory, then renamed
    over ``path`` (``os.replace``), so a crash never leaves a half-written PNG.

    Parameters
    ----------
    fig : Figure
    path : str or PathLike
        Destination, ending in ``.png``; its directory must exist.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"save_figure writes PNG files; {str(path)!r} does not end in .png")
    if not path.parent.is_dir():
        raise ValueError(f"directory {str(path.parent)!r} does not exist")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fig.savefig(fh, format="png", dpi=_DPI)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        _close(fig)
    return path


def _close(fig: Figure) -> None:
    # A figure made through pyplot stays registered there until closed; ours never are.
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None and getattr(fig.canvas, "manager", None) is not None:
        plt.close(fig)

