"""The seqlearn protocol on tiny settings: budgets, determinism, learning, divergence, freezing."""
import math
import textwrap

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.protocols import PROTOCOLS
from sim.protocols.seqlearn import hidden_for_budget
from sim.protocols.seqlearn_train import _freeze_masks, n_params
from sim.retention import validate_retention
from sim.scenario import load_scenario
from sim.sweep import run_scenario
from nets.rnn import RNN


def _scenario(tmp_path, net, train, data, run="trials = 2\nseed = 3\nn_test = 60\ncurve_test = 30", extra=""):
    p = tmp_path / "s.toml"
    p.write_text(textwrap.dedent(f"""
        [meta]
        title = "t"
        reference = "r"
        protocol = "seqlearn"
        [net]
        {net}
        [train]
        {train}
        [data]
        {data}
        [run]
        {run}
        """) + extra)
    return p


def test_hidden_for_budget_matches_brute_force():
    cfg = {"n_inputs": 2, "n_outputs": 1, "output": "identity", "activation": "tanh"}
    # the tanh RNN has H^2 + H I + H + K H + K = H^2 + 4H + 1 parameters here
    assert hidden_for_budget("rnn", cfg, 32 * 32 + 4 * 32 + 1) == 32
    for budget in (1, 7, 100, 1000, 5000):
        counts = {H: H * H + 4 * H + 1 for H in range(1, 200)}
        best = min(counts, key=lambda H: (abs(counts[H] - budget), H))
        assert hidden_for_budget("rnn", cfg, budget) == best
    net = RNN.from_config({**cfg, "n_hidden": 5}, rng=np.random.default_rng(0))
    assert n_params(net) == 25 + 20 + 1


def test_tiny_run_is_deterministic_and_reports_per_arch(tmp_path):
    p = _scenario(tmp_path,
                  'budget = 150\narchs = [ { name = "rnn", kind = "rnn" }, { name = "elman", kind = "elman", '
                  'n_hidden = 4, output = "identity", activation = "tanh" } ]',
                  "optimizer = \"adam\"\nlr = 0.01\nbatch_size = 8\nupdates = 6\neval_every = 3\nclip_norm = 1.0",
                  'task = "adding"\nT = 12', extra='[[plot]]\nkind = "learning_curves"\n[[plot]]\nkind = "grad_vs_lag"\n')
    a = run_scenario(load_scenario(p), progress=False)
    b = run_scenario(load_scenario(p), progress=False)
    assert a.metrics == b.metrics
    m = a.metrics
    assert m["baseline_mse"] == pytest.approx(1 / 6)
    assert m["n_params_rnn"] == 141 and m["n_params_elman"] == 16 + 8 + 4 + 4 + 1
    for arch in ("rnn", "elman"):
        assert 0 < m[f"mse_{arch}"] < 10 and m[f"n_diverged_{arch}"] == 0
        assert 0 <= m[f"success_rate_{arch}"] <= 1
    assert m["mse_elman_over_rnn"] > 0 and "mse_rnn_over_elman" not in m  # ratios to rnn, lstm, gru only
    tr = a.points[0]["trials"][0]
    assert tr["rnn.curve_at"].tolist() == [3, 6] and tr["rnn.dh_init"].shape == (12,)
    assert [s for s, _ in a.figures] == ["learning_curves", "grad_vs_lag"]


def test_learns_short_delay_recall(tmp_path):
    # lag 1, 4 symbols: a small tanh RNN reaches perfect recall; chance is 1/4
    p = _scenario(tmp_path, 'archs = [ { name = "rnn", kind = "rnn", n_hidden = 8, init = "xavier" } ]',
                  "lr = 0.05\nbatch_size = 32\nupdates = 150\neval_every = 50",
                  'task = "delay_recall"\nlag = 1\nn_symbols = 4', run="trials = 1\nseed = 1\nn_test = 200")
    m = run_scenario(load_scenario(p), progress=False).metrics
    assert m["chance"] == 0.25 and m["accuracy_rnn"] >= 0.95 and m["fidelity_rnn"] >= 0.93
    assert m["success_rate_rnn"] == 1.0 and m["updates_to_solve_rnn"] <= 150


