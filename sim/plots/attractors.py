"""Figures of exact attractor maps (see :mod:`sim.attractors`).

* :func:`basin_figure` -- one bar per attractor, sorted by size: the fraction of the
  state space whose random-site dynamics ends in it (the expected basin, summing to 1),
  with the *strict* basin (states from which it is the only reachable attractor) drawn
  darker inside; bars coloured by class (stored pattern, reversed pattern, mixture,
  other spurious state, cyclic attractor).
* :func:`transition_graph_figure` -- the state-transition graph of single-unit moves of
  a small net (N <= 8): every state a node, an arrow for each unit whose update moves
  it; nodes in rows by energy (moves go down for symmetric W), coloured by the attractor
  they most probably end in (pale when more than one attractor is reachable), the
  attractors drawn large with a black edge, their class shown by the marker shape.
* :func:`fixed_point_energy_figure` -- histogram of the energies per unit E/N of the
  fixed points, stacked by class.
* :func:`class_basin_figure` -- per sweep point, the mean fraction of the state space
  flowing to each class of attractor (stacked bars).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..attractors import CLASSES
from .base import _figure

__all__ = ["basin_figure", "transition_graph_figure", "fixed_point_energy_figure", "class_basin_figure",
           "CLASS_COLOURS"]

#: one colour per attractor class of :data:`sim.attractors.CLASSES`
CLASS_COLOURS = {"stored": "#1f77b4", "reversed": "#6baed6", "mixture": "#ff7f0e", "spurious": "#d62728",
                 "cycle": "#9467bd"}
_CLASS_LABELS = {"stored": "stored pattern", "reversed": "reversed pattern", "mixture": "mixture state",
                 "spurious": "other spurious", "cycle": "cyclic attractor"}
_MAX_BARS = 40
_CLASS_MARKERS = {"stored": "s", "reversed": "D", "mixture": "^", "spurious": "X", "cycle": "o"}


def _class_names(classes) -> list[str]:
    out = []
    for c in np.asarray(classes).reshape(-1):
        c = int(c)
        if not 0 <= c < len(CLASSES):
            raise ValueError(f"attractor class {c} is not an index into {CLASSES}")
        out.append(CLASSES[c])
    return out


def _class_legend(ax, present: Sequence[str], **kw) -> None:
    handles = [Patch(facecolor=CLASS_COLOURS[c], label=_CLASS_LABELS[c]) for c in CLASSES if c in present]
    ax.legend(handles=handles, **kw)


def basin_figure(basin: np.ndarray, classes: np.ndarray, *, n_states: int, strict: np.ndarray | None = None,
                 labels: Sequence[str] | None = None, title: str | None = None) -> Figure:
    """Basin size of every attractor, as bars sorted by size and coloured by class.

    Parameters
    ----------
    basin : ndarray (A,)
        Expected number of states ending in each attractor (random-site dynamics).
    classes : ndarray (A,) int
        Indices into :data:`sim.attractors.CLASSES`.
    n_states : int
        Size of the state space (2^N); bars show fractions of it.
    strict : ndarray (A,), optional
        Strict basins (drawn as darker inner bars).
    labels : sequence of str (A,), optional
        Tick labels (e.g. "ξ1", "−ξ2").
    title : str, optional

    Returns
    -------
    Figure
        One axes; at most 40 bars (the smallest attractors beyond are summed in a grey
        "others" bar).
    """
    basin = np.asarray(basin, dtype=np.float64).reshape(-1)
    names = _class_names(classes)
    A = len(basin)
    if len(names) != A or A == 0:
        raise ValueError(f"basin and classes must have the same non-zero length, got {A} and {len(names)}")
    if strict is not None and np.shape(strict) != (A,):
        raise ValueError(f"strict must have shape ({A},), got {np.shape(strict)}")
    labels = [str(i) for i in range(A)] if labels is None else list(labels)
    order = np.argsort(-basin, kind="stable")
    shown, rest = order[:_MAX_BARS], order[_MAX_BARS:]
    frac = basin / n_states
    fig = _figure(max(6.4, 0.28 * len(shown) + 2.5), 4.4)
    ax = fig.add_subplot()
    xs = np.arange(len(shown))
    ax.bar(xs, frac[shown], color=[CLASS_COLOURS[names[a]] for a in shown], edgecolor="black", linewidth=0.5,
           width=0.8)
    if strict is not None:
        sf = np.asarray(strict, dtype=np.float64) / n_states
        ax.bar(xs, sf[shown], color="none", edgecolor="black", linewidth=0.0, hatch="////", width=0.8)
    ticks = [labels[a] for a in shown]
    if len(rest):
        ax.bar([len(shown)], [frac[rest].sum()], color="0.7", edgecolor="black", linewidth=0.5, width=0.8)
        ticks.append(f"{len(rest)} others")
    ax.set_xticks(np.arange(len(ticks)), ticks, rotation=60 if len(ticks) > 8 else 0,
                  ha="right" if len(ticks) > 8 else "center", fontsize=8 if len(ticks) > 16 else 9)
    ax.set_xlim(-0.6, len(ticks) - 0.4)
    ax.set_ylim(0.0, 1.35 * max(float(frac.max()), frac[rest].sum() if len(rest) else 0.0))  # room for legends
    ax.set_ylabel("fraction of the state space")
    ax.set_xlabel("attractor (sorted by basin size)")
    ax.grid(True, axis="y", alpha=0.3)
    present = [names[a] for a in order]
    _class_legend(ax, present, loc="upper right", fontsize=8)
    if strict is not None:
        leg = ax.get_legend()
        ax.add_artist(leg)
        ax.legend(handles=[Patch(facecolor="white", edgecolor="black", label="expected basin (random-site)"),
                           Patch(facecolor="white", edgecolor="black", hatch="////", label="strict basin")],
                  loc="upper left", fontsize=8)
    ax.set_title(f"{A} attractors · {n_states} states · basins sum to {frac.sum():.12g}", fontsize=9, color="0.35")
    fig.suptitle("Basins of attraction" if title is None else title, fontsize=12)
    return fig


def transition_graph_figure(async_next: np.ndarray, attractors: Sequence[np.ndarray], absorb: np.ndarray, *,
                            level: np.ndarray | None = None, labels: Sequence[str] | None = None,
                            classes: np.ndarray | None = None, level_label: str = "energy E",
                            title: str | None = None) -> Figure:
    """The state-transition graph of single-unit moves, nodes coloured by their attractor.

    Parameters
    ----------
    async_next : ndarray (n, N) int
        Single-unit successor table, n = 2^N <= 256.
    attractors : sequence of A arrays of state codes
    absorb : ndarray (n, A)
        Absorption probabilities; a node takes the colour of its most probable attractor
        and is drawn hollow when it can reach several.
    level : ndarray (n,), optional
        Height of each node (e.g. the energy): nodes with equal level share a row, and
        each attractor gets a vertical sector holding the states most likely to end in
        it (sectors ordered by class, then size). Default: a spring layout.
    labels : sequence of str (A,), optional
        Names of the attractors (legend).
    classes : ndarray (A,) int, optional
        Attractor classes, shown in the legend.
    level_label : str
    title : str, optional
    """
    import networkx as nx

    from ..attractors import transition_graph

    nxt = np.asarray(async_next)
    n, N = nxt.shape
    if n > 256:
        raise ValueError(f"the transition graph of {n} states is too large to draw (at most 256, N <= 8)")
    absorb = np.asarray(absorb, dtype=np.float64)
    A = len(attractors)
    if absorb.shape != (n, A):
        raise ValueError(f"absorb must have shape ({n}, {A}), got {absorb.shape}")
    labels = [f"A{a}" for a in range(A)] if labels is None else list(labels)
    g = transition_graph(nxt)
    fate = np.argmax(absorb, axis=1)
    several = np.count_nonzero(absorb > 1e-12, axis=1) > 1
    names = _class_names(classes) if classes is not None else ["spurious"] * A
    count = np.bincount(fate, minlength=A)
    order = sorted(range(A), key=lambda a: (CLASSES.index(names[a]), -count[a], a))
    if level is not None:
        pos, _ = _sector_layout(np.asarray(level, dtype=np.float64), fate, order)
    else:
        pos = nx.spring_layout(g.to_undirected(), seed=0)
    # distinct hues per attractor, in sector order (neighbouring basins differ); class by marker
    palette = [to_rgb(f"C{j}") for j in range(10)]
    colour: list = [None] * A
    for j, a in enumerate(order):
        colour[a] = palette[j % len(palette)]
    pale = [tuple(0.55 + 0.45 * np.array(c)) for c in colour]
    size = 14 + 30 / max(1.0, n / 64)
    fig = _figure(9.0, 7.0)
    ax = fig.add_subplot()
    nx.draw_networkx_edges(g, pos, ax=ax, edge_color="0.6", width=0.5, alpha=0.55, arrows=True, arrowsize=5,
                           node_size=size, arrowstyle="-|>")
    is_attr = np.zeros(n, dtype=bool)
    for states in attractors:
        is_attr[np.asarray(states, dtype=np.int64)] = True
    plain = [x for x in range(n) if not is_attr[x]]
    solid = [x for x in plain if not several[x]]
    unsure = [x for x in plain if several[x]]
    nx.draw_networkx_nodes(g, pos, nodelist=solid, ax=ax, node_size=size,
                           node_color=[colour[fate[x]] for x in solid], linewidths=0.0)
    nx.draw_networkx_nodes(g, pos, nodelist=unsure, ax=ax, node_size=size,
                           node_color=[pale[fate[x]] for x in unsure],
                           edgecolors=[colour[fate[x]] for x in unsure], linewidths=1.0)
    for a, states in enumerate(attractors):
        nodes = [int(x) for x in np.asarray(states).reshape(-1)]
        nx.draw_networkx_nodes(g, pos, nodelist=nodes, ax=ax, node_size=size * 7,
                               node_color=[colour[a]] * len(nodes), edgecolors="black", linewidths=1.5,
                               node_shape=_CLASS_MARKERS[names[a]])
    show_class = classes is not None
    handles = [Line2D([], [], marker=_CLASS_MARKERS[names[a]], linestyle="none", markersize=9,
                      markerfacecolor=colour[a], markeredgecolor="black",
                      label=labels[a] + (f" ({_CLASS_LABELS[names[a]]})" if show_class else ""))
               for a in order]
    handles += [Line2D([], [], marker="o", linestyle="none", markersize=6, markerfacecolor="0.35",
                       markeredgecolor="0.35", label="state: certain to end in the attractor of its colour"),
                Line2D([], [], marker="o", linestyle="none", markersize=6, markerfacecolor="0.8",
                       markeredgecolor="0.35", label="state: can end in several (colour: most likely)")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    if level is not None:
        ax.set_axis_on()
        ax.tick_params(left=True, labelleft=True, bottom=False, labelbottom=False)
        ax.set_ylabel(level_label)
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
    ax.set_title(f"N = {N}: {n} states, {g.number_of_edges()} single-unit moves, {A} attractors",
                 fontsize=9, color="0.35")
    fig.suptitle("State-transition graph of single-unit updates" if title is None else title, fontsize=12)
    return fig


def _sector_layout(level: np.ndarray, fate: np.ndarray, order: Sequence[int]):
    """Node positions: y = level; x in a vertical sector per attractor (width ~ its states).

    Sectors follow ``order`` from left to right; within a sector the nodes of one level
    are spread evenly, so each basin reads as a wedge above its attractor.
    """
    n = len(level)
    count = np.bincount(fate, minlength=len(order)).astype(np.float64)
    key = np.round(level, 9)
    values = np.unique(key)
    pos = {}
    left = 0.0
    for a in order:
        width = count[a] / n
        for v in values:
            nodes = np.flatnonzero((fate == a) & (key == v))
            for j, x in enumerate(nodes):
                pos[int(x)] = (left + (j + 0.5) / len(nodes) * width, float(level[x]))
        left += width
    return pos, values


def fixed_point_energy_figure(energy: np.ndarray, classes: np.ndarray, *, n_units: int,
                              title: str | None = None) -> Figure:
    """Histogram of the energy per unit E/N of fixed points, stacked by class.

    Parameters
    ----------
    energy : ndarray (F,)
        Energies of the fixed points.
    classes : ndarray (F,) int
        Their classes (indices into :data:`sim.attractors.CLASSES`).
    n_units : int
    """
    e = np.asarray(energy, dtype=np.float64).reshape(-1) / n_units
    names = _class_names(classes)
    if len(e) != len(names) or len(e) == 0:
        raise ValueError("energy and classes must have the same non-zero length")
    present = [c for c in CLASSES if c in names]
    lo, hi = float(e.min()), float(e.max())
    pad = max(0.02, 0.05 * (hi - lo))
    bins = np.linspace(lo - pad, hi + pad, min(40, max(8, 2 * len(e))) + 1)
    fig = _figure(6.4, 4.0)
    ax = fig.add_subplot()
    ax.hist([e[[c == k for c in names]] for k in present], bins=bins, stacked=True,
            color=[CLASS_COLOURS[k] for k in present], edgecolor="black", linewidth=0.4,
            label=[_CLASS_LABELS[k] for k in present])
    ax.set_xlabel("energy per unit E/N")
    ax.set_ylabel("number of fixed points")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(f"{len(e)} fixed points", fontsize=9, color="0.35")
    fig.suptitle("Energies of the fixed points" if title is None else title, fontsize=12)
    return fig


def class_basin_figure(rows: Sequence[Mapping], *, xlabel: str = "sweep point", title: str | None = None) -> Figure:
    """Mean fraction of the state space ending in each class of attractor, per sweep point.

    Parameters
    ----------
    rows : sequence of dict
        ``{"label": str, "fractions": (len(CLASSES),) array}``, fractions summing to 1.
    xlabel : str
    title : str, optional
    """
    if not rows:
        raise ValueError("class_basin_figure needs at least one row")
    F = np.array([np.asarray(r["fractions"], dtype=np.float64) for r in rows])      # (K, C)
    if F.shape[1] != len(CLASSES):
        raise ValueError(f"fractions must have {len(CLASSES)} entries ({', '.join(CLASSES)})")
    fig = _figure(max(5.0, 1.1 * len(rows) + 3.0), 4.2)
    ax = fig.add_subplot()
    xs = np.arange(len(rows))
    bottom = np.zeros(len(rows))
    for j, c in enumerate(CLASSES):
        if np.any(F[:, j] > 0):
            ax.bar(xs, F[:, j], bottom=bottom, color=CLASS_COLOURS[c], edgecolor="black", linewidth=0.5,
                   width=0.6, label=_CLASS_LABELS[c])
        bottom += F[:, j]
    ax.set_xticks(xs, [str(r["label"]) for r in rows])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of the state space")
    ax.set_ylim(0, 1.0)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.suptitle("Where random-site dynamics ends, by class of attractor" if title is None else title, fontsize=12)
    return fig
