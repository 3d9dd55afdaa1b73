"""The weighted coupling graph of a net, its drawing, and boolean --set values."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import LineCollection

import nets
from sim.plots import network_figure
from sim.scenario import parse_set


def test_graph_carries_the_weights():
    W = np.array([[0.0, 2.0, 0.0], [2.0, 0.0, -1.5], [0.0, -1.5, 0.0]])
    g = nets.Hopfield(W).graph()
    assert sorted(g.edges(data="weight")) == [(0, 1, 2.0), (1, 2, -1.5)]


def test_asymmetric_graph_keeps_both_directions():
    W = np.array([[0.0, 1.0], [-3.0, 0.0]])
    (edge,) = nets.Hopfield(W).graph().edges(data=True)
    assert edge[2] == {"weight": 1.0, "weight_ji": -3.0}


def test_network_figure_draws_every_edge_with_its_sign():
    X = np.random.default_rng(0).choice([-1, 1], size=(3, 12)).astype(np.int8)
    g = nets.Hopfield.from_patterns(X).graph()
    fig = network_figure(g, layout="circular")
    (lines,) = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    assert len(lines.get_segments()) == g.number_of_edges()
    reds = np.sum(lines.get_colors()[:, 0] > lines.get_colors()[:, 2])
    assert reds == sum(1 for *_, w in g.edges(data="weight") if w >= 0)
    with pytest.raises(ValueError, match="layout"):
        network_figure(g, layout="hexagonal")


def test_set_accepts_toml_booleans():
    assert parse_set("run.demo=false") == ("run.demo", False)
    assert parse_set("run.demo=True") == ("run.demo", True)
