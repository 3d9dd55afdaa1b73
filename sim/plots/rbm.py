"""RBM figures: exact log-likelihood during training, hidden-unit filters, model samples.

* :func:`ll_curve_figure` -- the exact mean log-likelihood per training pattern against
  the number of parameter updates, one colour per training method (CD-1, CD-10, PCD...):
  thin lines for the trials, a thick line for their mean, dashed lines at the optimum
  (-ln D for D distinct equiprobable patterns) and at the uniform model (-V ln 2).
* :func:`filters_figure` -- the receptive field W[:, j] of each hidden unit folded into
  the image shape, on a diverging colour map centred on 0 (red positive, blue negative).
* :func:`samples_figure` -- visible states (e.g. block-Gibbs samples of a trained RBM) as
  black/white images; with ``data`` given, images that are training patterns are framed in
  green, the others in red.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
from matplotlib.figure import Figure

from .base import _BINARY_CMAP, _figure

__all__ = ["ll_curve_figure", "filters_figure", "samples_figure"]


def ll_curve_figure(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *, optimum: float | None = None,
                    uniform: float | None = None, title: str | None = None) -> Figure:
    """Exact log-likelihood against parameter updates.

    Parameters
    ----------
    curves : dict name -> (t, LL)
        ``t`` (R,) update counts and ``LL`` (trials, R) exact mean log-likelihoods.
    optimum, uniform : float, optional
        Reference levels drawn as dashed lines.
    title : str, optional
    """
    if not curves:
        raise ValueError("no curves to draw")
    fig = _figure(11.0, 4.4)
    full, zoom = fig.subplots(1, 2)
    lows, tops = [], []
    for c, (name, (t, L)) in enumerate(curves.items()):
        t, L = np.asarray(t, dtype=float), np.atleast_2d(np.asarray(L, dtype=float))
        if L.shape[1] != len(t):
            raise ValueError(f"curve {name!r}: {L.shape[1]} values for {len(t)} update counts")
        for ax in (full, zoom):
            for row in L:
                ax.plot(t, row, color=f"C{c}", alpha=0.25, linewidth=0.8)
            ax.plot(t, L.mean(axis=0), color=f"C{c}", linewidth=2.0,
                    label=f"{name} (final {L[:, -1].mean():.3f}, {len(L)} trial{'s' if len(L) > 1 else ''})")
        late = L[:, len(t) // 2:] if len(t) > 4 else L   # the zoom follows the second half of training
        lows.append(np.nanmin(late))
        tops.append(np.nanmax(L))
    for ax in (full, zoom):
        if optimum is not None:
            ax.axhline(optimum, color="k", linestyle="--", linewidth=1.0, label=f"optimum {optimum:.3f}")
        if uniform is not None:
            ax.axhline(uniform, color="0.5", linestyle=":", linewidth=1.2, label=f"uniform model {uniform:.3f}")
        ax.set_xlabel("parameter updates")
        ax.grid(True, alpha=0.3)
    top = max(tops + ([optimum] if optimum is not None else []))
    low = min(lows)
    pad = 0.1 * max(top - low, 0.05)
    zoom.set_ylim(low - pad, top + pad)
    full.set_ylabel("exact mean log-likelihood (nats per pattern)")
    zoom.set_ylabel("exact mean log-likelihood (nats per pattern)")
    full.set_title("whole run", fontsize=9)
    zoom.set_title("zoom: y range of the second half of training", fontsize=9)
    zoom.legend(fontsize=8, loc="lower right")
    fig.suptitle(title or "Exact log-likelihood during training", fontsize=10)
    return fig


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, max(1, math.ceil(math.sqrt(n * 1.5))))
    return math.ceil(n / cols), cols


def filters_figure(W: np.ndarray, shape: tuple[int, int], *, title: str | None = None) -> Figure:
    """Receptive fields W[:, j] (V, H) of every hidden unit as ``shape`` images (V = prod(shape))."""
    W = np.asarray(W, dtype=float)
    if W.ndim != 2 or W.shape[0] != shape[0] * shape[1]:
        raise ValueError(f"W must have shape ({shape[0] * shape[1]}, H), got {W.shape}")
    H = W.shape[1]
    rows, cols = _grid(H)
    if H > 36:  # one mosaic image: a grid of 100 axes takes matplotlib seconds to lay out
        r_, c_ = shape
        M = np.full((rows * (r_ + 1) - 1, cols * (c_ + 1) - 1), np.nan)
        for j in range(H):
            y, x = divmod(j, cols)
            M[y * (r_ + 1):y * (r_ + 1) + r_, x * (c_ + 1):x * (c_ + 1) + c_] = W[:, j].reshape(shape)
        lim = float(np.abs(W).max()) or 1.0
        fig = _figure(0.5 * cols + 2.0, 0.5 * rows + 0.8)
        ax = fig.subplots()
        im = ax.imshow(M, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"{H} hidden units, row by row (h0 top left)")
        fig.colorbar(im, ax=ax, shrink=0.8, label="weight W_ij")
        fig.suptitle(title or "Hidden-unit filters", fontsize=10)
        return fig
    fig = _figure(1.3 * cols + 1.0, 1.3 * rows + 0.6)
    axes = fig.subplots(rows, cols, squeeze=False)
    lim = float(np.abs(W).max()) or 1.0
    im = None
    for j, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if j >= H:
            ax.set_axis_off()
            continue
        im = ax.imshow(W[:, j].reshape(shape), cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(f"h{j}", fontsize=7)
    fig.colorbar(im, ax=axes, shrink=0.8, label="weight W_ij")
    fig.suptitle(title or "Hidden-unit filters", fontsize=10)
    return fig


def samples_figure(S: np.ndarray, shape: tuple[int, int], *, data: np.ndarray | None = None,
                   title: str | None = None) -> Figure:
    """Visible states S (n, V) as black (on) / white (off) ``shape`` images.

    With ``data`` (D, V): green frame = the image is a training pattern, red = it is not.
    """
    S = np.asarray(S)
    if S.ndim != 2 or S.shape[1] != shape[0] * shape[1]:
        raise ValueError(f"samples must have shape (n, {shape[0] * shape[1]}), got {S.shape}")
    known = None if data is None else {tuple(np.asarray(d, dtype=np.int8)) for d in data}
    rows, cols = _grid(len(S))
    fig = _figure(1.2 * cols + 0.4, 1.2 * rows + 0.8)
    axes = fig.subplots(rows, cols, squeeze=False)
    hits = 0
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= len(S):
            ax.set_axis_off()
            continue
        ax.imshow(S[i].reshape(shape), cmap=_BINARY_CMAP, vmin=0, vmax=1)
        if known is not None:
            ok = tuple(S[i].astype(np.int8)) in known
            hits += ok
            for sp in ax.spines.values():
                sp.set_edgecolor("#2a9d3a" if ok else "#d62728")
                sp.set_linewidth(5)
    sub = "" if known is None else f"\n{hits} of {len(S)} samples are training patterns (green frame; red: not a pattern)"
    fig.suptitle((title or "Samples") + sub, fontsize=10)
    return fig