def test_divergence_is_recorded(tmp_path):
    p = _scenario(tmp_path, 'archs = [ { name = "rnn", kind = "rnn", n_hidden = 6, activation = "identity", '
                            'init_range = 3.0 } ]',
                  "optimizer = \"sgd\"\nlr = 1e6\nbatch_size = 4\nupdates = 5\neval_every = 1",
                  'task = "adding"\nT = 60')
    r = run_scenario(load_scenario(p), progress=False)
    m = r.metrics
    assert m["n_diverged_rnn"] == 2 and m["success_rate_rnn"] == 0 and m["n_success_rnn"] == 0
    assert "mse_rnn" not in m  # no garbage means from diverged nets
    assert all(t["rnn.diverged"] == 1 and math.isnan(t["rnn.test_mse"]) for t in r.points[0]["trials"])


def test_freeze_masks_and_fixed_params(tmp_path):
    params = RNN.from_config({"n_inputs": 3, "n_hidden": 2, "n_outputs": 1}, rng=np.random.default_rng(0)).train_params()
    m = _freeze_masks(params, ["V", "U[:, -1]"])
    assert np.all(m["V"] == 0) and np.array_equal(m["U"], [[1, 1, 0], [1, 1, 0]])
    with pytest.raises(ScenarioError):
        _freeze_masks(params, ["Q"])
    with pytest.raises(ScenarioError):
        _freeze_masks(params, ["U[:, 5]"])
    # a frozen, fixed readout stays fixed: the test outputs equal V h + c with V = 1, c = 0
    p = _scenario(tmp_path, 'archs = [ { name = "rnn", kind = "rnn", n_hidden = 1, params = { V = [[1.0]], '
                            'c = [0.0], W = [[1.25]] } } ]',
                  'lr = 0.05\nbatch_size = 8\nupdates = 4\neval_every = 2\nfreeze = ["V", "c", "U[:, -1]"]',
                  'task = "latch"\nT = 6\nL = 2')
    s = load_scenario(p)
    r = PROTOCOLS["seqlearn"].trial(s.points()[0][1], np.random.SeedSequence(0), 0)
    assert r["rnn.n_params"] == 1 + 5 + 1 + 1 + 1


@pytest.mark.parametrize("net, key", [
    ('archs = [ { name = "bogus", kind = "rnn", n_hidden = 2 } ]', "net.archs[0].name"),
    ('archs = [ { name = "rnn", kind = "rnn", n_hidden = 2, colour = 1 } ]', "net.archs[0].colour"),
    ('archs = [ { name = "rnn", kind = "rnn" } ]', "net.archs[0].n_hidden"),
    ('archs = [ { name = "rnn", kind = "rnn", n_hidden = 2, n_inputs = 7 } ]', "net.archs[0].n_inputs"),
    ('archs = [ { name = "rnn", kind = "hopfield", n_hidden = 2 } ]', "net.archs[0].kind"),
    ('archs = [ { name = "rnn", kind = "rnn", n_hidden = 2, params = { W = [[1.0]] } } ]', "net.archs[rnn].params.W"),
])
def test_bad_arch_tables_name_the_key(tmp_path, net, key):
    p = _scenario(tmp_path, net, "updates = 2", 'task = "adding"\nT = 5')
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    assert exc.value.key == key


def test_retention_curves_from_a_lag_sweep(tmp_path):
    p = _scenario(tmp_path, 'archs = [ { name = "rnn", kind = "rnn", n_hidden = 4 }, '
                            '{ name = "elman", kind = "elman", n_hidden = 3 } ]',
                  "lr = 0.01\nbatch_size = 8\nupdates = 3\neval_every = 3",
                  'task = "delay_recall"\nn_symbols = 3', extra='[sweep]\n"data.lag" = [0, 2]\n')
    s = load_scenario(p)
    r = run_scenario(s, progress=False, figures=False)
    curves = PROTOCOLS["seqlearn"].retention(s, r.points)
    assert [c["arch"] for c in curves] == ["rnn", "elman"] and curves[0]["x"] == [0.0, 2.0]
    validate_retention({"scenario": "t", "x_label": "memory age (items presented after it)",
                        "y_label": "recall fidelity (0 = chance, 1 = perfect)", "curves": curves}, "test")


