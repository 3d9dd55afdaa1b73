"""The continuous (graded-response) Hopfield net, nets/hopfield_continuous.py (C1).

Oracles: the energy's closed-form integral against numerical quadrature; the field
against central finite differences of the energy; one Euler step computed by hand; the
monotonicity bound derived in the module docstring (inside it the energy never rises;
far outside it, it does); the linear stability of u = 0 (gain tau lambda_max(W) < 1);
the two-state net with the same couplings (high-gain limit, Hopfield 1984).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

import nets
import sim
from nets.hopfield_continuous import HopfieldContinuous, log_cosh
from sim import Record
from sim.tasks import corrupt


def _sk(n: int, seed: int) -> np.ndarray:
    A = np.random.default_rng(seed).normal(scale=1.0 / math.sqrt(n), size=(n, n))
    W = np.triu(A, 1)
    return W + W.T


def _energies(net, traj) -> np.ndarray:
    return net.energies(traj.states["u"])


def _max_rel_increase(net, traj) -> float:
    E = _energies(net, traj)
    return float(np.diff(E).max() / np.abs(E).max())


def test_log_cosh_is_stable_and_exact():
    x = np.linspace(-20, 20, 81)
    np.testing.assert_allclose(log_cosh(x), np.log(np.cosh(x)), rtol=1e-14, atol=1e-15)
    big = log_cosh(np.array([1e4, -1e6]))
    np.testing.assert_allclose(big, [1e4 - math.log(2), 1e6 - math.log(2)], rtol=1e-15)


@pytest.mark.parametrize("gain", [0.7, 5.0, 40.0])
def test_energy_integral_matches_quadrature(gain):
    """(1/tau) int_0^V artanh(v)/gain dv = (u V - ln cosh(gain u)/gain)/tau, u = artanh(V)/gain."""
    u = np.array([-0.3, -0.05, 0.0, 0.02, 0.11, 0.25]) * 5.0 / gain   # V up to tanh(1.25)
    tau = 1.7
    net = HopfieldContinuous(np.zeros((len(u), len(u))), gain=gain, tau=tau)
    V = np.tanh(gain * u)
    ref = sum(quad(lambda v: math.atanh(v) / gain, 0.0, Vi, epsabs=1e-14, epsrel=1e-13)[0] for Vi in V) / tau
    assert net.energy(net.State(u)) == pytest.approx(ref, rel=1e-10, abs=1e-14)


def test_energy_terms_and_batch_agree():
    rng = np.random.default_rng(3)
    N = 7
    W, I = _sk(N, 1), rng.normal(size=N)
    net = HopfieldContinuous(W, I, gain=3.0, tau=0.8)
    U = rng.normal(scale=0.5, size=(5, N))
    for u, e in zip(U, net.energies(U)):
        V = np.tanh(3.0 * u)
        leak = sum(quad(lambda v: math.atanh(v) / 3.0, 0.0, Vi, epsabs=1e-14)[0] for Vi in V) / 0.8
        direct = -0.5 * V @ W @ V - I @ V + leak
        assert e == pytest.approx(direct, rel=1e-9, abs=1e-12)
        assert net.energy(net.State(u)) == pytest.approx(e, rel=1e-13, abs=1e-14)


def test_field_is_minus_energy_gradient():
    """dE/du_i = -F_i g'(u_i), F = du/dt = W V + I - u/tau, by central differences."""
    rng = np.random.default_rng(7)
    N, gain = 6, 2.5
    net = HopfieldContinuous(_sk(N, 2), rng.normal(size=N), gain=gain, tau=1.3)
    u = rng.normal(scale=0.4, size=N)
    F = net.field(net.State(u))
    gprime = gain * (1.0 - np.tanh(gain * u) ** 2)
    h = 1e-6
    for i in range(N):
        up, dn = u.copy(), u.copy()
        up[i] += h
        dn[i] -= h
        fd = (net.energy(net.State(up)) - net.energy(net.State(dn))) / (2 * h)
        assert fd == pytest.approx(-F[i] * gprime[i], rel=1e-7, abs=1e-9)


