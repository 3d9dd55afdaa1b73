"""McCulloch-Pitts units and the perceptron (nets/perceptron.py, the gates protocol; P1, P2).

Oracles: the exact P1 numbers of SCENARIOS.md [measured, deterministic]; Novikoff's
theorem (mistakes <= (R/gamma)^2) as a property over random separable sets; XOR's
impossibility for one threshold unit as LP infeasibility plus an exact Farkas combination;
the 14 linearly separable Boolean functions of two inputs; truth tables and absolute
inhibition against a direct, unit-by-unit reading of the McCulloch-Pitts rule.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import sim
from nets import perceptron as pc
from sim.errors import ScenarioError
from sim.scenario import load_scenario
from sim.sweep import run_scenario

P1 = {  # gate: (epochs, updates, converged, w, b)  [SCENARIOS.md P1]
    "AND": (6, 10, True, (2, 1), -2),
    "OR": (4, 4, True, (1, 1), 0),
    "NAND": (6, 11, True, (-2, -1), 3),
}


# --- the perceptron -------------------------------------------------------------------
@pytest.mark.parametrize("gate", sorted(P1))
def test_p1_exact_numbers(gate):
    epochs, updates, converged, w, b = P1[gate]
    fit = pc.train_perceptron(pc.INPUTS_2, pc.GATE_TARGETS[gate])
    assert (fit.epochs, fit.updates, fit.converged) == (epochs, updates, converged)
    assert tuple(fit.w) == w and fit.b == b
    assert fit.errors[-1] == 0 and np.all(fit.errors[:-1] > 0) and fit.errors.sum() == updates
    np.testing.assert_array_equal(pc.predict(pc.INPUTS_2, fit.w, fit.b), pc.GATE_TARGETS[gate])


def test_p1_xor_never_converges():
    fit = pc.train_perceptron(pc.INPUTS_2, pc.GATE_TARGETS["XOR"], max_epochs=1000)
    assert not fit.converged and fit.epochs == 1000 and fit.updates == 3997
    assert np.all(fit.errors > 0)


@pytest.mark.parametrize("lr", [0.5, 0.25, 4.0])
def test_learning_rate_only_scales_the_weights(lr):
    """From w = 0, b = 0 every iterate is lr times the lr = 1 iterate: same mistakes.

    Powers of two keep the arithmetic exact: the gates hit w.x + b = 0 exactly (a tie,
    output 0), and a rounded lr such as 0.1 turns those ties into tiny nonzero fields.
    """
    for gate in ("AND", "OR", "NAND", "NOR"):
        one = pc.train_perceptron(pc.INPUTS_2, pc.GATE_TARGETS[gate])
        other = pc.train_perceptron(pc.INPUTS_2, pc.GATE_TARGETS[gate], lr=lr)
        assert (other.epochs, other.updates) == (one.epochs, one.updates)
        np.testing.assert_allclose(other.w, lr * one.w, rtol=1e-12)
        assert other.b == pytest.approx(lr * one.b, rel=1e-12)


def test_xor_is_not_linearly_separable():
    """LP infeasibility, and the exact certificate: rows (0,1) + (1,0) - (0,0) - (1,1) give 0 > 0."""
    assert not pc.separable(pc.INPUTS_2, pc.GATE_TARGETS["XOR"])
    assert not pc.separable(pc.INPUTS_2, 1 - pc.GATE_TARGETS["XOR"])
    # w.x + b > 0 on (0,1), (1,0) and <= 0 on (0,0), (1,1): sum the first two, subtract the others
    Xa = np.hstack([pc.INPUTS_2, np.ones((4, 1))]).astype(int)
    y = np.array([-1, 1, 1, -1])  # coefficients of (w.x + b) per row
    assert np.array_equal(y @ Xa, [0, 0, 0])  # the combination is identically 0, yet must be > 0
    assert pc.novikoff_bound(pc.INPUTS_2, pc.GATE_TARGETS["XOR"])[2] == np.inf


def test_fourteen_of_sixteen_boolean_functions_are_separable():
    """Exactly XOR and XNOR are not; the perceptron learns the other 14 and fails those two."""
    bad = []
    for bits in itertools.product((0, 1), repeat=4):
        t = np.array(bits, np.int8)
        sep = pc.separable(pc.INPUTS_2, t)
        fit = pc.train_perceptron(pc.INPUTS_2, t, max_epochs=200)
        assert fit.converged == sep
        if sep:
            assert fit.updates <= pc.novikoff_bound(pc.INPUTS_2, t)[2] + 1e-9
        else:
            bad.append(bits)
    assert sorted(bad) == [(0, 1, 1, 0), (1, 0, 0, 1)]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 40), dim=st.integers(1, 5),
       min_margin=st.floats(0.02, 0.3), lr=st.floats(0.01, 10.0))
def test_novikoff_bound_holds_on_random_separable_sets(seed, n, dim, min_margin, lr):
    rng = np.random.default_rng(seed)
    X, t, u = pc.random_separable(n, dim, min_margin=min_margin, rng=rng)
    R = np.max(np.linalg.norm(np.hstack([X, np.ones((n, 1))]), axis=1))
    gamma_u = pc.margin(X, t, u)
    assert gamma_u >= min_margin - 1e-12  # the generator keeps its promise
    fit = pc.train_perceptron(X, t, lr=lr, max_epochs=int((R / gamma_u) ** 2) + 2)
    assert fit.converged  # the convergence theorem: at most bound mistakes, so at most bound + 1 epochs
    assert fit.updates <= (R / gamma_u) ** 2
    assert fit.updates <= pc.novikoff_bound(X, t, u)[2] * (1 + 1e-12)  # the tighter, max-margin gamma
    np.testing.assert_array_equal(pc.predict(X, fit.w, fit.b), t)


def test_train_perceptron_rejects_bad_input():
    with pytest.raises(ValueError):
        pc.train_perceptron(pc.INPUTS_2, [0, 1, 2, 0])
    with pytest.raises(ValueError):
        pc.train_perceptron(pc.INPUTS_2, pc.GATE_TARGETS["AND"], lr=0.0)


# --- McCulloch-Pitts units ------------------------------------------------------------
def _mp_reference(net, s, x):
    """The rule read unit by unit: inhibited -> 0, else fire iff excitation >= threshold."""
    W, U, Wi, Ui, theta = net.params
    out = np.zeros(net.n_units, np.int8)
    for i in range(net.n_units):
        inhibited = any(Wi[i, j] and s[j] for j in range(net.n_units)) or any(
            Ui[i, k] and x[k] for k in range(net.n_inputs))
        excitation = sum(int(W[i, j]) * int(s[j]) for j in range(net.n_units)) + sum(
            int(U[i, k]) * int(x[k]) for k in range(net.n_inputs))
        out[i] = 0 if inhibited else int(excitation >= theta[i])
    return out


@pytest.mark.parametrize("gate", ["AND", "OR", "NOT", "XOR"])
@pytest.mark.parametrize("fast", [True, False])
def test_mp_truth_tables(gate, fast):
    rows, out = pc.truth_table(gate, fast=fast)
    expect = {"AND": lambda r: r[0] & r[1], "OR": lambda r: r[0] | r[1], "NOT": lambda r: 1 - r[0],
              "XOR": lambda r: r[0] ^ r[1]}[gate]
    np.testing.assert_array_equal(out, [expect(r) for r in rows])


def test_mp_gate_thresholds_are_the_textbook_ones():
    assert pc.mp_gate("AND")[0].params.theta.tolist() == [2]
    assert pc.mp_gate("OR")[0].params.theta.tolist() == [1]
    not_net = pc.mp_gate("NOT")[0]
    assert not_net.params.Ui.tolist() == [[1, 0]] and not_net.params.U.tolist() == [[0, 1]]


def test_absolute_inhibition():
    """One active inhibitory synapse silences a unit whatever its excitation."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        I = int(rng.integers(2, 6))
        U = rng.integers(0, 50, size=(1, I))
        Ui = np.zeros((1, I), np.int8)
        k = int(rng.integers(I))
        Ui[0, k] = 1
        net = pc.McCullochPitts([[0]], [int(rng.integers(0, 3))], U=U, Ui=Ui)
        x = rng.integers(0, 2, size=I)
        x[k] = 1
        assert net.step(pc.MPState(np.zeros(1, np.int8)), x).s[0] == 0
        x[k] = 0  # without the inhibitory input the excitation decides
        want = int(U[0] @ x >= net.params.theta[0])
        assert net.step(pc.MPState(np.zeros(1, np.int8)), x).s[0] == want


