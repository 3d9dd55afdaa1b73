"""The boltzmann_sampling protocol: exact E[KL] of a multinomial estimate, block KL, trials, figures."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from nets import boltzmann_exact as bx
from sim.protocols import PROTOCOLS
from sim.protocols.boltzmann_sampling import block_kl, expected_kl, random_machine, sample_sizes
from sim.schema import Key  # noqa: F401  (the protocol's run keys are Keys)


def _cfg(**run):
    base = {"n_units": 6, "n_visible": 3, "weight_sd": 1.0, "bias_sd": 0.5, "chains": 600, "min_samples": 75,
            "alpha": 1e-3, "schedule": "random", "sweeps": 12,
            "temperature": [[10, 2], [5, 2], [2, 2], [1, 1]], "trials": 1, "seed": 0}
    base.update(run)
    return {"run": base, "record": {}}


def test_expected_kl_equals_multinomial_enumeration():
    """E[KL(p_hat || P)] from binomial marginals equals the sum over all multinomial outcomes (K = 3, n = 7)."""
    P = np.array([0.5, 0.3, 0.2])
    n = 7
    total = 0.0
    for c0, c1 in itertools.product(range(n + 1), repeat=2):
        c2 = n - c0 - c1
        if c2 < 0:
            continue
        prob = math.factorial(n) / (math.factorial(c0) * math.factorial(c1) * math.factorial(c2)) \
            * P[0] ** c0 * P[1] ** c1 * P[2] ** c2
        total += prob * bx.kl_divergence(np.array([c0, c1, c2]) / n, P)
    assert expected_kl(P, n) == pytest.approx(total, rel=1e-12)


def test_expected_kl_approaches_the_chi_square_mean():
    """n E[KL] -> (K - 1)/2 for n P_k >> 1 (G-test asymptotics), within 2 % at n = 20,000."""
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.full(16, 5.0))
    assert 20000 * expected_kl(P, 20000) == pytest.approx(7.5, rel=0.02)
    # cells with n P_k << 1 contribute far less than 1/(2n) each: E[KL] < (K - 1)/(2n)
    P = np.r_[np.full(4, 0.2475), np.full(12, 0.01 / 12)]
    assert expected_kl(P, 50) < 0.5 * 15 / 100


def test_block_kl_and_sample_sizes():
    rng = np.random.default_rng(1)
    P = np.full(8, 1 / 8)
    idx = rng.integers(0, 8, size=400)
    assert block_kl(idx, P, 400) == pytest.approx(bx.kl_divergence(np.bincount(idx, minlength=8) / 400, P))
    halves = [bx.kl_divergence(np.bincount(h, minlength=8) / 200, P) for h in (idx[:200], idx[200:])]
    assert block_kl(idx, P, 200) == pytest.approx(np.mean(halves))
    assert sample_sizes(4000, 125).tolist() == [125, 250, 500, 1000, 2000, 4000]


def test_random_machine_is_symmetric_with_zero_diagonal():
    m = random_machine(7, 3, 1.0, 0.5, np.random.default_rng(2))
    W = np.asarray(m.params.W)
    assert np.array_equal(W, W.T) and np.all(np.diag(W) == 0)
    assert m.visible.tolist() == [0, 1, 2] and m.hidden.tolist() == [3, 4, 5, 6]


def test_annealed_chains_meet_the_chi_square_bound():
    """600 annealed chains of a 6-unit machine: KL below the 0.999 bound, near the exact E[KL]."""
    proto = PROTOCOLS["boltzmann_sampling"]
    cfg = _cfg()
    r = proto.trial(cfg, np.random.SeedSequence(11), 0)
    assert r["kl_final"] < r["bound"]
    assert r["kl_t"][0] > r["kl_final"]                      # random starts are far from P
    assert r["ns"].tolist() == [75, 150, 300, 600]
    metrics, _ = proto.aggregate(cfg, [r])
    assert metrics["kl_bound_ratio"] < 1
    assert -1.6 < metrics["kl_slope"] < -0.4


def test_unmixed_chains_fail_the_bound():
    """The check can fail: one sweep from random starts of a strongly coupled machine is far from P."""
    proto = PROTOCOLS["boltzmann_sampling"]
    cfg = _cfg(weight_sd=3.0, sweeps=1, temperature=1.0, chains=2000, min_samples=250)
    r = proto.trial(cfg, np.random.SeedSequence(12), 0)
    assert r["kl_final"] > 3 * r["bound"]


def test_figures_render():
    from sim.plots import boltzmann_sampling as bp

    proto = PROTOCOLS["boltzmann_sampling"]
    r = proto.trial(_cfg(chains=200, min_samples=50), np.random.SeedSequence(3), 0)
    for fig in (bp.kl_samples_figure([r]), bp.annealing_kl_figure([r])):
        fig.canvas.draw()
        assert fig.axes and all(ax.get_xlabel() or ax.get_ylabel() for ax in fig.axes)
