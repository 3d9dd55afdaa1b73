"""Multi-chain Gibbs sweeps (nets.boltzmann_chains): kernel vs numpy twin, the exact
distribution of a small machine, the plain-arithmetic exp, independence of block, sub-block
and group, and the float32 block product (field error within its derived bound, exact refresh)."""
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


@pytest.mark.parametrize("N,C,block,sub,group,product", [
    (37, 11, 8, 16, 4, "float64"), (37, 11, 128, 16, 64, "float64"), (60, 20, 16, 5, 7, "float64"),
    (5, 3, 2, 1, 1, "float64"), (37, 11, 8, 3, 4, "float32"), (60, 20, 128, 7, 20, "float32")])
def test_kernel_equals_numpy_twin(N, C, block, sub, group, product):
    rng = np.random.default_rng(N * 100 + block)
    W, b = _machine(N, rng, scale=1.0 / math.sqrt(N))
    S0 = (rng.random((C, N)) < 0.5).astype(np.int8)
    U = rng.random((6, N, C))
    beta = np.array([0.0, 0.3, 1.0, 2.0, 1.0, 5.0])
    kw = dict(block=block, sub=sub, product=product, refresh=None if product == "float64" else 3)
    k = bc.gibbs_sweeps(W, b, S0, U, beta, group=group, **kw)
    r = bc.gibbs_sweeps_reference(W, b, S0, U, beta, **kw)
    np.testing.assert_array_equal(k, r)
    assert np.mean(k != S0) > 0.1                                            # the chains moved
    # the result depends on neither the block and sub-block widths nor the grouping of chains
    np.testing.assert_array_equal(k, bc.gibbs_sweeps(W, b, S0, U, beta, block=N, sub=N, group=C))
    # the cached fields stay equal to S W (to rounding) across calls; the refresh period
    # counts sweeps across calls (refresh after sweeps 3 and 6 of 2 + 2 + 2)
    g = bc.GibbsChains(W, b, S0, group=group, **kw)
    for t in range(3):
        g.sweep(U[2 * t:2 * t + 2], beta[2 * t:2 * t + 2])
    np.testing.assert_array_equal(g.S, k)
    assert g.sweeps_done == 6
    np.testing.assert_allclose(g.H, g.S.astype(float) @ W, atol=1e-12)
    if product == "float32" and N > block:
        assert 0.0 < g.max_field_error < bc.field_error_bound(W, block, 3).max()


def test_float32_product_field_error_within_its_bound():
    """N = 400 (blocks of 64): float32 block products drift the fields by ~1e-6, below the
    derived bound at every refresh and in between; the exact refresh puts them back to S W."""
    rng = np.random.default_rng(5)
    N, C, R = 400, 16, 4
    W, b = _machine(N, rng, scale=1.0 / math.sqrt(N))
    S0 = (rng.random((C, N)) < 0.5).astype(np.int8)
    U = rng.random((2 * R + 1, N, C))
    g = bc.GibbsChains(W, b, S0, block=64, product="float32", refresh=R)
    g.sweep(U[:R - 1])
    drift = np.abs(g.H - g.S.astype(float) @ W)
    assert 1e-9 < drift.max() and np.all(drift <= bc.field_error_bound(W, 64, R - 1))   # float32 in use, bounded
    assert drift.max() < 1e-5                                                  # and far below the worst case
    g.sweep(U[R - 1:R])
    np.testing.assert_allclose(g.H, g.S.astype(float) @ W, rtol=0, atol=1e-12)  # refreshed
    assert 1e-9 < g.max_field_error <= bc.field_error_bound(W, 64, R).max()
    g.sweep(U[R:])
    assert np.all(np.abs(g.H - g.S.astype(float) @ W) <= bc.field_error_bound(W, 64, R))
    # the float64 product keeps the fields to ~1e-13 without any refresh
    g64 = bc.GibbsChains(W, b, S0, block=64)
    g64.sweep(U)
    np.testing.assert_allclose(g64.H, g64.S.astype(float) @ W, rtol=0, atol=1e-12)
    assert g64.max_field_error == 0.0


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


@pytest.mark.parametrize("T,block,sub,product", [(1.0, 3, 16, "float64"), (2.0, 128, 16, "float64"),
                                                  (1.0, 4, 2, "float32")])
def test_chains_sample_the_exact_distribution(T, block, sub, product):
    """n chains after a burn-in are n iid samples of P(s) (8 units: enumerate 256 states);
    2 n KL(p_hat || P) is asymptotically chi^2_{K-1} (G-test), bounded at the 1 - 1e-6 quantile."""
    rng = np.random.default_rng(int(T * 10) + block)
    N, n = 8, 6000
    W, b = _machine(N, rng, scale=1.0)
    net = BoltzmannMachine(W, b)
    S = bc.gibbs_chains(net, (rng.random((n, N)) < 0.5).astype(np.int8), 40, T=T, rng=rng, block=block, sub=sub,
                        product=product, refresh=None if product == "float64" else 7)
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
    with pytest.raises(ValueError, match="sub"):
        bc.gibbs_sweeps(W, b, S, U, sub=0)
    with pytest.raises(ValueError, match="product"):
        bc.gibbs_sweeps(W, b, S, U, product="float16")
    with pytest.raises(ValueError, match="refresh"):
        bc.gibbs_sweeps(W, b, S, U, product="float32", refresh=-1)
    with pytest.raises(ValueError, match="beta"):
        bc.gibbs_sweeps(W, b, S, U, -1.0)
    with pytest.raises(ValueError, match="temperatures"):
        bc.gibbs_chains(BoltzmannMachine(W, b), S, 2, T=0.0, rng=rng)
