"""The RBM against exact enumeration (DESIGN.md section 9).

Oracles: brute-force sums over all joint states (free energies, log Z, pseudo-likelihood),
the general Boltzmann machine's exact enumeration (nets.boltzmann_exact) for the same
machine built independently, sampling theory (2 n KL(p_hat || P) ~ chi^2_{K-1}) for the
block-Gibbs samplers, and the definition of bars-and-stripes by enumerating all images.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import sim
from nets import RBM, BoltzmannMachine, RBMState
from nets import boltzmann_exact as bx
from nets import rbm as R
from sim import Record
from sim.tasks import bars_and_stripes


def _rbm(seed, V=4, H=3, w=1.0, b=0.5):
    rng = np.random.default_rng(seed)
    return RBM(rng.normal(scale=w, size=(V, H)), rng.normal(scale=b, size=V), rng.normal(scale=b, size=H))


def _energy(p, v, h):
    W, bv, bh = p
    return -sum(bv[i] * v[i] for i in range(len(v))) - sum(bh[j] * h[j] for j in range(len(h))) \
        - sum(v[i] * W[i, j] * h[j] for i in range(len(v)) for j in range(len(h)))


def _boltzmann_twin(rbm):
    """The same machine as a general Boltzmann machine wired visible-hidden (built without RBM code)."""
    W, bv, bh = rbm.params
    V, H = W.shape
    bm = BoltzmannMachine.from_groups({"visible": V, "hidden": H}, {("visible", "hidden")}, visible=["visible"])
    Wf = np.zeros((V + H, V + H))
    Wf[:V, V:] = W
    Wf[V:, :V] = W.T
    return bm.with_params(W=Wf, b=np.concatenate([bv, bh]))


# --- exact quantities ---------------------------------------------------------------------
@pytest.mark.parametrize("V,H", [(4, 3), (3, 5)])
def test_free_energies_and_log_partition_against_brute_force(V, H):
    rbm = _rbm(1, V, H)
    p = rbm.params
    vs = list(itertools.product((0, 1), repeat=V))
    hs = list(itertools.product((0, 1), repeat=H))
    for v in vs:
        brute = -math.log(sum(math.exp(-_energy(p, v, h)) for h in hs))
        assert R.free_energy(p, np.array([v]))[0] == pytest.approx(brute, abs=1e-12)
    for h in hs:
        brute = -math.log(sum(math.exp(-_energy(p, v, h)) for v in vs))
        assert R.free_energy_hidden(p, np.array([h]))[0] == pytest.approx(brute, abs=1e-12)
    log_Z = math.log(sum(math.exp(-_energy(p, v, h)) for v in vs for h in hs))
    assert rbm.log_partition() == pytest.approx(log_Z, abs=1e-12)   # enumerates the smaller layer


def test_free_energy_is_stable_for_huge_weights():
    rbm = RBM(np.full((3, 2), 400.0), np.zeros(3), np.full(2, -300.0))
    F = rbm.free_energy(np.array([[1, 1, 1], [0, 0, 0]]))
    assert np.all(np.isfinite(F)) and F[0] == pytest.approx(-2 * 900.0)
    assert np.isfinite(rbm.log_partition())


@pytest.mark.parametrize("V,H", [(5, 3), (3, 6)])
def test_exact_log_likelihood_equals_the_general_boltzmann_enumeration(V, H):
    rbm = _rbm(2, V, H, w=1.5)
    data = (np.random.default_rng(3).random((7, V)) < 0.5).astype(np.int8)
    weights = np.arange(1, 8, dtype=float)
    bm = _boltzmann_twin(rbm)
    assert rbm.log_likelihood(data) == pytest.approx(bx.log_likelihood(bm, data), abs=1e-10)
    assert rbm.log_likelihood(data, weights=weights) == pytest.approx(bx.log_likelihood(bm, data, weights=weights),
                                                                      abs=1e-10)
    # the energies of the two machines agree state by state
    s = np.random.default_rng(4).integers(0, 2, V + H).astype(np.int8)
    assert rbm.energy(RBMState(s[:V], s[V:])) == pytest.approx(bm.energy(sim.core.registry()["boltzmann"].State(s)))


def test_pseudo_likelihood_exact_and_stochastic():
    rbm = _rbm(5, 4, 3)
    data = (np.random.default_rng(6).random((6, 4)) < 0.5).astype(np.int8)
    logP = -rbm.free_energy(R._states(4)) - rbm.log_partition()        # (16,) log P(v), bit i = v_i
    idx = bx.state_index(data)
    brute = np.mean([sum(logP[k] - np.logaddexp(logP[k], logP[k ^ (1 << i)]) for i in range(4)) for k in idx])
    assert R.pseudo_likelihood(rbm.params, data) == pytest.approx(brute, abs=1e-12)
    # one random bit per example, times V: unbiased for the exact value
    rng = np.random.default_rng(7)
    draws = np.array([R.pseudo_likelihood(rbm.params, data, rng=rng) for _ in range(3000)])
    assert abs(draws.mean() - brute) < 4 * draws.std() / math.sqrt(len(draws))


def test_reconstruction_error_with_probabilities():
    rbm = _rbm(8, 3, 2)
    W, bv, bh = rbm.params
    x = np.array([[1.0, 0.0, 1.0]])
    ph = 1 / (1 + np.exp(-(x @ W + bh)))
    pv = 1 / (1 + np.exp(-(ph @ W.T + bv)))
    assert R.reconstruction_error(rbm.params, x) == pytest.approx(float(((x - pv) ** 2).sum()), abs=1e-14)


# --- dynamics and sampling ----------------------------------------------------------------
def test_step_is_the_boltzmann_machine_gibbs_step():
    rbm = _rbm(9, 5, 4)
    bm = _boltzmann_twin(rbm)
    rng = np.random.default_rng(10)
    for _ in range(30):
        s = rng.integers(0, 2, 9).astype(np.int8)
        units = rng.choice(9, size=rng.integers(1, 10), replace=False)
        u = rng.random(len(units))
        for T in (0.0, 0.7, 1.0):
            a = rbm.step(RBMState(s[:5], s[5:]), units=units, u=u, T=T)
            b = bm.step(bm.State(s), units=units, u=u, T=T)
            assert np.array_equal(np.concatenate(a), b.s)
    assert sorted(map(sorted, sim.make_plan("chromatic", rbm).blocks)) == [list(range(5)), list(range(5, 9))]


def test_block_gibbs_samples_match_the_exact_joint_distribution():
    rbm = _rbm(11, 4, 3, w=1.2)
    exact = bx.exact(_boltzmann_twin(rbm))                      # over 2^7 states, visible first
    sweeps, thin = 60_000, 3
    tr = sim.simulate(rbm, ticks=sweeps, schedule="chromatic", temperature=1.0, stop=False, rng=12,
                      record=Record(probes=("state",)))
    S = np.hstack([tr.states["v"][1:], tr.states["h"][1:]])[::thin]  # (n, 7)
    n, K = len(S), len(exact.p)
    p_hat = bx.empirical(S)
    bound = 1.25 * bx.kl_bound(n, K, alpha=1e-3)
    assert bx.kl_divergence(p_hat, exact.p) < bound
    # the check has power: a machine with shifted hidden biases is rejected
    W, bv, bh = rbm.params
    wrong = bx.exact(_boltzmann_twin(RBM(W, bv, bh + 0.5)))
    assert bx.kl_divergence(p_hat, wrong.p) > bound


def test_vectorised_sampler_matches_the_exact_visible_marginal():
    rbm = _rbm(13, 5, 4, w=1.0)
    P_v = np.exp(-rbm.free_energy(R._states(5)) - rbm.log_partition())   # (32,)
    assert P_v.sum() == pytest.approx(1.0, abs=1e-12)
    S = R.sample(rbm.params, 20_000, 30, rng=np.random.default_rng(14), every=30)[-1]  # independent chains
    p_hat = bx.empirical(S)
    bound = bx.kl_bound(len(S), 32, alpha=1e-3)
    assert bx.kl_divergence(p_hat, P_v) < bound
    assert bx.kl_divergence(p_hat, np.full(32, 1 / 32)) > bound


# --- training -----------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(k=1), dict(k=5), dict(k=1, persistent=True, chains=50),
                                dict(k=1, batch_size=2, momentum=0.5, momentum_final=0.9, momentum_switch=50,
                                     weight_decay=1e-4, lr=0.05)])
def test_cd_and_pcd_raise_the_exact_log_likelihood_on_a_tiny_rbm(kw):
    # two perfectly correlated pixel pairs: optimum -ln 4 = -1.386, uniform model -4 ln 2 = -2.773
    X = np.array([[0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 1, 1]], dtype=np.int8)
    rbm0 = RBM.init_from_data(4, X, rng=np.random.default_rng(15), init_scale=0.1)
    res = R.train(rbm0, X, rng=np.random.default_rng(16), **({"lr": 0.3, "lr_final": 0.0, "updates": 1000,
                                                               "every": 250} | kw))
    ll0, ll = res.history[0], res.history[-1]
    assert ll0 == pytest.approx(rbm0.log_likelihood(X)) and ll == pytest.approx(res.rbm.log_likelihood(X))
    assert ll0 == pytest.approx(-4 * math.log(2), abs=0.05)   # small weights: nearly uniform
    assert ll > ll0 + 0.5
    assert ll <= -math.log(4) + 1e-9                          # never above the data entropy bound
    assert list(res.updates) == list(range(0, 1001, 250))


def test_a_zero_learning_rate_changes_nothing_and_weight_decay_shrinks_weights():
    X = bars_and_stripes(2)
    rbm0 = RBM.init_from_data(4, X, rng=np.random.default_rng(17), init_scale=0.5)
    same = R.train(rbm0, X, rng=np.random.default_rng(18), lr=0.0, updates=20).rbm
    for a, b in zip(same.params, rbm0.params):
        assert np.array_equal(a, b)
    free = R.train(rbm0, X, rng=np.random.default_rng(19), lr=0.05, updates=300).rbm
    decayed = R.train(rbm0, X, rng=np.random.default_rng(19), lr=0.05, updates=300, weight_decay=0.5).rbm
    assert np.linalg.norm(decayed.params.W) < 0.7 * np.linalg.norm(free.params.W)


def test_training_is_seeded():
    X = bars_and_stripes(2)
    rbm0 = RBM.init_from_data(3, X, rng=np.random.default_rng(20))
    a = R.train(rbm0, X, rng=np.random.default_rng(21), persistent=True, chains=7, updates=50)
    b = R.train(rbm0, X, rng=np.random.default_rng(21), persistent=True, chains=7, updates=50)
    c = R.train(rbm0, X, rng=np.random.default_rng(22), persistent=True, chains=7, updates=50)
    assert np.array_equal(a.rbm.params.W, b.rbm.params.W) and not np.array_equal(a.rbm.params.W, c.rbm.params.W)


def test_init_from_data_follows_hintons_guide():
    X = np.array([[1, 0, 1], [1, 0, 0], [1, 1, 0], [1, 0, 0]])
    rbm = RBM.init_from_data(200, X, rng=np.random.default_rng(23), init_scale=0.01, hidden_bias=-4.0)
    p = np.clip(X.mean(axis=0), 1e-3, 1 - 1e-3)
    assert np.allclose(rbm.params.b_v, np.log(p / (1 - p)))
    assert np.all(rbm.params.b_h == -4.0)
    assert rbm.params.W.std() == pytest.approx(0.01, rel=0.05)


# --- data ---------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_bars_and_stripes_are_exactly_the_bar_or_stripe_images(n):
    images = bars_and_stripes(n)
    assert images.shape == (2 ** (n + 1) - 2, n * n) and images.dtype == np.int8
    want = set()
    for k in range(1 << (n * n)):
        img = ((k >> np.arange(n * n)) & 1).reshape(n, n)
        rows_const = np.all(img == img[:, :1], axis=1).all()
        cols_const = np.all(img == img[:1, :], axis=0).all()
        if rows_const or cols_const:
            want.add(tuple(img.ravel()))
    assert {tuple(r) for r in images} == want and len(want) == len(images)
    draws = bars_and_stripes(n, n_samples=50, rng=np.random.default_rng(1))
    assert draws.shape == (50, n * n) and {tuple(r) for r in draws} <= want


def test_optimal_log_likelihood_of_bas3_is_minus_ln_14():
    assert -math.log(len(bars_and_stripes(3))) == pytest.approx(-2.639, abs=5e-4)


# --- protocol -----------------------------------------------------------------------------
def test_method_names_must_match_their_settings(tmp_path):
    from sim.errors import ScenarioError
    from sim.protocols.rbm import methods
    from nets.rbm import CD_KEYS

    base = {k: key.default for k, key in CD_KEYS.items()} | {"rule": "cd"}
    ok = methods(base | {"methods": [{"name": "cd10", "k": 10}, {"name": "pcd", "persistent": True}]})
    assert [m["name"] for m in ok] == ["cd10", "pcd"] and ok[0]["k"] == 10 and ok[1]["persistent"]
    for bad in ([{"name": "cd1", "k": 10}], [{"name": "pcd", "k": 1}], [{"name": "cd1", "bogus": 1}],
                [{"name": "cd1"}, {"name": "cd1"}], [{"name": "cd1", "lr": "fast"}]):
        with pytest.raises(ScenarioError):
            methods(base | {"methods": bad})


def test_figures_render(tmp_path):
    from sim.plots import rbm as rp
    from sim.plots import save_figure

    t = np.arange(0, 101, 10)
    L = -3 + 0.3 * np.log1p(t)[None, :] * np.array([[1.0], [0.9]])
    figs = [rp.ll_curve_figure({"cd1": (t, L), "pcd": (t, L + 0.1)}, optimum=-2.639, uniform=-6.238),
            rp.filters_figure(np.random.default_rng(1).normal(size=(9, 5)), (3, 3)),
            rp.samples_figure(bars_and_stripes(3)[:5], (3, 3), data=bars_and_stripes(3))]
    for i, fig in enumerate(figs):
        save_figure(fig, tmp_path / f"f{i}.png")
        assert (tmp_path / f"f{i}.png").stat().st_size > 1000
    ax = figs[0].axes[0]
    assert ax.get_xlabel() and ax.get_ylabel()
    assert "5 of 5" in figs[2]._suptitle.get_text()


@pytest.mark.parametrize("kw", [dict(k=1), dict(k=3, visible="probabilities"),
                                dict(k=2, persistent=True, chains=20, lr_final=0.0),
                                dict(k=1, batch_size=4, momentum=0.5, momentum_final=0.9, momentum_switch=100,
                                     weight_decay=1e-3),
                                dict(k=1, persistent=True, chains=10, batch_size=5, uniforms="counter"),
                                dict(k=2, uniforms="counter")])
def test_numba_training_kernel_equals_its_numpy_twin(kw):
    X = bars_and_stripes(3)
    rbm0 = RBM.init_from_data(16, X, rng=np.random.default_rng(24), init_scale=0.3)
    a = R.train(rbm0, X, rng=np.random.default_rng(25), updates=300, every=100, fast=True, **kw)
    b = R.train(rbm0, X, rng=np.random.default_rng(25), updates=300, every=100, fast=False, **kw)
    for x, y in zip(a.rbm.params, b.rbm.params):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-10)
    np.testing.assert_allclose(a.history, b.history, rtol=0, atol=1e-10)
    assert not np.allclose(a.rbm.params.W, rbm0.params.W)   # it did train


def test_pcd_statistics_estimate_the_exact_log_likelihood_gradient():
    """One PCD update with lr = 1 from many well-mixed chains is the exact gradient up to Monte Carlo error."""
    rbm = _rbm(26, 4, 3, w=0.8)
    X = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 1, 0]], dtype=np.int8)
    gW, gb = bx.log_likelihood_gradient(_boltzmann_twin(rbm), X)      # (7, 7), (7,)
    n = 20_000
    new = R.train(rbm, X, rng=np.random.default_rng(27), persistent=True, chains=n, k=50, lr=1.0, updates=1).rbm
    est_W = new.params.W - rbm.params.W
    est = np.concatenate([new.params.b_v - rbm.params.b_v, new.params.b_h - rbm.params.b_h])
    tol = 5 * 0.5 / math.sqrt(n)                                     # 5 SE of a mean of [0, 1] variables
    np.testing.assert_allclose(est_W, gW[:4, 4:], atol=tol, rtol=0)
    np.testing.assert_allclose(est, gb, atol=tol, rtol=0)
    assert np.abs(gW[:4, 4:]).max() > 10 * tol                       # the gradient is far from zero


def test_scenario_loader_rejects_inconsistent_rbm_settings(tmp_path):
    from pathlib import Path

    from sim.errors import ScenarioError
    from sim.scenario import load_scenario

    src = (Path(__file__).resolve().parent.parent / "scenarios" / "rbm_bas3_exact_ll.toml").read_text()
    cases = [
        (src.replace('{ name = "cd10", k = 10,', '{ name = "cd10", k = 5,'), "train.methods[1].name"),
        (src.replace('updates = 10000 },\n    { name = "cd10"', 'updates = 10000, momentum = 2.0 },\n    { name = "cd10"'),
         "train.methods[0].momentum"),
        (src.replace("n_hidden = 16", "n_hidden = 30").replace("size = 3", "size = 5"), "net.n_hidden"),
        (src.replace('"ll_pcd" = {', '"ll_cd5" = {'), "expect.ll_cd5"),
        (src.replace('task = "bars_and_stripes"', 'task = "random_patterns"'), "data.size"),
    ]
    for i, (text, key) in enumerate(cases):
        path = tmp_path / f"bad{i}.toml"
        path.write_text(text)
        with pytest.raises(ScenarioError, match=key.replace("[", r"\[").replace("]", r"\]")):
            load_scenario(path)
    good = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "rbm_bas3_exact_ll.toml")
    from sim.protocols.rbm import methods

    assert [m["name"] for m in methods(good.config["train"])] == ["cd1", "cd10", "pcd"]


def test_counter_uniforms_kernel_twin_and_distribution():
    from scipy.stats import kstest

    from nets._kernels.rbm import counter_uniforms as k_counter

    key, start, n = 0x1234_5678_9ABC_DEF0, 2**40 + 17, 20_000
    u = R.counter_uniforms(key, start, n)
    out = np.empty(n)
    k_counter(np.uint64(key), np.uint64(start), out)
    np.testing.assert_array_equal(out, u)                       # the twin: bit for bit
    np.testing.assert_array_equal(R.counter_uniforms(key, start + 5, 10), u[5:15])   # a counter, not a state
    assert u.min() >= 0.0 and u.max() < 1.0
    assert kstest(u, "uniform").pvalue > 1e-6
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 5 / math.sqrt(n)
    assert not np.array_equal(R.counter_uniforms(key + 1, start, 100), u[:100])
    with pytest.raises(ValueError, match="uniforms"):
        R.train(RBM(np.zeros((2, 2))), np.ones((1, 2)), rng=np.random.default_rng(0), uniforms="dice")
