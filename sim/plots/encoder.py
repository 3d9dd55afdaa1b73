"""Figures of the encoder protocol (Ackley, Hinton & Sejnowski 1985).

* :func:`annealing_figure` -- temperature (top) and energy (bottom) against time in units
  of time during one clamped and one free annealing; the statistics-collection window is
  shaded.
* :func:`hinton_figure` -- Hinton diagram of the learned weights: a square per coupling,
  area proportional to |w|, white positive, black negative, grey background; the biases
  (couplings to the always-on unit) in the last column; absent couplings left blank.
* :func:`codes_figure` -- the hidden code of each environmental vector (rows) as black
  (on) / white (off) cells.
* :func:`cycles_figure` -- the empirical distribution of the learning cycles to distinct
  codes over trials, with the median and a published median.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .base import _OFF, _ON, _figure

__all__ = ["annealing_figure", "hinton_figure", "codes_figure", "cycles_figure"]


def annealing_figure(runs: dict, temps: np.ndarray, *, collect_time: int, title: str | None = None) -> Figure:
    """Temperature and energy during annealings.

    Parameters
    ----------
    runs : dict label -> (t (R,), E (R,))
        Record times in units of time (single-probe records are fractional) and energies.
    temps : ndarray (K,)
        Temperature of each unit of time.
    collect_time : int
        The last ``collect_time`` units of time are the statistics window (shaded).
    """
    fig = _figure(7.0, 5.2)
    axT, axE = fig.subplots(2, 1, sharex=True, height_ratios=[1, 2])
    K = len(temps)
    axT.step(np.arange(K + 1), np.r_[temps, temps[-1]], where="post", color="C3", linewidth=1.8)
    axT.set_ylabel("temperature T")
    axT.set_ylim(0, max(temps) * 1.15)
    for i, (label, (t, E)) in enumerate(runs.items()):
        axE.plot(np.asarray(t, dtype=float), np.asarray(E), color=f"C{i}", linewidth=1.2, drawstyle="steps-post",
                 label=label)
    for ax in (axT, axE):
        ax.axvspan(K - collect_time, K, color="0.85", zorder=0)
        ax.grid(True, alpha=0.3)
    axE.text(K - collect_time / 2, 0.98, "statistics", transform=axE.get_xaxis_transform(), ha="center", va="top",
             fontsize=9, color="0.3")
    axE.set_xlabel("time (units of time: one probe per free unit on average)")
    axE.set_ylabel("energy E")
    axE.set_xlim(0, K)
    axE.legend(loc="upper right", fontsize=9, bbox_to_anchor=(1.0, 0.9))
    fig.suptitle(title or "Annealing")
    return fig


def _labels(v: int, h: int) -> list[str]:
    return [f"V1.{i + 1}" for i in range(v)] + [f"V2.{i + 1}" for i in range(v)] + [f"H{i + 1}" for i in range(h)]


def hinton_figure(Wa: np.ndarray, mask: np.ndarray, *, v: int, h: int, title: str | None = None) -> Figure:
    """Hinton diagram of augmented weights Wa (N+1, N+1): rows = units, columns = units + bias.

    Parameters
    ----------
    Wa : ndarray (N+1, N+1)
        Learned weights, the last unit being the always-on (bias) unit.
    mask : ndarray (N+1, N+1) bool
        Couplings that exist (others are left blank).
    v, h : int
        Visible-group and hidden sizes (N = 2v + h), for the labels.
    """
    N = Wa.shape[0] - 1
    W = Wa[:N, :]                        # (N, N+1): the bias column last
    M = mask[:N, :]
    scale = max(float(np.abs(W[M]).max()) if M.any() else 1.0, 1e-12)
    fig = _figure(1.2 + 0.55 * (N + 1), 1.0 + 0.5 * N)
    ax = fig.add_subplot()
    ax.set_facecolor("0.55")
    for i in range(N):
        for j in range(N + 1):
            if not M[i, j]:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, color="0.92", zorder=0))
                continue
            side = np.sqrt(abs(W[i, j]) / scale) * 0.9
            if side > 0:
                ax.add_patch(Rectangle((j - side / 2, i - side / 2), side, side,
                                       color="white" if W[i, j] > 0 else "black", zorder=2))
    names = _labels(v, h)
    ax.set_xticks(range(N + 1), names + ["bias"], rotation=90)
    ax.set_yticks(range(N), names)
    ax.set_xlim(-0.5, N + 0.5)
    ax.set_ylim(N - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xlabel("from unit (white > 0, black < 0; area ~ |w|)")
    ax.set_ylabel("to unit")
    ax.set_title((title or "Learned weights") + f"\nmax |w| = {scale:g}", fontsize=10)
    return fig


def codes_figure(codes: np.ndarray, *, success_cycle: int | None = None, title: str | None = None,
                 criterion: str = "distinct") -> Figure:
    """Hidden codes (P, H) of 0/1 as a grid: rows = environmental vectors, columns = hidden units.

    ``criterion`` names the success condition reached at ``success_cycle`` (e.g. "well-spaced").
    """
    codes = np.asarray(codes)
    P, H = codes.shape
    fig = _figure(1.8 + 0.9 * H, 1.2 + 0.55 * P)
    ax = fig.add_subplot()
    from matplotlib.colors import ListedColormap

    ax.imshow(codes, cmap=ListedColormap([_OFF, _ON]), vmin=0, vmax=1, aspect="equal")
    for (i, j), c in np.ndenumerate(codes):
        ax.text(j, i, str(int(c)), ha="center", va="center", color="white" if c else "black", fontsize=11)
    ax.set_xticks(range(H), [f"H{j + 1}" for j in range(H)])
    ax.set_yticks(range(P), [f"vector {i + 1}" for i in range(P)])
    ax.set_xticks(np.arange(H + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(P + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="0.5", linewidth=1)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("hidden unit (black = on)")
    n = len(np.unique(codes, axis=0))
    when = f"{criterion} after {success_cycle} cycles" if success_cycle else f"not {criterion}"
    ax.set_title((title or "Hidden codes") + f"\n{n} distinct codes, {when}", fontsize=10)
    return fig


def cycles_figure(success_cycle: np.ndarray, *, cap: int, published_median: float | None = None,
                  title: str | None = None) -> Figure:
    """Fraction of trials with distinct codes against learning cycles (log axis).

    Parameters
    ----------
    success_cycle : ndarray (n,) int
        Cycle of success per trial, -1 for a failure within ``cap`` cycles.
    """
    c = np.asarray(success_cycle)
    n = len(c)
    ok = np.sort(c[c > 0]).astype(float)
    fig = _figure(6.4, 4.0)
    ax = fig.add_subplot()
    if len(ok):
        ax.step(np.r_[1.0, ok, cap], np.r_[0.0, np.arange(1, len(ok) + 1), len(ok)] / n, where="post",
                color="C0", linewidth=1.8, label=f"measured ({len(ok)}/{n} within {cap} cycles)")
        t = np.where(c > 0, c, np.inf)
        med = np.median(t)
        if np.isfinite(med):
            ax.axvline(med, color="C0", linestyle="--", linewidth=1, label=f"measured median {med:g}")
    if published_median is not None:
        ax.axvline(published_median, color="C3", linestyle=":", linewidth=1.5,
                   label=f"published median {published_median:g}")
    ax.axhline(0.5, color="0.6", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlim(1, cap)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("learning cycles")
    ax.set_ylabel("fraction of trials with distinct codes")
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(loc="upper left", fontsize=9)
    ax.set_title(title or "Cycles to distinct codes")
    return fig
