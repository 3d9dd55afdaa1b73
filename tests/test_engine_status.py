"""The stop rules and the status of a Trajectory (sim/record.py, sim/simulate.py).

* "converged": started at a stored memory, zero temperature -> one tick, a fixed point.
  The oracle is theory where possible: Hebbian storage of mutually orthogonal patterns
  (rows of a Hadamard matrix) gives W xi = (N - p) xi, so each memory is a fixed point.
* "ok": any T > 0 (a heat-bath run never "converges"), or stop=False.
* "diverged": h_t = relu(10 h_{t-1} + 1) = (10^t - 1) / 9 overflows to inf at a tick
  computed here in plain Python floats; the trajectory ends at the last finite state.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import hadamard

import nets
import sim
from sim import Record

FAST = pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
SERIAL = ["sync", "sequential", "random", "random-site", "chromatic"]


def _orthogonal_patterns(n_units=64, p=4):
    """p mutually orthogonal +-1 patterns, none of them all-ones (Hadamard rows 1..p)."""
    return hadamard(n_units)[1:p + 1]


def _random_patterns(rng, p=3, n_units=100):
    return np.where(rng.random((p, n_units)) < 0.5, 1, -1)


@FAST
@pytest.mark.parametrize("schedule", SERIAL)
@pytest.mark.parametrize("units", ["spin", "binary"])
def test_converged_at_a_stored_orthogonal_pattern(units, schedule, fast):
    P = _orthogonal_patterns()
    stored = P if units == "spin" else (P + 1) // 2
    net = nets.Hopfield.from_patterns(stored, units=units)
    W, _ = net.params
    for mu in range(len(P)):  # theory: W xi = (N - p) xi
        np.testing.assert_array_equal(W @ P[mu], (P.shape[1] - len(P)) * P[mu])
        tr = sim.simulate(net, stored[mu], ticks=100, schedule=schedule, rng=mu, fast=fast)
        assert tr.status == "converged"
        assert tr.ticks == 1
        np.testing.assert_array_equal(tr.final.s, stored[mu])
        np.testing.assert_array_equal(tr.states["s"], [stored[mu], stored[mu]])


@FAST
@pytest.mark.parametrize("schedule", SERIAL)
def test_converged_at_a_stored_random_pattern(schedule, fast):
    rng = np.random.default_rng(1982)
    P = _random_patterns(rng)
    net = nets.Hopfield.from_patterns(P)
    # precondition, checked independently of the net: every memory is sign-stable
    W = P.T @ P - len(P) * np.eye(P.shape[1])
    assert np.all(np.sign(W @ P.T).T == P)
    for mu in range(len(P)):
        tr = sim.simulate(net, P[mu], ticks=100, schedule=schedule, rng=mu, fast=fast)
        assert (tr.status, tr.ticks) == ("converged", 1)
        np.testing.assert_array_equal(tr.final.s, P[mu])


@FAST
@pytest.mark.parametrize("schedule", ["sync", "sequential", "random"])
def test_converged_from_a_corrupted_pattern(schedule, fast):
    """Recall: a memory with a few flipped bits is repaired and the run then stops."""
    P = _orthogonal_patterns()
    net = nets.Hopfield.from_patterns(P)
    start = P[0].copy()
    start[[3, 17, 40]] *= -1
    tr = sim.simulate(net, start, ticks=100, schedule=schedule, rng=0, fast=fast)
    assert tr.status == "converged"
    assert 2 <= tr.ticks < 100  # one tick to repair, one to see nothing change
    np.testing.assert_array_equal(tr.final.s, P[0])


@FAST
@pytest.mark.parametrize("T", [1e-3, 0.5, 3.0])
def test_ok_when_temperature_is_positive(T, fast):
    """At T > 0 even an unchanged state is not "converged": noise may still flip it."""
    P = _orthogonal_patterns()
    net = nets.Hopfield.from_patterns(P)
    for schedule in ("sync", "random", "random-site"):
        tr = sim.simulate(net, P[0], ticks=40, schedule=schedule, temperature=T, rng=5, fast=fast)
        assert tr.status == "ok"
        assert tr.ticks == 40 and len(tr.t) == 41
        assert tr.period is None
        np.testing.assert_array_equal(tr.temperature, np.full(40, T))
    if T == 1e-3:  # the state sat at the memory, unchanged, and the run still went on
        assert np.all(tr.states["s"] == P[0])


@FAST
def test_stop_false_runs_every_tick(fast):
    P = _orthogonal_patterns()
    net = nets.Hopfield.from_patterns(P)
    tr = sim.simulate(net, P[0], ticks=30, schedule="sequential", stop=False, fast=fast)
    assert (tr.status, tr.ticks) == ("ok", 30)
    assert np.all(tr.states["s"] == P[0])


@FAST
def test_converges_only_once_the_temperature_reaches_zero(fast):
    rng = np.random.default_rng(3)
    P = _random_patterns(rng, p=3)
    net = nets.Hopfield.from_patterns(P)
    spec = [[0.05, 10], [0.0, 1]]  # 10 sweeps nearly frozen, then T = 0 held
    tr = sim.simulate(net, P[0], ticks=200, schedule="random", temperature=spec, rng=2, fast=fast)
    assert tr.status == "converged"
    # the state sat still throughout, but the rule may only fire once every remaining
    # tick is at T = 0, i.e. after tick 10
    assert tr.ticks == 10
    assert np.all(tr.states["s"] == P[0])
    np.testing.assert_array_equal(tr.temperature, [0.05] * 10)
    # if the run ends at tick 10 instead, its last tick was noisy: "ok", not "converged"
    short = sim.simulate(net, P[0], ticks=10, schedule="random", temperature=spec, rng=2, fast=fast)
    assert (short.status, short.ticks) == ("ok", 10)
    np.testing.assert_array_equal(short.states["s"], tr.states["s"])


def _overflow_tick(w=10.0, x=1.0):
    """First tick at which h_t = w h_{t-1} + x overflows (plain Python floats)."""
    h, t = 0.0, 0
    while True:
        nxt = w * h + x
        if not math.isfinite(nxt):
            return t, h
        h, t = nxt, t + 1


@FAST
@pytest.mark.parametrize("record", [Record(probes=("state",)), Record(every=7, probes=("state",)),
                                    Record(micro=True, every=5, probes=("state",))],
                         ids=["every-tick", "every-7", "micro-5"])
def test_diverged_relu_rnn(record, fast):
    net = nets.RNN([[10.0]], [[1.0]], activation="relu")
    inputs = np.ones((500, 1))
    last_tick, last_h = _overflow_tick()
    assert last_tick < 500
    with np.errstate(over="ignore"):
        tr = sim.simulate(net, inputs=inputs, schedule="clocked", record=record, rng=0, fast=fast)
    assert tr.status == "diverged"
    assert tr.ticks == last_tick < len(inputs)
    assert np.all(np.isfinite(tr.states["h"]))
    assert tr.final.h[0] == last_h
    assert tr.states["h"][-1, 0] == last_h  # the record ends at the last finite state
    assert tr.t[-1] == last_tick
    assert len(tr.temperature) == last_tick


@FAST
def test_diverged_nan_from_opposite_infinities(fast):
    """inf - inf = NaN also ends the run at the last finite state."""
    # units 0 and 1 blow up to +inf and -inf; unit 2 sums them and becomes NaN one tick later
    W = [[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [1.0, 1.0, 0.0]]
    U = [[1.0], [-1.0], [0.0]]
    net = nets.RNN(W, U, activation="identity")
    with np.errstate(over="ignore", invalid="ignore"):
        tr = sim.simulate(net, inputs=np.ones((400, 1)), schedule="clocked", rng=0, fast=fast)
    assert tr.status == "diverged"
    assert np.all(np.isfinite(tr.states["h"]))
    last_tick, _ = _overflow_tick()
    assert tr.ticks == last_tick


def test_non_finite_initial_state_is_rejected():
    net = nets.RNN([[0.5]], [[1.0]])
    with pytest.raises(ValueError):
        sim.simulate(net, np.array([np.nan]), inputs=np.ones((3, 1)), schedule="clocked")


@pytest.mark.parametrize("units,bad", [("binary", [0.5, 1, 1, 0]), ("binary", [2, 1, 1, 0]),
                                       ("spin", [1, -1, 0, 1]), ("spin", np.array([1, -1, 255, 1])),
                                       ("spin", [1, -1, 1]), ("spin", [1.0, -1.0, np.nan, 1.0])])
def test_invalid_initial_states_are_rejected_not_coerced(units, bad):
    net = nets.Hopfield.from_patterns(np.array([[1, 0, 1, 0]]) if units == "binary"
                                      else np.array([[1, -1, 1, -1]]), units=units)
    with pytest.raises(ValueError):
        sim.simulate(net, bad, ticks=1)
    good = [1, 0, 1, 1] if units == "binary" else [1.0, -1.0, 1.0, 1.0]  # exact values are fine
    tr = sim.simulate(net, good, ticks=1, stop=False)
    np.testing.assert_array_equal(tr.states["s"][0], good)


@FAST
def test_record_every_k_ticks_plus_the_last(fast):
    rng = np.random.default_rng(8)
    net = nets.Hopfield.from_patterns(_random_patterns(rng, n_units=30))
    tr = sim.simulate(net, ticks=20, schedule="random", temperature=0.5, rng=1, fast=fast,
                      record=Record(every=3))
    np.testing.assert_array_equal(tr.t, [0, 3, 6, 9, 12, 15, 18, 20])
    np.testing.assert_array_equal(tr.update, tr.t.astype(int) * 30)
    full = sim.simulate(net, ticks=20, schedule="random", temperature=0.5, rng=1, fast=fast)
    np.testing.assert_array_equal(tr.states["s"], full.states["s"][[0, 3, 6, 9, 12, 15, 18, 20]])
    np.testing.assert_array_equal(tr.final.s, full.final.s)
    micro = sim.simulate(net, ticks=20, schedule="random", temperature=0.5, rng=1, fast=fast,
                         record=Record(micro=True, every=30))
    np.testing.assert_array_equal(micro.states["s"], full.states["s"])
    np.testing.assert_array_equal(micro.t, full.t)
