"""Figures of the dynamics protocol: where runs from random starts end, against the load.

:func:`outcomes_figure` stacks, at each load alpha = P/N, the fractions of runs that ended
in a retrieval state (a stored pattern or its reverse; the exact ones hatched darker),
a mixture state, another spurious fixed point, or no fixed point (see
:mod:`sim.protocols.dynamics` for the precise definitions). The replica-symmetric
capacity alpha_c = 0.138 of Amit, Gutfreund & Sompolinsky (1987) [computed] is marked
for reference.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .base import _figure

__all__ = ["outcomes_figure"]

ALPHA_C = 0.13791  # AGS 1987 replica-symmetric T = 0 capacity [computed], see nets.hopfield_theory

_BANDS = (  # (key, label, colour)
    ("exact", "exact stored pattern (or reverse)", "#1b7837"),
    ("near", "stored pattern, a few errors", "#a6dba0"),
    ("frac_mixture", "symmetric 3- or 5-mixture (up to a few errors)", "#c2a5cf"),
    ("frac_other_spurious", "other spurious fixed point (spin-glass-like)", "#762a83"),
    ("frac_not_converged", "no fixed point reached", "#bdbdbd"),
)


def outcomes_figure(rows: Sequence[dict], *, title: str | None = None) -> Figure:
    """Stacked fractions of run outcomes against the load alpha = P/N.

    Parameters
    ----------
    rows : sequence of dict
        One per sweep point, with ``alpha`` (P/N) and the fractions ``frac_retrieval``,
        ``frac_exact_pattern`` (a part of frac_retrieval), ``frac_mixture``,
        ``frac_other_spurious`` and ``frac_not_converged`` (summing to 1); optionally
        ``n_units``.
    title : str, optional

    Returns
    -------
    Figure
        One axes: stacked bands over alpha (points marked), fraction on [0, 1].
    """
    if not rows:
        raise ValueError("outcomes_figure needs at least one sweep point")
    rows = sorted(rows, key=lambda r: r["alpha"])
    alpha = np.array([r["alpha"] for r in rows], dtype=float)             # (K,)
    parts = {
        "exact": np.array([r["frac_exact_pattern"] for r in rows], dtype=float),
        "near": np.array([r["frac_retrieval"] - r["frac_exact_pattern"] for r in rows], dtype=float),
        "frac_mixture": np.array([r["frac_mixture"] for r in rows], dtype=float),
        "frac_other_spurious": np.array([r["frac_other_spurious"] for r in rows], dtype=float),
        "frac_not_converged": np.array([r["frac_not_converged"] for r in rows], dtype=float),
    }
    fig = _figure(7.4, 4.4)
    ax = fig.add_subplot()
    base = np.zeros_like(alpha)
    handles = []
    for key, label, colour in _BANDS:
        top = base + parts[key]
        if len(alpha) > 1:
            ax.fill_between(alpha, base, top, color=colour, linewidth=0, step=None)
        else:
            ax.bar(alpha, parts[key], bottom=base, width=0.01, color=colour)
        handles.append(Patch(facecolor=colour, label=label))
        base = top
    # boundaries between bands, with markers at the measured loads
    cum = np.zeros_like(alpha)
    for key, _, _ in _BANDS[:-1]:
        cum = cum + parts[key]
        ax.plot(alpha, cum, color="0.25", linewidth=0.8, marker="o", markersize=3, clip_on=False)
    if alpha.min() <= ALPHA_C <= alpha.max():
        ax.axvline(ALPHA_C, color="k", linestyle="--", linewidth=1.0)
        ax.text(ALPHA_C, 0.5, r"$\alpha_c \approx 0.138$ (AGS) ", fontsize=8, va="center", ha="right",
                rotation=90, color="w", transform=ax.get_xaxis_transform())
    lo, hi = float(alpha.min()), float(alpha.max())
    ax.set_xlim((lo, hi) if hi > lo else (lo - 0.01, lo + 0.01))
    ax.set_ylim(0.0, 1.0)
    n = {r.get("n_units") for r in rows}
    N = n.pop() if len(n) == 1 and None not in n else None
    ax.set_xlabel(r"load $\alpha = P/N$" + (f"  (N = {N})" if N else ""))
    if N:
        top = ax.secondary_xaxis("top", functions=(lambda a: a * N, lambda p: p / N))
        top.set_xlabel("stored patterns P", fontsize=9)
    ax.set_ylabel("fraction of runs")
    ax.legend(handles=handles[::-1], loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    fig.suptitle("Where the runs end" if title is None else title, fontsize=11)
    return fig