def test_one_euler_step_by_hand():
    W = [[0.0, 0.5], [0.5, 0.0]]
    net = HopfieldContinuous(W, [0.1, -0.2], gain=2.0, tau=1.5, dt=0.1)
    u0, u1 = 0.3, -0.4
    V0, V1 = math.tanh(0.6), math.tanh(-0.8)
    want = [u0 + 0.1 * (0.5 * V1 + 0.1 - u0 / 1.5), u1 + 0.1 * (0.5 * V0 - 0.2 - u1 / 1.5)]
    np.testing.assert_allclose(net.step(net.State(np.array([u0, u1]))).u, want, rtol=0, atol=1e-15)
    only1 = net.step(net.State(np.array([u0, u1])), units=np.array([1])).u
    np.testing.assert_allclose(only1, [u0, want[1]], rtol=0, atol=1e-15)


def test_from_patterns_is_hebb_over_n():
    rng = np.random.default_rng(5)
    X = np.where(rng.random((4, 30)) < 0.5, 1, -1)
    net = HopfieldContinuous.from_patterns(X, gain=7.0, dt=0.02)
    np.testing.assert_allclose(net.params.W, (X.T @ X - 4 * np.eye(30)) / 30, rtol=0, atol=1e-15)
    assert (net.gain, net.tau, net.dt) == (7.0, 1.0, 0.02)
    with pytest.raises(ValueError, match="\\+-1"):
        HopfieldContinuous.from_patterns((X + 1) // 2)


def test_rejects_temperature_inputs_and_bad_parameters():
    net = HopfieldContinuous(_sk(4, 0))
    with pytest.raises(ValueError, match="no temperature"):
        sim.simulate(net, ticks=3, temperature=0.5, rng=1)
    with pytest.raises(ValueError, match="no temperature"):
        net.step(net.init_state(rng=np.random.default_rng(0)), T=1.0)
    with pytest.raises(ValueError, match="input"):
        net.step(net.init_state(rng=np.random.default_rng(0)), np.zeros(1))
    for kw in ({"gain": 0.0}, {"tau": -1.0}, {"dt": float("nan")}):
        with pytest.raises(ValueError, match="> 0"):
            HopfieldContinuous(np.zeros((2, 2)), **kw)
    with pytest.raises(ValueError, match="square"):
        HopfieldContinuous(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        HopfieldContinuous([[0.0, np.inf], [1.0, 0.0]])
    with pytest.raises(ValueError, match="shape"):
        HopfieldContinuous(np.zeros((2, 2)), [1.0])


@pytest.mark.parametrize("schedule,ticks", [("sync", 1500), ("sequential", 60), ("random", 60)])
def test_fast_path_matches_reference_over_long_runs(schedule, ticks, same_trajectory):
    net = HopfieldContinuous(_sk(40, 4), np.random.default_rng(4).normal(scale=0.1, size=40), gain=8.0, dt=0.05)
    s0 = net.state_from_spins(np.where(np.random.default_rng(1).random(40) < 0.5, 1, -1))
    kw = dict(ticks=ticks, schedule=schedule, record=Record(every=7, probes=("energy", "field_norm")), rng=3,
              stop=False)
    same_trajectory(sim.simulate(net, s0, fast=True, **kw), sim.simulate(net, s0, fast=False, **kw),
                    exact=False, atol=1e-12)


def test_energy_never_rises_inside_the_bound():
    """Synchronous Euler steps with gain dt |lambda_min| / 2 <= 1 - dt/tau: E non-increasing."""
    rng = np.random.default_rng(1984)
    n_checked = 0
    for trial in range(12):
        N = int(rng.integers(5, 60))
        W = _sk(N, 100 + trial) * rng.uniform(0.3, 2.0)
        tau = rng.uniform(0.5, 2.0)
        gain = rng.uniform(1.0, 30.0)
        lam = max(0.0, -np.linalg.eigvalsh(W)[0])
        dt = rng.uniform(0.2, 1.0) * tau / (1.0 + gain * tau * lam / 2.0)   # inside the bound
        net = HopfieldContinuous(W, rng.normal(scale=0.3, size=N), gain=gain, tau=tau, dt=dt)
        assert net.monotone_bound()
        traj = sim.simulate(net, net.init_state(rng=rng), ticks=400, record=Record(probes=()), rng=trial,
                            stop=False)
        assert _max_rel_increase(net, traj) <= 1e-12
        n_checked += 400
    assert n_checked == 4800


def test_energy_rises_for_large_steps_and_serial_updates_need_only_dt_below_tau():
    """The dt dependence: the energy is a property of the flow, not of every step size.

    SK couplings, lambda_min ~ -1.9. Synchronous: monotone at dt = 0.01, 0.05 (inside the
    bound at gain 10), rising by more than 1 % of |E| at dt = 0.9 (a 2-cycle of the Euler
    map). Serial (one unit per step): monotone for every dt <= tau even at gain 50, rising
    again for dt = 1.5 tau (the leak overshoots).
    """
    W = _sk(60, 0)
    s = np.where(np.random.default_rng(2).random(60) < 0.5, 1, -1)

    def rise(gain, dt, schedule):
        net = HopfieldContinuous(W, gain=gain, dt=dt)
        traj = sim.simulate(net, net.state_from_spins(s), ticks=300, schedule=schedule,
                            record=Record(probes=()), rng=1, stop=False)
        return _max_rel_increase(net, traj), net.monotone_bound()

    for dt in (0.01, 0.05):
        r, inside = rise(10.0, dt, "sync")
        assert inside and r <= 1e-12
    r, inside = rise(10.0, 0.9, "sync")
    assert not inside and r > 1e-2
    for dt in (0.05, 0.5, 0.9):
        assert rise(50.0, dt, "sequential")[0] <= 1e-12
    assert rise(50.0, 1.5, "sequential")[0] > 1e-3


def test_low_gain_decays_to_zero_and_high_gain_does_not():
    """u = 0 is a fixed point, stable iff gain tau lambda_max(W) < 1 (linearisation)."""
    W = _sk(50, 9)
    lam = np.linalg.eigvalsh(W)[-1]
    s0 = np.where(np.random.default_rng(0).random(50) < 0.5, 1, -1)
    low = HopfieldContinuous(W, gain=0.8 / lam, dt=0.1)
    traj = sim.simulate(low, low.state_from_spins(s0, amplitude=0.5), ticks=3000, record=Record(probes=()),
                        rng=0, stop=False)
    assert np.abs(traj.final.u).max() < 1e-10
    high = HopfieldContinuous(W, gain=1.5 / lam, dt=0.1)
    traj = sim.simulate(high, high.state_from_spins(s0, amplitude=0.5), ticks=3000, record=Record(probes=()),
                        rng=0, stop=False)
    assert np.abs(high.outputs(traj.final)).max() > 0.3


@pytest.mark.parametrize("seed", range(5))
def test_high_gain_recovers_the_binary_attractor(seed):
    """Gain 100, 5 Hebbian patterns in N = 100, cue with 10 % flipped: sign(V) ends at the
    stored pattern, which is also where the two-state net (same W, asynchronous) ends,
    and it is a fixed point of the two-state net."""
    rng = np.random.default_rng(seed)
    X = np.where(rng.random((5, 100)) < 0.5, 1, -1).astype(np.int8)
    cont = HopfieldContinuous.from_patterns(X, gain=100.0, dt=0.05)
    disc = nets.Hopfield.from_patterns(X)
    cue = corrupt(X[seed], 0.1, rng=rng)
    traj_c = sim.simulate(cont, cont.state_from_spins(cue), ticks=2000, record=Record(probes=()), rng=seed)
    traj_d = sim.simulate(disc, cue, ticks=100, schedule="random", record=Record(probes=()), rng=seed)
    assert traj_d.status == "converged"
    V_sign = cont.spins(traj_c.final)
    np.testing.assert_array_equal(V_sign, traj_d.final.s)
    np.testing.assert_array_equal(V_sign, X[seed])
    assert disc.is_fixed_point(disc.State(V_sign))
    assert np.abs(cont.outputs(traj_c.final)).min() > 0.999      # at a corner of the hypercube


def test_high_gain_fixed_points_are_two_state_fixed_points():
    """From random starts, the converged sign(V) of a high-gain net is a stable state of
    the two-state net with the same couplings (Hopfield 1984, [abstract])."""
    rng = np.random.default_rng(11)
    X = np.where(rng.random((8, 80)) < 0.5, 1, -1).astype(np.int8)
    cont = HopfieldContinuous.from_patterns(X, gain=200.0, dt=0.05)
    disc = nets.Hopfield(cont.params.W)
    for k in range(6):
        traj = sim.simulate(cont, ticks=4000, record=Record(probes=()), rng=k)
        u = traj.final.u
        assert np.abs(cont.step(traj.final).u - u).max() <= 1e-9 * max(1.0, np.abs(u).max())
        assert disc.is_fixed_point(disc.State(cont.spins(traj.final)))
