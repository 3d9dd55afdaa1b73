"""Figures of the gates protocol: perceptron decision lines and the McCulloch-Pitts latch.

* :func:`decision_lines_figure` -- one panel per gate: the four inputs (filled = target 1,
  open = target 0) and the learned line w.x + b = 0 with the side where the unit fires
  shaded; the title gives epochs and updates (XOR: the line after the last epoch, which
  still misclassifies).
* :func:`latch_figure` -- the set and reset pulses, the self-exciting unit (holds the bit
  from the set pulse until the reset) and the same unit without its loop (on for one
  tick only), against time in ticks.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from .base import _ON, _figure

__all__ = ["decision_lines_figure", "latch_figure"]


def decision_lines_figure(fits: Sequence[dict], inputs: np.ndarray, targets: dict) -> Figure:
    """Perceptron decision lines, one panel per gate.

    Parameters
    ----------
    fits : sequence of dict
        ``gate`` (name), ``w`` (2,), ``b``, ``epochs``, ``updates``, ``converged``.
    inputs : ndarray (4, 2)
        The input rows.
    targets : dict of gate -> ndarray (4,) of 0/1
    """
    n = len(fits)
    fig = _figure(2.9 * n + 0.4, 3.3)
    axes = fig.subplots(1, n, squeeze=False)[0]
    g1, g2 = np.meshgrid(np.linspace(-0.5, 1.5, 201), np.linspace(-0.5, 1.5, 201))
    for ax, f in zip(axes, fits):
        w, b = np.asarray(f["w"], float), float(f["b"])
        fire = w[0] * g1 + w[1] * g2 + b > 0
        ax.contourf(g1, g2, fire.astype(float), levels=[0.5, 1.5], colors=["#cfe3f7"])
        if np.any(w != 0):
            ax.contour(g1, g2, w[0] * g1 + w[1] * g2 + b, levels=[0.0], colors="C0", linewidths=1.6)
        t = targets[f["gate"]]
        for (x1, x2), ti in zip(inputs, t):
            ax.plot(x1, x2, "o", markersize=10, markeredgecolor=_ON, markeredgewidth=1.5,
                    markerfacecolor=_ON if ti else "white")
        state = "converged" if f["converged"] else "not converged"
        ax.set_title(f"{f['gate']}: {state}\n{int(f['epochs'])} epochs, {int(f['updates'])} updates\n"
                     f"w = ({w[0]:g}, {w[1]:g}), b = {b:g}", fontsize=9)
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylim(-0.5, 1.5)
        ax.set_aspect("equal")
        ax.set_xlabel("input x1")
        ax.set_xticks([0, 1])
        ax.set_yticks([0, 1])
    axes[0].set_ylabel("input x2")
    fig.suptitle("Perceptron rule from w = 0, b = 0 (filled: target 1; shaded: w.x + b > 0)", fontsize=10)
    return fig


def latch_figure(inputs: np.ndarray, latch: np.ndarray, no_loop: np.ndarray) -> Figure:
    """Set/reset pulses and the latch state, with and without the self-excitatory loop.

    Parameters
    ----------
    inputs : ndarray (T, 2)
        Columns (set, reset); row t drives tick t.
    latch, no_loop : ndarray (T + 1,)
        The unit's state at t = 0..T (state after tick t).
    """
    T = len(inputs)
    rows = [("set input", inputs[:, 0], np.arange(T)), ("reset input", inputs[:, 1], np.arange(T)),
            ("latch (self-excitation)", latch, np.arange(T + 1)), ("same unit, no loop", no_loop, np.arange(T + 1))]
    fig = _figure(7.5, 3.6)
    axes = fig.subplots(len(rows), 1, sharex=True)
    for ax, (label, y, t) in zip(axes, rows):
        ax.step(t, y, where="post", color=_ON if "latch" in label or "loop" in label else "C1", linewidth=1.6)
        ax.fill_between(t, 0, y, step="post", alpha=0.25, color="C0")
        ax.set_ylim(-0.2, 1.3)
        ax.set_yticks([0, 1])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
        ax.grid(True, axis="x", alpha=0.3)
    axes[-1].set_xlabel("time (ticks; one synaptic delay each)")
    fig.suptitle("McCulloch-Pitts latch: a loop holds the bit between the set and reset pulses", fontsize=10)
    return fig
