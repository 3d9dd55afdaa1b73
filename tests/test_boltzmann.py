"""The Boltzmann machine against its exact distribution (DESIGN.md section 9).

Oracles: the definitions (energy, Gibbs probability), exact enumeration of all 2^N
states, central finite differences of the exact log-likelihood, and sampling theory
(the G statistic 2 n KL(p_hat || P) ~ chi^2_{K-1}; binomial standard errors).
"""
from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

import nets
import sim
from nets import BoltzmannMachine, BoltzmannState
from nets import boltzmann_exact as bx
from sim import Record


def _machine(seed=0, n_vis=5, n_hid=3, connect=None, w=1.0, bias=0.5):
    connect = connect or {("visible", "visible"), ("visible", "hidden"), ("hidden", "hidden")}
    return BoltzmannMachine.from_groups({"visible": n_vis, "hidden": n_hid}, connect, visible=["visible"],
                                        rng=np.random.default_rng(seed), weight_scale=w, bias_scale=bias)


def _brute_energy(net, s):
    W, b = net.params
    N = len(s)
    return -sum(b[i] * s[i] for i in range(N)) - sum(W[i, j] * s[i] * s[j] for i in range(N) for j in range(i + 1, N))


# --- the machine ------------------------------------------------------------------------

def test_energy_and_field_match_the_definitions():
    net = _machine(1)
    rng = np.random.default_rng(2)
    for _ in range(20):
        s = (rng.random(net.n_units) < 0.5).astype(np.int8)
        assert net.energy(BoltzmannState(s)) == pytest.approx(_brute_energy(net, s), abs=1e-12)
        f = net.field(BoltzmannState(s))
        for i in range(net.n_units):
            off, on = s.copy(), s.copy()
            off[i], on[i] = 0, 1
            assert f[i] == pytest.approx(_brute_energy(net, off) - _brute_energy(net, on), abs=1e-12)


@pytest.mark.parametrize("T", [0.5, 1.0, 3.0])
def test_gibbs_update_turns_on_with_the_sigmoid_probability(T):
    net = _machine(3)
    s = BoltzmannState((np.random.default_rng(4).random(net.n_units) < 0.5).astype(np.int8))
    p_on = 1.0 / (1.0 + np.exp(-net.field(s) / T))
    for i in range(net.n_units):
        below = net.step(s, units=np.array([i]), u=np.array([p_on[i] * (1 - 1e-9)]), T=T)
        above = net.step(s, units=np.array([i]), u=np.array([min(p_on[i] * (1 + 1e-9), 1 - 1e-16)]), T=T)
        assert below.s[i] == 1 and above.s[i] == 0
        assert np.array_equal(np.delete(below.s, i), np.delete(s.s, i))


def test_zero_temperature_is_the_deterministic_threshold_with_ties_kept():
    W = np.array([[0, 1, -1], [1, 0, 0], [-1, 0, 0]], dtype=float)
    net = BoltzmannMachine(W, b=[0.0, -0.5, 0.5])
    assert net.stochastic and net.uses_noise(0.0)
    s = BoltzmannState(np.array([1, 1, 0], dtype=np.int8))
    # dE = [b0 + 1 - 0, -0.5 + 1, 0.5 - 1] = [1, 0.5, -0.5]; unit 0 of [0,1,1]: dE = 0 -> kept
    for u in (np.zeros(3), np.full(3, 0.999)):
        assert np.array_equal(net.step(s, u=u, T=0.0).s, [1, 1, 0])
    tie = BoltzmannState(np.array([0, 1, 1], dtype=np.int8))
    assert net.field(tie)[0] == 0.0
    assert net.step(tie, units=np.array([0]), T=0.0).s[0] == 0
    assert net.step(BoltzmannState(np.array([1, 1, 1], dtype=np.int8)), units=np.array([0]), T=0.0).s[0] == 1


def test_invalid_machines_and_states_are_rejected():
    W = np.array([[0, 1], [2, 0]], dtype=float)
    with pytest.raises(ValueError, match="symmetric"):
        BoltzmannMachine(W)
    with pytest.raises(ValueError, match="diagonal"):
        BoltzmannMachine(np.eye(2))
    with pytest.raises(ValueError, match="mask"):
        BoltzmannMachine(np.array([[0, 1.0], [1.0, 0]]), mask=np.zeros((2, 2), bool))
    net = BoltzmannMachine(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="0 and 1"):
        sim.simulate(net, np.array([1, -1, 0]), ticks=2)
    with pytest.raises(ValueError, match="T > 0"):
        bx.exact(net, T=0.0)
    with pytest.raises(ValueError, match="limited"):
        bx.all_states(bx.MAX_UNITS + 1)


