"""The recall protocol's figure: fraction recalled against the number of stored memories."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .base import _figure

__all__ = ["recall_figure"]

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
