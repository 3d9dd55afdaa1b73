"""Conformance of every registered net (DESIGN.md sections 2 and 9).

For each ``kind`` in :func:`sim.registry` a small factory below builds a few instances;
a new net must add its factory here (``test_every_registered_kind_has_a_factory``).
Checked: state shapes and dtypes, purity of ``step`` (inputs and params untouched),
determinism of ``simulate`` for a fixed seed, and ``fast=True`` (numba rollout) ==
``fast=False`` (Python loop over ``step``) -- bit-identical for binary nets, within
1e-12 for float nets -- over every applicable schedule, micro and tick records,
T = 0 and T > 0, ``every`` 1 and 3, with and without the stop rules.
"""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field

import numpy as np
import pytest

import nets
import sim
from sim import Record


@dataclass
class Case:
    """One small instance of a net, with the schedules and temperatures that apply."""

    name: str
    net: sim.Net
    schedules: tuple[str, ...]
    temperatures: tuple[float, ...] = (0.0,)
    inputs: np.ndarray | None = None  # (ticks, n_inputs) for sequence nets
    ticks: int = 25
    blocks: list = field(default_factory=list)


def _sym_int(rng, n, lo=-3, hi=4, density=1.0):
    """Random symmetric integer matrix with zero diagonal (exact fields on every path)."""
    A = rng.integers(lo, hi, size=(n, n)).astype(np.float64)
    A *= rng.random((n, n)) < density
    W = np.triu(A, 1)
    return W + W.T


def _partition(rng, n, k):
    perm = rng.permutation(n)
    cuts = np.sort(rng.choice(np.arange(1, n), size=k - 1, replace=False))
    return [sorted(int(i) for i in part) for part in np.split(perm, cuts)]


HOPFIELD_SCHEDULES = ("sync", "sequential", "random", "random-site", "chromatic", "blocks")


