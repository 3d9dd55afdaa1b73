"""Update schedules, plans and temperature schedules (sim/schedule.py).

Property tests (hypothesis): ``random`` draws a permutation of all units every tick,
``random-site`` draws indices in range (with replacement), ``chromatic`` plans are proper
colourings of random graphs that partition the units, ``blocks`` accepts exactly the
partitions of the units. Equivalences: a chromatic run equals a ``blocks`` run with the
same groups, and -- colour classes being independent sets -- equals updating the units
of each class one at a time. Temperature schedules: constant, linear, geometric, the
Ackley-Hinton-Sejnowski piecewise list, and the errors for bad specs.
"""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nets
import sim
from sim import Record

SEEDS = st.integers(0, 2**32 - 1)


def _free_net(n):
    """A Hopfield net with no couplings: only its size matters to a plan."""
    return nets.Hopfield(np.zeros((n, n)))


def _graph_net(n, p, seed, *, units="spin"):
    """A Hopfield net on a G(n, p) random graph: symmetric nonzero integer weights on edges."""
    g = nx.gnp_random_graph(n, p, seed=seed)
    rng = np.random.default_rng(seed)
    W = np.zeros((n, n))
    for i, j in g.edges:
        W[i, j] = W[j, i] = rng.choice([-2.0, -1.0, 1.0, 2.0])
    theta = rng.integers(-1, 2, n) if units == "binary" else None
    return nets.Hopfield(W, theta, units=units), g


# --- random plans ------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), ticks=st.integers(1, 12), seed=SEEDS)
def test_random_plan_is_a_permutation_every_tick(n, ticks, seed):
    plan = sim.make_plan("random", _free_net(n))
    assert plan.n_groups == n and np.array_equal(plan.ptr, np.arange(n + 1))
    orders = plan.draw(ticks, np.random.default_rng(seed))
    assert orders.shape == (ticks, n) and orders.dtype == np.int32
    for row in orders:
        np.testing.assert_array_equal(np.sort(row), np.arange(n))
    if n >= 6 and ticks >= 4:  # a new permutation each sweep (all equal: p < 1e-8)
        assert len({row.tobytes() for row in orders}) > 1


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), ticks=st.integers(1, 12), seed=SEEDS)
def test_random_site_indices_in_range(n, ticks, seed):
    plan = sim.make_plan("random-site", _free_net(n))
    orders = plan.draw(ticks, np.random.default_rng(seed))
    assert orders.shape == (ticks, n) and orders.dtype == np.int32
    assert orders.min() >= 0 and orders.max() < n


def test_random_site_draws_with_replacement():
    n, ticks = 10, 200
    orders = sim.make_plan("random-site", _free_net(n)).draw(ticks, np.random.default_rng(0))
    repeats = sum(len(np.unique(row)) < n for row in orders)
    assert repeats > ticks // 2  # P(a row is a permutation) = 10!/10^10 ~ 4e-4
    counts = np.bincount(orders.ravel(), minlength=n)  # uniform over the units
    assert counts.min() > 0.8 * ticks and counts.max() < 1.2 * ticks


@pytest.mark.parametrize("kind", ["sync", "sequential", "chromatic", "blocks"])
def test_deterministic_plans_repeat_one_order(kind):
    net, _ = _graph_net(9, 0.4, 3)
    plan = sim.make_plan(kind, net, blocks=[[0, 1, 2], [3, 4, 5, 6, 7, 8]] if kind == "blocks" else None)
    assert plan.deterministic
    g = np.random.default_rng(0)
    state = g.bit_generator.state
    orders = plan.draw(5, g)
    assert g.bit_generator.state == state  # nothing drawn
    assert orders.shape == (5, 9)
    for row in orders:
        np.testing.assert_array_equal(row, plan.order)
    np.testing.assert_array_equal(np.sort(plan.order), np.arange(9))
    if kind == "sequential":
        np.testing.assert_array_equal(plan.order, np.arange(9))
        np.testing.assert_array_equal(plan.ptr, np.arange(10))
    if kind == "sync":
        np.testing.assert_array_equal(plan.ptr, [0, 9])
    with pytest.raises(ValueError):
        plan.order[0] = 1  # plans are immutable


