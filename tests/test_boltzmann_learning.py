"""Two-phase Boltzmann learning (Ackley, Hinton & Sejnowski 1985): kernel vs twin, sampled
statistics vs exact enumeration, noisy clamping rates, the weight steps, the 4-2-4 codes."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from nets import boltzmann_learning as bl
from nets.boltzmann import BoltzmannMachine, BoltzmannState
from nets.boltzmann_exact import all_states, two_phase_statistics
from sim.tasks import encoder_pairs


def _random_machine(N, n_vis, rng, scale=1.0, integer=False):
    A = rng.normal(scale=scale, size=(N, N))
    if integer:
        A = 2.0 * np.round(A)
    W = np.triu(A, 1)
    W = W + W.T
    b = 2.0 * np.round(rng.normal(size=N)) if integer else rng.normal(scale=scale, size=N)
    return BoltzmannMachine(W, b, visible=n_vis)


# --- kernel against its twin ----------------------------------------------------------------
@pytest.mark.parametrize("integer", [True, False])
def test_kernel_equals_reference_twin(integer):
    rng = np.random.default_rng(3)
    net = _random_machine(6, 3, rng, scale=3.0, integer=integer)
    Wa = bl.augment(*net.params)
    temps = np.array([8.0, 4.0, 2.0, 1.0, 1.0, 1.0])
    for free in (np.array([3, 4, 5]), np.arange(6)):  # a clamped phase and a free phase
        S = (rng.random((5, 7)) < 0.5).astype(np.int8)
        S[:, 6] = 1
        u = rng.random((5, len(temps), len(free), 2))
        S1, S2 = S.copy(), S.copy()
        out_k = bl.anneal_collect(Wa, S1, free, temps, 3, u)
        out_r = bl.anneal_collect_reference(Wa, S2, free, temps, 3, u)
        np.testing.assert_array_equal(S1, S2)
        np.testing.assert_array_equal(out_k, out_r)
        assert out_k[6, 6] == 5 * 3  # the always-on unit is on in every sample
        np.testing.assert_array_equal(S1[:, np.setdiff1d(np.arange(7), free)],
                                      S[:, np.setdiff1d(np.arange(7), free)])  # clamped units untouched


def test_sampled_statistics_through_the_twin_equal_the_kernel():
    net, mask = bl.encoder_machine(2, 1)
    rng = np.random.default_rng(0)
    Wa = np.where(mask, 2.0 * rng.integers(-3, 4, size=mask.shape), 0.0)
    Wa = np.triu(Wa, 1) + np.triu(Wa, 1).T
    tp = bl.TwoPhase(anneal=((20.0, 1), (10.0, 1)), collect_time=2)
    V = encoder_pairs(2)
    a = bl.sampled_statistics(Wa, V, net.visible, tp, rng=np.random.default_rng(5))
    b = bl.sampled_statistics(Wa, V, net.visible, tp, rng=np.random.default_rng(5),
                              kernel=bl.anneal_collect_reference)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_augment_split_and_energy():
    rng = np.random.default_rng(1)
    net = _random_machine(5, 2, rng)
    Wa = bl.augment(*net.params)
    W, b = bl.split(Wa)
    np.testing.assert_array_equal(W, net.params.W)
    np.testing.assert_array_equal(b, net.params.b)
    for s in all_states(5):
        sa = np.r_[s, 1].astype(float)
        assert math.isclose(-0.5 * sa @ Wa @ sa, net.energy(BoltzmannState(s)), rel_tol=1e-12, abs_tol=1e-12)


# --- sampled statistics against exact enumeration ---------------------------------------------
def _noisy_data_distribution(patterns, on_off, off_on):
    """All visible vectors and their probabilities after noisy clamping of uniformly chosen patterns."""
    n = patterns.shape[1]
    X = all_states(n)
    q = np.zeros(len(X))
    for v in patterns:
        pr = np.where(v == 1, np.where(X == 1, 1 - on_off, on_off), np.where(X == 1, off_on, 1 - off_on))
        q += pr.prod(axis=1)
    return X, q / len(patterns)


def _stats_and_bound(net, patterns, tp, T, seed):
    Wa = bl.augment(*net.params)
    p, pf = bl.sampled_statistics(Wa, patterns, net.visible, tp, rng=np.random.default_rng(seed))
    n = len(patterns) * tp.clamped_annealings   # independent annealings, one sample each
    X, q = _noisy_data_distribution(patterns, tp.noise_on_off, tp.noise_off_on)
    keep = q > 0
    pc_exact, pf_exact = two_phase_statistics(net, X[keep], T, weights=q[keep])
    N = net.n_units
    return p[:N, :N], pf[:N, :N], pc_exact, pf_exact, n


def test_sampled_two_phase_statistics_converge_to_the_exact_values():
    """One sample per annealing after a long burn-in: samples are independent, so each entry
    is a binomial mean; every entry must lie within 4.5 standard errors of the enumeration."""
    rng = np.random.default_rng(11)
    net = _random_machine(6, 3, rng, scale=1.0)
    patterns = np.array([[1, 0, 0], [0, 1, 1], [1, 1, 0], [0, 0, 1]], dtype=np.int8)
    T = 1.0
    tp = bl.TwoPhase(anneal=((4.0, 3), (2.0, 3), (1.0, 14)), collect_time=1, collect_T=T,
                     clamped_annealings=2500, noise_on_off=0.15, noise_off_on=0.05)
    p, pf, pc_ex, pf_ex, n = _stats_and_bound(net, patterns, tp, T, seed=2)
    for est, ex in ((p, pc_ex), (pf, pf_ex)):
        se = np.sqrt(np.clip(ex * (1 - ex), 1e-12, None) / n)
        z = np.abs(est - ex) / se
        assert z.max() < 4.5, (z.max(), est, ex)
    # power: the same estimates are far from the statistics of a machine at another temperature
    pc_wrong, pf_wrong = two_phase_statistics(net, *_noisy_data_distribution(patterns, 0.15, 0.05)[:1],
                                              2.0, weights=_noisy_data_distribution(patterns, 0.15, 0.05)[1])
    se = np.sqrt(np.clip(pf_wrong * (1 - pf_wrong), 1e-12, None) / n)
    assert (np.abs(pf - pf_wrong) / se).max() > 10
    assert (np.abs(p - pc_wrong) / np.sqrt(np.clip(pc_wrong * (1 - pc_wrong), 1e-12, None) / n)).max() > 10


def test_clamped_statistics_keep_the_noisy_visible_units():
    """Clamped units never change during an annealing: the visible diagonal equals the clamp rate."""
    net, _ = bl.encoder_machine(4, 2)
    Wa = bl.augment(*_random_machine(10, 8, np.random.default_rng(4), scale=3.0).params)
    tp = bl.TwoPhase(noise_on_off=0.0, noise_off_on=0.0, clamped_annealings=3)
    p, _ = bl.sampled_statistics(Wa, encoder_pairs(4), net.visible, tp, rng=np.random.default_rng(0))
    np.testing.assert_allclose(np.diag(p)[:8], 0.25)   # each visible unit on in 1 of 4 vectors
    np.testing.assert_allclose(p[0, 4], 0.25)          # V1.1 and V2.1 always together
    assert p[0, 1] == 0                                 # two V1 units never together


# --- noisy clamping ---------------------------------------------------------------------------
def test_noisy_clamping_flips_bits_at_the_stated_rates():
    V = np.repeat(encoder_pairs(4), 5000, axis=0)       # (20000, 8): 40000 on bits, 120000 off bits
    X = bl.noisy_clamp(V, 0.15, 0.05, rng=np.random.default_rng(8))
    assert X.dtype == np.int8 and set(np.unique(X)) <= {0, 1}
    on, off = V == 1, V == 0
    k_off = int((X[on] == 0).sum())
    k_on = int((X[off] == 1).sum())
    assert binomtest(k_off, int(on.sum()), 0.15).pvalue > 1e-4
    assert binomtest(k_on, int(off.sum()), 0.05).pvalue > 1e-4
    # power: swapped rates are rejected
    assert binomtest(k_off, int(on.sum()), 0.05).pvalue < 1e-10
    assert binomtest(k_on, int(off.sum()), 0.15).pvalue < 1e-10
    # independent bits: flips of two positions of one vector are uncorrelated
    f0, f1 = X[on[:, 0] & on[:, 4], 0] == 0, X[on[:, 0] & on[:, 4], 4] == 0
    assert abs(np.corrcoef(f0, f1)[0, 1]) < 4.5 / math.sqrt(len(f0))


# --- weight steps -------------------------------------------------------------------------------
def test_sign_step_moves_each_weight_by_exactly_two_or_zero():
    net, mask = bl.encoder_machine(4, 2)
    rng = np.random.default_rng(2)
    Wa = np.zeros(mask.shape)
    tp = bl.TwoPhase()
    for _ in range(3):
        p, pf = bl.sampled_statistics(Wa, encoder_pairs(4), net.visible, tp, rng=rng)
        new = bl.sign_step(Wa, p, pf, mask, 2.0)
        d = new - Wa
        assert set(np.unique(d[mask])) <= {-2.0, 0.0, 2.0}
        np.testing.assert_array_equal(d[mask], 2.0 * np.sign(p - pf)[mask])
        assert np.all(d[mask][p[mask] == pf[mask]] == 0)
        assert np.all(d[~mask] == 0)
        np.testing.assert_array_equal(new, new.T)
        assert np.any(d[mask] != 0)
        Wa = new
    # ties p_ij == p'_ij leave the weight unchanged
    q = np.round(rng.random(mask.shape), 1)
    q = (q + q.T) / 2
    qf = np.where(rng.random(mask.shape) < 0.5, q, q + 0.1)
    qf = np.triu(qf, 1) + np.triu(qf, 1).T + np.diag(np.diag(q))
    d = bl.sign_step(Wa, q, qf, mask, 2.0) - Wa
    tie = mask & (q == qf)
    assert tie.any() and np.all(d[tie] == 0) and np.all(d[mask & (q < qf)] == -2)
    g = bl.gradient_step(Wa, p, pf, mask, 0.5)
    np.testing.assert_allclose((g - Wa)[mask], 0.5 * (p - pf)[mask])
    assert np.all((g - Wa)[~mask] == 0)


def test_mask_has_encoder_wiring():
    net, mask = bl.encoder_machine(4, 2)
    V1, V2, H, bias = np.arange(4), np.arange(4, 8), np.arange(8, 10), 10
    assert not mask[np.ix_(V1, V2)].any() and not mask[np.ix_(H, H)].any()
    assert mask[np.ix_(V1, H)].all() and mask[np.ix_(V2, H)].all()
    assert mask[:10, bias].all() and not mask[bias, bias]
    assert not bl.encoder_machine(4, 2, biases=False)[1][:, bias].any()


# --- codes and learning -----------------------------------------------------------------------
def test_hidden_codes_equal_the_sign_of_the_machine_field():
    net, mask = bl.encoder_machine(4, 2)
    rng = np.random.default_rng(6)
    Wa = np.where(mask, rng.normal(size=mask.shape), 0.0)
    Wa = np.triu(Wa, 1) + np.triu(Wa, 1).T
    W, b = bl.split(Wa)
    m = net.with_params(W, b)
    V = encoder_pairs(4)
    codes = bl.hidden_codes(Wa, V, net.visible, net.hidden)
    for k, v in enumerate(V):
        s = np.zeros(10, dtype=np.int8)
        s[net.visible] = v
        np.testing.assert_array_equal(codes[k], (m.field(BoltzmannState(s))[net.hidden] > 0).astype(np.int8))


def test_learned_424_machine_has_distinct_codes():
    net, mask = bl.encoder_machine(4, 2)
    V = encoder_pairs(4)
    r = bl.learn(np.zeros(mask.shape), mask, V, net.visible, net.hidden, bl.TwoPhase(), max_cycles=3000,
                 rng=np.random.default_rng(1))
    assert r.success_cycle is not None and r.cycles == r.success_cycle
    codes = bl.hidden_codes(r.Wa, V, net.visible, net.hidden)
    assert bl.distinct_codes(codes) == 4 and r.n_codes[-1] == 4 and np.all(r.n_codes[:-1] < 4)
    # the weights are the sum of +-2 steps: even integers, zero off the wiring, symmetric
    assert np.all(r.Wa % 2 == 0) and np.all(r.Wa[~mask] == 0)
    np.testing.assert_array_equal(r.Wa, r.Wa.T)
    # the codes are those of the machine's own Gibbs dynamics at T = 0: with V1 and V2 clamped
    # to a vector, every hidden unit whose net input is nonzero settles to its code bit
    W, b = bl.split(r.Wa)
    m = net.with_params(W, b)
    for k, v in enumerate(V):
        cm = m.clamp("visible", v)
        s = m.step(BoltzmannState(cm.clamping.full(np.zeros(cm.n_units, dtype=np.int8))), units=net.hidden, T=0.0).s
        gap = m.field(BoltzmannState(cm.clamping.full(np.zeros(cm.n_units, dtype=np.int8))))[net.hidden]
        np.testing.assert_array_equal(s[net.hidden][gap != 0], codes[k][gap != 0])


def test_two_phase_settings_validation():
    with pytest.raises(ValueError):
        bl.TwoPhase.from_config({"anneal": [[20.0, 2], [-1.0, 2]]})
    with pytest.raises(ValueError):
        bl.TwoPhase.from_config({"anneal": [[20.0]]})
    tp = bl.TwoPhase.from_config({"anneal": [[20, 2], [10, 4]], "collect_time": 3})
    np.testing.assert_array_equal(bl.anneal_temperatures(tp), [20, 20, 10, 10, 10, 10, 10, 10, 10])
    np.testing.assert_array_equal(bl.anneal_temperatures(bl.TwoPhase()),
                                  [20, 20, 15, 15, 12, 12, 10, 10, 10, 10] + [10] * 10)


def test_encoder_pairs():
    V = encoder_pairs(3)
    np.testing.assert_array_equal(V, [[1, 0, 0, 1, 0, 0], [0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 0, 1]])
    with pytest.raises(ValueError):
        encoder_pairs(0)


# --- protocol --------------------------------------------------------------------------------------
def test_aggregate_counts_failures_as_longest():
    from sim.protocols import PROTOCOLS

    enc = PROTOCOLS["encoder"]
    res = [{"success_cycle": c, "cycles": abs(c)} for c in (5, 10, -1, 20, 30)]
    m, iv = enc.aggregate({}, res)
    assert m["successes"] == 4 and m["success_rate"] == 0.8
    assert m["median_cycles"] == 20 and m["longest_cycles"] == 30
    m, _ = enc.aggregate({}, [{"success_cycle": c, "cycles": 1} for c in (5, -1, -1, -1)])
    assert math.isnan(m["median_cycles"]) and m["successes"] == 1
    assert math.isnan(m["partial_success_rate"]) and math.isnan(m["median_partial_cycles"])
    res = [{"success_cycle": c, "partial_cycle": p, "cycles": 1} for c, p in ((-1, 3), (9, 2), (-1, -1), (40, 7))]
    m, _ = enc.aggregate({"run": {"partial_codes": 3}}, res)
    assert m["partial_success_rate"] == 0.75 and m["median_partial_cycles"] == 5.0  # (2, 3, 7, inf)


def test_scenario_figures(tmp_path):
    from sim.plots import save_figure
    from sim.scenario import load_scenario
    from sim.sweep import run_scenario

    path = __import__("pathlib").Path(__file__).resolve().parent.parent / "scenarios" / "ackley_1985_encoder_424.toml"
    sc = load_scenario(path, smoke=True, overrides=["run.demo=true", "run.trials=3", "run.max_cycles=60"])
    r = run_scenario(sc, figures=True, progress=False)
    stems = {s for s, _ in r.figures}
    assert stems == {"cycles", "annealing", "hinton", "codes"}
    for stem, fig in r.figures:
        for ax in fig.axes:
            if ax.has_data() or ax.patches:
                assert ax.get_xlabel() or ax.get_ylabel()
        save_figure(fig, tmp_path / f"{stem}.png")
    E = np.asarray(r.demo["trajectory"].probes["energy"])
    W, b = bl.split(r.demo["Wa"])
    m = BoltzmannMachine(W, b)
    np.testing.assert_allclose(E[-1], m.energy(r.demo["trajectory"].final))


def test_gradient_step_raises_the_exact_log_likelihood():
    """The modern rule w += eta (p - p') with sampled statistics climbs the exact likelihood
    of the (noise-free) environment, computed by enumerating all 2^10 states at T = 10."""
    from nets.boltzmann_exact import log_likelihood

    net, mask = bl.encoder_machine(4, 2)
    V = encoder_pairs(4)
    tp = bl.TwoPhase(step="gradient", eta=20.0, noise_on_off=0.0, noise_off_on=0.0, clamped_annealings=4)
    rng = np.random.default_rng(9)
    Wa = np.zeros(mask.shape)

    def L(Wa):
        return log_likelihood(net.with_params(*bl.split(Wa)), V, T=10.0)

    L0 = L(Wa)
    assert math.isclose(L0, -8 * math.log(2))  # zero weights: uniform over 2^8 visible vectors
    for _ in range(60):
        p, pf = bl.sampled_statistics(Wa, V, net.visible, tp, rng=rng)
        Wa = bl.gradient_step(Wa, p, pf, mask, tp.eta)
    assert L(Wa) > L0 + 2.0
    assert L(Wa) < math.log(1 / 4)  # below the maximum possible, log(1/4) per vector


# --- well-spaced codes (4-3-4) and partial codes (8-3-8) ----------------------------------------
def test_min_code_distance():
    assert bl.min_code_distance(np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]])) == 2
    assert bl.min_code_distance(np.array([[0, 0, 0], [0, 0, 1], [1, 1, 1]])) == 1
    assert bl.min_code_distance(np.array([[1, 0], [1, 0]])) == 0
    rng = np.random.default_rng(2)
    C = (rng.random((6, 5)) < 0.5).astype(np.int8)
    brute = min(int(np.sum(C[i] != C[j])) for i in range(6) for j in range(i + 1, 6))
    assert bl.min_code_distance(C) == brute


def test_learned_434_machine_stops_at_well_spaced_codes():
    net, mask = bl.encoder_machine(4, 3)
    V = encoder_pairs(4)
    r = bl.learn(np.zeros(mask.shape), mask, V, net.visible, net.hidden, bl.TwoPhase(), max_cycles=3000,
                 rng=np.random.default_rng(4), min_distance=2)
    assert r.success_cycle is not None and r.cycles == r.success_cycle
    assert bl.min_code_distance(bl.hidden_codes(r.Wa, V, net.visible, net.hidden)) >= 2
    # distinct codes come first: the criterion is stricter than B1's
    first_distinct = int(np.flatnonzero(r.n_codes == 4)[0]) + 1
    assert first_distinct <= r.success_cycle
    with pytest.raises(ValueError, match="min_distance"):
        bl.learn(np.zeros(mask.shape), mask, V, net.visible, net.hidden, bl.TwoPhase(), max_cycles=1,
                 rng=np.random.default_rng(4), min_distance=0)


@pytest.mark.parametrize("key,value", [("run.partial_codes", 5), ("run.min_distance", 4)])
def test_encoder_scenario_rejects_impossible_code_criteria(key, value):
    from pathlib import Path

    from sim.errors import ScenarioError
    from sim.scenario import load_scenario

    path = Path(__file__).resolve().parent.parent / "scenarios" / "ackley_1985_encoder_434.toml"
    with pytest.raises(ScenarioError, match=key.replace(".", r"\.")):
        load_scenario(path, overrides=[f"{key}={value}"])


# --- 40-10-40 support: phases and the completion test ------------------------------------------
def test_completion_test_against_machines_with_known_answers():
    v, h = 4, 2
    net, mask = bl.encoder_machine(v, h)
    V = encoder_pairs(v)
    temps = bl.anneal_temperatures(bl.TwoPhase(anneal=((20.0, 2), (5.0, 4)), collect_time=0))
    # V1_i -> V2_i coupling 200 and V2 biases -100: the right V2 unit, and only it, turns on
    Wa = np.zeros(mask.shape)
    for i in range(v):
        Wa[i, v + i] = Wa[v + i, i] = 200.0
        Wa[v + i, -1] = Wa[-1, v + i] = -100.0
    ok = bl.completion_test(Wa, V, v, temps, 25, rng=np.random.default_rng(0))
    assert ok.shape == (v, 25) and ok.all()
    # zero weights: every V2 unit is a fair coin, all four right with probability 1/16
    ok0 = bl.completion_test(np.zeros(mask.shape), V, v, temps, 500, rng=np.random.default_rng(1))
    assert binomtest(int(ok0.sum()), ok0.size, 1 / 16).pvalue > 1e-4


def test_learn_phases_holds_the_hidden_units_and_equals_learn_per_phase():
    net, mask = bl.encoder_machine(4, 2)
    V = encoder_pairs(4)
    tp = bl.TwoPhase()
    phases = bl.Phase.parse([[5, 0, 0.1, 0.0], [7, 1, 0.0, 0.0]])
    r = bl.learn_phases(np.zeros(mask.shape), mask, V, net.visible, net.hidden, tp, phases,
                        rng=np.random.default_rng(3))
    assert r.cycles == 12 and len(r.n_codes) == 12
    # the same cycles by hand: phase 1 with the hidden couplings masked out, then phase 2
    rng = np.random.default_rng(3)
    hid = np.zeros(mask.shape[0], dtype=bool)
    hid[net.hidden] = True
    r1 = bl.learn(np.zeros(mask.shape), mask & ~hid[:, None] & ~hid[None, :], V, net.visible, net.hidden,
                  bl.TwoPhase(noise_on_off=0.1, noise_off_on=0.0), max_cycles=5, rng=rng, stop_on_success=False)
    assert np.all(r1.Wa[hid] == 0) and np.all(r1.Wa[:, hid] == 0) and np.any(r1.Wa != 0)
    r2 = bl.learn(r1.Wa, mask, V, net.visible, net.hidden, bl.TwoPhase(noise_on_off=0.0, noise_off_on=0.0),
                  max_cycles=7, rng=rng, stop_on_success=False)
    np.testing.assert_array_equal(r.Wa, r2.Wa)
    with pytest.raises(ValueError, match="phase"):
        bl.Phase.parse([[5, 2, 0.1, 0.0]])
    # max_cycles cuts the schedule: 8 cycles = the 5 of phase 1 and the first 3 of phase 2
    r8 = bl.learn_phases(np.zeros(mask.shape), mask, V, net.visible, net.hidden, tp, phases,
                         rng=np.random.default_rng(3), max_cycles=8)
    rng = np.random.default_rng(3)
    r1 = bl.learn(np.zeros(mask.shape), mask & ~hid[:, None] & ~hid[None, :], V, net.visible, net.hidden,
                  bl.TwoPhase(noise_on_off=0.1, noise_off_on=0.0), max_cycles=5, rng=rng, stop_on_success=False)
    r2 = bl.learn(r1.Wa, mask, V, net.visible, net.hidden, bl.TwoPhase(noise_on_off=0.0, noise_off_on=0.0),
                  max_cycles=3, rng=rng, stop_on_success=False)
    assert r8.cycles == 8 and len(r8.n_codes) == 8
    np.testing.assert_array_equal(r8.Wa, r2.Wa)
    r3 = bl.learn_phases(np.zeros(mask.shape), mask, V, net.visible, net.hidden, tp, phases,
                         rng=np.random.default_rng(3), max_cycles=3)
    assert r3.cycles == 3 and np.all(r3.Wa[hid] == 0) and np.all(r3.Wa[:, hid] == 0)


def test_encoder_40_10_40_weight_max_and_disconnected_completion():
    """The protocol's weight_max is the largest |w| on the mask; with the hidden units still
    disconnected (the first phase) V2 cannot know V1, so completion stays at chance."""
    from pathlib import Path

    from sim.protocols.encoder import Encoder
    from sim.rng import seed_sequence
    from sim.scenario import load_scenario

    path = Path(__file__).resolve().parent.parent / "scenarios" / "ackley_1985_encoder_40_10_40.toml"
    sc = load_scenario(path, overrides=["run.max_cycles=20", "run.completion_tests=3", "sweep.train.step=['sign']",
                                        "sweep.run.max_cycles=[20]"])
    (_, cfg), = sc.points()
    out = Encoder().trial(cfg, seed_sequence(7), 0)
    # 20 sign steps of 2 from zero: the largest weight is at most 40, the hidden couplings still 0
    assert 0 < out["weight_max"] <= 40 and out["weight_max"] % 2 == 0
    assert np.all(out["codes"] == 0)
    assert out["completion_rate"] <= 0.1


@pytest.mark.parametrize("override,key", [("train.phases=[[5, 2, 0.1, 0.0]]", "train.phases"),
                                          ("run.completion_tests=3", "train.test_anneal")])
def test_encoder_scenario_rejects_bad_phase_settings(override, key):
    from pathlib import Path

    from sim.errors import ScenarioError
    from sim.scenario import load_scenario

    path = Path(__file__).resolve().parent.parent / "scenarios" / "ackley_1985_encoder_424.toml"
    with pytest.raises(ScenarioError, match=key.replace(".", r"\.")):
        load_scenario(path, overrides=[override])