def _hopfield_cases() -> list[Case]:
    rng = np.random.default_rng(1982)
    N = 12
    patterns = np.where(rng.random((3, N)) < 0.5, 1, -1)
    gauss = rng.normal(size=(N, N))
    gauss = np.triu(gauss, 1) + np.triu(gauss, 1).T
    asym = rng.integers(-2, 3, size=(N, N)).astype(float)
    np.fill_diagonal(asym, 0.0)
    nets_ = [
        ("hebb-spin", nets.Hopfield.from_patterns(patterns)),
        ("hebb-binary", nets.Hopfield.from_patterns((patterns + 1) // 2, units="binary")),
        ("int-binary-theta", nets.Hopfield(_sym_int(rng, N, density=0.4), rng.integers(-2, 3, N),
                                           units="binary")),
        ("gauss-spin", nets.Hopfield(gauss, rng.normal(scale=0.3, size=N))),
        ("asymmetric-spin", nets.Hopfield(asym)),
    ]
    return [Case(name, net, HOPFIELD_SCHEDULES, temperatures=(0.0, 0.7), blocks=_partition(rng, N, 3))
            for name, net in nets_]


def _rnn_cases() -> list[Case]:
    rng = np.random.default_rng(1990)
    H, I, T = 5, 3, 40
    xs = rng.normal(size=(T, I))
    out = []
    for act in ("tanh", "sigmoid", "relu", "identity"):
        W = rng.normal(scale=0.4 / np.sqrt(H), size=(H, H))  # contracting: rounding stays small
        out.append(Case(f"rnn-{act}", nets.RNN(W, rng.normal(size=(H, I)), rng.normal(size=H),
                                               activation=act, h0=rng.normal(size=H)),
                        ("clocked",), inputs=xs, ticks=T))
    bits = rng.integers(0, 2, size=(T, 1)).astype(float)
    out.append(Case("counter", nets.counter(), ("clocked",), inputs=bits, ticks=T))
    return out


def _elman_cases() -> list[Case]:
    rng = np.random.default_rng(1991)
    xs = rng.integers(0, 2, size=(30, 1)).astype(float)
    net = nets.Elman.from_config({"n_inputs": 1, "n_hidden": 2, "n_outputs": 1, "activation": "sigmoid",
                                  "output": "sigmoid", "init_range": 0.5, "context_init": 0.5}, rng=rng)
    return [Case("elman-1-2-1", net, ("clocked",), inputs=xs, ticks=30)]


def _jordan_cases() -> list[Case]:
    rng = np.random.default_rng(1986)
    xs = rng.normal(size=(30, 2))
    cfg = {"n_inputs": 2, "n_hidden": 4, "n_outputs": 3, "activation": "sigmoid", "output": "sigmoid",
           "init": "uniform", "init_range": 1.0, "mu": 0.5, "state_init": 0.0, "teacher_forcing": True}
    return [Case(f"jordan-{out}", nets.Jordan.from_config({**cfg, "output": out}, rng=rng), ("clocked",),
                 inputs=xs, ticks=30) for out in ("sigmoid", "softmax")]


def _mcculloch_pitts_cases() -> list[Case]:
    # sparse excitation, rare inhibition, thresholds 1-2: from a random start sync runs pass 5 states
    # into a 3-cycle, driven runs visit 18 distinct states (denser inhibition silences the net at once)
    rng = np.random.default_rng(1944)
    N, I, T = 8, 3, 30
    W = rng.integers(1, 3, size=(N, N)) * (rng.random((N, N)) < 0.35)
    Wi = (rng.random((N, N)) < 0.12).astype(np.int8)
    theta = rng.integers(1, 3, size=N)
    U = rng.integers(0, 2, size=(N, I))
    Ui = (rng.random((N, I)) < 0.1).astype(np.int8)
    xs = rng.integers(0, 2, size=(T, I)).astype(float)
    return [Case("autonomous", nets.McCullochPitts(W, theta, Wi=Wi),
                 ("sync", "sequential", "random", "random-site", "chromatic", "blocks"), blocks=_partition(rng, N, 3)),
            Case("driven", nets.McCullochPitts(W, theta, U=U, Wi=Wi, Ui=Ui), ("clocked",), inputs=xs, ticks=T)]


def _rbm_cases() -> list[Case]:
    rng = np.random.default_rng(2002)
    gauss = nets.RBM(rng.normal(size=(5, 4)), rng.normal(scale=0.5, size=5), rng.normal(scale=0.5, size=4))
    ints = nets.RBM(rng.integers(-2, 3, size=(4, 6)).astype(float), rng.integers(-1, 2, 4), rng.integers(-1, 2, 6))
    return [Case("gauss-5x4", gauss, ("chromatic", "random", "sync", "blocks"), temperatures=(0.0, 1.0),
                 blocks=["hidden", "visible"]),
            Case("int-4x6", ints, ("chromatic", "sequential", "random-site"), temperatures=(0.0, 1.5))]


def _hopfield_continuous_cases() -> list[Case]:
    rng = np.random.default_rng(1984)
    N = 10
    J = rng.normal(scale=1.0 / np.sqrt(N), size=(N, N))
    sym = np.triu(J, 1) + np.triu(J, 1).T
    patterns = np.where(rng.random((3, N)) < 0.5, 1, -1)
    out = [
        Case("sk-gain5", nets.HopfieldContinuous(sym, gain=5.0, dt=0.05),
             ("sync", "sequential", "random", "random-site", "chromatic")),
        Case("hebb-gain50-bias", nets.HopfieldContinuous(
            nets.HopfieldContinuous.from_patterns(patterns).params.W, rng.normal(scale=0.2, size=N),
            gain=50.0, tau=2.0, dt=0.1), ("sync", "random")),
        Case("asymmetric", nets.HopfieldContinuous(rng.normal(scale=0.5, size=(N, N)), gain=2.0, dt=0.2),
             ("sync", "blocks"), blocks=_partition(rng, N, 3)),
    ]
    return out


def _boltzmann_cases() -> list[Case]:
    rng = np.random.default_rng(1985)
    encoder = nets.BoltzmannMachine.from_groups(
        {"V1": 4, "H": 2, "V2": 4}, {("V1", "V1"), ("V2", "V2"), ("V1", "H"), ("V2", "H")},
        visible=["V1", "V2"], rng=rng, weight_scale=1.5, bias_scale=0.5)
    dense = nets.BoltzmannMachine(_sym_int(rng, 9, density=0.6), rng.integers(-2, 3, 9), visible=6)
    bipartite = nets.BoltzmannMachine.from_groups({"visible": 6, "hidden": 4}, {("visible", "hidden")},
                                                  visible=["visible"], rng=rng, weight_scale=1.0)
    clamped = encoder.clamp("V1", [1, 0, 0, 0])
    return [Case("encoder-424", encoder, HOPFIELD_SCHEDULES, temperatures=(0.0, 1.0),
                 blocks=["V1", "H", "V2"]),
            Case("int-dense", dense, HOPFIELD_SCHEDULES, temperatures=(0.0, 0.8), blocks=["visible", "hidden"]),
            Case("bipartite", bipartite, ("chromatic", "random", "sync"), temperatures=(0.0, 2.0)),
            Case("clamped-encoder", clamped, ("random", "sequential", "chromatic"), temperatures=(0.0, 1.0))]


def _gru_cases() -> list[Case]:
    rng = np.random.default_rng(2014)
    xs = rng.normal(size=(30, 2))
    out = []
    for reset, update, layers in (("after", "cho", 1), ("before", "notes", 2)):
        net = nets.GRU.from_config({"n_inputs": 2, "n_hidden": 3, "n_outputs": 1, "n_layers": layers,
                                    "reset": reset, "update": update}, rng=rng)
        out.append(Case(f"gru-{reset}-{update}-l{layers}", net, ("clocked",), inputs=xs, ticks=30))
    return out


def _lstm_cases() -> list[Case]:
    rng = np.random.default_rng(1997)
    xs = rng.normal(size=(30, 2))
    out = []
    for kw in ({}, {"variant": "CIFG", "n_layers": 2}, {"forget_gate": False, "peepholes": False,
                                                       "cell_input": "logistic2", "cell_output": "logistic1"}):
        net = nets.LSTM.from_config({"n_inputs": 2, "n_hidden": 3, "n_outputs": 1, "init_range": 0.5, **kw}, rng=rng)
        out.append(Case("lstm-" + "-".join(f"{k}={v}" for k, v in kw.items()), net, ("clocked",), inputs=xs, ticks=30))
    return out


#: one factory per registered kind; a new net must add its own
FACTORIES = {
    "boltzmann": _boltzmann_cases,
    "hopfield": _hopfield_cases,
    "hopfield_continuous": _hopfield_continuous_cases,
    "rnn": _rnn_cases,
    "rbm": _rbm_cases,
    "mcculloch_pitts": _mcculloch_pitts_cases,
    "elman": _elman_cases,
    "lstm": _lstm_cases,
    "gru": _gru_cases,
    "jordan": _jordan_cases,
}


def _all_cases() -> list[tuple[str, Case]]:
    out = []
    for kind in sorted(sim.registry()):
        if kind in FACTORIES:
            out += [(kind, c) for c in FACTORIES[kind]()]
    return out


CASES = _all_cases()
CASE_IDS = [f"{kind}:{c.name}" for kind, c in CASES]


def test_every_registered_kind_has_a_factory():
    missing = sorted(set(sim.registry()) - set(FACTORIES))
    assert not missing, f"add a conformance factory for net kind(s) {missing} in {__file__}"
    for kind, factory in FACTORIES.items():
        cases = factory()
        assert cases, f"factory for {kind} built nothing"
        for c in cases:
            assert type(c.net) is sim.get_net(kind) and c.net.kind == kind


def _run(case: Case, schedule, **kw):
    return sim.simulate(case.net, ticks=case.ticks, inputs=case.inputs, schedule=schedule,
                        blocks=case.blocks if schedule == "blocks" else None, **kw)


@pytest.mark.parametrize("kind,case", CASES, ids=CASE_IDS)
def test_state_shapes_and_dtypes(kind, case):
    net = case.net
    s0 = net.init_state(rng=np.random.default_rng(0))
    assert isinstance(s0, net.State) and s0._fields == net.State._fields
    assert np.array_equal(net.groups()["all"], np.arange(net.n_units))
    x = None if case.inputs is None else case.inputs[0]
    T = max(case.temperatures)
    u = np.random.default_rng(1).random(net.n_units) if net.uses_noise(T) else None
    s1 = net.step(s0, x, T=T, u=u)
    assert type(s1) is type(s0)
    for a, b in zip(s0, s1, strict=True):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
        assert a.shape == b.shape and a.dtype == b.dtype
    if net.binary:  # a binary net's updates only produce the values its states take
        draws = [net.init_state(rng=np.random.default_rng(k)) for k in range(5)]
        for i, f in enumerate(s1):
            allowed = set(np.unique(np.concatenate([d[i] for d in draws])).tolist())
            assert len(allowed) == 2 and set(np.unique(f).tolist()) <= allowed
    # a trajectory holds the state fields stacked over records
    tr = _run(case, case.schedules[0], rng=3)
    for name, ref in zip(net.State._fields, s0):
        assert tr.states[name].shape == (len(tr.t),) + ref.shape
        assert tr.states[name].dtype == ref.dtype


@pytest.mark.parametrize("kind,case", CASES, ids=CASE_IDS)
def test_step_is_pure(kind, case):
    net = case.net
    params_before = copy.deepcopy(tuple(net.params))
    rng = np.random.default_rng(5)
    x = None if case.inputs is None else case.inputs[0]
    for units in (None, np.arange(net.n_units)[::2], np.array([net.n_units - 1])):
        for T in case.temperatures:
            s = net.init_state(rng=rng)
            before = copy.deepcopy(tuple(s))
            n_upd = net.n_units if units is None else len(units)
            u = rng.random(n_upd) if net.uses_noise(T) else None
            out = net.step(s, x, units=units, u=u, T=T)
            for a, b in zip(s, before, strict=True):
                np.testing.assert_array_equal(a, b)
            for a, b in zip(out, s, strict=True):
                assert not np.shares_memory(a, b), "step must return new arrays"
            per_unit = all(np.shape(f) == (net.n_units,) for f in s)
            if units is not None and per_unit:  # units outside the group keep their values
                keep = np.setdiff1d(np.arange(net.n_units), units)
                for a, b in zip(out, s, strict=True):
                    np.testing.assert_array_equal(a[keep], b[keep])
    for a, b in zip(net.params, params_before, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind,case", CASES, ids=CASE_IDS)
def test_simulate_does_not_touch_the_initial_state_or_params(kind, case):
    s0 = case.net.init_state(rng=np.random.default_rng(11))
    before = copy.deepcopy(tuple(s0))
    params_before = copy.deepcopy(tuple(case.net.params))
    for fast in (True, False):
        sim.simulate(case.net, s0, ticks=case.ticks, inputs=case.inputs, schedule=case.schedules[-1],
                     blocks=case.blocks or None, temperature=max(case.temperatures), rng=1, fast=fast)
        for a, b in zip(s0, before, strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(case.net.params, params_before, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind,case", CASES, ids=CASE_IDS)
def test_same_seed_same_trajectory(kind, case, same_trajectory):
    for schedule, T in itertools.product(case.schedules, case.temperatures):
        for fast in (True, False):
            a = _run(case, schedule, temperature=T, rng=123, fast=fast)
            b = _run(case, schedule, temperature=T, rng=123, fast=fast)
            same_trajectory(a, b, exact=True)
            assert a.seed == b.seed == {"entropy": 123, "spawn_key": []}


@pytest.mark.parametrize("kind,case", [c for c in CASES if c[0] == "hopfield"],
                         ids=[i for i in CASE_IDS if i.startswith("hopfield:")])
def test_seed_matters_for_random_runs(kind, case):
    """The seed is really used: different seeds give different noisy trajectories."""
    a = _run(case, "random", temperature=0.7, rng=1, stop=False)
    b = _run(case, "random", temperature=0.7, rng=2, stop=False)
    assert not np.array_equal(a.states["s"], b.states["s"])


def _probes(net) -> tuple[str, ...]:
    """Every probe ``net`` supports (overlaps need patterns and are left out)."""
    method = {"energy": "energy", "field_norm": "field"}
    return ("state",) + tuple(p for p in method if _has(net, method[p]))


def _grid(case: Case):
    for schedule, T, micro, every, stop in itertools.product(
            case.schedules, case.temperatures, (False, True), (1, 3), (True, False)):
        yield schedule, T, Record(every=every, micro=micro, probes=_probes(case.net)), stop


@pytest.mark.parametrize("kind,case", CASES, ids=CASE_IDS)
def test_fast_equals_reference(kind, case, same_trajectory):
    net = case.net
    assert net.has_rollout, f"{kind} has no numba fast path"
    n = 0
    for schedule, T, record, stop in _grid(case):
        seed = 1000 + n
        start = net.init_state(rng=np.random.default_rng(seed))
        fast = sim.simulate(net, start, ticks=case.ticks, inputs=case.inputs, schedule=schedule,
                            blocks=case.blocks if schedule == "blocks" else None, temperature=T,
                            record=record, rng=seed, stop=stop, fast=True)
        ref = sim.simulate(net, start, ticks=case.ticks, inputs=case.inputs, schedule=schedule,
                           blocks=case.blocks if schedule == "blocks" else None, temperature=T,
                           record=record, rng=seed, stop=stop, fast=False)
        try:
            same_trajectory(fast, ref, exact=net.binary, atol=1e-12)
        except AssertionError as e:
            raise AssertionError(f"{schedule=} {T=} {record=} {stop=}: {e}") from e
        # the records are where the docstring of sim.record says they are
        G = sim.make_plan(schedule, net, blocks=case.blocks or None).n_groups
        assert fast.update[0] == 0 and fast.update[-1] == fast.ticks * G
        inner = fast.update[1:-1]
        if record.micro:
            assert np.all(inner % record.every == 0)
        else:
            assert np.all(inner % (record.every * G) == 0)
        assert np.all(np.diff(fast.update) > 0)
        n += 1
    assert n > 0


def test_fast_equals_reference_annealed(same_trajectory):
    """A temperature schedule that reaches 0 mid-run (the stop rules switch on mid-chunk)."""
    rng = np.random.default_rng(4)
    patterns = np.where(rng.random((4, 40)) < 0.5, 1, -1)
    net = nets.Hopfield.from_patterns(patterns)
    for schedule in ("random", "sequential", "random-site"):
        for spec in ([[1.2, 5], [0.6, 6], [0.0, 1]], {"kind": "linear", "T0": 1.0, "T1": 0.0}):
            a = sim.simulate(net, patterns[0], ticks=60, schedule=schedule, temperature=spec,
                             record=Record(micro=True, every=7), rng=9, fast=True)
            b = sim.simulate(net, patterns[0], ticks=60, schedule=schedule, temperature=spec,
                             record=Record(micro=True, every=7), rng=9, fast=False)
            same_trajectory(a, b, exact=True)


@pytest.mark.parametrize("kind,case", CASES, ids=CASE_IDS)
def test_probes_do_not_change_the_dynamics(kind, case, same_trajectory):
    """Asking for more probes or a different record spacing never changes the run."""
    schedule = "random" if "random" in case.schedules else case.schedules[0]
    T = max(case.temperatures)
    base = _run(case, schedule, temperature=T, rng=77, stop=False, record=Record(probes=("state",)))
    more = _run(case, schedule, temperature=T, rng=77, stop=False, record=Record(probes=_probes(case.net)))
    sparse = _run(case, schedule, temperature=T, rng=77, stop=False,
                  record=Record(every=4, probes=("state",)))
    for a, b in zip(base.final, more.final, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(base.final, sparse.final, strict=True):
        np.testing.assert_array_equal(a, b)
    for name in base.states:
        np.testing.assert_array_equal(base.states[name], more.states[name])
        np.testing.assert_array_equal(base.states[name][::4], sparse.states[name][:len(base.states[name][::4])])


def _has(net, method: str) -> bool:
    return getattr(type(net), method) is not getattr(sim.Net, method)
