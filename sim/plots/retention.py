"""The cross-architecture retention figure of ``rnnlab compare`` (issue 7).

Every curve on one pair of axes: x = memory age (symmetric-log scale, linear below 1 so
that age 0, the newest memory, is drawn), y = normalised recall fidelity (0 = chance,
1 = perfect) with its 95 % band, or each curve's raw metric without bands. Attractor
nets are drawn with solid lines and round markers, sequence nets with dashed lines and
square markers; colours follow the architecture.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .base import _figure

__all__ = ["retention_compare_figure"]

_STYLE = {"attractor": {"linestyle": "-", "marker": "o"}, "sequence": {"linestyle": "--", "marker": "s"}}


def retention_compare_figure(curves: Sequence[dict[str, Any]], *, metric: str = "normalised",
                             x_label: str, y_label: str, title: str | None = None):
    """One figure with every curve.

    Parameters
    ----------
    curves : sequence of dict
        Curves in the :mod:`sim.retention` format plus a ``label`` (legend text).
    metric : {"normalised", "raw"}
        ``"normalised"`` draws ``y`` with its ``lo``/``hi`` band, ``"raw"`` the raw metric.
    x_label, y_label : str
    """
    if metric not in ("normalised", "raw"):
        raise ValueError(f"metric must be 'normalised' or 'raw', got {metric!r}")
    fig = _figure(8.0, 5.0)
    ax = fig.add_subplot()
    archs = list(dict.fromkeys(c["arch"] for c in curves))
    if len(archs) <= 10:
        palette = [f"C{i}" for i in range(len(archs))]
    else:  # 11 architectures in the default comparison: no colour may repeat
        from matplotlib import colormaps

        tab = colormaps["tab20"].colors
        palette = [tab[(2 * i) % 20 + (2 * i) // 20] for i in range(len(archs))]
    colour = dict(zip(archs, palette))
    for c in curves:
        x = np.asarray(c["x"], float)
        style = _STYLE[c["family"]]
        if metric == "normalised":
            y = np.asarray(c["y"], float)
            ax.fill_between(x, np.asarray(c["lo"], float), np.asarray(c["hi"], float), color=colour[c["arch"]],
                            alpha=0.12, linewidth=0)
            label = c["label"]
        else:
            y = np.asarray(c["raw"], float)
            label = f"{c['label']}: {c['raw_label']}"
        ax.plot(x, y, color=colour[c["arch"]], markersize=3.5, linewidth=1.4, label=label,
                markevery=max(1, len(x) // 15), **style)
    ax.set_xscale("symlog", linthresh=1.0, linscale=0.5)
    ax.set_xlim(left=0)
    if metric == "normalised":
        ax.axhline(0.0, color="0.5", linewidth=0.8, linestyle=":")
        ax.axhline(1.0, color="0.5", linewidth=0.8, linestyle=":")
        ax.text(1.0, 0.0, " chance", transform=ax.get_yaxis_transform(), va="center", ha="left", fontsize=8,
                color="0.4")
        ax.text(1.0, 1.0, " perfect", transform=ax.get_yaxis_transform(), va="center", ha="left", fontsize=8,
                color="0.4")
    ax.set_xlabel(x_label + " (symmetric log scale)")
    ax.set_ylabel(y_label if metric == "normalised" else "raw recall metric (see legend)")
    ax.set_title(title or ("Memory retention across architectures\nsolid: attractor nets, dashed: sequence nets"
                           + ("; bands: 95 % intervals" if metric == "normalised" else "")), fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.08, 0.5), frameon=False)
    return fig
