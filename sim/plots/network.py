"""A drawing of a network's coupling graph.

Units are placed on a circle (ring-like topologies show their rewired shortcuts as
chords) or by a spring layout; each coupling is a line coloured by its sign
(red excitatory, blue inhibitory) with opacity growing with |W_ij|. Large graphs are
drawn as one line collection.
"""
from __future__ import annotations

import networkx as nx
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from .base import _figure

__all__ = ["network_figure"]

_MAX_EDGES = 20000  # more lines than this are sampled (an unreadable hairball anyway)


def network_figure(graph: nx.Graph, *, layout: str = "circular", title: str | None = None,
                   seed: int = 0) -> Figure:
    """Draw ``graph`` with edges coloured by the sign of their ``weight`` attribute.

    Parameters
    ----------
    graph : networkx.Graph
        Nodes 0..N-1; an optional ``weight`` edge attribute (default 1).
    layout : {"circular", "spring"}
    title : str, optional
    seed : int
        Seed of the spring layout (and of edge sampling for very large graphs).
    """
    n = graph.number_of_nodes()
    if n == 0:
        raise ValueError("the graph has no nodes")
    if layout == "circular":
        angle = 2 * np.pi * np.arange(n) / n
        pos = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    elif layout == "spring":
        p = nx.spring_layout(graph, seed=seed)
        pos = np.array([p[i] for i in range(n)])
    else:
        raise ValueError(f"layout must be 'circular' or 'spring', got {layout!r}")
    edges = np.array([(a, b) for a, b in graph.edges()], dtype=np.int64).reshape(-1, 2)
    w = np.array([d.get("weight", 1.0) for _, _, d in graph.edges(data=True)], dtype=np.float64)
    if len(edges) > _MAX_EDGES:
        keep = np.random.default_rng(seed).choice(len(edges), _MAX_EDGES, replace=False)
        edges, w = edges[keep], w[keep]
    fig = _figure(6.0, 6.4)
    ax = fig.add_subplot()
    if len(edges):
        mag = np.abs(w) / (np.abs(w).max() or 1.0)
        colours = np.zeros((len(edges), 4))
        colours[:, :3] = np.where((w >= 0)[:, None], [0.80, 0.15, 0.10], [0.10, 0.30, 0.80])
        colours[:, 3] = np.clip(0.08 + 0.5 * mag, 0, 1) * min(1.0, 300.0 / max(len(edges), 1)) ** 0.3
        ax.add_collection(LineCollection(pos[edges], colors=colours, linewidths=0.6))
    ax.scatter(pos[:, 0], pos[:, 1], s=max(2.0, 400.0 / n), c="0.15", zorder=3)
    degree = 2 * len(graph.edges()) / n
    ax.set_title(title or "coupling graph", fontsize=11)
    ax.text(0.5, -0.02, f"N = {n} units, {graph.number_of_edges()} non-zero couplings, mean degree {degree:.1f}  "
                        "(red: W > 0, blue: W < 0)", transform=ax.transAxes, ha="center", va="top", fontsize=8)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.autoscale_view()
    return fig