def test_group_wiring_of_the_encoder_and_graph_masks():
    net = BoltzmannMachine.from_groups({"V1": 4, "H": 2, "V2": 4},
                                       {("V1", "V1"), ("V2", "V2"), ("V1", "H"), ("V2", "H")},
                                       visible=["V1", "V2"], rng=np.random.default_rng(0), weight_scale=1.0)
    W, g = net.params.W, net.groups()
    assert np.array_equal(g["visible"], [0, 1, 2, 3, 6, 7, 8, 9]) and np.array_equal(g["hidden"], [4, 5])
    assert np.all(W[np.ix_(g["V1"], g["V2"])] == 0) and np.all(W[np.ix_(g["H"], g["H"])] == 0)
    assert np.all(W[np.ix_(g["V1"], g["H"])] != 0) and np.all(W[np.ix_(g["V2"], g["V2"])][~np.eye(4, dtype=bool)] != 0)
    assert np.array_equal(W, W.T) and np.all(np.diag(W) == 0)
    zero = BoltzmannMachine.from_groups({"V1": 4, "H": 2, "V2": 4}, {("V1", "H")}, visible=["V1", "V2"])
    assert np.all(zero.params.W == 0)  # the 1985 encoders start from zero weights
    ring = nx.cycle_graph(6)
    m = BoltzmannMachine.from_groups({"v": 6}, {("v", "v")}, visible=["v"], rng=np.random.default_rng(1),
                                     weight_scale=1.0, mask=ring)
    assert set(map(tuple, np.argwhere(m.params.W != 0))) == {(i, j) for i in range(6) for j in range(6)
                                                            if (i - j) % 6 in (1, 5)}
    # a sparse (bipartite) machine gets block Gibbs from the chromatic schedule
    rbm = _machine(0, connect={("visible", "hidden")})
    assert sim.make_plan("chromatic", rbm).n_groups == 2


# --- exact enumeration ------------------------------------------------------------------

def test_exact_distribution_against_brute_force_sums():
    net = _machine(5, n_vis=4, n_hid=2)
    T = 1.3
    S = bx.all_states(net.n_units)
    assert np.array_equal(bx.state_index(S), np.arange(len(S)))
    w = np.array([np.exp(-_brute_energy(net, s) / T) for s in S])
    Z = w.sum()
    d = bx.exact(net, T)
    assert d.log_Z == pytest.approx(np.log(Z), rel=1e-12)
    np.testing.assert_allclose(d.p, w / Z, rtol=1e-10)
    P = w / Z
    np.testing.assert_allclose(d.means(), [sum(P[k] * S[k, i] for k in range(len(S))) for i in range(net.n_units)],
                               atol=1e-12)
    np.testing.assert_allclose(d.pairwise(), np.einsum("k,ki,kj->ij", P, S, S), atol=1e-12)
    pv = d.marginal(net.visible)
    assert pv.sum() == pytest.approx(1.0) and len(pv) == 16
    assert pv[5] == pytest.approx(P[(S[:, :4] == [1, 0, 1, 0]).all(axis=1)].sum())


def test_log_partition_is_stable_for_huge_weights():
    net = _machine(6)
    big = net.with_params(W=net.params.W * 1e4, b=net.params.b * 1e4)
    d = bx.exact(big)
    S = bx.all_states(big.n_units)
    E = np.array([big.energy(BoltzmannState(s)) for s in S])
    assert np.isfinite(d.log_Z)
    # log Z -> -E_min / T + log(number of ground states) (a unique ground state here)
    assert np.sum(E == E.min()) == 1
    assert d.log_Z == pytest.approx(-E.min(), rel=1e-12)
    assert np.isclose(d.p.sum(), 1.0) and d.p.argmax() == E.argmin()


