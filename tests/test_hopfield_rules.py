"""Storage rules (Storkey, pseudo-inverse, perceptron, incremental Hebb) and the stability protocol.

Oracles: literal implementations of the published formulas (Storkey's triple loop, the
PGD formula with an explicit solve), exact facts (projectors, orthogonal patterns,
integer Hebbian weights), the binomial law of Hebbian crosstalk, and Gardner's stability
criterion checked independently of the training loop.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy import stats

import nets
from nets.hopfield_rules import (RULES, perceptron_train, perceptron_weights, pseudo_inverse_weights, store,
                                 storkey_weights)
from sim.errors import ScenarioError
from sim.protocols import PROTOCOLS
from sim.rng import seed_sequence
from sim.scenario import load_scenario
from sim.sweep import run_scenario


def spins(P, N, seed, bias=0.5):
    rng = np.random.default_rng(seed)
    return np.where(rng.random((P, N)) < bias, 1, -1).astype(np.int8)


def hadamard(n):
    H = np.array([[1]])
    while H.shape[0] < n:
        H = np.block([[H, H], [H, -H]])
    return H.astype(np.int8)


def margins(W, scale, X):
    """sigma_i f_i for every pattern (rows) and unit (columns), (P, N)."""
    return X * (scale * (X.astype(np.float64) @ np.asarray(W, dtype=np.float64).T))


# --- Storkey ------------------------------------------------------------------------------
def storkey_literal(X):
    """Storkey (1997), the formula read literally: for i != j,
    w_ij += (xi_i xi_j - xi_i h_ji - h_ij xi_j) / n,  h_ij = sum_{k != i, j} w_ik xi_k."""
    P, N = X.shape
    W = [[0.0] * N for _ in range(N)]
    for xi in X.tolist():
        old = [row[:] for row in W]
        for i in range(N):
            for j in range(N):
                if i == j:
                    continue
                h_ij = sum(old[i][k] * xi[k] for k in range(N) if k != i and k != j)
                h_ji = sum(old[j][k] * xi[k] for k in range(N) if k != j and k != i)
                W[i][j] = old[i][j] + (xi[i] * xi[j] - xi[i] * h_ji - h_ij * xi[j]) / N
    return np.array(W)


@pytest.mark.parametrize("P,N,seed", [(1, 6, 0), (4, 9, 1), (7, 12, 2), (10, 8, 3)])
def test_storkey_equals_the_literal_formula(P, N, seed):
    X = spins(P, N, seed)
    W, scale = storkey_weights(X)
    ref = storkey_literal(X)
    assert scale == 1.0 and np.all(np.diag(W) == 0)
    assert np.max(np.abs(W - ref)) < 1e-12
    assert np.array_equal(W, W.T)


def test_storkey_first_pattern_is_hebb_over_n():
    X = spins(1, 15, 4)
    W, _ = storkey_weights(X)
    Wh, _ = nets.hopfield_rules.hebb_weights(X)
    assert np.array_equal(W, Wh / 15)


def test_storkey_beats_hebb_at_n100_p15():
    # Hebb at p = 15, N = 100: a bit is unstable when a sum of 14 * 99 = 1386 random +-1
    # terms is <= -99 (probability ~0.004), so a pattern of 100 bits is stable with
    # probability ~0.68 (measured 0.68-0.72). Storkey at p = 15 is far below its
    # capacity (~1.0 of patterns stable at p = 25). Over 10 sets (150 patterns) the Hebb
    # fraction has a standard error ~0.04, so 0.85 is ~4 standard errors above its mean.
    hebb, stork = [], []
    for s in range(10):
        X = spins(15, 100, 100 + s)
        hebb.append(np.mean(np.all(margins(*RULES["hebb"].fn(X), X) > 0, axis=1)))
        stork.append(np.mean(np.all(margins(*RULES["storkey"].fn(X), X) > 0, axis=1)))
    assert np.mean(stork) >= 0.97
    assert np.mean(hebb) <= 0.85
    assert np.mean(stork) - np.mean(hebb) >= 0.12


# --- incremental storage --------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.int16])
def test_hebb_incremental_equals_batch(dtype):
    X = spins(9, 30, 5)
    W = np.zeros((30, 30), dtype=dtype)
    for xi in X:
        W = store(W, xi, "hebb")
    Wb, _ = nets.hopfield_rules.hebb_weights(X, dtype=dtype)
    assert W.dtype == np.dtype(dtype) and np.array_equal(W, Wb)


def test_storkey_incremental_equals_batch_and_continues_a_stored_net():
    X = spins(8, 25, 6)
    W = np.zeros((25, 25))
    for xi in X:
        W = store(W, xi, "storkey")
    assert np.array_equal(W, storkey_weights(X)[0])
    W5 = storkey_weights(X[:5])[0]
    for xi in X[5:]:
        W5 = store(W5, xi, "storkey")
    assert np.max(np.abs(W5 - storkey_literal(X))) < 1e-12


def test_store_rejects_what_it_cannot_do():
    with pytest.raises(ValueError, match="incremental"):
        store(np.zeros((4, 4)), np.ones(4), "pseudo_inverse")
    with pytest.raises(ValueError, match="shape"):
        store(np.zeros((4, 4)), np.ones(5), "hebb")
    with pytest.raises(ValueError, match="spins"):
        store(np.zeros((4, 4)), np.array([0, 1, 1, 0]), "hebb")
    with pytest.raises(ValueError, match="overflow"):
        store(np.full((3, 3), np.iinfo(np.int16).max, dtype=np.int16), np.ones(3), "hebb")


# --- pseudo-inverse -------------------------------------------------------------------------
@pytest.mark.parametrize("P", [1, 20, 39])
def test_pseudo_inverse_stores_every_pattern_up_to_n_minus_1(P):
    N = 40
    X = spins(P, N, 7 + P)
    W, scale = pseudo_inverse_weights(X)
    Xf = X.astype(np.float64)
    full = Xf.T @ np.linalg.solve(Xf @ Xf.T, Xf)             # the PGD formula itself
    off = ~np.eye(N, dtype=bool)
    assert np.max(np.abs(W[off] - full[off])) < 1e-9 and np.all(np.diag(W) == 0)
    assert np.array_equal(W, W.T)
    # zero-diagonal field of a stored pattern: (1 - W_ii) xi_i
    F = scale * Xf @ W.T
    assert np.allclose(F, Xf * (1 - np.diag(full)), atol=1e-9)
    assert np.all(margins(W, scale, X) > 0)
    net = nets.Hopfield.from_patterns(X, rule="pseudo_inverse")
    for xi in X:
        assert np.array_equal(net.step(net.State(xi)).s, xi)


def test_pseudo_inverse_of_orthogonal_patterns_is_hebb_over_n():
    X = hadamard(16)[:6]
    W, _ = pseudo_inverse_weights(X)
    Wh, _ = nets.hopfield_rules.hebb_weights(X)
    assert np.max(np.abs(W - Wh / 16)) < 1e-12


def test_pseudo_inverse_handles_dependent_patterns_and_full_rank():
    X = spins(6, 30, 8)
    dep = np.concatenate([X, X[:2], -X[3:4]])                # duplicates and a negation
    assert np.max(np.abs(pseudo_inverse_weights(dep)[0] - pseudo_inverse_weights(X)[0])) < 1e-12
    # rank N: the projector is the identity, the zero-diagonal couplings vanish
    assert np.max(np.abs(pseudo_inverse_weights(hadamard(8))[0])) < 1e-12


# --- perceptron ---------------------------------------------------------------------------
@pytest.mark.parametrize("margin", [0.0, 0.4])
def test_perceptron_reaches_the_margin_where_hebb_fails(margin):
    N, P = 100, 50                                           # alpha = 0.5, below Gardner's 2
    X = spins(P, N, 9)
    res = perceptron_train(X, margin=margin, max_epochs=300)
    assert res.converged and 1 <= res.epochs <= 300 and res.updates > 0
    W = res.W
    assert np.all(np.diag(W) == 0) and not np.array_equal(W, W.T)
    gamma = X * (X.astype(np.float64) @ W.T) / np.linalg.norm(W, axis=1)   # Gardner's stability
    assert np.all(gamma > margin)
    assert res.min_stability == pytest.approx(gamma.min(), abs=1e-12)
    net = nets.Hopfield.from_patterns(X, rule="perceptron", margin=margin, max_epochs=300)
    assert np.array_equal(net.params.W, W) and not net.symmetric
    assert all(np.array_equal(net.step(net.State(xi)).s, xi) for xi in X)
    assert not np.all(margins(*RULES["hebb"].fn(X), X) > 0)  # Hebb at alpha = 0.5: far beyond capacity


def test_perceptron_stores_correlated_patterns_that_hebb_cannot():
    X = spins(20, 60, 10, bias=0.8)                          # biased: strongly correlated patterns
    assert not np.all(margins(*RULES["hebb"].fn(X), X) > 0)
    res = perceptron_train(X, max_epochs=500)
    assert res.converged and np.all(margins(res.W, 1.0, X) > 0)


def test_perceptron_is_deterministic_lr_only_rescales_and_reports_failure():
    X = spins(30, 40, 11)
    a, b = perceptron_train(X), perceptron_train(X)
    assert np.array_equal(a.W, b.W) and a.epochs == b.epochs
    c = perceptron_train(X, lr=2.0)
    assert np.allclose(c.W, 2 * a.W, rtol=0, atol=1e-12) and c.epochs == a.epochs
    over = perceptron_train(spins(120, 40, 12), max_epochs=5)  # alpha = 3 > 2: no solution
    assert not over.converged and over.epochs == 5 and over.min_stability <= 0
    W, scale = perceptron_weights(X)
    assert scale == 1.0 and np.array_equal(W, a.W)
    with pytest.raises(ValueError, match="lr"):
        perceptron_train(X, lr=0.0)
    with pytest.raises(ValueError, match="max_epochs"):
        perceptron_train(X, max_epochs=0)


def test_rules_are_registered_with_their_keys():
    assert set(nets.Hopfield.rules) >= {"hebb", "storkey", "pseudo_inverse", "perceptron"}
    assert set(nets.Hopfield.rules["perceptron"]) == {"margin", "lr", "max_epochs"}
    assert RULES["hebb"].integer and not RULES["storkey"].integer
    with pytest.raises(ValueError, match="non-integer"):
        nets.Hopfield.from_patterns(spins(3, 10, 0), rule="storkey", weights="int16")


# --- the stability protocol -------------------------------------------------------------------
def _scenario(tmp_path, body: str, name="tiny"):
    path = tmp_path / f"{name}.toml"
    path.write_text('[meta]\ntitle = "t"\nreference = "r"\nprotocol = "stability"\n' + body)
    return path


_TINY = """
[net]
kind = "hopfield"
n_units = 30
[train]
rule = "hebb"
[data]
task = "random_patterns"
n_memories = 2
[run]
trials = 4
seed = 3
sweeps = 30
basin_probes = 2
[sweep]
"train.rule" = ["hebb", "pseudo_inverse", "perceptron"]
"data.n_memories" = [2, 20]
[expect]
"all_stable[rule=pseudo_inverse,n_memories=20]" = { min = 1.0 }
[[plot]]
kind = "rules_capacity"
"""


def test_stability_protocol_on_a_tiny_sweep(tmp_path):
    sc = load_scenario(_scenario(tmp_path, _TINY))
    res = run_scenario(sc, progress=False)
    m = res.metrics
    assert res.passed
    # alpha = 2/3: Hebb keeps no set (a bit of a pattern is unstable with prob. ~0.25);
    # projection and perceptron (alpha < 1 < 2) store every pattern
    assert m["all_stable[rule=hebb,n_memories=20]"] == 0.0
    assert m["all_stable[rule=perceptron,n_memories=20]"] == 1.0
    assert m["all_stable[rule=pseudo_inverse,n_memories=2]"] == 1.0 and m["basin[rule=pseudo_inverse,n_memories=2]"] == 1.0
    for p in res.points:
        for r in p["trials"]:
            assert np.array_equal(r["stable"], r["min_margin"] > 0)
            assert np.array_equal(r["fixed"], r["min_margin"] >= 0)   # net.step agrees with the fields
            assert r["basin"].shape == (2,)
        lo, hi = p["intervals"]["all_stable"]
        assert lo <= p["metrics"]["all_stable"] <= hi
    (stem, fig), = res.figures
    assert stem == "rules_capacity" and isinstance(fig, Figure)
    assert len(fig.axes[0].get_lines()) == 3 + 4                  # 3 rules, 4 reference lines


def test_hebb_bit_stability_follows_the_binomial_law():
    # sigma_i f_i N = (N - 1) + S with S a sum of (P - 1)(N - 1) independent +-1 terms, so a
    # bit is strictly stable iff S > -(N - 1): exact for the mean over bits (linearity).
    N, P, trials = 50, 10, 160
    cfg = {"net": {"kind": "hopfield", "n_units": N, "units": "spin", "weights": "float64", "topology": "dense"},
           "train": {"rule": "hebb"}, "data": {"task": "random_patterns", "n_memories": P, "bias": 0.5},
           "run": {"basin_probes": 0, "cue_noise": 0.1, "sweeps": 10, "schedule": "random", "temperature": 0.0}}
    proto = PROTOCOLS["stability"]
    ss = seed_sequence(2024)
    results = [proto.trial(cfg, ss, k) for k in range(trials)]
    measured = proto.aggregate(cfg, results)[0]["bits_stable"]
    n = (P - 1) * (N - 1)
    theory = float(stats.binom.sf((n - (N - 1)) / 2, n, 0.5))  # P(B > (n - (N-1)) / 2)
    se = math.sqrt(theory * (1 - theory) / (trials * P * N))
    assert abs(measured - theory) < 5 * se + 1e-4, (measured, theory)


@pytest.mark.parametrize("units", ["spin", "binary"])
def test_margins_are_those_of_the_nets_own_unit_convention(units):
    # 0/1 units (Hopfield 1982): the field is computed on V in {0, 1}, f = (1/N) W V, and V
    # is stable when (2V - 1) f > 0 -- not the spin field W (2V - 1).
    from sim.rng import child, generator
    from sim.tasks import random_patterns

    N, P = 40, 6
    cfg = {"net": {"kind": "hopfield", "n_units": N, "units": units, "weights": "float64", "topology": "dense"},
           "train": {"rule": "hebb"}, "data": {"task": "random_patterns", "n_memories": P, "bias": 0.5},
           "run": {"basin_probes": 0, "cue_noise": 0.1, "sweeps": 10, "schedule": "random", "temperature": 0.0}}
    ss = seed_sequence(5)
    for k in range(3):
        r = PROTOCOLS["stability"].trial(cfg, ss, k)
        V = random_patterns(P, N, units=units, rng=generator(child(ss, k), "data"))   # the trial's patterns
        X = (2 * V.astype(np.int64) - 1) if units == "binary" else V.astype(np.int64)
        W = X.T @ X
        np.fill_diagonal(W, 0)
        expected = (X * (V.astype(np.int64) @ W.T)).min(axis=1) / N
        assert np.allclose(r["min_margin"], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("override,key", [
    ("run.temperature=0.5", "run.temperature"),
    ("run.schedule=sync", "run.schedule"),
    ("train.margin=-1", "margin"),
])
def test_stability_protocol_rejects_bad_settings(tmp_path, override, key):
    body = _TINY.replace('"train.rule" = ["hebb", "pseudo_inverse", "perceptron"]', '"train.rule" = ["perceptron"]')
    body = body.replace('"all_stable[rule=pseudo_inverse,n_memories=20]"', '"all_stable[rule=perceptron,n_memories=20]"')
    with pytest.raises(ScenarioError, match=key):
        load_scenario(_scenario(tmp_path, body), overrides=[override])
