"""Sequence tasks: shapes, definitions, baselines (as formulas), Reber legality, seeds."""
import math

import numpy as np
import pytest

from sim import sequence_tasks as st
from sim.tasks import TASKS


def rng(seed=0):
    return np.random.default_rng(seed)


def test_copy_baseline_formula():
    # 10 ln 8 / (T + 20) [computed in SCENARIOS.md 7.5]
    for T, want in [(100, 0.1733), (200, 0.0945), (300, 0.0650), (500, 0.0400)]:
        assert st.copy_baseline(T) == pytest.approx(10 * math.log(8) / (T + 20))
        assert round(st.copy_baseline(T), 4) == want


def test_copy_memory_layout_and_memoryless_ce():
    xs, ys = st.copy_memory(7, 50, rng=rng())
    assert xs.shape == ys.shape == (27, 50, 10)
    sx, sy = xs.argmax(-1), ys.argmax(-1)
    assert np.all((sx[:10] >= 1) & (sx[:10] <= 8))
    assert np.all(sx[10:16] == 0) and np.all(sx[16] == 9) and np.all(sx[17:] == 0)
    assert np.all(sy[:17] == 0) and np.array_equal(sy[17:], sx[:10])
    # the memoryless predictor: blank for sure, then uniform over a1..a8
    y = np.zeros_like(ys)
    y[:17, :, 0] = 1.0
    y[17:, :, 1:9] = 1 / 8
    task = st.make_task({"task": "copy", "T": 7, "n_copy": 10})
    assert task.score([(y, ys)])["ce"] == pytest.approx(st.copy_baseline(7))
    assert task.score([(y, ys)])["ce_ratio"] == pytest.approx(1.0)


def test_adding_markers_targets_and_baseline():
    xs, ys = st.adding(40, 20000, rng=rng(1))
    m = xs[:, :, 1]
    assert xs.shape == (40, 20000, 2) and ys.shape == (20000, 1)
    assert np.all(m.sum(0) == 2) and np.all(m[:20].sum(0) == 1)
    assert np.allclose(ys[:, 0], (xs[:, :, 0] * m).sum(0))
    # predicting 1 has MSE Var(X1 + X2) = 1/6: within 4 standard errors on 20000 samples
    err = (ys[:, 0] - 1.0) ** 2
    assert abs(err.mean() - 1 / 6) < 4 * err.std() / math.sqrt(len(err))
    xs2, _ = st.adding(40, 100, values="symmetric", rng=rng(1))
    assert xs2[:, :, 0].min() < 0