def test_high_temperature_flattens_the_distribution():
    net = _machine(7)
    H = [bx.exact(net, T).entropy() for T in (0.25, 0.5, 1, 2, 5, 20, 1e4)]
    assert np.all(np.diff(H) > 0)
    assert H[-1] == pytest.approx(net.n_units * np.log(2), abs=1e-3)
    assert H[0] < 0.5 * net.n_units * np.log(2)


def test_clamping_equals_conditioning_the_exact_distribution():
    net = _machine(8, n_vis=5, n_hid=4)
    full = bx.exact(net, 1.4)
    rng = np.random.default_rng(9)
    for units in ([0, 3], [6, 1, 4], "visible", "hidden"):
        idx = net.groups()[units] if isinstance(units, str) else np.array(units)
        v = (rng.random(len(idx)) < 0.5).astype(np.int8)
        cond = net.clamp(units, v)
        dc = bx.exact(cond, 1.4)
        ref = full.condition(idx, v)
        np.testing.assert_allclose(dc.log_p, ref.log_p, atol=1e-12)
        # the offset makes Z_c = Z P(s_c = v): the conditional energy is the full energy
        assert dc.log_Z == pytest.approx(ref.log_Z, abs=1e-12)
        Sf = bx.all_states(cond.n_units)
        Sfull = cond.clamping.full(Sf)
        assert np.array_equal(cond.clamping.restrict(Sfull), Sf) and np.all(Sfull[:, np.sort(idx)] == v[np.argsort(idx)])
        for k in (0, len(Sf) // 3, len(Sf) - 1):
            assert cond.energy(BoltzmannState(Sf[k])) == pytest.approx(net.energy(BoltzmannState(Sfull[k])))
        # visible / hidden labels follow the free units
        assert np.array_equal(cond.clamping.free[cond.visible], np.setdiff1d(net.visible, idx))
        assert np.array_equal(cond.clamping.free[cond.hidden], np.setdiff1d(net.hidden, idx))
    # clamping twice = clamping both sets at once
    once = net.clamp([1, 2, 7], [1, 0, 1])
    twice = net.clamp([7, 1], [1, 1]).clamp([1], [0])  # full unit 2 is free unit 1 after the first clamp
    np.testing.assert_allclose(bx.exact(once).log_p, bx.exact(twice).log_p, atol=1e-12)
    assert np.array_equal(once.clamping.free, twice.clamping.free)
    assert np.array_equal(once.clamping.values, twice.clamping.values)


def _data(net, seed, D=6):
    rng = np.random.default_rng(seed)
    V = (rng.random((D, net.n_visible)) < 0.5).astype(np.int8)
    return V, rng.random(D) + 0.2


@pytest.mark.parametrize("T", [1.0, 1.7])
def test_exact_gradient_equals_finite_differences_of_the_log_likelihood(T):
    net = _machine(10, n_vis=4, n_hid=3, connect={("visible", "visible"), ("visible", "hidden")})
    V, q = _data(net, 11)
    gW, gb = bx.log_likelihood_gradient(net, V, T, weights=q)
    W, b = net.params
    eps = 1e-5
    fd_W = np.zeros_like(W)
    for i, j in zip(*np.nonzero(np.triu(net.mask, 1))):
        Wp, Wm = W.copy(), W.copy()
        Wp[i, j] = Wp[j, i] = W[i, j] + eps
        Wm[i, j] = Wm[j, i] = W[i, j] - eps
        fd_W[i, j] = fd_W[j, i] = (bx.log_likelihood(net.with_params(W=Wp), V, T, weights=q)
                                   - bx.log_likelihood(net.with_params(W=Wm), V, T, weights=q)) / (2 * eps)
    fd_b = np.zeros_like(b)
    for i in range(len(b)):
        bp, bm = b.copy(), b.copy()
        bp[i] += eps
        bm[i] -= eps
        fd_b[i] = (bx.log_likelihood(net.with_params(b=bp), V, T, weights=q)
                   - bx.log_likelihood(net.with_params(b=bm), V, T, weights=q)) / (2 * eps)
    assert np.all(gW[~net.mask] == 0)
    assert np.abs(gW - fd_W).max() < 1e-6 * np.abs(fd_W).max()
    assert np.abs(gb - fd_b).max() < 1e-6 * np.abs(fd_b).max()
    assert np.abs(fd_W).max() > 1e-2  # the check is not vacuous


@pytest.mark.parametrize("n_hid", [3, 0])
def test_exact_gradient_equals_the_two_phase_statistics(n_hid):
    net = _machine(12, n_vis=5, n_hid=n_hid)
    V, q = _data(net, 13, D=7)
    T = 1.3
    p_ij, pf_ij = bx.two_phase_statistics(net, V, T, weights=q)
    gW, gb = bx.log_likelihood_gradient(net, V, T, weights=q)
    off = ~np.eye(net.n_units, dtype=bool)
    np.testing.assert_allclose(gW[off], ((p_ij - pf_ij) / T)[off], atol=1e-12)
    np.testing.assert_allclose(gb, np.diag(p_ij - pf_ij) / T, atol=1e-12)
    # the clamped statistics reproduce the data on the visible units
    Vs = np.zeros((len(V), net.n_units))
    Vs[:, net.visible] = V
    qn = q / q.sum()
    np.testing.assert_allclose(p_ij[np.ix_(net.visible, net.visible)], np.einsum("d,di,dj->ij", qn, V, V), atol=1e-12)
    assert np.abs(gW).max() > 1e-2


# --- sampling against the exact distribution ---------------------------------------------

SWEEPS, THIN = 200_000, 10


def _sample(net, schedule, T, sweeps, seed):
    tr = sim.simulate(net, ticks=sweeps, schedule=schedule, temperature=T, stop=False, rng=seed,
                      record=Record(probes=("state",)))
    assert tr.status == "ok" and tr.ticks == sweeps
    return tr.states["s"][1:]  # (sweeps, N), one record per sweep


def _check_samples(net, S, exact_dist, thin):
    """KL below its sample-size bound, chi-square not rejected, marginals within 4 SE."""
    E = np.array([net.energy(BoltzmannState(s)) for s in S[:20000]])
    E = E - E.mean()
    rho = (E[:-thin] * E[thin:]).mean() / (E * E).mean()
    assert abs(rho) < 0.05, f"samples {thin} sweeps apart are still correlated (rho = {rho:.3f})"
    X = S[::thin]
    n, K = len(X), len(exact_dist.p)
    p_hat = bx.empirical(X)
    kl = bx.kl_divergence(p_hat, exact_dist.p)
    bound = 1.25 * bx.kl_bound(n, K, alpha=1e-3)
    assert kl < bound, f"KL(samples || exact) = {kl:.5f} above the bound {bound:.5f} for n = {n}"
    _, _, pval = bx.chi_square(np.bincount(bx.state_index(X), minlength=K), exact_dist.p)
    assert pval > 1e-3
    m, m_hat = exact_dist.means(), X.mean(axis=0)
    se = np.sqrt(m * (1 - m) / n)
    assert np.all(np.abs(m_hat - m) < 4 * se + 1e-12), (m_hat, m)
    return p_hat, bound


@pytest.mark.parametrize("schedule,T,connect", [
    ("random", 1.0, None),
    ("sequential", 1.7, None),
    ("chromatic", 1.0, {("visible", "hidden")}),
])
def test_gibbs_samples_match_the_exact_distribution(schedule, T, connect):
    net = _machine(21, connect=connect)
    d = bx.exact(net, T)
    S = _sample(net, schedule, T, SWEEPS, seed=31)
    p_hat, bound = _check_samples(net, S, d, THIN)
    # the same test rejects a slightly different machine (it has the power to fail)
    b = net.params.b.copy()
    b[net.hidden] += 0.5  # exact KL(true || wrong) >= 0.015 over 90 random machines
    wrong = bx.exact(net.with_params(b=b), T)
    assert bx.kl_divergence(p_hat, wrong.p) > bound
    assert bx.kl_divergence(p_hat, bx.exact(net, 1.25 * T).p) > bound


def test_sampling_a_clamped_machine_gives_the_conditional_distribution():
    net = _machine(22, n_vis=5, n_hid=4)
    v = np.array([1, 0, 1, 1, 0], dtype=np.int8)
    cond = net.clamp("visible", v)
    S = _sample(cond, "random", 1.0, 40_000, seed=5)
    ref = bx.exact(net).condition(net.visible, v)
    _check_samples(cond, S, ref, 4)
    full = cond.clamping.full(S[:10])
    assert np.all(full[:, net.visible] == v)


def test_annealing_schedule_runs_and_hot_samples_are_flat():
    net = _machine(23)
    spec = [[50.0, 30_000], [20.0, 2], [10.0, 2], [1.0, 20_000]]
    tr = sim.simulate(net, ticks=50_004, schedule="random", temperature=spec, stop=False, rng=8,
                      record=Record(probes=("state", "energy")))
    np.testing.assert_array_equal(tr.temperature, sim.temperatures(spec, 50_004))
    S = tr.states["s"][1:]
    hot, cold = S[:30_000], S[30_004:]
    _check_samples(net, hot, bx.exact(net, 50.0), 5)
    _check_samples(net, cold, bx.exact(net, 1.0), THIN)
    H = [-(p[p > 0] @ np.log(p[p > 0])) for p in (bx.empirical(hot), bx.empirical(cold))]
    assert H[0] > 0.95 * net.n_units * np.log(2) > H[1]
    # energy falls as the machine cools
    assert tr.probes["energy"][30_005:].mean() < tr.probes["energy"][1:30_001].mean() - 1.0
    # geometric cooling to a low temperature ends "ok" (never "converged" at T > 0)
    g = sim.simulate(net, ticks=200, schedule="random", temperature={"kind": "geometric", "T0": 20.0, "T1": 0.05}, rng=3)
    assert g.status == "ok" and g.ticks == 200


# --- the sampling-theory helpers --------------------------------------------------------

def test_kl_bound_and_chi_square_are_calibrated_on_independent_samples():
    rng = np.random.default_rng(40)
    p = rng.dirichlet(np.full(16, 5.0))
    n, alpha = 4000, 0.05
    G_over = chi_reject = 0
    reps = 2000
    for _ in range(reps):
        c = rng.multinomial(n, p)
        G_over += bx.kl_divergence(c / n, p) > bx.kl_bound(n, 16, alpha)
        chi_reject += bx.chi_square(c, p)[2] < alpha
    assert 0.03 < G_over / reps < 0.07 and 0.03 < chi_reject / reps < 0.07
    assert bx.kl_bound(n, 16, 0.5) == pytest.approx(bx.kl_bound(1, 16, 0.5) / n)


def test_kl_divergence_values():
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([0.25, 0.25, 0.5])
    assert bx.kl_divergence(p, q) == pytest.approx(np.log(2))
    assert bx.kl_divergence(p, p) == 0.0
    assert bx.kl_divergence(q, p) == np.inf
    S = np.array(list(itertools.product([0, 1], repeat=2)))[:, ::-1]  # bit 0 first
    assert np.array_equal(bx.state_index(S), [0, 1, 2, 3])
    np.testing.assert_allclose(bx.empirical(np.array([[1, 0], [1, 0], [0, 1], [0, 0]])), [0.25, 0.5, 0.25, 0])


def test_exports():
    assert sim.get_net("boltzmann") is nets.BoltzmannMachine


def test_gibbs_dynamics_are_the_glauber_dynamics_of_a_binary_hopfield_net():
    """theta = -b, scale 1, 0/1 units: the same trajectory from the same seed; and the
    enumeration serves any 0/1 quadratic energy."""
    net = _machine(24)
    hop = nets.Hopfield(net.params.W, -net.params.b, units="binary")
    for schedule, T in (("random", 1.0), ("sequential", 0.6), ("random-site", 2.0)):
        a = sim.simulate(net, ticks=300, schedule=schedule, temperature=T, stop=False, rng=4)
        b = sim.simulate(hop, ticks=300, schedule=schedule, temperature=T, stop=False, rng=4)
        np.testing.assert_array_equal(a.states["s"], b.states["s"])
        np.testing.assert_allclose(a.energy, b.energy, atol=1e-12)
    # any 0/1 net with a quadratic energy: a Hopfield net's arrays (scale W, -theta)
    rng = np.random.default_rng(25)
    A = np.triu(rng.integers(-3, 4, size=(7, 7)), 1).astype(float)
    h = nets.Hopfield(A + A.T, rng.normal(size=7), units="binary", scale=0.25)
    d = bx.exact_distribution(h.scale * h.params.W, -h.params.theta, 0.6)
    E = np.array([h.energy(nets.HopfieldState(s)) for s in bx.all_states(7)])
    np.testing.assert_allclose(d.p, np.exp(-E / 0.6) / np.exp(-E / 0.6).sum(), rtol=1e-10)
