"""Figures of one trajectory: energy, overlaps, state raster, state snapshots as images."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ..record import Trajectory

from .base import (_MAX_COLUMNS, _MAX_LEGEND_PATTERNS, _OFF, _ON, _check_traj, _colours, _field, _figure,
                   _fmt_t, _markers, _off_level, _probe, _status_note, _time_axis, _titles)

__all__ = ["energy_figure", "overlap_figure", "raster_figure", "snapshots_figure"]

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
            # two line collections, not 2 x 17 minor ticks per panel (ticks are slow to build)
            ax.vlines(np.arange(cols + 1) - 0.5, -0.5, rows - 0.5, colors="0.55", linewidths=0.6)
            ax.hlines(np.arange(rows + 1) - 0.5, -0.5, cols - 0.5, colors="0.55", linewidths=0.6)
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