def test_mp_step_matches_the_rule_unit_by_unit():
    rng = np.random.default_rng(1943)
    for _ in range(100):
        N, I = int(rng.integers(1, 7)), int(rng.integers(0, 4))
        net = pc.McCullochPitts(rng.integers(0, 3, size=(N, N)), rng.integers(-1, 4, size=N),
                                U=rng.integers(0, 3, size=(N, I)), Wi=rng.random((N, N)) < 0.2,
                                Ui=rng.random((N, I)) < 0.2)
        s = rng.integers(0, 2, size=N).astype(np.int8)
        x = rng.integers(0, 2, size=I)
        np.testing.assert_array_equal(net.step(pc.MPState(s), x if I else None).s, _mp_reference(net, s, x))


def test_one_mp_unit_cannot_compute_xor():
    """XOR needs two layers of McCulloch-Pitts units.

    If either input is inhibitory, the row with only that input on gives 0 (XOR says 1).
    Otherwise the unit is monotone (excitation only grows with x), so (1,1) fires whenever
    (1,0) does (XOR says 1 then 0). Checked: monotonicity of random units without
    inhibitory inputs, and the first case on every unit with an inhibitory input line.
    """
    rng = np.random.default_rng(1969)
    for _ in range(300):
        I = int(rng.integers(1, 5))
        net = pc.McCullochPitts([[0]], [int(rng.integers(-1, 6))], U=rng.integers(0, 4, size=(1, I)))
        for x in itertools.product((0, 1), repeat=I):
            for k in range(I):
                if x[k] == 0:
                    hi = list(x)
                    hi[k] = 1
                    out = [net.step(pc.MPState(np.zeros(1, np.int8)), np.array(v)).s[0] for v in (x, hi)]
                    assert out[0] <= out[1]
    for Ui in ([[1, 0]], [[0, 1]], [[1, 1]]):
        for c in itertools.product(range(4), repeat=2):
            for theta in range(-1, 5):
                net = pc.McCullochPitts([[0]], [theta], U=[list(c)], Ui=Ui)
                out = [net.step(pc.MPState(np.zeros(1, np.int8)), r).s[0] for r in pc.INPUTS_2]
                assert not np.array_equal(out, pc.GATE_TARGETS["XOR"])


