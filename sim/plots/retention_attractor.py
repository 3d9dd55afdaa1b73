"""Figures of the retention_attractor protocol (:mod:`sim.protocols.retention`).

* :func:`retention_age_figure` -- one panel per load: the fraction of trials in which the
  pattern of each age (number of patterns stored after it) was recalled, with 95 %
  Wilson bands, one line per architecture; the mean final overlap dotted.
* :func:`retention_load_figure` -- fraction of all stored patterns recalled (95 % t
  interval over trials) against the load P/N, and the fraction of the newest patterns
  recalled dashed.
* :func:`retention_time_figure` -- overlap with a stored pattern after t Glauber sweeps
  at temperature T, one panel per sweep point.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .base import _figure

__all__ = ["retention_age_figure", "retention_load_figure", "retention_time_figure"]

_COLOURS = {"hopfield-hebb": "#1f77b4", "hopfield-storkey": "#2ca02c", "hopfield-pinv": "#9467bd",
            "hopfield-clipped": "#d62728", "hopfield-decay": "#ff7f0e", "rbm": "#8c564b"}


def _colour(arch: str) -> str:
    return _COLOURS.get(arch, "#555555")


def retention_age_figure(panels, *, log_age: bool = False, title: str = "") -> Figure:
    """Recall against memory age.

    Parameters
    ----------
    panels : list of (str, dict)
        (panel title, {arch: curve}) with curve keys ``age`` (P,), ``recalled`` (P,),
        ``lo``/``hi`` (P,) and ``overlap`` (P,).
    log_age : bool
        x = 1 + age on a log axis.
    """
    fig = _figure(4.2 * len(panels) + 0.6, 3.8)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, curves) in zip(axes, panels):
        for arch, c in curves.items():
            x = np.asarray(c["age"]) + (1 if log_age else 0)
            ax.plot(x, c["recalled"], "-", color=_colour(arch), label=arch, lw=1.6)
            ax.fill_between(x, c["lo"], c["hi"], color=_colour(arch), alpha=0.08, lw=0)
            ax.plot(x, c["overlap"], ":", color=_colour(arch), lw=1.0)
        if log_age:
            ax.set_xscale("log")
        ax.set_xlabel("memory age" + (" + 1" if log_age else "") + " (patterns stored after it)")
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("fraction recalled (solid), mean overlap (dotted)")
    axes[0].legend(fontsize=7, loc="best")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def retention_load_figure(rows, *, title: str = "") -> Figure:
    """Fraction recalled against load.

    Parameters
    ----------
    rows : dict
        arch -> list of (load, recalled, lo, hi, recent_recalled).
    """
    fig = _figure(5.6, 3.8)
    ax = fig.subplots()
    for arch, pts in rows.items():
        pts = sorted(pts)
        load, r, lo, hi, recent = (np.array(v, dtype=np.float64) for v in zip(*pts))
        err = np.vstack([r - lo, hi - r])
        ax.errorbar(load, r, yerr=np.where(np.isfinite(err), err, 0), fmt="o-", color=_colour(arch), label=arch,
                    capsize=3, lw=1.4)
        ax.plot(load, recent, "--", color=_colour(arch), lw=1.0, alpha=0.7)
    ax.axvline(0.138, color="k", ls=":", lw=0.8)
    ax.text(0.138, 0.02, " alpha_c (Hebb)", fontsize=7)
    ax.set_xlabel("load P/N")
    ax.set_ylabel("fraction recalled (dashed: newest patterns)")
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def retention_time_figure(panels, *, title: str = "") -> Figure:
    """Overlap m(t) after t sweeps at temperature T.

    Parameters
    ----------
    panels : list of (str, dict)
        (panel title, {arch: (mean (S + 1,), lo (S + 1,), hi (S + 1,))}).
    """
    fig = _figure(4.2 * len(panels) + 0.6, 3.8)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, curves) in zip(axes, panels):
        for arch, (m, lo, hi) in curves.items():
            t = np.arange(len(m))
            ax.plot(t, m, color=_colour(arch), label=arch, lw=1.5)
            if np.all(np.isfinite(lo)):
                ax.fill_between(t, lo, hi, color=_colour(arch), alpha=0.08, lw=0)
        ax.set_xlabel("time (sweeps)")
        ax.set_title(name, fontsize=9)
        ax.set_ylim(-0.1, 1.05)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("overlap m with the starting pattern")
    axes[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
