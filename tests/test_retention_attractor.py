"""Palimpsest storage rules (clipped_hebb, decay_hebb) and the retention_attractor protocol."""
from __future__ import annotations

import math

import numpy as np
import pytest

import nets
from nets.hopfield_rules import RULES, clipped_hebb_weights, decay_hebb_weights, hebb_weights, store
from sim.errors import ScenarioError
from sim.protocols.retention import ARCHS, spearman
from sim.retention import read_retention
from sim.scenario import load_scenario
from sim.store import new_run_dir, save_run
from sim.sweep import run_scenario


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


# --- the retention_attractor protocol ---------------------------------------------------------

_TINY = """
[meta]
title = "t"
reference = "r"
protocol = "retention_attractor"
[net]
kind = "hopfield"
n_units = 60
[data]
task = "random_patterns"
load = 0.05
[run]
trials = 4
seed = 7
sweeps = 40
archs = ["hebb", "pseudo_inverse", "clipped_hebb", "rbm"]
rbm_hidden = 10
rbm_updates = 5
[sweep]
"data.load" = [0.05, 0.4]
[[plot]]
kind = "retention_age"
[[plot]]
kind = "retention_load"
"""


def _scenario(tmp_path, body=_TINY, sets=()):
    path = tmp_path / "tiny.toml"
    path.write_text(body)
    return load_scenario(path, overrides=list(sets))


def test_protocol_on_a_tiny_net_shapes_theory_and_intervals(tmp_path):
    sc = _scenario(tmp_path)
    res = run_scenario(sc, progress=False)
    lo_pt, hi_pt = res.points                                         # load 0.05 (P = 3), 0.4 (P = 24)
    for pt, P in ((lo_pt, 3), (hi_pt, 24)):
        for a in sc.config["run"]["archs"]:
            m = np.stack([t[f"{ARCHS[a][0]}.overlap"] for t in pt["trials"]])
            assert m.shape == (4, P) and np.all(np.abs(m) <= 1)
            for stat in ("recalled", "recent", "oldest", "overlap"):
                v = pt["metrics"][f"{ARCHS[a][0]}_{stat}"]
                lo, hi = pt["intervals"][f"{ARCHS[a][0]}_{stat}"]
                assert lo - 1e-12 <= v <= hi + 1e-12
    # theory: 3 patterns in 60 units are far below capacity (Hebb); the projection rule
    # stores any P <= N - 1 as fixed points; at alpha = 0.4 Hebb is blacked out
    assert lo_pt["metrics"]["hebb_recalled"] == 1.0 and lo_pt["metrics"]["pinv_recalled"] == 1.0
    assert hi_pt["metrics"]["hebb_recalled"] <= 0.1
    assert hi_pt["metrics"]["clipped_recent"] > hi_pt["metrics"]["clipped_oldest"]
    # recalled fractions are consistent with the per-trial overlaps they come from
    m = np.stack([t["hebb.overlap"] for t in hi_pt["trials"]])
    assert hi_pt["metrics"]["hebb_recalled"] == pytest.approx(np.mean(m >= 0.95))
    assert {f for f, _ in res.figures} == {"retention_age", "retention_load"}


def test_same_seed_same_result_trial_by_trial(tmp_path):
    sc = _scenario(tmp_path, sets=["run.trials=2", "sweep.data.load=[0.4]"])
    a = run_scenario(sc, progress=False, figures=False)
    b = run_scenario(sc, progress=False, figures=False)
    for ta, tb in zip(a.points[0]["trials"], b.points[0]["trials"]):
        assert ta.keys() == tb.keys() and all(np.array_equal(ta[k], tb[k]) for k in ta)


def test_retention_json_is_written_and_valid(tmp_path):
    sc = _scenario(tmp_path, sets=["run.trials=3"])
    res = run_scenario(sc, progress=False, figures=False)
    run_dir = new_run_dir(tmp_path / "runs", sc.name, seed=7, smoke=False)
    save_run(run_dir, sc, res, started="now")
    doc = read_retention(run_dir)
    assert doc["x_label"].startswith("memory age")
    arches = [c["arch"] for c in doc["curves"]]
    assert arches == ["hopfield-hebb", "hopfield-pinv", "hopfield-clipped", "rbm"] * 2   # highest load first
    first = doc["curves"][0]
    assert first["family"] == "attractor" and first["n"] == 3 and first["detail"]["load"] == pytest.approx(0.4)
    assert first["x"] == list(range(24))
    m = np.stack([t["hebb.overlap"] for t in res.points[1]["trials"]])
    np.testing.assert_allclose(first["y"], (m >= 0.95).mean(axis=0))
    np.testing.assert_allclose(first["raw"], m.mean(axis=0))
    assert all(lo <= y <= hi for lo, y, hi in zip(first["lo"], first["y"], first["hi"]))


def test_time_mode_records_overlap_after_t_sweeps_at_temperature(tmp_path):
    body = _TINY.replace('archs = ["hebb", "pseudo_inverse", "clipped_hebb", "rbm"]', 'archs = ["hebb", "clipped_hebb"]')
    body = body.replace("[[plot]]\nkind = \"retention_age\"\n[[plot]]\nkind = \"retention_load\"\n",
                        "[[plot]]\nkind = \"retention_time\"\n")
    sc = _scenario(tmp_path, body, sets=["run.mode='time'", "run.temperature=0.3", "run.sweeps=12", "run.probes=2",
                                         "sweep.data.load=[0.05]", "run.trials=2"])
    res = run_scenario(sc, progress=False)
    t0 = res.points[0]["trials"][0]
    assert t0["hebb.m"].shape == (2, 13) and np.all(t0["hebb.m"][:, 0] == 1.0)    # starts at the pattern
    # T = 0.3 is far below T_c = 1 with 3 patterns: the pattern stays retrieved (mean-field m(0.3) = 0.998)
    assert res.points[0]["metrics"]["hebb_m_end"] > 0.9
    hot = run_scenario(_scenario(tmp_path, body, sets=["run.mode='time'", "run.temperature=3.0", "run.sweeps=12",
                                                       "run.probes=2", "sweep.data.load=[0.05]", "run.trials=2"]),
                       progress=False, figures=False)
    assert abs(hot.points[0]["metrics"]["hebb_m_end"]) < 0.4          # above T_c the memory is lost
    assert [f for f, _ in res.figures] == ["retention_time"]


@pytest.mark.parametrize("override,key", [
    ("run.archs=['hebb', 'lstm']", "run.archs"),
    ("run.archs=['hebb', 'hebb']", "run.archs"),
    ("run.temperature=0.5", "run.temperature"),
    ("net.units='binary'", "net.kind"),
    ("sweep.data.load=[1.0]", "data.load"),
])
def test_bad_settings_name_the_key(tmp_path, override, key):
    with pytest.raises(ScenarioError) as exc:
        _scenario(tmp_path, sets=[override])
    assert key in str(exc.value)


def test_spearman_against_known_values():
    assert spearman(np.arange(5), np.arange(5)[::-1]) == pytest.approx(-1.0)
    assert spearman(np.arange(4), np.array([1.0, 3.0, 2.0, 4.0])) == pytest.approx(0.8)
    assert spearman(np.arange(4), np.array([0.0, 1.0, 1.0, 2.0])) == pytest.approx(np.corrcoef([0, 1, 2, 3], [0, 1.5, 1.5, 3])[0, 1])
    assert math.isnan(spearman(np.arange(3), np.ones(3)))