# --- chromatic ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), p=st.floats(0.0, 1.0), seed=SEEDS)
def test_chromatic_plan_is_a_proper_colouring(n, p, seed):
    net, g = _graph_net(n, p, seed)
    assert nx.utils.edges_equal(net.graph().edges, g.edges)
    plan = sim.make_plan("chromatic", net)
    classes = [plan.order[plan.ptr[c]:plan.ptr[c + 1]] for c in range(plan.n_groups)]
    assert all(len(c) > 0 for c in classes)
    # the classes partition the units
    np.testing.assert_array_equal(np.sort(np.concatenate(classes)), np.arange(n))
    # no edge inside a colour class
    W = net.params.W
    for c in classes:
        assert not np.any(W[np.ix_(c, c)]), f"class {c.tolist()} holds an edge"
        assert not any(g.has_edge(int(a), int(b)) for a in c for b in c)
    # greedy colouring uses at most max degree + 1 colours
    max_deg = max((d for _, d in g.degree), default=0)
    assert plan.n_groups <= max_deg + 1
    if g.number_of_edges():
        assert plan.n_groups >= 2


def test_chromatic_plan_of_a_bipartite_graph_has_two_classes():
    g = nx.complete_bipartite_graph(3, 4)
    W = nx.to_numpy_array(g)
    plan = sim.make_plan("chromatic", nets.Hopfield(W))
    assert plan.n_groups == 2
    assert sorted(sorted(b.tolist()) for b in plan.blocks) == [[0, 1, 2], [3, 4, 5, 6]]


@pytest.mark.parametrize("units", ["spin", "binary"])
@pytest.mark.parametrize("T", [0.0, 0.9])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
def test_chromatic_run_equals_blocks_run_with_the_same_groups(units, T, fast, same_trajectory):
    for seed in range(4):
        net, _ = _graph_net(14, 0.3, seed, units=units)
        plan = sim.make_plan("chromatic", net)
        groups = [b.tolist() for b in plan.blocks]
        kw = dict(ticks=30, temperature=T, rng=seed, fast=fast, record=Record(micro=True, every=2))
        a = sim.simulate(net, schedule="chromatic", **kw)
        b = sim.simulate(net, schedule="blocks", blocks=groups, **kw)
        assert (a.schedule, b.schedule) == ("chromatic", "blocks")
        same_trajectory(a, b, exact=True)


def _one_at_a_time(plan):
    """Blocks of single units, class by class, in the chromatic plan's order."""
    return [[int(i)] for i in plan.order]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 24), p=st.floats(0.05, 0.6), seed=SEEDS, T=st.sampled_from([0.0, 0.7]),
       units=st.sampled_from(["spin", "binary"]))
def test_chromatic_tick_equals_units_one_at_a_time(n, p, seed, T, units):
    net, _ = _graph_net(n, p, seed, units=units)
    plan = sim.make_plan("chromatic", net)
    start = net.init_state(rng=np.random.default_rng(seed))
    kw = dict(ticks=12, temperature=T, rng=seed, stop=False, record=Record(probes=("state",)))
    a = sim.simulate(net, start, schedule="chromatic", **kw)
    b = sim.simulate(net, start, schedule="blocks", blocks=_one_at_a_time(plan), **kw)
    # the same uniforms reach the same units: u is laid out along the (shared) order
    np.testing.assert_array_equal(a.states["s"], b.states["s"])
    # and by hand, with the pure step, for the first tick at T = 0
    if T == 0.0:
        s = start
        for i in plan.order:
            s = net.step(s, units=np.array([i]))
        np.testing.assert_array_equal(a.states["s"][1], s.s)


def test_updating_a_non_independent_set_together_differs():
    """The equivalence above needs independent classes: a coupled pair updated together
    (sync) 2-cycles, while one unit at a time settles (H2)."""
    net = nets.Hopfield([[0.0, -1.0], [-1.0, 0.0]])
    together = sim.simulate(net, [1, 1], ticks=4, schedule="blocks", blocks=[[0, 1]], stop=False)
    apart = sim.simulate(net, [1, 1], ticks=4, schedule="blocks", blocks=[[0], [1]], stop=False)
    assert not np.array_equal(together.states["s"], apart.states["s"])
    assert sim.make_plan("chromatic", net).n_groups == 2