def test_lag_slices_and_gated_budgets():
    from sim.protocols.seqlearn_train import _crop, _lags

    assert _lags(np.arange(5.0), 3).tolist() == [2.0, 3.0, 4.0]
    assert np.isnan(_lags(np.arange(2.0), 3)[0]) and _lags(np.arange(2.0), 3)[1:].tolist() == [0.0, 1.0]
    assert np.all(np.isnan(_crop(np.ones((4, 2)), 3, True))) and _crop(np.ones((4, 2)), 3, False).shape == (3, 2)
    from sim.core import get_net

    for kind in ("lstm", "gru"):
        cls = get_net(kind)
        cfg = {k: key.default for k, key in cls.config_keys.items() if k != "n_hidden"}
        cfg.update(n_inputs=2, n_outputs=1, output="identity")
        H = hidden_for_budget(kind, cfg, 4000)
        count = lambda h: n_params(cls.from_config({**cfg, "n_hidden": h}, rng=np.random.default_rng(0)))  # noqa: E731
        assert abs(count(H) - 4000) <= min(abs(count(H - 1) - 4000), abs(count(H + 1) - 4000))


@pytest.mark.parametrize("kind, cfg, fast", [
    ("lstm", {"forget_gate": False}, True), ("lstm", {"variant": "CIFG"}, False), ("lstm", {}, False),
    ("rnn", {"activation": "tanh"}, True), ("gru", {}, True)])
def test_chunked_stream_equals_one_long_forward(kind, cfg, fast):
    # truncated BPTT over chunks with the carried state computes, in values, the one long
    # forward pass over the whole stream: the state is never reset between chunks
    from sim.core import get_net
    from sim.protocols.seqlearn_train import final_state
    from sim.sequence_tasks import ContinualReberStream

    net = get_net(kind).from_config({"n_inputs": 7, "n_hidden": 5, "n_outputs": 7, "output": "sigmoid",
                                     "init_range": 0.5, **cfg}, rng=np.random.default_rng(1))
    params = net.train_params()
    stream = ContinualReberStream(3, rng=np.random.default_rng(2))
    chunks = [stream.chunk(strings=2) for _ in range(4)] + [stream.chunk(steps=7)]
    state, hs = None, []
    for xs, ys in chunks:
        _, _, trace = net.bptt(params, xs, ys, state, loss="bce", fast=fast)
        hs.append(trace["h"])
        state = final_state(trace)
    h_long, _ = net.forward(params, np.concatenate([x for x, _ in chunks]))
    assert np.max(np.abs(np.concatenate(hs) - h_long)) < 1e-12
    # ... and differs from resetting at every chunk
    h_reset = np.concatenate([net.forward(params, x)[0] for x, _ in chunks])
    assert np.max(np.abs(h_reset - h_long)) > 1e-3


