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
state. Edges are generated here (the Watts-Strogatz rewiring follows the original
algorithm as networkx implements it: each lattice edge (u, u+j) is rewired with
probability ``rewire`` to a uniformly chosen new neighbour, avoiding self-loops and
duplicate edges); :func:`make_graph` wraps them in a networkx graph for export and
drawing, :func:`topology_mask` gives the coupling mask without building a graph.
"""
from __future__ import annotations

import math

import networkx as nx
import numpy as np

__all__ = ["TOPOLOGIES", "make_graph", "topology_mask", "adjacency_mask"]

TOPOLOGIES = ("dense", "erdos_renyi", "watts_strogatz", "lattice")


def _edges(topology: str, n: int, rng: np.random.Generator, connectivity: float, k: int,
           rewire: float) -> np.ndarray:
    """Edges (E, 2) of the topology, u < v not required."""
    if topology == "dense":
        i, j = np.triu_indices(n, 1)
        return np.stack([i, j], axis=1)
    if topology == "erdos_renyi":
        if not 0.0 <= connectivity <= 1.0:
            raise ValueError(f"connectivity must be in [0, 1], got {connectivity}")
        i, j = np.triu_indices(n, 1)
        keep = rng.random(len(i)) < connectivity
        return np.stack([i[keep], j[keep]], axis=1)
    if topology == "watts_strogatz":
        if not (2 <= k < n and k % 2 == 0):
            raise ValueError(f"a Watts-Strogatz ring needs an even k with 2 <= k < n, got k={k}, n={n}")
        if not 0.0 <= rewire <= 1.0:
            raise ValueError(f"rewire must be in [0, 1], got {rewire}")
        adj = np.zeros((n, n), dtype=bool)
        u = np.arange(n)
        for j in range(1, k // 2 + 1):
            adj[u, (u + j) % n] = adj[(u + j) % n, u] = True
        degree = adj.sum(axis=1)
        for j in range(1, k // 2 + 1):
            moves = rng.random(n) < rewire
            for a in np.flatnonzero(moves):
                b = (a + j) % n
                if degree[a] >= n - 1 or not adj[a, b]:
                    continue
                w = int(rng.integers(n))
                while w == a or adj[a, w]:
                    w = int(rng.integers(n))
                adj[a, b] = adj[b, a] = False
                adj[a, w] = adj[w, a] = True
                degree[b] -= 1
                degree[w] += 1
        i, jj = np.nonzero(np.triu(adj, 1))
        return np.stack([i, jj], axis=1)
    if topology == "lattice":
        side = math.isqrt(n)
        if side * side != n:
            raise ValueError(f"a 2-D lattice needs a square number of units, got {n}")
        if k not in (4, 8):
            raise ValueError(f"a 2-D lattice has k = 4 or 8 neighbours, got {k}")
        r, c = np.divmod(np.arange(n), side)
        steps = [(0, 1), (1, 0)] + ([(1, 1), (1, -1)] if k == 8 else [])
        return np.concatenate([np.stack([r * side + c, ((r + dr) % side) * side + (c + dc) % side], axis=1)
                               for dr, dc in steps])
    raise ValueError(f"unknown topology {topology!r}; expected one of {', '.join(TOPOLOGIES)}")


def make_graph(topology: str, n: int, *, rng: np.random.Generator, connectivity: float = 1.0,
               k: int = 4, rewire: float = 0.0) -> nx.Graph:
    """The graph of ``topology`` on units 0..n-1 (see the module docstring)."""
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(map(tuple, _edges(topology, n, rng, connectivity, k, rewire).tolist()))
    return g


def topology_mask(topology: str, n: int, *, rng: np.random.Generator, connectivity: float = 1.0,
                  k: int = 4, rewire: float = 0.0) -> np.ndarray:
    """The (n, n) boolean coupling mask of ``topology``; the same draws as :func:`make_graph`."""
    mask = np.zeros((n, n), dtype=bool)
    e = _edges(topology, n, rng, connectivity, k, rewire)
    mask[e[:, 0], e[:, 1]] = mask[e[:, 1], e[:, 0]] = True
    np.fill_diagonal(mask, False)
    return mask


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
