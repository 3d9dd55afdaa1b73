"""Figures of trajectories and protocol results (matplotlib, Agg, no pyplot state).

Every function returns a fresh :class:`matplotlib.figure.Figure` attached to an Agg
canvas; nothing here touches ``matplotlib.pyplot``, so figures never leak between calls
and no display is needed. :func:`save_figure` writes one to PNG atomically.

What each figure shows:

* :func:`energy_figure` -- the energy E(t) of the recorded states against time in
  sweeps (fractional for micro records, see :mod:`sim.record`). For asynchronous
  dynamics with symmetric couplings it never increases (Hopfield 1982, Eq. 8); the
  subtitle gives the run's status ("converged after 3 sweeps", "2-cycle ...").
* :func:`overlap_figure` -- the overlaps m_mu(t) = (1/N) sum_i xi_i^mu s_i(t) with each
  stored pattern, in spin variables, on [-1, 1]; a dashed line marks m = 1 (perfect
  recall of a pattern).
* :func:`raster_figure` -- the state of every unit (rows) at every record (columns,
  centred on the record times). Binary (+-1 or 0/1) states are drawn black (on) and
  white (off); continuous states (e.g. an RNN's ``h``) with a diverging colour map.
* :func:`snapshots_figure` -- the state folded into a 2-D image (``shape``, e.g.
  (10, 10) for N = 100) at a few times, and optionally the stored pattern that the
  final state is closest to.
* :func:`recall_figure` -- the recall protocol: the fraction of trials recalled
  exactly (with 95 % intervals) and with fewer than 5 errors against the number of
  stored memories n, with published values as distinct markers (e.g. Hopfield 1982:
  exact recall about 0.6 at n = 10, N = 100).

:data:`FIGURES` maps the ``kind`` of a scenario's ``[[plot]]`` table to the function.
"""
from __future__ import annotations

import math
import os
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .record import Trajectory

__all__ = ["energy_figure", "overlap_figure", "raster_figure", "snapshots_figure",
           "recall_figure", "save_figure", "FIGURES"]

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
def energy_figure(traj: Trajectory, *, title: str | None = None) -> Figure:
    """Energy of the recorded states against time.

    Parameters
    ----------
    traj : Trajectory
        From :func:`sim.simulate` with the ``"energy"`` probe; records ``R``.
        ``traj.probes["energy"]`` has shape (R,) and ``traj.t`` (R,) (sweeps).
    title : str, optional
        Figure title (default ``"Energy"``); the run's status is shown under it.

    Returns
    -------
    Figure
        One axes, one line E(t).

    Raises
    ------
    ValueError
        When the trajectory was recorded without the ``"energy"`` probe.
    """
    traj = _check_traj(traj)
    E = _probe(traj, "energy")                                  # (R,)
    t = np.asarray(traj.t, dtype=float)                         # (R,)
    fig = _figure(6.4, 4.0)
    ax = fig.add_subplot()
    ax.plot(t, E, color="C0", linewidth=1.6, label="energy E", **_markers(len(t)))
    _time_axis(ax, t)
    ax.set_ylabel("energy E")
    ax.grid(True, alpha=0.3)
    if np.all(np.isfinite(E)) and np.ptp(E) == 0:
        pad = max(1.0, abs(float(E[0])) * 0.1)
        ax.set_ylim(E[0] - pad, E[0] + pad)   # a constant energy: no 1e-16 tick labels
    _titles(fig, ax, title, "Energy", traj)
    return fig


