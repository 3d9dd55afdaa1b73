"""Multi-chain Gibbs sweeps (nets.boltzmann_chains): kernel vs numpy twin, the exact
distribution of a small machine, the plain-arithmetic exp, independence of block and group."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2

from nets import boltzmann_chains as bc
from nets import boltzmann_exact as bx
from nets._kernels import boltzmann_chains as kc
from nets.boltzmann import BoltzmannMachine


def _machine(N, rng, scale=1.0):
    A = np.triu(rng.normal(scale=scale, size=(N, N)), 1)
    return A + A.T, rng.normal(scale=scale, size=N)


def test_plain_arithmetic_exp_and_its_twin():
    a = np.concatenate([np.linspace(0.0, 40.0, 4001), [100.0, 349.0, 350.0, 1e3, np.inf]])
    k = np.array([kc.exp_neg(x) for x in a])
    np.testing.assert_array_equal(k, bc._exp_neg(a))                       # twin: bit for bit
    ref = np.exp(-np.minimum(a, 350.0))
    assert np.max(np.abs(k[:4001] / ref[:4001] - 1.0)) < 1e-13             # the documented accuracy
    assert np.all(k[-3:] == k[-3]) and 0.0 < k[-1] < 1e-150                 # clamped at 350


@pytest.mark.parametrize("N,C,block,group", [(37, 11, 8, 4), (37, 11, 128, 64), (60, 20, 16, 7), (5, 3, 2, 1)])
def test_kernel_equals_numpy_twin(N, C, block, group):
    rng = np.random.default_rng(N * 100 + block)
    W, b = _machine(N, rng, scale=1.0 / math.sqrt(N))
    S0 = (rng.random((C, N)) < 0.5).astype(np.int8)
    U = rng.random((6, N, C))
    beta = np.array([0.0, 0.3, 1.0, 2.0, 1.0, 5.0])
    k = bc.gibbs_sweeps(W, b, S0, U, beta, block=block, group=group)
    r = bc.gibbs_sweeps_reference(W, b, S0, U, beta, block=block)
    np.testing.assert_array_equal(k, r)
    assert np.mean(k != S0) > 0.1                                            # the chains moved
    # the result depends on neither the block width nor the grouping of chains
    np.testing.assert_array_equal(k, bc.gibbs_sweeps(W, b, S0, U, beta, block=N, group=C))
    # the cached fields stay equal to S W (to rounding) across calls
    g = bc.GibbsChains(W, b, S0, block=block, group=group)
    for t in range(3):
        g.sweep(U[2 * t:2 * t + 2], beta[2 * t:2 * t + 2])
    np.testing.assert_array_equal(g.S, k)
    np.testing.assert_allclose(g.H, g.S.astype(float) @ W, atol=1e-12)


def test_sequential_sweep_is_the_heat_bath_rule():
    """One sweep of one chain against the explicit rule p = sigma(beta (b_i + W[i] s))."""
    rng = np.random.default_rng(7)
    N = 9
    W, b = _machine(N, rng)
    s0 = (rng.random(N) < 0.5).astype(np.int8)
    U = rng.random((1, N, 1))
    s = s0.astype(float)
    for i in range(N):
        p = 1.0 / (1.0 + math.exp(-0.7 * (b[i] + W[i] @ s)))
        s[i] = 1.0 if U[0, i, 0] < p else 0.0
    np.testing.assert_array_equal(bc.gibbs_sweeps(W, b, s0[None], U, 0.7)[0], s)


@pytest.mark.parametrize("T,block", [(1.0, 3), (2.0, 128)])
def test_chains_sample_the_exact_distribution(T, block):
    """n chains after a burn-in are n iid samples of P(s) (8 units: enumerate 256 states);
    2 n KL(p_hat || P) is asymptotically chi^2_{K-1} (G-test), bounded at the 1 - 1e-6 quantile."""
    rng = np.random.default_rng(int(T * 10) + block)
    N, n = 8, 6000
    W, b = _machine(N, rng, scale=1.0)
    net = BoltzmannMachine(W, b)
    S = bc.gibbs_chains(net, (rng.random((n, N)) < 0.5).astype(np.int8), 40, T=T, rng=rng, block=block)
    P = bx.exact(net, T).p
    p_hat = bx.empirical(S)
    K = int(np.sum(P > 0))
    G = 2 * n * bx.kl_divergence(p_hat, P)
    assert G < chi2.ppf(1 - 1e-6, K - 1)
    # and the sampler is not trivially close: the start distribution is far off
    assert 2 * n * bx.kl_divergence(bx.empirical((rng.random((n, N)) < 0.5).astype(np.int8)), P) > chi2.ppf(
        1 - 1e-6, K - 1)


def test_gibbs_chains_seeded_and_fast_equals_reference():
    rng = np.random.default_rng(3)
    W, b = _machine(20, rng, scale=0.3)
    net = BoltzmannMachine(W, b)
    S0 = (rng.random((9, 20)) < 0.5).astype(np.int8)
    T = np.linspace(5.0, 1.0, 7)
    a = bc.gibbs_chains(net, S0, 7, T=T, rng=np.random.default_rng(11))
    r = bc.gibbs_chains(net, S0, 7, T=T, rng=np.random.default_rng(11), fast=False)
    np.testing.assert_array_equal(a, r)
    np.testing.assert_array_equal(a, bc.gibbs_chains(net, S0, 7, T=T, rng=np.random.default_rng(11), block=4))


def test_bad_input_is_a_clear_value_error():
    rng = np.random.default_rng(0)
    W, b = _machine(4, rng)
    S = np.zeros((2, 4), dtype=np.int8)
    U = rng.random((1, 4, 2))
    with pytest.raises(ValueError, match="0/1"):
        bc.gibbs_sweeps(W, b, S + 2, U)
    with pytest.raises(ValueError, match="U must be"):
        bc.gibbs_sweeps(W, b, S, rng.random((1, 2, 4)))
    with pytest.raises(ValueError, match="block"):
        bc.gibbs_sweeps(W, b, S, U, block=0)
    with pytest.raises(ValueError, match="group"):
        bc.gibbs_sweeps(W, b, S, U, group=0)
    with pytest.raises(ValueError, match="beta"):
        bc.gibbs_sweeps(W, b, S, U, -1.0)
    with pytest.raises(ValueError, match="temperatures"):
        bc.gibbs_chains(BoltzmannMachine(W, b), S, 2, T=0.0, rng=rng)
