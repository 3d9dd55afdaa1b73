"""Figures of the online 1997 protocol (:mod:`sim.protocols.online1997`).

* :func:`solved_fraction_figure` -- the fraction of trials that met the success criterion
  within n training sequences, against n, one step curve per architecture (the empirical
  distribution of "success after" of Hochreiter & Schmidhuber 1997, Tables 1-2, scaled by
  the success rate).
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .base import _figure
from .learning import _colour

__all__ = ["solved_fraction_figure"]


def solved_fraction_figure(solved_at: dict, *, max_sequences: float, title: str | None = None) -> Figure:
    """Fraction of trials solved vs training sequences.

    Parameters
    ----------
    solved_at : dict arch -> ndarray (R,) sequences to success per trial (NaN: not solved)
    max_sequences : float, the training budget (the x axis ends there)
    """
    fig = _figure(7.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    for i, (a, s) in enumerate(solved_at.items()):
        s = np.asarray(s, dtype=np.float64)
        done = np.sort(s[np.isfinite(s)])
        x = np.concatenate([[0.0], done, [max_sequences]])
        y = np.concatenate([[0.0], np.arange(1, len(done) + 1) / len(s), [len(done) / len(s)]])
        ax.step(x, y, where="post", color=_colour(i), label=f"{a} ({len(done)}/{len(s)} trials)")
    ax.set_xlim(0, max_sequences)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("training sequences (online, one per update)")
    ax.set_ylabel("fraction of trials solved")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title or "trials solved", fontsize=10)
    return fig