def test_adding_1997_definition():
    xs, ys = st.adding_1997(100, 500, rng=rng(2))
    L = xs.shape[0]
    assert 100 <= L <= 110
    m = xs[:, :, 1]
    assert np.all((m == 1).sum(0) == 2)
    first = np.argmax(m == 1, axis=0)
    assert np.all(first < 10)
    marked = np.where(m == 1)
    assert np.all(marked[0] < 100 // 2 - 1)
    assert np.all(m[-1] == -1) and np.all(m[0][first != 0] == -1)
    assert np.all((m[1:-1] != -1))
    assert np.allclose(ys[:, 0], 0.5 + (xs[:, :, 0] * (m == 1)).sum(0) / 4)


def test_noise_free_lags():
    xs, ys = st.noise_free_lags(6, 10, rng=rng(3))
    assert xs.shape == ys.shape == (6, 10, 7)
    s = xs.argmax(-1)
    assert np.all(s[0] < 2) and np.array_equal(s[1:], np.tile(np.arange(2, 7)[:, None], (1, 10)))
    assert np.array_equal(ys.argmax(-1)[-1], s[0]) and np.array_equal(ys.argmax(-1)[:-1], s[1:])
    xb, yb = st.noise_free_lags(6, 10, random_middle=True, rng=rng(3))
    assert yb.shape == (10, 7) and np.array_equal(yb.argmax(-1), xb.argmax(-1)[0])
    assert np.all(xb.argmax(-1)[1:] >= 2)


@pytest.mark.parametrize("s", ["BTSSXXTVVE", "BPVVE", "BTXXVPSE"])
def test_reber_legal_examples(s):
    assert st.is_reber(s)


@pytest.mark.parametrize("s", ["BTSSPXSE", "BPTVVB", "BTXXVVSE", "", "TPVVE", "BPVV", "BPVVEE"])
def test_reber_illegal_examples(s):
    assert not st.is_reber(s)


def test_embedded_reber_strings_and_targets():
    assert st.is_embedded_reber("BTBPVVETE")
    assert not st.is_embedded_reber("BTBPVVEPE")
    r = rng(4)
    for _ in range(200):
        s = st.embedded_reber_string(r)
        assert st.is_embedded_reber(s)
    sets = st.reber_next_sets("BTBPVVETE")
    assert sets == [set("TP"), set("B"), set("TP"), set("TV"), set("PV"), set("E"), set("T"), set("E")]
    xs, ys = st.embedded_reber(16, rng=r)
    assert xs.shape[1] == 16 and xs.shape == ys.shape and xs.shape[2] == 7
    assert np.all(xs.sum(-1) == 1) and np.all(ys.sum(-1) >= 1)
    # the second-to-last target is the outer symbol seen at step 1
    assert np.array_equal(ys[-2].argmax(-1), xs[1].argmax(-1))
    # a perfect predictor (the targets themselves) solves it; a uniform one does not
    task = st.make_task({"task": "embedded_reber", "output": "sigmoid"})
    assert task.score([(ys * 0.9 + 0.05, ys)])["solved"]
    assert not task.score([(np.full_like(ys, 0.5) + 0.01 * xs, ys)])["solved"]


def test_continual_reber_stream():
    xs, ys, outer = st.continual_embedded_reber(5, rng=rng(5))
    assert xs.shape == ys.shape and outer.sum() == 5
    # after each outer-symbol target the next target is E, then B
    idx = np.flatnonzero(outer)
    assert np.all(ys[idx[:-1] + 1].argmax(-1) == 6) and np.all(ys[idx[:-1] + 2].argmax(-1) == 0)


def test_continual_stream_chunks_continue_one_stream():
    # chunks of one stream, read back to back, are the stream continual_embedded_reber draws
    # from the same generator: nothing is reset or skipped between chunks
    stream = st.ContinualReberStream(1, rng=rng(7))
    parts = [stream.chunk(strings=k) for k in (1, 3, 2)] + [stream.chunk(steps=11), stream.chunk(strings=2)]
    xs = np.concatenate([x for x, _ in parts])[:, 0]
    ys = np.concatenate([y for _, y in parts])[:, 0]
    x2, y2, outer = st.continual_embedded_reber(20, rng=rng(7))
    n = min(len(xs), len(x2))
    assert n > 50 and np.array_equal(xs[:n], x2[:n]) and np.array_equal(ys[:n], y2[:n])
    assert np.array_equal(st.outer_steps(ys[:n]), outer[:n])
    # a chunk of k strings ends on a string boundary: the next input is a B
    s2 = st.ContinualReberStream(3, rng=rng(8))
    for k in (1, 6):
        x, y = s2.chunk(strings=k)
        assert x.shape[1:] == (3, 7) and x[-1, 0].argmax() == 6 and y[-1, 0].argmax() == 0
        assert np.sum(x[:, 0].argmax(-1) == 0) == 2 * k  # outer and inner B of each string
    assert x.shape[0] == y.shape[0] and np.all(x.sum(-1) == 1)
    with pytest.raises(ValueError):
        s2.chunk(strings=1, steps=3)


def test_continual_reber_task_and_score():
    task = st.make_task({"task": "continual_reber", "chunk_strings": 6, "chunk_steps": 0, "loss": "bce"})
    assert task.continual and (task.n_inputs, task.n_outputs, task.output) == (7, 7, "sigmoid")
    assert task.primary == "outer_accuracy"
    xs, ys = task.sample(30, rng(9))
    assert xs.shape[1] == 1 and st.outer_steps(ys).sum() == 30
    assert task.score([(ys, ys)]) == {"accuracy": 1.0, "outer_accuracy": 1.0, "fidelity": 1.0, "outer_solved": 1.0,
                                      "solved": True}
    # swap T and P at every outer step: only those symbols are wrong
    bad = ys.copy()
    o = st.outer_steps(ys)
    bad[o] = bad[o][:, [0, 2, 1, 3, 4, 5, 6]]
    sc = task.score([(bad, ys)])
    assert sc["outer_accuracy"] == 0.0 and sc["fidelity"] == -1.0 and not sc["solved"] and sc["outer_solved"] == 0.0
    assert sc["accuracy"] == pytest.approx(1 - 30 / len(ys))
    # outer_solved: outer accuracy >= 0.95 (29/30 = 0.967 yes, 28/30 = 0.933 no)
    for n_bad, solved in ((1, 1.0), (2, 0.0)):
        b = ys.copy()
        t = np.flatnonzero(o[:, 0])[:n_bad]
        b[t] = b[t][..., [0, 2, 1, 3, 4, 5, 6]]
        sc = task.score([(b, ys)])
        assert sc["outer_solved"] == solved and sc["outer_accuracy"] == pytest.approx(1 - n_bad / 30)
    nxt = task.stream(2, rng(10))
    a, b = nxt(), nxt()
    assert a[0].shape[1] == 2 and not np.array_equal(a[0][:10], b[0][:10])
    assert "continual_reber" in TASKS


def test_temporal_order():
    for v, C, n in (("6a", 4, 2), ("6b", 8, 3)):
        xs, ys = st.temporal_order(64, variant=v, rng=rng(6))
        s = xs.argmax(-1)
        assert 100 <= xs.shape[0] <= 110 and ys.shape == (64, C)
        assert np.all(s[0] == 0) and np.all(s[-1] == 1)
        xy = s >= 6
        assert np.all(xy.sum(0) == n)
        cls = np.zeros(64, dtype=int)
        for b in range(64):
            for t in np.flatnonzero(xy[:, b]):
                cls[b] = 2 * cls[b] + (s[t, b] - 6)
        assert np.array_equal(cls, ys.argmax(-1))
        assert np.all(np.argmax(xy, axis=0) >= 9) and np.all(np.argmax(xy, axis=0) <= 19)


def test_latch():
    xs, ys = st.latch(10, 200, L=3, noise_var=0.2, rng=rng(7))
    assert xs.shape == (10, 200, 7) and set(np.unique(ys)) == {-0.8, 0.8}
    cls = (ys[:, 0] < 0).astype(int)
    for t in range(3):
        assert np.all(xs[t, np.arange(200), cls * 3 + t] == 1)
    assert np.all(xs[:3, :, 6] == 0) and abs(xs[3:, :, 6].var() - 0.2) < 0.04


def test_delay_recall():
    xs, ys = st.delay_recall(5, 30, n_symbols=4, rng=rng(8))
    assert xs.shape == (7, 30, 9) and ys.shape == (30, 4)
    assert np.array_equal(xs[0, :, :4], ys) and np.all(xs[1:6] == 0) and np.all(xs[6, :, 8] == 1)
    xn, yn = st.delay_recall(5, 30, n_symbols=4, distractors="noise", rng=rng(8))
    assert np.all(xn[1:6, :, 4:8].sum(-1) == 1)
    task = st.make_task({"task": "delay_recall", "lag": 5, "n_symbols": 4, "distractors": "blank"})
    uniform = np.full((7, 30, 4), 0.25)
    assert task.score([(uniform, ys)])["ce"] == pytest.approx(math.log(4))
    assert task.score([(ys[None] * np.ones((7, 1, 1)), ys)])["fidelity"] == 1.0


def test_same_seed_same_data_and_registration():
    for name, keys in st.SEQUENCE_TASK_KEYS.items():
        assert TASKS[name] is keys
        data = {"task": name, **{k: key.default for k, key in keys.items()}}
        if "T" in data:
            data["T"] = 30
        if name == "noise_free_lags":
            data["p"] = 10
        task = st.make_task(data)
        a, b = task.sample(3, rng(9)), task.sample(3, rng(9))
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
        assert a[0].shape[2] == task.n_inputs and a[1].shape[-1] == task.n_outputs


def test_bad_arguments():
    with pytest.raises(ValueError):
        st.adding(1, 2, rng=rng())
    with pytest.raises(ValueError):
        st.copy_memory(5, 0, rng=rng())
    with pytest.raises(ValueError):
        st.temporal_order(2, variant="6c", rng=rng())
    with pytest.raises(ValueError):
        st.reber_next_sets("BTSSXXTVVE")
