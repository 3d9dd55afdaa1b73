"""The dynamics protocol (sim/protocols/dynamics.py): validation, metrics against
independent computations, exact facts (p = 1, mixtures, energy increases of asymmetric
couplings) and its figures."""
from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.plots import save_figure
from sim.protocols import PROTOCOLS
from sim.protocols.dynamics import _outcomes
from sim.rng import child, generator, seed_sequence
from sim.scenario import load_scenario
from sim.sweep import run_scenario
from sim.tasks import random_patterns

DYN = PROTOCOLS["dynamics"]
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

BASE = """
[meta]
title = "t"
reference = "r"
protocol = "dynamics"
[net]
kind = "hopfield"
n_units = 16
[train]
rule = "hebb"
[data]
task = "random_patterns"
n_memories = 3
[run]
start = "random"
trials = 2
sweeps = 30
"""

GIVEN = """
[meta]
title = "t"
reference = "r"
protocol = "dynamics"
[net]
kind = "hopfield"
n_units = 2
[run]
couplings = "given"
W = [[0, 1], [-3, 0]]
start = "given"
state = [-1, 1]
schedule = "sequential"
sweeps = 5
[record]
every = "update"
"""


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def run_point(sc, label=""):
    points = dict(sc.points())
    cfg = points[label]
    ss = child(seed_sequence(sc.config["run"]["seed"]), "point", label)
    results = [DYN.trial(cfg, ss, k) for k in range(cfg["run"]["trials"])]
    metrics, _ = DYN.aggregate(cfg, results)
    return cfg, ss, results, metrics


# --- validation ---------------------------------------------------------------------------
@pytest.mark.parametrize("text,overrides,key,words", [
    (BASE, ["run.start=mixture", "run.mixture_of=2"], "run.mixture_of", "odd"),
    (BASE, ["run.start=mixture", "run.mixture_of=5"], "run.mixture_of", "only 3"),
    (BASE, ["run.start=given"], "run.state", "exactly when"),
    (BASE, ["run.start=given", "run.state=[1,-1]"], "run.state", "list of 16"),
    (BASE, ["run.start=given", f"run.state={[0] * 16}"], "run.state", "-1 and 1"),
    (BASE, ["run.W=[[0,1],[1,0]]"], "run.W", "exactly when"),
    (BASE, ["run.couplings=given", "run.W=[[0,1],[1,0]]"], "run.W", "16 x 16"),
    (BASE, ["run.cue_noise=0.1"], "run.cue_noise", "start = 'cue'"),
    (BASE, ["run.couplings=random_symmetric"], "train", "remove it"),
    (BASE, ["run.schedule=clocked"], "run.schedule", "sync"),
    (BASE.replace("[data]\ntask = \"random_patterns\"\nn_memories = 3\n", ""), [], "run.couplings",
     "[data] patterns"),
    (GIVEN, ["run.W=[[1,1],[-3,0]]"], "run.W", "zero diagonal"),
    (GIVEN, ["run.start=pattern", "run.state=None"], "run.start", "needs [data]"),
    (GIVEN.replace('kind = "hopfield"', 'kind = "hopfield_continuous"').replace("state = [-1, 1]",
                                                                                "state = [0.1, 0.2]"),
     ["run.temperature=0.5"], "run.temperature", "deterministic"),
])
def test_bad_settings_name_the_key(tmp_path, text, overrides, key, words):
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, text), overrides=overrides)
    assert err.value.key == key
    assert words in err.value.message


def test_expectations_and_plots_must_fit_the_points(tmp_path):
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, BASE + '[expect]\n"exact_recall" = { min = 1 }\n'))
    assert err.value.key == "expect.exact_recall" and "not reported" in err.value.message
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, GIVEN + '[expect]\n"overlap_min" = { min = 0 }\n'))
    assert err.value.key == "expect.overlap_min"
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, BASE + '[[plot]]\nkind = "outcomes"\n'))
    assert err.value.key == "plot.kind" and "sweep" in err.value.message


def test_train_may_be_unused_at_some_sweep_points(tmp_path):
    sc = load_scenario(write(tmp_path, BASE + '[sweep]\n"run.couplings" = ["stored", "random_symmetric"]\n'))
    assert [lbl for lbl, _ in sc.points()] == ["couplings=stored", "couplings=random_symmetric"]


