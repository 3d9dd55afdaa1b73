"""Integer Hebbian weights and graph topologies of the Hopfield net."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import nets
import sim
from sim.graphs import adjacency_mask, make_graph


def patterns(P, N, seed, units="spin"):
    rng = np.random.default_rng(seed)
    lo = -1 if units == "spin" else 0
    return np.where(rng.random((P, N)) < 0.5, 1, lo).astype(np.int8)


@pytest.mark.parametrize("units", ["spin", "binary"])
@pytest.mark.parametrize("dtype", ["int16", "int32"])
def test_integer_weights_equal_float_weights(units, dtype):
    X = patterns(12, 60, 1, units)
    f = nets.Hopfield.from_patterns(X, units=units)
    i = nets.Hopfield.from_patterns(X, units=units, weights=dtype)
    assert i.params.W.dtype == np.dtype(dtype) and f.params.W.dtype == np.float64
    assert np.array_equal(i.params.W.astype(np.float64), f.params.W) and i.scale == f.scale
    X64 = (2 * X.astype(np.int64) - 1) if units == "binary" else X.astype(np.int64)
    expected = X64.T @ X64
    np.fill_diagonal(expected, 0)
    assert np.array_equal(f.params.W, expected)  # independent integer arithmetic
    for schedule, T in [("random", 0.0), ("sync", 0.0), ("random-site", 0.8)]:
        for fast in (True, False):
            a = sim.simulate(f, ticks=30, schedule=schedule, temperature=T, rng=7, fast=fast)
            b = sim.simulate(i, ticks=30, schedule=schedule, temperature=T, rng=7, fast=fast)
            assert np.array_equal(a.states["s"], b.states["s"]) and a.status == b.status
            assert np.allclose(a.energy, b.energy, rtol=0, atol=1e-9)


def test_int16_overflow_is_refused():
    with pytest.raises(ValueError, match="overflow"):
        nets.hopfield_rules.hebb_weights(np.ones((40000, 3), dtype=np.int8), dtype="int16")


def test_blocked_integer_build_matches_dense(monkeypatch):
    monkeypatch.setattr(nets.hopfield_rules, "_BLOCK", 7)
    X = patterns(9, 50, 3)
    W, _ = nets.hopfield_rules.hebb_weights(X, dtype="int16")
    Wf, _ = nets.hopfield_rules.hebb_weights(X)
    assert np.array_equal(W, Wf)


def test_topologies_have_the_promised_structure():
    rng = np.random.default_rng(0)
    assert make_graph("dense", 10, rng=rng).number_of_edges() == 45
    ring = make_graph("watts_strogatz", 20, rng=rng, k=4, rewire=0.0)
    assert all(d == 4 for _, d in ring.degree()) and nx.is_connected(ring)
    lat4 = make_graph("lattice", 25, rng=rng, k=4)
    lat8 = make_graph("lattice", 25, rng=rng, k=8)
    assert all(d == 4 for _, d in lat4.degree()) and all(d == 8 for _, d in lat8.degree())
    er = make_graph("erdos_renyi", 400, rng=rng, connectivity=0.1)
    p_hat = er.number_of_edges() / (400 * 399 / 2)
    assert abs(p_hat - 0.1) < 4 * np.sqrt(0.1 * 0.9 / (400 * 399 / 2))
    with pytest.raises(ValueError, match="square"):
        make_graph("lattice", 24, rng=rng)
    with pytest.raises(ValueError, match="unknown topology"):
        make_graph("torus", 9, rng=rng)


def test_masked_hebb_cuts_exactly_the_missing_edges():
    X = patterns(4, 30, 2)
    g = make_graph("watts_strogatz", 30, rng=np.random.default_rng(1), k=6, rewire=0.3)
    mask = adjacency_mask(g, 30)
    dense = nets.Hopfield.from_patterns(X)
    cut = nets.Hopfield.from_patterns(X, mask=mask)
    assert np.array_equal(cut.params.W, np.where(mask, dense.params.W, 0))
    assert cut.symmetric and cut.scale == pytest.approx(29 / (30 * 6))  # 1 / (c N), c = 6 / 29
    # the net's own graph is the topology (minus couplings that happen to be 0)
    assert set(cut.graph().edges()) <= {tuple(sorted(e)) for e in g.edges()}


def test_full_connectivity_equals_dense():
    X = patterns(3, 40, 4)
    cfg = {"n_units": 40, "units": "spin", "weights": "float64", "topology": "erdos_renyi",
           "connectivity": 1.0, "k": 4, "rewire": 0.0}
    er = nets.Hopfield.from_config(cfg, {"rule": "hebb"}, X, rng=np.random.default_rng(0))
    dense = nets.Hopfield.from_config({**cfg, "topology": "dense"}, {"rule": "hebb"}, X, rng=np.random.default_rng(0))
    assert np.array_equal(er.params.W, dense.params.W) and er.scale == dense.scale


def test_integer_weights_reject_non_integer_rules(monkeypatch):
    monkeypatch.setitem(nets.hopfield_rules.RULES, "halfhebb",
                        nets.hopfield_rules.Rule(lambda X: (X.T @ X / 2.0, 1.0), integer=False))
    with pytest.raises(ValueError, match="non-integer"):
        nets.Hopfield.from_patterns(patterns(2, 10, 0), rule="halfhebb", weights="int16")


@pytest.mark.parametrize("topology, kw", [("erdos_renyi", {"connectivity": 0.3}),
                                          ("watts_strogatz", {"k": 6, "rewire": 0.4}),
                                          ("lattice", {"k": 8}), ("dense", {})])
def test_mask_and_graph_are_the_same_draw(topology, kw):
    from sim.graphs import topology_mask

    g = make_graph(topology, 49, rng=np.random.default_rng(3), **kw)
    mask = topology_mask(topology, 49, rng=np.random.default_rng(3), **kw)
    assert np.array_equal(adjacency_mask(g, 49), mask)


def test_rewiring_keeps_the_edge_count_and_randomises():
    rng = np.random.default_rng(5)
    ring = make_graph("watts_strogatz", 200, rng=rng, k=10, rewire=0.0)
    full = make_graph("watts_strogatz", 200, rng=rng, k=10, rewire=1.0)
    assert ring.number_of_edges() == full.number_of_edges() == 1000
    # clustering of the ring lattice is 3(k-2)/(4(k-1)) = 2/3; a random graph's is ~ k/N
    assert nx.average_clustering(ring) == pytest.approx(2 / 3)
    assert nx.average_clustering(full) < 0.15
