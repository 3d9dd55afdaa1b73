r"""Storage-rule figures: probability that every stored pattern is stable, against p.

:func:`rules_capacity_figure` draws, for each storage rule on one axes, the fraction of
pattern sets whose every pattern is a strict fixed point (SCENARIOS.md H7) against the
number of stored patterns p, with 95 % intervals over the pattern sets (shaded bands), and
vertical reference lines for an N-unit net:

* McEliece, Posner, Rodemich & Venkatesh (1987) [abstract]: n / (4 ln n) (every memory
  exactly recoverable) and n / (2 ln n) (most memories), asymptotic Hebb capacities
  (natural log [recalled, unverified]); 5.4 and 10.9 at n = 100;
* Storkey (1997): n / sqrt(2 ln n) [recalled, unverified]; 33.0 at n = 100;
* the pseudo-inverse rule: p = N (Kanter & Sompolinsky 1987 [abstract]: alpha_c = 1).

These asymptotic values are qualitative anchors only (large finite-n corrections).
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from .base import _figure

__all__ = ["rules_capacity_figure", "RULE_LABELS"]

#: legend labels and colours of the registered rules (others get the next colours)
RULE_LABELS = {"hebb": "Hebb", "storkey": "Storkey", "pseudo_inverse": "pseudo-inverse",
               "perceptron": "perceptron"}
_COLOURS = {"hebb": "C0", "storkey": "C1", "pseudo_inverse": "C2", "perceptron": "C3"}


def _reference_lines(N: int) -> list[tuple[float, str, str, str]]:
    """(p, label, rule whose colour it takes, line style) for an N-unit net."""
    ln = math.log(N)
    return [(N / (4 * ln), f"McEliece n/(4 ln n) = {N / (4 * ln):.1f}", "hebb", ":"),
            (N / (2 * ln), f"McEliece n/(2 ln n) = {N / (2 * ln):.1f}", "hebb", "--"),
            (N / math.sqrt(2 * ln), f"Storkey n/√(2 ln n) = {N / math.sqrt(2 * ln):.1f} (recalled)", "storkey", "--"),
            (float(N), f"pseudo-inverse p = N = {N}", "pseudo_inverse", "--")]


def rules_capacity_figure(curves: Mapping[str, Sequence[Mapping[str, float]]], *, n_units: int | None = None,
                          title: str | None = None) -> Figure:
    """P(all stored patterns stable) against the number of patterns p, one line per rule.

    Parameters
    ----------
    curves : mapping rule name -> sequence of dict
        Per rule, K points ``{"p": int, "value": float, "lo": float, "hi": float}``: the
        fraction of pattern sets with every pattern stable and its 95 % interval
        (``lo``/``hi`` optional; drawn as a shaded band).
    n_units : int, optional
        N; draws the reference lines (McEliece, Storkey, p = N) when given (N >= 3).
    title : str, optional

    Returns
    -------
    Figure
        One axes.

    Raises
    ------
    ValueError
        When ``curves`` is empty or a point lacks ``p`` or ``value``.
    """
    if not curves or not any(len(v) for v in curves.values()):
        raise ValueError("rules_capacity_figure needs at least one point")
    fig = _figure(7.2, 4.6)
    ax = fig.add_subplot()
    extra = iter(f"C{k}" for k in range(4, 10))
    colours = {r: _COLOURS.get(r) or next(extra) for r in curves}
    p_max = 0.0
    for rule, pts in curves.items():
        for q in pts:
            if "p" not in q or "value" not in q:
                raise ValueError(f"a point of rule {rule!r} lacks 'p' or 'value': {dict(q)}")
        pts = sorted(pts, key=lambda q: q["p"])
        p = np.array([float(q["p"]) for q in pts])
        v = np.array([float(q["value"]) for q in pts])
        p_max = max(p_max, float(p.max()))
        ax.plot(p, v, color=colours[rule], marker="o", markersize=4.5, linewidth=1.6,
                label=RULE_LABELS.get(rule, rule), zorder=3)
        if all("lo" in q and "hi" in q for q in pts):
            lo = np.array([float(q["lo"]) for q in pts])
            hi = np.array([float(q["hi"]) for q in pts])
            ax.fill_between(p, lo, hi, color=colours[rule], alpha=0.15, linewidth=0, zorder=2)
    if n_units is not None and n_units >= 3:
        for x, label, rule, style in _reference_lines(int(n_units)):
            ax.axvline(x, color=colours.get(rule, _COLOURS[rule]), linestyle=style, linewidth=1.1, alpha=0.8,
                       label=label)
        p_max = max(p_max, float(n_units))
    ax.set_xlim(0, p_max * 1.04)
    ax.set_ylim(-0.03, 1.05)
    ax.set_xlabel("number of stored patterns p")
    ax.set_ylabel("fraction of sets with every pattern stable")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="center right", fontsize=8, framealpha=0.9)
    fig.suptitle("Storage rules: all patterns stable" if title is None else title, fontsize=11)
    ax.set_title("stable: every unit's field has the pattern's sign; bands: 95% Wilson intervals over the sets",
                 fontsize=8.5, color="0.35")
    return fig
