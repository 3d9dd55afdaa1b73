"""Physics of the Hopfield dynamics (SCENARIOS.md H1, H2).

H1 (Hopfield 1982, Eqs. 7-8): with symmetric W and a zero diagonal, every single-unit
(asynchronous) update changes the energy by dE = -ds_i f_i <= 0. Checked at every one of
>= 1000 recorded single-unit updates, with the energy recomputed here from the recorded
states (not only through ``Net.energy``), for +-1 and 0/1 units, random and Hebbian W,
schedules ``random`` and ``random-site``, both code paths.

H2 [definition]: W = [[0, -1], [-1, 0]] from s = (1, 1) under synchronous updates is an
orbit of period exactly 2; the same start under sequential updates reaches a fixed point.
"""
from __future__ import annotations

import numpy as np
import pytest

import nets
import sim
from sim import Record


def _random_symmetric(rng, n):
    A = rng.normal(size=(n, n))
    W = np.triu(A, 1)
    return W + W.T


def _energy(W, theta, scale, s):
    """E = -1/2 scale s^T W s + theta^T s, written out independently of the net."""
    s = s.astype(np.float64)
    return -0.5 * scale * np.einsum("i,ij,j->", s, W, s) + theta @ s


def _h1_nets():
    rng = np.random.default_rng(1982)
    N = 40
    spin_patterns = np.where(rng.random((5, N)) < 0.5, 1, -1)
    yield "random-spin", nets.Hopfield(_random_symmetric(rng, N))
    yield "random-spin-theta", nets.Hopfield(_random_symmetric(rng, N), rng.normal(size=N))
    yield "random-binary", nets.Hopfield(_random_symmetric(rng, N), units="binary")
    yield "random-binary-theta", nets.Hopfield(_random_symmetric(rng, N), rng.normal(size=N),
                                               units="binary")
    yield "hebb-spin", nets.Hopfield.from_patterns(spin_patterns)
    yield "hebb-binary", nets.Hopfield.from_patterns((spin_patterns + 1) // 2, units="binary")


H1_NETS = list(_h1_nets())


@pytest.mark.parametrize("schedule", ["random", "random-site"])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
@pytest.mark.parametrize("name,net", H1_NETS, ids=[n for n, _ in H1_NETS])
def test_h1_async_energy_never_increases(name, net, schedule, fast):
    N = net.n_units
    sweeps = 30  # 1200 single-unit updates
    decreased = 0
    for seed in range(3):
        tr = sim.simulate(net, ticks=sweeps, schedule=schedule, record=Record(micro=True),
                          rng=seed, stop=False, fast=fast)
        assert tr.status == "ok" and tr.ticks == sweeps
        assert len(tr.t) == sweeps * N + 1  # every single-unit update is recorded
        np.testing.assert_array_equal(tr.update, np.arange(sweeps * N + 1))
        S = tr.states["s"]
        # one unit at most changes between consecutive records
        assert np.all(np.sum(S[1:] != S[:-1], axis=1) <= 1)
        W, theta = net.params
        E = np.array([_energy(W, theta, net.scale, s) for s in S])
        np.testing.assert_allclose(tr.energy, E, rtol=0, atol=1e-9)
        dE = np.diff(E)
        assert np.all(dE <= 1e-9), f"energy rose by {dE.max()} at update {int(np.argmax(dE))}"
        decreased += int(np.sum(dE < -1e-9))
    assert decreased > 0  # the run did move downhill: the check was not vacuous


def test_sync_orbit_never_settles_where_async_descends():
    """The oracle can fail: sync updates of an antiferromagnetic pair do not descend in
    the Lyapunov sense (the orbit never settles), unlike the async run of the same net."""
    net = nets.Hopfield([[0.0, -1.0], [-1.0, 0.0]])
    sync = sim.simulate(net, [1, 1], ticks=10, schedule="sync", stop=False)
    assert np.all(sync.states["s"][1:] != sync.states["s"][:-1])  # never settles
    seq = sim.simulate(net, [1, 1], ticks=10, schedule="sequential", stop=False)
    assert np.all(np.diff(seq.energy) <= 0) and seq.energy[-1] < seq.energy[0]


H2_W = [[0.0, -1.0], [-1.0, 0.0]]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
def test_h2_sync_two_cycle(fast):
    net = nets.Hopfield(H2_W)
    tr = sim.simulate(net, [1, 1], ticks=50, schedule="sync", fast=fast)
    assert tr.status == "cycle"
    assert tr.period == 2
    assert tr.ticks == 2
    np.testing.assert_array_equal(tr.states["s"], [[1, 1], [-1, -1], [1, 1]])
    # without the stop rules the orbit keeps alternating for every tick
    free = sim.simulate(net, [1, 1], ticks=9, schedule="sync", stop=False, fast=fast)
    assert free.status == "ok" and free.ticks == 9
    expect = np.array([[1, 1] if t % 2 == 0 else [-1, -1] for t in range(10)])
    np.testing.assert_array_equal(free.states["s"], expect)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
def test_h2_sequential_converges(fast):
    net = nets.Hopfield(H2_W)
    tr = sim.simulate(net, [1, 1], ticks=50, schedule="sequential", fast=fast)
    assert tr.status == "converged"
    assert tr.period is None
    s = tr.final.s
    assert net.is_fixed_point(tr.final)
    assert s[0] == -s[1]  # antiferromagnetic fixed point
    # unit 0 goes first: f_0 = -1 flips it, then f_1 = +1 keeps unit 1 on
    np.testing.assert_array_equal(s, [-1, 1])


@pytest.mark.parametrize("schedule", ["random", "random-site", "chromatic"])
def test_h2_async_schedules_never_cycle(schedule):
    net = nets.Hopfield(H2_W)
    for seed in range(10):
        tr = sim.simulate(net, [1, 1], ticks=200, schedule=schedule, rng=seed)
        assert tr.status == "converged"
        assert tr.final.s[0] == -tr.final.s[1]


# --- Glauber dynamics samples the Boltzmann distribution ---------------------------------


def _exact_boltzmann(net, T):
    """P(s) = exp(-E(s)/T) / Z by enumerating all 2^N states (in the net's unit values)."""
    N = net.n_units
    lo = -1 if net.units == "spin" else 0
    bits = (np.arange(2**N)[:, None] >> np.arange(N)[None, :]) & 1
    states = np.where(bits == 1, 1, lo)
    W, theta = net.params
    E = np.array([_energy(W, theta, net.scale, s) for s in states])
    p = np.exp(-(E - E.min()) / T)
    return states, p / p.sum()


@pytest.mark.parametrize("units", ["spin", "binary"])
@pytest.mark.parametrize("schedule", ["random", "sequential"])
def test_glauber_dynamics_samples_the_boltzmann_distribution(units, schedule):
    """Heat-bath updates leave exp(-E/T) invariant; a long chain's histogram of a 4-unit
    net matches exact enumeration (an oracle independent of any seed)."""
    rng = np.random.default_rng(1985)
    N, T = 4, 1.5
    net = nets.Hopfield(_random_symmetric(rng, N), rng.normal(scale=0.5, size=N), units=units)
    states, p = _exact_boltzmann(net, T)
    tr = sim.simulate(net, ticks=40_000, schedule=schedule, temperature=T, rng=7, stop=False,
                      record=Record(probes=("state",)))
    S = tr.states["s"][1000:]  # drop a burn-in
    index = {s.tobytes(): k for k, s in enumerate(states.astype(np.int8))}
    counts = np.bincount([index[s.tobytes()] for s in S], minlength=len(states))
    tv = 0.5 * np.abs(counts / counts.sum() - p).sum()
    assert tv < 0.03, f"total variation {tv:.3f} from the Boltzmann distribution"
    # the distribution is far from uniform, so the check has teeth
    assert 0.5 * np.abs(p - 1 / len(p)).sum() > 0.1
