"""Palimpsest storage rules (clipped_hebb, decay_hebb) and the retention_attractor protocol."""
from __future__ import annotations

import math

import numpy as np
import pytest

import nets
from nets.hopfield_rules import RULES, clipped_hebb_weights, decay_hebb_weights, hebb_weights, store


def spins(P, N, seed):
    rng = np.random.default_rng(seed)
    return np.where(rng.random((P, N)) < 0.5, 1, -1).astype(np.int8)


# --- clipped Hebb (Parisi 1986) -------------------------------------------------------------
def test_clipped_hebb_respects_the_bound_and_is_symmetric():
    N, A = 49, 0.3                                        # K = A sqrt(N) = 2.1
    W, scale = clipped_hebb_weights(spins(40, N, 1), bound=A)
    assert scale == 1 / N
    assert np.all(np.diag(W) == 0) and np.array_equal(W, W.T)
    assert np.abs(W).max() == pytest.approx(A * math.sqrt(N))   # the bound is reached and never exceeded
    assert np.all(np.abs(W) <= A * math.sqrt(N) + 1e-12)
    # every step is +-1 or a clip to +-K, so each coupling is an integer or +-K plus an integer
    K = A * math.sqrt(N)
    near = lambda v: np.abs(v - np.round(v)) < 1e-9  # noqa: E731
    assert np.all(near(W) | near(W - K) | near(W + K))
    assert not np.all(near(W))                            # some couplings did hit the bound


def test_clipped_hebb_is_exactly_hebb_when_the_bound_is_never_reached():
    X = spins(12, 30, 2)
    W, scale = clipped_hebb_weights(X, bound=12 / math.sqrt(30))   # K = P: no coupling can exceed it
    Wh, sh = hebb_weights(X)
    assert scale == sh and np.array_equal(W, Wh)                     # bit for bit (integers in float64)
    net_c = nets.Hopfield.from_patterns(X, rule="clipped_hebb", bound=100.0)
    net_h = nets.Hopfield.from_patterns(X, rule="hebb")
    s = nets.HopfieldState(spins(1, 30, 3)[0])
    assert np.array_equal(net_c.field(s), net_h.field(s))


def test_clipped_hebb_step_by_step_against_a_literal_loop():
    X = spins(9, 16, 4)
    A = 0.5
    J = np.zeros((16, 16))
    for xi in X:                                          # Parisi's form in J units
        for i in range(16):
            for j in range(16):
                if i != j:
                    J[i, j] = min(A, max(-A, J[i, j] + xi[i] * xi[j] / 4.0))
    W, scale = clipped_hebb_weights(X, bound=A)
    np.testing.assert_allclose(W / 4.0, J, rtol=0, atol=1e-12)   # W = sqrt(N) J
    Wi = np.zeros((16, 16))
    for xi in X:
        Wi = store(Wi, xi, "clipped_hebb", bound=A)
    assert np.array_equal(Wi, W)


def test_clipped_hebb_forgets_the_oldest_and_keeps_the_newest():
    N, P = 200, 60                                        # alpha = 0.3: Hebb would have blacked out
    X = spins(P, N, 5)
    W, scale = clipped_hebb_weights(X, bound=0.4)
    stab = (X * (X @ W.T)) > 0                            # (P, N) unit i of pattern mu stable
    frac = stab.mean(axis=1)
    assert frac[-5:].min() > 0.99                         # the newest patterns are (nearly) fixed points
    assert frac[:10].mean() < 0.8                         # the oldest are overwritten
    Wh, _ = hebb_weights(X)
    assert ((X * (X @ Wh.T)) > 0).mean(axis=1)[-5:].min() < 0.99   # Hebb does not favour the newest


def test_decay_hebb_weights_are_the_exponentially_weighted_sum():
    N, P, tau = 20, 7, 0.1
    X = spins(P, N, 6)
    lam = math.exp(-1 / (tau * N))
    ref = sum(lam ** (P - 1 - mu) * np.outer(X[mu], X[mu]).astype(float) for mu in range(P))
    np.fill_diagonal(ref, 0)
    W, scale = decay_hebb_weights(X, tau=tau)
    assert scale == 1 / N
    np.testing.assert_allclose(W, ref, rtol=1e-13, atol=1e-12)
    W_inf, _ = decay_hebb_weights(X, tau=math.inf)
    assert np.array_equal(W_inf, hebb_weights(X)[0])


def test_palimpsest_rules_are_registered_and_reject_bad_options():
    assert set(nets.Hopfield.rules["clipped_hebb"]) == {"bound"}
    assert set(nets.Hopfield.rules["decay_hebb"]) == {"tau"}
    assert not RULES["clipped_hebb"].integer
    with pytest.raises(ValueError, match="bound"):
        clipped_hebb_weights(spins(2, 5, 0), bound=0.0)
    with pytest.raises(ValueError, match="tau"):
        decay_hebb_weights(spins(2, 5, 0), tau=-1.0)
    with pytest.raises(ValueError, match="non-integer"):
        nets.Hopfield.from_patterns(spins(2, 5, 0), rule="clipped_hebb", weights="int16")