@pytest.mark.parametrize("fast", [True, False])
def test_latch_is_a_reset_dominant_sr_flip_flop(fast):
    """Through simulate: L(t+1) = not reset(t) and (set(t) or L(t)) on random set/reset streams."""
    net, _, _ = pc.mp_gate("latch")
    rng = np.random.default_rng(5)
    for _ in range(20):
        xs = (rng.random((80, 2)) < [0.08, 0.05]).astype(float)
        traj = sim.simulate(net, np.zeros(1, np.int8), inputs=xs, schedule="clocked",
                            record=sim.Record(probes=()), fast=fast)
        L, want = 0, [0]
        for set_, reset in xs.astype(int):
            L = int(not reset and (set_ or L))
            want.append(L)
        np.testing.assert_array_equal(traj.states["s"][:, 0], want)


def test_mp_net_rejects_bad_input():
    with pytest.raises(ValueError, match="deterministic"):
        pc.mp_gate("AND")[0].step(pc.MPState(np.zeros(1, np.int8)), [1, 1], T=0.5)
    with pytest.raises(ValueError, match="all-or-none"):
        pc.mp_gate("AND")[0].step(pc.MPState(np.zeros(1, np.int8)), [0.5, 1])
    with pytest.raises(ValueError, match=">= 0"):
        pc.McCullochPitts([[-1]], [1])
    with pytest.raises(ValueError, match="0 and 1"):
        pc.McCullochPitts([[0]], [1], Wi=[[2]])
    with pytest.raises(ValueError, match="all-or-none"):
        sim.simulate(pc.mp_gate("OR")[0], np.zeros(1, np.int8), inputs=[[0.0, 2.0]], schedule="clocked")


# --- the protocol and its figures -----------------------------------------------------
def _write(tmp_path, body: str):
    p = tmp_path / "g.toml"
    p.write_text('[meta]\ntitle = "t"\nreference = "r"\nprotocol = "gates"\n' + body)
    return p


def test_protocol_rejects_a_gate_of_the_other_model(tmp_path):
    with pytest.raises(ScenarioError, match="gates"):
        load_scenario(_write(tmp_path, '[run]\nmodel = "perceptron"\ngate = "latch"\n'
                                       '[expect]\nepochs = { min = 1 }\n'))
    with pytest.raises(ScenarioError, match="reports"):
        load_scenario(_write(tmp_path, '[run]\nmodel = "perceptron"\ngate = "XOR"\n'
                                       '[expect]\nbound_holds = { min = 1 }\n'))


def test_protocol_figures(tmp_path):
    sc = load_scenario(_write(tmp_path, '[run]\nmodel = "mcculloch_pitts"\ngate = "latch"\n'
                                        '[expect]\nheld_ticks = { min = 40, max = 40 }\n[[plot]]\nkind = "latch"\n'))
    res = run_scenario(sc, progress=False)
    assert res.passed and [s for s, _ in res.figures] == ["latch"]
    fig = res.figures[0][1]
    assert fig.axes[-1].get_xlabel() and all(ax.get_ylabel() for ax in fig.axes)
    sc = load_scenario(_write(tmp_path, '[run]\nmodel = "perceptron"\ngate = "AND"\n'
                                        '[sweep]\n"run.gate" = ["AND", "XOR"]\n'
                                        '[expect]\n"updates[gate=AND]" = { min = 10, max = 10 }\n'
                                        '[[plot]]\nkind = "decision_lines"\n'))
    res = run_scenario(sc, progress=False)
    assert res.passed and len(res.figures[0][1].axes) >= 2