# --- metrics ------------------------------------------------------------------------------
def test_energy_increase_of_asymmetric_couplings_is_detected(tmp_path):
    """W = [[0, 1], [-3, 0]], E = -1/2 s^T W s = s1 s2, sequential updates. From (-1, 1)
    (E = -1) unit 0 sees the field +1 and flips: E = +1, a rise of exactly 2; unit 1 sees -3
    and flips: (1, -1), E = -1; then (-1, -1), E = +1, and (-1, 1) again: a cycle of two
    sweeps that symmetric couplings forbid, and the metrics must see it."""
    sc = load_scenario(write(tmp_path, GIVEN))
    _, _, results, m = run_point(sc)
    assert m["max_energy_increase"] == 2.0
    assert m["max_rel_energy_increase"] == 2.0
    assert (m["fixed_point"], m["cycle"], m["cycle_period"]) == (0.0, 1.0, 2.0)
    assert m["energy_per_unit"] == -0.5 and m["energy_checks"] == 4
    np.testing.assert_array_equal(results[0]["final_spins"][0], [-1, 1])


def test_sync_two_cycle_and_async_fixed_point(tmp_path):
    text = GIVEN.replace("W = [[0, 1], [-3, 0]]", "W = [[0, -1], [-1, 0]]").replace("state = [-1, 1]",
                                                                                   "state = [1, 1]")
    sc = load_scenario(write(tmp_path, text), overrides=["run.schedule=sync"])
    m = run_point(sc)[3]
    assert (m["cycle_period"], m["cycle"], m["fixed_point"]) == (2.0, 1.0, 0.0)
    assert m["max_energy_increase"] == 0.0 and m["energy_per_unit"] == 0.5     # E = 1 on the orbit
    m = run_point(load_scenario(write(tmp_path, text), overrides=["run.schedule=random"]))[3]
    assert (m["cycle_period"], m["fixed_point"], m["energy_per_unit"]) == (0.0, 1.0, -0.5)


def test_mixture_start_against_an_independent_computation():
    """H8 at N = 400: the protocol's start, overlaps, energy and fixed-point verdict agree
    with plain numpy: s = sign(xi1 + xi2 + xi3), m = X s / N, E/N = -1/2 sum m^2 + p/(2N)
    (Hebb with zero diagonal), fixed iff sign(W s) = s."""
    sc = load_scenario(SCENARIOS / "ags_1985_mixture_state.toml",
                       overrides=["net.n_units=400", "sweep.data.n_memories=[5]", "run.trials=3"])
    cfg, ss, results, metrics = run_point(sc, "n_memories=5")
    N, p = 400, 5
    for k, res in enumerate(results):
        X = random_patterns(p, N, rng=generator(child(ss, k), "data")).astype(np.int64)
        s = np.sign(X[:3].sum(axis=0))
        h = (X.T @ X - p * np.eye(N)) @ s
        fixed = bool(np.all(np.sign(h) == s))
        assert bool(res["fixed"][0]) == fixed
        if fixed:
            np.testing.assert_array_equal(res["final_spins"][0], s)
        m = X @ res["final_spins"][0] / N
        np.testing.assert_allclose(res["m"][0], m, rtol=0, atol=1e-15)
        assert res["e_final"][0] == pytest.approx(-0.5 * np.sum(m ** 2) + p / (2 * N), abs=1e-12)
        np.testing.assert_array_equal(res["ref"][0], [True, True, True, False, False])
    assert metrics["overlap_min"] == min(r["m"][0, :3].min() for r in results)
    assert metrics["frac_mixture"] == 1.0


def _independent_outcomes(finals, X, fixed, threshold=0.9):
    """Classify final +-1 states by brute force: retrieval if some pattern or its reverse is
    within the threshold, mixture if some sign(+-xi^a +- xi^b +- xi^c) (or of 5 patterns) is."""
    N = X.shape[1]
    out = []
    for s, f in zip(finals, fixed):
        if not f:
            out.append("not_converged")
            continue
        if np.max(np.abs(X @ s)) / N >= threshold:
            out.append("retrieval")
            continue
        best = 0.0
        for k in (3, 5):
            for idx in itertools.combinations(range(len(X)), k):
                for signs in itertools.product((1, -1), repeat=k - 1):
                    M = np.sign(np.array((1,) + signs) @ X[list(idx)])
                    best = max(best, abs(M @ s) / N)
        out.append("mixture" if best >= threshold else "other")
    return out


