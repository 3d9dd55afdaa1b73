"""Elman's letter task (E2): the stream, its feature table, the protocol metrics and figure;
the plan-sequence task and protocol pieces of J1."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.plots.sequence import letter_errors_figure, perturbation_figure
from sim.scenario import load_scenario
from sim.sweep import run_scenario
from sim.tasks import LETTER_FEATURES, TASKS, elman_letters, plan_sequences

_ROOT = Path(__file__).resolve().parent.parent


def test_letter_stream_structure():
    xs, letters = elman_letters(400, rng=np.random.default_rng(0))
    assert xs.shape == (len(letters), 6)
    assert set(letters) == set("bdgaiu")
    # every consonant is followed by exactly its vowels: b -> a, d -> ii, g -> uuu
    for syl in letters.replace("b", " b").replace("d", " d").replace("g", " g").split():
        assert syl in ("ba", "dii", "guuu")
    np.testing.assert_array_equal(xs[[i for i, ch in enumerate(letters) if ch == "d"]], [[1, 0, 1, 1, 0, 1]] * letters.count("d"))
    # consonants equally likely (400 draws: each within 5 SE of 1/3)
    counts = np.array([letters.count(ch) for ch in "bdg"])
    assert np.all(np.abs(counts / 400 - 1 / 3) < 5 * np.sqrt(2 / 9 / 400))
    # Table 1: consonants have bit 1 on, vowels bit 2; b, d, g differ only in High and Back
    feats = np.array([LETTER_FEATURES[ch] for ch in "bdgaiu"])
    assert feats[:3, 0].all() and not feats[3:, 0].any() and feats[3:, 1].all()
    assert np.array_equal(np.flatnonzero(feats[:3].std(axis=0)), [3, 4])
    assert "elman_letters" in TASKS
    with pytest.raises(ValueError):
        elman_letters(0, rng=np.random.default_rng(0))


def test_letters_protocol_separates_consonants_from_vowels():
    """A short run (40 passes) already shows the paper's pattern; an untrained net (1 pass
    at lr ~0) does not."""
    path = _ROOT / "scenarios" / "elman_1990_letters.toml"
    trained = run_scenario(load_scenario(path, overrides=["train.passes=40", "data.n_consonants=300"]),
                           figures=False, progress=False).metrics
    assert trained["rms_vowel"] < 0.1 < 0.2 < trained["rms_consonant"]
    assert trained["bit1_bit4_ratio"] < 0.5
    untrained = run_scenario(load_scenario(path, overrides=["train.passes=1", "train.lr=1e-9",
                                                            "data.n_consonants=300"]),
                             figures=False, progress=False).metrics
    assert untrained["rms_vowel"] > 0.2 and untrained["bit1_bit4_ratio"] > 0.5


def test_plan_sequences_task():
    plans, seqs = plan_sequences(4, 5, 3, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(plans, np.eye(4))
    assert seqs.shape == (4, 5, 3) and set(np.unique(seqs)) <= {0.0, 1.0}
    assert len(np.unique(seqs.reshape(4, -1), axis=0)) == 4
    assert not np.any(np.all(seqs == seqs[:, :1], axis=(1, 2)))
    with pytest.raises(ValueError):
        plan_sequences(20, 2, 1, rng=np.random.default_rng(0))


def test_plan_sequences_perturbation_counts_phase_shifts():
    """The attractor test: a run back on the trained cycle, in phase or shifted, counts as
    re-converged after the last wrong step; one never back on the cycle does not."""
    from sim.protocols.jordan import PlanSequences

    class Fake:  # a 'net' whose generation is scripted
        def __init__(self, outs):
            self.outs = outs

        def generate(self, p, xs, state0=None):
            T = xs.shape[0]
            y = self.outs[:T] if state0 is None else self.outs[-T:]
            return y, np.zeros((xs.shape[1], 2))

    L, C = 3, 4
    cyc = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    yl = np.tile(cyc, (C, 1))[:, None, :]  # (T, 1, 2)
    xl = np.zeros((L * C, 1, 1))
    run = {"n_noise": 1, "perturb_step": 2, "state_noise": 0.0, "test_cycles": C}
    shifted = np.roll(yl, 1, axis=0)  # the same cycle, one step late (= advanced by 2)
    off = np.ones((3, 1, 2))  # (1, 1) is on no phase of the cycle
    outs = np.concatenate([yl[:2], off, shifted[5:]])  # wrong at steps 2-4, then shifted
    steps, shift, _ = PlanSequences._perturb(Fake(outs), None, xl, yl, yl[:, 0], run, np.random.default_rng(0))
    assert steps.tolist() == [3] and shift.tolist() == [2]  # last wrong step 4: 3 steps after step 2
    outs = np.concatenate([yl[:2], off, yl[5:]])
    steps, shift, _ = PlanSequences._perturb(Fake(outs), None, xl, yl, yl[:, 0], run, np.random.default_rng(0))
    assert steps.tolist() == [3] and shift.tolist() == [0]
    stuck = np.concatenate([yl[:2], np.ones((L * C - 2, 1, 2))])
    steps, _, _ = PlanSequences._perturb(Fake(stuck), None, xl, yl, yl[:, 0], run, np.random.default_rng(0))
    assert steps.tolist() == [L * C]


def test_figures():
    rng = np.random.default_rng(0)
    fig = letter_errors_figure(rng.random((2, 6)), list("baguuu"), rng.random((2, 6, 2)))
    assert len(fig.axes) == 2
    with pytest.raises(ValueError):
        letter_errors_figure(rng.random((2, 6)), list("bag"), rng.random((2, 6, 2)))
    y = rng.random((12, 3))
    fig = perturbation_figure(y, y, y, perturb_step=2, period=4)
    assert len(fig.axes) == 4
