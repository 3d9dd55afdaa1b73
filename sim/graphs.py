"""Network topologies as networkx graphs, and the coupling masks they define.

* ``dense``: every pair of units connected (the complete graph);
* ``erdos_renyi``: each pair connected independently with probability ``connectivity``
  (random dilution, as in Sompolinsky 1986 / Derrida, Gardner & Zippelius 1987);
* ``watts_strogatz``: a ring where each unit connects to its ``k`` nearest neighbours,
  each edge rewired with probability ``rewire`` (Watts & Strogatz 1998, Nature 393:440);
  ``rewire = 0`` is the ring lattice, ``rewire = 1`` a random graph of the same size;
* ``lattice``: a periodic 2-D square lattice (N = L^2) with 4 (``k = 4``) or 8 (``k = 8``)
  neighbours.

Random graphs are drawn from the generator passed in (a named stream), never from global
state.
"""
from __future__ import annotations

import math

import networkx as nx
import numpy as np

__all__ = ["TOPOLOGIES", "make_graph", "adjacency_mask"]

TOPOLOGIES = ("dense", "erdos_renyi", "watts_strogatz", "lattice")


def make_graph(topology: str, n: int, *, rng: np.random.Generator, connectivity: float = 1.0,
               k: int = 4, rewire: float = 0.0) -> nx.Graph:
    """The graph of ``topology`` on units 0..n-1 (see the module docstring)."""
    seed = int(rng.integers(0, 2**32 - 1))
    if topology == "dense":
        return nx.complete_graph(n)
    if topology == "erdos_renyi":
        if not 0.0 <= connectivity <= 1.0:
            raise ValueError(f"connectivity must be in [0, 1], got {connectivity}")
        return nx.gnp_random_graph(n, connectivity, seed=seed)
    if topology == "watts_strogatz":
        if not (2 <= k < n and k % 2 == 0):
            raise ValueError(f"a Watts-Strogatz ring needs an even k with 2 <= k < n, got k={k}, n={n}")
        if not 0.0 <= rewire <= 1.0:
            raise ValueError(f"rewire must be in [0, 1], got {rewire}")
        return nx.watts_strogatz_graph(n, k, rewire, seed=seed)
    if topology == "lattice":
        side = math.isqrt(n)
        if side * side != n:
            raise ValueError(f"a 2-D lattice needs a square number of units, got {n}")
        if k not in (4, 8):
            raise ValueError(f"a 2-D lattice has k = 4 or 8 neighbours, got {k}")
        g = nx.Graph()
        g.add_nodes_from(range(n))
        steps = [(0, 1), (1, 0)] + ([(1, 1), (1, -1)] if k == 8 else [])
        for r in range(side):
            for c in range(side):
                for dr, dc in steps:
                    g.add_edge(r * side + c, ((r + dr) % side) * side + (c + dc) % side)
        return g
    raise ValueError(f"unknown topology {topology!r}; expected one of {', '.join(TOPOLOGIES)}")


def adjacency_mask(graph: nx.Graph, n: int) -> np.ndarray:
    """Boolean (n, n) mask, True where the graph has an edge (diagonal False)."""
    mask = np.zeros((n, n), dtype=bool)
    edges = np.array(list(graph.edges()), dtype=np.int64).reshape(-1, 2)
    if len(edges) and (edges.min() < 0 or edges.max() >= n):
        raise ValueError(f"graph nodes must be 0..{n - 1}")
    mask[edges[:, 0], edges[:, 1]] = True
    mask[edges[:, 1], edges[:, 0]] = True
    np.fill_diagonal(mask, False)
    return mask