def test_random_start_outcomes_against_brute_force(tmp_path):
    sc = load_scenario(write(tmp_path, BASE), overrides=["net.n_units=120", "data.n_memories=6", "run.starts=25",
                                                         "run.trials=2"])
    cfg, ss, results, metrics = run_point(sc)
    counts = {"retrieval": 0, "mixture": 0, "other": 0, "not_converged": 0}
    for k, res in enumerate(results):
        X = random_patterns(6, 120, rng=generator(child(ss, k), "data")).astype(np.int64)
        finals = res["final_spins"].astype(np.int64)
        W = X.T @ X - 6 * np.eye(120)
        fixed = [bool(np.all((np.sign(W @ s) == s) | (W @ s == 0))) for s in finals]
        np.testing.assert_array_equal(res["fixed"], fixed)
        for c in _independent_outcomes(finals, X, fixed):
            counts[c] += 1
    n = 50
    assert metrics["frac_retrieval"] == counts["retrieval"] / n
    assert metrics["frac_mixture"] == counts["mixture"] / n
    assert metrics["frac_other_spurious"] == counts["other"] / n
    assert metrics["frac_not_converged"] == counts["not_converged"] / n == 0.0      # asynchronous, symmetric W
    total = sum(metrics[k] for k in ("frac_retrieval", "frac_mixture", "frac_other_spurious", "frac_not_converged"))
    assert total == pytest.approx(1.0)
    assert metrics["frac_spurious"] == pytest.approx(metrics["frac_mixture"] + metrics["frac_other_spurious"])


@pytest.mark.parametrize("n_units", [51, 80])
def test_one_pattern_every_random_start_ends_in_it_or_its_reverse(tmp_path, n_units):
    """p = 1: the field of unit i is xi_i (xi.s - xi_i s_i)/N, so asynchronous updates
    align every unit with the sign of the overlap (ties, for odd N, keep the state and
    are then broken by the next flip): every start ends exactly at xi or -xi."""
    sc = load_scenario(write(tmp_path, BASE), overrides=[f"net.n_units={n_units}", "data.n_memories=1",
                                                         "run.starts=30"])
    m = run_point(sc)[3]
    assert m["frac_exact_pattern"] == 1.0 and m["max_abs_overlap"] == 1.0


def test_outcomes_on_hand_made_states():
    H = np.array([[1]])
    for _ in range(5):
        H = np.block([[H, H], [H, -H]])                             # (32, 32) Walsh rows: orthogonal
    X = H[[1, 2, 4, 8]]                                             # (4, 32)
    mix = np.sign(X[0] + X[1] + X[2])                               # overlaps 1/2, 1/2, 1/2, 0
    near = X[3].copy()
    near[0] *= -1                                                   # m = 30/32 >= 0.9
    other = H[7]                                                    # orthogonal to all four
    finals = np.stack([X[1], -X[2], near, mix, other, other])
    m = finals @ X.T / 32.0
    from sim.protocols.dynamics import _mixture_overlap

    res = {"m_sign": m, "fixed": np.array([True, True, True, True, True, False]),
           "q_mix": np.array([_mixture_overlap(X, s, mm) for s, mm in zip(finals, m)])}
    c = _outcomes(res, {"retrieval_overlap": 0.9})
    np.testing.assert_array_equal(c["frac_retrieval"], [1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(c["frac_exact_pattern"], [1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(c["frac_mixture"], [0, 0, 0, 1, 0, 0])
    np.testing.assert_array_equal(c["frac_other_spurious"], [0, 0, 0, 0, 1, 0])
    np.testing.assert_array_equal(c["frac_not_converged"], [0, 0, 0, 0, 0, 1])


def test_continuous_net_fixed_points_and_recall(tmp_path):
    text = BASE.replace('kind = "hopfield"', 'kind = "hopfield_continuous"\ngain = 50.0')
    sc = load_scenario(write(tmp_path, text), overrides=["net.n_units=60", "run.start=cue", "run.cue_noise=0.1",
                                                         "run.starts=3", "run.schedule=sync", "run.sweeps=1500"])
    m = run_point(sc)[3]
    assert m["fixed_point"] == 1.0 and m["exact_recall"] == 1.0 and m["max_rel_energy_increase"] <= 1e-9
    m = run_point(load_scenario(sc.path, overrides=["net.n_units=60", "run.start=cue", "run.cue_noise=0.1",
                                                    "run.schedule=sync", "run.sweeps=1"]))[3]
    assert m["fixed_point"] == 0.0          # one Euler step from u = s/gain is not yet at rest


def test_figures_are_drawn(tmp_path):
    sc = load_scenario(SCENARIOS / "hopfield_spurious_states.toml", smoke=True,
                       overrides=["sweep.data.n_memories=[1, 6, 30]", "run.trials=1", "run.starts=4"])
    result = run_scenario(sc, progress=False)
    figs = dict(result.figures)
    assert set(figs) == {"outcomes", "overlap"}
    ax = figs["outcomes"].axes[0]
    assert ax.get_xlabel().startswith("load") and ax.get_ylabel() == "fraction of runs"
    assert len(ax.get_legend().get_texts()) == 5
    for stem, fig in figs.items():
        assert save_figure(fig, tmp_path / f"{stem}.png").stat().st_size > 1000
    sc = load_scenario(SCENARIOS / "hopfield_sync_two_cycle.toml", smoke=True)
    figs = dict(run_scenario(sc, progress=False).figures)
    assert set(figs) == {"energy", "raster"}