def overlap_figure(traj: Trajectory, *, labels: Sequence[str] | None = None,
                   title: str | None = None) -> Figure:
    """Overlap with each stored pattern against time.

    With more than 10 patterns the three with the largest final ``|m|`` are drawn in
    colour and labelled; the others are drawn in grey under one legend entry.

    Parameters
    ----------
    traj : Trajectory
        From :func:`sim.simulate` with the ``"overlap"`` probe:
        ``traj.probes["overlap"]`` has shape (R, P), ``traj.t`` (R,) (sweeps).
    labels : sequence of str, optional
        One legend label per pattern (P,); default ``"pattern 1"`` .. ``"pattern P"``.
    title : str, optional
        Figure title (default ``"Overlap with the stored patterns"``).

    Returns
    -------
    Figure
        One axes with P overlap lines, a dashed reference line at m = 1 and a faint one
        at m = 0.

    Raises
    ------
    ValueError
        When the ``"overlap"`` probe is missing or ``labels`` has the wrong length.
    """
    traj = _check_traj(traj)
    m = _probe(traj, "overlap")                                 # (R, P)
    m = m.reshape(len(m), -1)
    t = np.asarray(traj.t, dtype=float)                         # (R,)
    P = m.shape[1]
    if labels is None:
        labels = [f"pattern {k + 1}" for k in range(P)]
    elif len(labels) != P:
        raise ValueError(f"labels has {len(labels)} entries for {P} patterns")
    fig = _figure(6.4, 4.0)
    ax = fig.add_subplot()
    ax.axhline(1.0, color="0.3", linestyle="--", linewidth=1.0, label="_m = 1")
    ax.axhline(0.0, color="0.6", linestyle=":", linewidth=0.8, label="_m = 0")
    mk = _markers(len(t))
    if P <= _MAX_LEGEND_PATTERNS:
        for k in range(P):
            ax.plot(t, m[:, k], color=f"C{k}", linewidth=1.6, label=labels[k], **mk)
    else:
        top = set(np.argsort(-np.abs(m[-1]), kind="stable")[:3].tolist())
        first_other = True
        for k in range(P):
            if k in top:
                continue
            ax.plot(t, m[:, k], color="0.7", linewidth=0.8,
                    label=f"other patterns ({P - 3})" if first_other else f"_{labels[k]}")
            first_other = False
        for c, k in enumerate(sorted(top)):
            ax.plot(t, m[:, k], color=f"C{c}", linewidth=1.8, label=labels[k], **mk)
    _time_axis(ax, t)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel(r"overlap $m_\mu$")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, frameon=False)
    _titles(fig, ax, title, "Overlap with the stored patterns", traj)
    return fig


def _column_edges(t: np.ndarray) -> np.ndarray:
    """Edges (R+1,) of the raster columns: centred on the record times, meeting halfway."""
    if len(t) == 1:
        return np.array([t[0] - 0.5, t[0] + 0.5])
    mid = 0.5 * (t[1:] + t[:-1])
    return np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]])


def raster_figure(traj: Trajectory, *, field: str = "s", title: str | None = None) -> Figure:
    """Raster of the state: units (rows) against time (columns).

    Column k is centred on the time of record k and reaches halfway to its neighbours,
    so the columns line up with the markers of :func:`energy_figure`. Runs with more
    than 2000 records are drawn from 2000 records evenly spread over the run (the
    first and last included): more columns than that cannot be told apart on screen.

    Parameters
    ----------
    traj : Trajectory
        Any trajectory from :func:`sim.simulate`; ``traj.states[field]`` has shape
        (R, N) (further axes are flattened into N), ``traj.t`` (R,) (sweeps).
    field : str
        The state field to draw (``"s"`` for Hopfield, ``"h"`` for an RNN, ...).
    title : str, optional
        Figure title (default ``"State raster (<field>)"``).

    Returns
    -------
    Figure
        A raster axes holding one image (an ``AxesImage`` for equally spaced records,
        a ``QuadMesh`` with the exact column widths otherwise) and a colour bar axes
        saying which colour is on and which is off (or the value scale).

    Raises
    ------
    ValueError
        When ``field`` is not a state field of the trajectory.
    """
    traj = _check_traj(traj)
    x = _field(traj, field)                                      # (R, N)
    t = np.asarray(traj.t, dtype=float)                          # (R,)
    R, N = x.shape
    off = _off_level(x)
    kw = _colours(x, off)
    thin = R > _MAX_COLUMNS
    if thin:
        keep = np.round(np.linspace(0, R - 1, _MAX_COLUMNS)).astype(int)
        x, t = x[keep], np.linspace(t[0], t[-1], _MAX_COLUMNS)  # within a record of t[keep]
    edges = _column_edges(t)                                     # (C+1,)
    fig = _figure(7.0, min(6.0, 2.6 + 0.03 * N))
    ax = fig.add_subplot()
    data = ((x == 1) if off is not None else x).T.astype(np.float32)    # (N, C)
    widths = np.diff(edges)
    if thin or np.allclose(widths, widths[0], rtol=1e-9, atol=0.0):
        im = ax.imshow(data, aspect="auto", interpolation="nearest", origin="upper",
                       extent=(edges[0], edges[-1], N - 0.5, -0.5), **kw)
    else:
        im = ax.pcolormesh(edges, np.arange(N + 1) - 0.5, data, rasterized=True, **kw)
        ax.set_ylim(N - 0.5, -0.5)
    _time_axis(ax, t)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylabel("unit i")
    ax.yaxis.set_major_locator(MaxNLocator(nbins="auto", integer=True))
    cb = fig.colorbar(im, ax=ax, pad=0.02, fraction=0.04, aspect=15 if off is not None else 25)
    if off is not None:
        cb.set_ticks([0.25, 0.75])
        cb.set_ticklabels([f"off ({off})", "on (+1)" if off == -1 else "on (1)"])
        cb.ax.tick_params(length=0)
    else:
        cb.set_label(field)
    _titles(fig, ax, title, f"State raster ({field})", traj)
    return fig