# --- blocks ------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 8), data=st.data())
def test_blocks_accepts_exactly_the_partitions(n, data):
    blocks = data.draw(st.lists(st.lists(st.integers(-2, n + 1), max_size=n + 1), min_size=1, max_size=4))
    flat = [i for b in blocks for i in b]
    is_partition = sorted(flat) == list(range(n))
    net = _free_net(n)
    if is_partition:
        plan = sim.make_plan("blocks", net, blocks=blocks)
        np.testing.assert_array_equal(plan.order, flat)
        np.testing.assert_array_equal(plan.ptr, np.cumsum([0] + [len(b) for b in blocks]))
    else:
        with pytest.raises(ValueError):
            sim.make_plan("blocks", net, blocks=blocks)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 12), seed=SEEDS)
def test_blocks_from_shuffled_partitions(n, seed):
    """A random partition is always accepted, and dropping or duplicating a unit never is."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    k = int(rng.integers(1, n + 1))
    cuts = np.sort(rng.choice(np.arange(1, n), size=k - 1, replace=False)) if k > 1 else []
    blocks = [b.tolist() for b in np.split(perm, cuts)]
    sim.make_plan("blocks", _free_net(n), blocks=blocks)
    dropped = [b[1:] if i == 0 else b for i, b in enumerate(blocks)]
    with pytest.raises(ValueError):
        sim.make_plan("blocks", _free_net(n), blocks=dropped)
    duplicated = blocks + [[int(perm[0])]]
    with pytest.raises(ValueError):
        sim.make_plan("blocks", _free_net(n), blocks=duplicated)


def test_blocks_by_group_name_and_bad_blocks():
    net = _free_net(5)
    plan = sim.make_plan("blocks", net, blocks=["all"])
    np.testing.assert_array_equal(plan.order, np.arange(5))
    assert plan.n_groups == 1
    for bad in (None, [], ["visible"], [[0, 1, 2], [3, 4.5]], [[0, 1, 2], [3.0, 4.0]],
                [[[0, 1]], [2, 3, 4]], [[True, False], [2, 3, 4]]):
        with pytest.raises(ValueError):
            sim.make_plan("blocks", net, blocks=bad)


def test_bad_schedules_raise():
    hop = _free_net(3)
    rnn = nets.RNN(np.zeros((2, 2)), np.ones((2, 1)))
    with pytest.raises(ValueError):
        sim.make_plan("gibbs", hop)
    with pytest.raises(ValueError):
        sim.make_plan("clocked", hop)  # no input stream
    with pytest.raises(ValueError):
        sim.make_plan("sync", rnn)  # input-driven nets are clocked
    with pytest.raises(ValueError):
        sim.make_plan(sim.make_plan("sync", _free_net(4)), hop)  # a plan for another size
    plan = sim.make_plan("clocked", rnn)
    assert plan.clocked and plan.synchronous and plan.n_groups == 1
    assert sim.make_plan(plan, rnn) is plan
    with pytest.raises(ValueError):
        sim.simulate(rnn, ticks=3, schedule="clocked")  # clocked needs inputs


# --- temperatures ------------------------------------------------------------------------


AHS = [[20, 2], [15, 2], [12, 2], [10, 4]]


def test_ackley_hinton_sejnowski_piecewise():
    np.testing.assert_array_equal(sim.temperatures(AHS, 10), [20, 20, 15, 15, 12, 12, 10, 10, 10, 10])
    long = sim.temperatures(AHS, 25)  # the last T is held
    np.testing.assert_array_equal(long[:10], [20, 20, 15, 15, 12, 12, 10, 10, 10, 10])
    np.testing.assert_array_equal(long[10:], np.full(15, 10.0))
    np.testing.assert_array_equal(sim.temperatures(AHS, 3), [20, 20, 15])
    assert sim.temperatures(AHS, 0).shape == (0,)
    assert sim.temperatures(((2.5, 1),), 3).tolist() == [2.5, 2.5, 2.5]


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(st.floats(0, 100), st.integers(1, 6)), min_size=1, max_size=6),
       ticks=st.integers(0, 40))
def test_piecewise_schedule_property(pairs, ticks):
    T = sim.temperatures([list(p) for p in pairs], ticks)
    expanded = [t for t, d in pairs for _ in range(d)]
    expected = (expanded + [expanded[-1]] * ticks)[:ticks]
    np.testing.assert_array_equal(T, expected)
    assert T.dtype == np.float64


@settings(max_examples=60, deadline=None)
@given(T=st.floats(0, 1e6), ticks=st.integers(0, 50))
def test_constant_schedule(T, ticks):
    for spec in (T, {"kind": "constant", "T": T}, [[T, 1]]):
        np.testing.assert_array_equal(sim.temperatures(spec, ticks), np.full(ticks, T))
    np.testing.assert_array_equal(sim.temperatures(None, ticks), np.zeros(ticks))


@settings(max_examples=60, deadline=None)
@given(T0=st.floats(0, 100), T1=st.floats(0, 100), ticks=st.integers(2, 200))
def test_linear_endpoints(T0, T1, ticks):
    T = sim.temperatures({"kind": "linear", "T0": T0, "T1": T1}, ticks)
    assert T.shape == (ticks,)
    assert T[0] == T0
    assert T[-1] == pytest.approx(T1, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(np.diff(T), (T1 - T0) / (ticks - 1), rtol=1e-9, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(T0=st.floats(1e-3, 100), T1=st.floats(1e-3, 100), ticks=st.integers(2, 200))
def test_geometric_endpoints(T0, T1, ticks):
    T = sim.temperatures({"kind": "geometric", "T0": T0, "T1": T1}, ticks)
    assert T[0] == T0
    assert T[-1] == pytest.approx(T1, rel=1e-12)
    ratios = T[1:] / T[:-1]  # a constant ratio (T1/T0)^(1/(ticks-1))
    np.testing.assert_allclose(ratios, (T1 / T0) ** (1 / (ticks - 1)), rtol=1e-9)


def test_geometric_factor_form():
    T = sim.temperatures({"kind": "geometric", "T0": 10.0, "factor": 0.5}, 5)
    np.testing.assert_array_equal(T, [10.0, 5.0, 2.5, 1.25, 0.625])
    T = sim.temperatures({"kind": "geometric", "T0": 2.0, "factor": 0.9}, 50)
    np.testing.assert_allclose(T, 2.0 * 0.9 ** np.arange(50), rtol=1e-14)
    assert sim.temperatures({"kind": "linear", "T0": 3.0, "T1": 1.0}, 1).tolist() == [3.0]


@pytest.mark.parametrize("spec", [
    -1.0, float("nan"), float("inf"), True, "1.0", object(),
    [], [[1.0]], [[1.0, 2, 3]], [[1.0, 0]], [[1.0, -2]], [[1.0, 1.5]], [[-1.0, 2]], [5.0, 2],
    [["hot", 2]],
    {"kind": "cosine", "T0": 1, "T1": 0}, {"T": 1.0}, {"kind": "constant", "T": -1},
    {"kind": "constant"}, {"kind": "constant", "T": None}, {"kind": "constant", "T": "hot"},
    {"kind": "constant", "T": 1, "tau": 3},
    {"kind": "linear", "T0": 1.0}, {"kind": "linear", "T1": 1.0}, {"kind": "linear", "T0": 1, "T1": -1},
    {"kind": "geometric", "T0": 1.0}, {"kind": "geometric", "T0": 1.0, "T1": 0.0},
    {"kind": "geometric", "T0": 0.0, "T1": 1.0}, {"kind": "geometric", "T0": 1, "T1": 0.5, "factor": 0.5},
    {"kind": "geometric", "T0": 1.0, "factor": -0.5}, {"kind": "geometric", "factor": 0.5},
], ids=repr)
def test_bad_temperature_specs_raise(spec):
    with pytest.raises(ValueError):
        sim.temperatures(spec, 10)


def test_negative_ticks_raise():
    with pytest.raises(ValueError):
        sim.temperatures(1.0, -1)