def test_continual_training_carries_the_state(tmp_path, monkeypatch):
    # the protocol's training loop starts chunk u + 1 from the final state of chunk u (the
    # first from zeros), and tests on one fresh stream of n_test strings
    from nets.lstm import LSTM

    seen = []
    orig = LSTM.bptt

    def spy(self, params, xs, ys, state0=None, **kw):
        out = orig(self, params, xs, ys, state0, **kw)
        seen.append((xs.shape, state0, out[2]["state"]))
        return out

    monkeypatch.setattr(LSTM, "bptt", spy)
    p = _scenario(tmp_path, 'archs = [ { name = "lstm", kind = "lstm", n_hidden = 4 }, '
                            '{ name = "lstm_nfg", kind = "lstm", n_hidden = 4, variant = "NFG" } ]',
                  "lr = 0.01\nbatch_size = 2\nupdates = 5\neval_every = 5",
                  'task = "continual_reber"\nchunk_strings = 2', run="trials = 1\nseed = 3\nn_test = 40\ncurve_test = 10",
                  extra='[[plot]]\nkind = "box"\nmetric = "outer_accuracy"\n[[plot]]\nkind = "learning_curves"\n'
                        'metric = "cell_norm"\n')
    s = load_scenario(p)
    r = PROTOCOLS["seqlearn"].trial(s.points()[0][1], np.random.SeedSequence(0), 0)
    train = [x for x in seen if x[0][1] == 2][:5]  # the 5 updates of the first architecture
    assert train[0][1] is None
    for prev, cur in zip(train, train[1:]):
        assert cur[1] is prev[2]
    assert r["lstm.test_cell_norm"] > 0 and 0 <= r["lstm.test_outer_accuracy"] <= 1
    res = run_scenario(s, progress=False)
    m = res.metrics
    assert m["cell_norm_lstm"] > 0 and "outer_accuracy_lstm_nfg" in m and m["chance"] == 0.5
    assert [stem for stem, _ in res.figures] == ["box", "learning_curves"]
    assert len(res.figures[0][1].axes[0].get_xticklabels()) == 2


def test_train_by_task_sets_each_swept_task_apart(tmp_path):
    p = _scenario(tmp_path, 'archs = [ { name = "lstm", kind = "lstm", n_hidden = 3 } ]',
                  'lr = 0.01\nbatch_size = 4\nupdates = 4\neval_every = 2\n'
                  'by_task = { continual_reber = { updates = 2, batch_size = 1, lr = 0.05 } }',
                  'task = "adding"', run="trials = 1\nseed = 3\nn_test = 8\ncurve_test = 4",
                  extra='[sweep]\n"data.task" = ["adding", "continual_reber"]\n')
    s = load_scenario(p)
    (la, ca), (lc, cc) = s.points()
    assert la == "task=adding" and lc == "task=continual_reber"
    proto = PROTOCOLS["seqlearn"]
    assert proto.trial(ca, np.random.SeedSequence(0), 0)["lstm.curve_at"].tolist() == [2, 4]
    assert proto.trial(cc, np.random.SeedSequence(0), 0)["lstm.curve_at"].tolist() == [2]
    for bad in ("{ bogus = { updates = 2 } }", "{ adding = { colour = 2 } }", "{ adding = { updates = -1 } }"):
        q = _scenario(tmp_path, 'archs = [ { name = "lstm", kind = "lstm", n_hidden = 3 } ]',
                      f"updates = 4\nby_task = {bad}", 'task = "adding"')
        with pytest.raises(ScenarioError) as exc:
            load_scenario(q)
        assert exc.value.key.startswith("train.by_task")


_RTRL_ARCH = ('{ name = "lstm1997", kind = "lstm", n_hidden = 3, variant = "NFG", peepholes = false, '
              'learner = "rtrl1997", lr = 0.05 }')