def _pick_records(t: np.ndarray, times: Sequence[float] | None, n_default: int = 6) -> list[int]:
    R = len(t)
    if times is None:
        return np.unique(np.round(np.linspace(0, R - 1, min(n_default, R))).astype(int)).tolist()
    idx = []
    for time in np.atleast_1d(np.asarray(times, dtype=float)):
        if not (t[0] - 1e-12 <= time <= t[-1] + 1e-12):
            raise ValueError(f"time {time:g} is outside the recorded span "
                             f"[{_fmt_t(t[0])}, {_fmt_t(t[-1])}] sweeps")
        idx.append(max(0, int(np.searchsorted(t, time + 1e-12, side="right")) - 1))
    if not idx:
        raise ValueError("times is empty")
    return idx


def _as_spin(x: np.ndarray, off: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return 2.0 * x - 1.0 if off == 0 else x


def snapshots_figure(traj: Trajectory, *, shape: tuple[int, int],
                     times: Sequence[float] | None = None, field: str = "s",
                     patterns: np.ndarray | None = None, title: str | None = None) -> Figure:
    """The state folded into 2-D images at a few times.

    Parameters
    ----------
    traj : Trajectory
        Any trajectory from :func:`sim.simulate`; ``traj.states[field]`` has shape
        (R, N) and ``traj.t`` (R,).
    shape : (int, int)
        Image shape (rows, cols) with ``rows * cols == N``, filled row by row.
    times : sequence of float, optional
        Times in sweeps; each panel shows the last record at or before that time
        (titled with the record's own time). Default: about 6 records evenly spread
        from the initial to the final one.
    field : str
        The state field to draw.
    patterns : ndarray (P, N), optional
        Stored patterns in the net's unit convention. When given, a last panel shows
        the pattern with the largest ``|m|`` with the final state, its overlap
        ``m = (1/N) sum_i xi_i s_i`` (spin variables) in the title.
    title : str, optional
        Figure title (default ``"State snapshots"``).

    Returns
    -------
    Figure
        One image axes per snapshot (plus one for the closest pattern).

    Raises
    ------
    ValueError
        When ``shape`` does not hold N units, a time is outside the run, or
        ``patterns`` does not have shape (P, N) or uses another unit convention.
    """
    traj = _check_traj(traj)
    x = _field(traj, field)                                      # (R, N)
    t = np.asarray(traj.t, dtype=float)
    R, N = x.shape
    try:
        rows, cols = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be a pair (rows, cols), got {shape!r}") from None
    if rows < 1 or cols < 1 or rows * cols != N:
        raise ValueError(f"snapshot shape {tuple(shape)} holds {rows * cols} units "
                         f"but the state field {field!r} has N = {N}")
    idx = _pick_records(t, times)
    closest = None
    if patterns is not None:
        pat = np.asarray(patterns)
        pat = pat.reshape(1, -1) if pat.ndim == 1 else pat
        if pat.ndim != 2 or pat.shape[1] != N or len(pat) == 0:
            raise ValueError(f"patterns must have shape (P, {N}), got {np.shape(patterns)}")
        off = _off_level(x, pat)
        if off is None:
            raise ValueError("patterns and states must be binary in the same convention "
                             "(both +-1 or both 0/1)")
        m = _as_spin(pat, off) @ _as_spin(x[-1], off) / N        # (P,)
        k = int(np.argmax(np.abs(m)))
        closest = (k, float(m[k]), pat[k])
    off = _off_level(x) if closest is None else off
    n_panels = len(idx) + (closest is not None)
    ncols = min(n_panels, 7)
    nrows = math.ceil(n_panels / ncols)
    aspect = rows / cols
    if aspect >= 1:                                       # tall panels: cap their height
        panel_h = min(1.9 * aspect, 3.0)
        panel_w = panel_h / aspect
    else:
        panel_w, panel_h = 1.9, max(1.9 * aspect, 0.6)
    extra_w = 0.4 if off is not None else 1.2            # room for the colour bar
    fig = _figure(max(ncols * (panel_w + 0.1) + extra_w, 4.0), nrows * (panel_h + 0.5) + 0.8)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    kw = _colours(x, off)

    def img(v):                                                  # (N,) -> (rows, cols)
        v = np.asarray(v)
        return ((v == 1) if off is not None else v).astype(np.float64).reshape(rows, cols)
    im = None
    for ax, i in zip(axes, idx):
        im = ax.imshow(img(x[i]), interpolation="nearest", **kw)
        label = "final" if i == R - 1 else ("initial" if i == 0 else "")
        ax.set_title(f"t = {_fmt_t(t[i])}" + (f" ({label})" if label else ""), fontsize=9)
    if closest is not None:
        k, mk, xi = closest
        ax = axes[len(idx)]
        ax.imshow(img(xi), interpolation="nearest", **kw)
        ax.set_title(f"closest: pattern {k + 1}\nm = {mk:+.2f}", fontsize=9, color="C2")
        for sp in ax.spines.values():
            sp.set_edgecolor("C2")
            sp.set_linewidth(2.0)
    for ax in axes[:n_panels]:
        ax.set_xticks([])
        ax.set_yticks([])
        if max(rows, cols) <= 16:       # small images: show where one unit ends
            ax.set_xticks(np.arange(cols + 1) - 0.5, minor=True)
            ax.set_yticks(np.arange(rows + 1) - 0.5, minor=True)
            ax.tick_params(which="minor", length=0)
            ax.grid(which="minor", color="0.55", linewidth=0.6)
    for ax in axes[n_panels:]:
        ax.remove()
    if off is not None:
        on_label = "on (+1)" if off == -1 else "on (1)"
        fig.legend(handles=[Patch(facecolor=_ON, edgecolor="0.3", label=on_label),
                            Patch(facecolor=_OFF, edgecolor="0.3", label=f"off ({off})")],
                   loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    else:
        fig.colorbar(im, ax=list(axes[:n_panels]), shrink=0.8, label=field)
    fig.suptitle(f"{'State snapshots' if title is None else title}\n{_status_note(traj)}",
                 fontsize=11)
    return fig


# --- protocol figures ------------------------------------------------------------------
def _get(d: Mapping, key: str, where: str) -> float:
    if key not in d:
        raise ValueError(f"{where} has no {key!r} key (keys: {', '.join(map(str, d))})")
    return float(d[key])


_OURS = ("exact recall (95% interval)", "exact recall", "fewer than 5 errors")


def recall_figure(points: Sequence[Mapping[str, float]], *,
                  published: Sequence[Mapping[str, Any]] | None = None,
                  title: str | None = None) -> Figure:
    """Fraction of recalled memories against the number of stored memories n.

    Parameters
    ----------
    points : sequence of dict, length K
        One per n: ``{"n": int, "exact": float, "exact_lo": float, "exact_hi": float,
        "lt5": float}``: the fraction recalled with no error, a 95 % interval for it
        (drawn as error bars; optional), and the fraction ending with fewer than 5
        errors (optional).
    published : sequence of dict, optional
        ``{"n": int, "value": float, "label": str}``: published values drawn as
        distinct markers, one legend entry per label.
    title : str, optional
        Figure title (default ``"Recall against the number of stored memories"``).

    Returns
    -------
    Figure
        One axes: an error-bar line for exact recall, a line for "< 5 errors" when
        given, and one marker series per published label.

    Raises
    ------
    ValueError
        When ``points`` is empty, a key is missing, or an interval does not contain
        its value.
    """
    if not points:
        raise ValueError("recall_figure needs at least one point")
    pts = sorted(points, key=lambda p: _get(p, "n", "a recall point"))
    n = np.array([_get(p, "n", f"point {p}") for p in pts])
    exact = np.array([_get(p, "exact", f"point n={p['n']}") for p in pts])
    has_ci = [("exact_lo" in p) or ("exact_hi" in p) for p in pts]
    fig = _figure(6.4, 4.2)
    ax = fig.add_subplot()
    if any(has_ci):
        lo = np.array([_get(p, "exact_lo", f"point n={p['n']}") for p in pts])
        hi = np.array([_get(p, "exact_hi", f"point n={p['n']}") for p in pts])
        bad = ~((lo <= exact + 1e-12) & (exact <= hi + 1e-12))
        if np.any(bad):
            raise ValueError(f"exact_lo <= exact <= exact_hi fails at n = {n[bad].astype(int).tolist()}")
        ax.errorbar(n, exact, yerr=np.clip(np.vstack([exact - lo, hi - exact]), 0.0, None), color="C0", marker="o",
                    markersize=5, linewidth=1.6, capsize=3, label="exact recall (95% interval)")
    else:
        ax.plot(n, exact, color="C0", marker="o", markersize=5, linewidth=1.6, label="exact recall")
    if any("lt5" in p for p in pts):
        sel = [i for i, p in enumerate(pts) if "lt5" in p]
        ax.plot(n[sel], [float(pts[i]["lt5"]) for i in sel], color="C1", marker="s", markersize=4,
                linestyle="--", linewidth=1.4, label="fewer than 5 errors")
    if published:
        markers = ["*", "D", "^", "P", "X", "v"]
        groups: dict[str, list[tuple[float, float]]] = {}
        for p in published:
            groups.setdefault(str(p.get("label", "published")), []).append(
                (_get(p, "n", "a published value"), _get(p, "value", "a published value")))
        for j, (label, xy) in enumerate(groups.items()):
            xs, ys = zip(*xy)
            ax.plot(xs, ys, linestyle="none", marker=markers[j % len(markers)], markersize=12,
                    color=f"C{3 + j}", markeredgecolor="black", markeredgewidth=0.8, label=label,
                    zorder=5)
    ax.set_xlabel("number of stored memories n")
    ax.set_ylabel("fraction recalled")
    ax.set_ylim(0.0, 1.05)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    rank = {label: k for k, label in enumerate(_OURS)}
    order = sorted(range(len(labels)), key=lambda i: (rank.get(labels[i], len(_OURS)), i))
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="best", fontsize=9)
    fig.suptitle("Recall against the number of stored memories" if title is None else title,
                 fontsize=12)
    return fig


# --- output ----------------------------------------------------------------------------
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


FIGURES: dict[str, Callable[..., Figure]] = {
    "energy": energy_figure,
    "overlap": overlap_figure,
    "raster": raster_figure,
    "snapshots": snapshots_figure,
    "recall_curve": recall_figure,
}