def test_rtrl1997_learner_is_online_truncated_rtrl_over_the_stream(tmp_path, monkeypatch):
    # the arch is trained by nets.lstm_rtrl.rtrl_sequence with step = its lr, one call per
    # learning-curve point over the concatenated chunks of the same stream the BPTT archs
    # read; the trial's test scores equal those of the same steps replayed by hand
    import nets.lstm_rtrl as lr_mod
    from nets.lstm import LSTM
    from sim.protocols.seqlearn import archs
    from sim.rng import child, generator
    from sim.sequence_tasks import make_task

    calls = []
    orig = lr_mod.rtrl_sequence

    def spy(net, params, xs, ys, **kw):
        calls.append((xs.copy(), kw["step"]))
        return orig(net, params, xs, ys, **kw)

    monkeypatch.setattr(lr_mod, "rtrl_sequence", spy)
    p = _scenario(tmp_path, f"archs = [ {_RTRL_ARCH} ]", "lr = 0.01\nbatch_size = 1\nupdates = 4\neval_every = 2",
                  'task = "continual_reber"\nchunk_strings = 1', run="trials = 1\nseed = 3\nn_test = 30\ncurve_test = 5")
    cfg = load_scenario(p).points()[0][1]
    r = PROTOCOLS["seqlearn"].trial(cfg, np.random.SeedSequence(0), 0)
    assert len(calls) == 2 and all(step == 0.05 for _, step in calls)
    ss_k = child(np.random.SeedSequence(0), 0)
    task = make_task(cfg["data"])
    next_chunk = task.stream(1, generator(ss_k, "data"))
    chunks = [next_chunk() for _ in range(4)]
    for (xs, _), pair in zip(calls, (chunks[:2], chunks[2:])):
        assert np.array_equal(xs, np.concatenate([c[0] for c in pair]))
    net = LSTM.from_config(archs(cfg, task)[0]["net"], rng=generator(ss_k, "init", "lstm1997"))
    ps = type(net.train_params())(*[np.array(q) for q in net.train_params()])
    for pair in (chunks[:2], chunks[2:]):
        orig(net, ps, np.concatenate([c[0] for c in pair]), np.concatenate([c[1] for c in pair]),
             loss="bce", step=0.05)
    xs, ys = task.sample(30, generator(ss_k, "test"))
    sc = task.score([(net.forward(ps, xs)[1], ys)])
    assert r["lstm1997.test_accuracy"] == sc["accuracy"]
    assert r["lstm1997.test_outer_accuracy"] == sc["outer_accuracy"] or math.isnan(sc["outer_accuracy"])
    assert r["lstm1997.diverged"] == 0 and math.isfinite(r["lstm1997.final_loss"])


def test_rtrl1997_learner_rejects_what_it_does_not_cover(tmp_path):
    cont = 'task = "continual_reber"'
    for net, train, data, needle in (
            (_RTRL_ARCH.replace('variant = "NFG", ', ""), "batch_size = 1", cont, "1997 LSTM cell"),  # forget gate
            (_RTRL_ARCH, "batch_size = 2", cont, "batch_size = 1"),
            (_RTRL_ARCH, "batch_size = 1", 'task = "adding"', "continual task"),
            (_RTRL_ARCH.replace("rtrl1997", "rtrl"), "batch_size = 1", cont, "learner")):
        with pytest.raises(ScenarioError) as exc:
            load_scenario(_scenario(tmp_path, f"archs = [ {net} ]", train, data))
        assert needle in str(exc.value) and "learner" in str(exc.value)


def test_cell_frozen_counts_saturated_cells():
    # without a forget gate and with i, g pinned open (bias +30) c grows by ~1 per step, so
    # act_h(c) = tanh(c) is 1 to machine precision after ~20 steps: every cell frozen. With
    # the forget gate shut (bias -30) c_t = i_t g_t follows the input: no cell frozen.
    from nets.lstm import LSTM
    from sim.protocols.seqlearn_train import _cell_stats
    from sim.sequence_tasks import make_task

    task = make_task({"task": "continual_reber", "chunk_strings": 1, "chunk_steps": 0, "loss": "bce"})
    test = [task.sample(20, np.random.default_rng(1))]
    H = 3
    for variant, bias, frozen in (("NFG", {0: 30.0, 2: 30.0}, 1.0), ("NP", {1: -30.0}, 0.0)):
        net = LSTM.from_config({"n_inputs": 7, "n_outputs": 7, "output": "sigmoid", "n_hidden": H,
                                "variant": variant, "init": "uniform", "init_range": 0.5},
                               rng=np.random.default_rng(0))
        p = net.train_params()
        b = p.b.copy()
        for gate, v in bias.items():
            b[gate * H:(gate + 1) * H] = v
        st = _cell_stats(net, p._replace(b=b), task, test, False)
        assert st["cell_frozen"] == frozen
        assert st["cell_norm"] > 100 if variant == "NFG" else st["cell_norm"] < 1.5
