"""Exact attractor maps (sim.attractors, nets.hopfield_states, the attractor_map protocol).

Oracles: successor tables and basins worked out by hand (3-unit antiferromagnet, 4-unit
copy ring); theory (one stored pattern is a ferromagnet in gauge: fixed points +-xi,
basins 2^(N-1), C(N, N/2)/2 synchronous 2-cycles; two stored patterns are always fixed
points; the number of on units of the copy ring is a martingale, so absorption in
"all on" has probability popcount(x)/N; symmetric W has synchronous cycles of length 1
and 2 only); the reference ``Hopfield.step`` on every state; an independent dense numpy
solve of the lazy chain; Monte-Carlo runs of ``sim.simulate`` with random-site updates.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import nets
import sim
from nets.hopfield import HopfieldState
from nets.hopfield_states import decode, encode, state_space
from sim import attractors as am
from sim.protocols.attractors import analyse


def _tables_by_step(net):
    """sync (n,) and async (n, N) successor tables from Hopfield.step, state by state."""
    N = net.n_units
    off = -1 if net.units == "spin" else 0
    n = 1 << N
    sync = np.empty(n, dtype=np.int64)
    asy = np.empty((n, N), dtype=np.int64)
    for x in range(n):
        st = HopfieldState(decode(x, N, off=off))
        sync[x] = encode(net.step(st).s)
        for i in range(N):
            asy[x, i] = encode(net.step(st, units=np.array([i])).s)
    return sync, asy


# --- hand-worked maps ------------------------------------------------------------------
def test_three_unit_antiferromagnet_by_hand():
    # W_ij = -1 (i != j), spins: f_i = -(sum of the other two). "---" and "+++" flip every
    # unit (f = +-2); any state with one or two units on has f in {0, +-2} agreeing with s
    net = nets.Hopfield(-(np.ones((3, 3)) - np.eye(3)))
    sync, asy = state_space(net)
    np.testing.assert_array_equal(sync, [7, 1, 2, 3, 4, 5, 6, 0])
    np.testing.assert_array_equal(asy, [[1, 2, 4], [1, 1, 1], [2, 2, 2], [3, 3, 3],
                                        [4, 4, 4], [5, 5, 5], [6, 6, 6], [6, 5, 3]])
    smap = am.sync_map(sync)
    np.testing.assert_array_equal(smap.rep, [0, 1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(smap.length, [2, 1, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(smap.basin, [2, 1, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(smap.cycle(0), [0, 7])
    amap = am.async_map(asy, absorb=True)
    assert [a.tolist() for a in amap.attractors] == [[1], [2], [3], [4], [5], [6]]
    # from 000 each of 001, 010, 100 with probability 1/3; from 111 each of 110, 101, 011
    expect = np.zeros((8, 6))
    expect[0, [0, 1, 3]] = 1 / 3
    expect[7, [2, 4, 5]] = 1 / 3
    for a, x in enumerate([1, 2, 3, 4, 5, 6]):
        expect[x, a] = 1.0
    np.testing.assert_allclose(amap.absorb, expect, rtol=0, atol=1e-15)
    np.testing.assert_allclose(amap.basin, np.full(6, 4 / 3), rtol=1e-15)
    np.testing.assert_array_equal(amap.reach_size, [2] * 6)
    np.testing.assert_array_equal(amap.strict_basin, [1] * 6)
    np.testing.assert_array_equal(amap.n_reachable, [3, 1, 1, 1, 1, 1, 1, 3])


def _copy_ring():
    """4 binary units on a directed ring, unit i copies unit i-1: W[i, i-1] = 1, theta = 1/2."""
    W = np.zeros((4, 4))
    for i in range(4):
        W[i, (i - 1) % 4] = 1.0
    return nets.Hopfield(W, np.full(4, 0.5), units="binary")


def test_four_unit_copy_ring_by_hand():
    sync, asy = state_space(_copy_ring())
    # synchronous: every unit copies its predecessor at once, a rotation of the bits
    np.testing.assert_array_equal(sync, [0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15])
    np.testing.assert_array_equal(asy, [
        [0, 0, 0, 0], [0, 3, 1, 1], [2, 0, 6, 2], [2, 3, 7, 3],
        [4, 4, 0, 12], [4, 7, 1, 13], [6, 4, 6, 14], [6, 7, 7, 15],
        [9, 8, 8, 0], [9, 11, 9, 1], [11, 8, 14, 2], [11, 11, 15, 3],
        [13, 12, 8, 12], [13, 15, 9, 13], [15, 12, 14, 14], [15, 15, 15, 15]])
    smap = am.sync_map(sync)
    np.testing.assert_array_equal(smap.rep, [0, 1, 3, 5, 7, 15])
    np.testing.assert_array_equal(smap.length, [1, 4, 4, 2, 4, 1])   # asymmetric W: period 4
    np.testing.assert_array_equal(smap.basin, [1, 4, 4, 2, 4, 1])
    np.testing.assert_array_equal(smap.cycle(1), [1, 2, 4, 8])
    amap = am.async_map(asy, absorb=True)
    assert [a.tolist() for a in amap.attractors] == [[0], [15]]
    # voter model: the number of on units is a martingale, P(all on) = popcount(x) / 4
    pop = np.array([bin(x).count("1") for x in range(16)])
    np.testing.assert_allclose(amap.absorb[:, 1], pop / 4, rtol=0, atol=1e-14)
    np.testing.assert_allclose(amap.absorb[:, 0], 1 - pop / 4, rtol=0, atol=1e-14)
    np.testing.assert_allclose(amap.basin, [8.0, 8.0], rtol=1e-14)
    np.testing.assert_array_equal(amap.reach_size, [15, 15])
    np.testing.assert_array_equal(amap.strict_basin, [1, 1])


# --- the tables against the reference step ----------------------------------------------
def _random_nets():
    rng = np.random.default_rng(3)
    for N in (3, 5, 7):
        A = rng.normal(size=(N, N))
        W = np.triu(A, 1) + np.triu(A, 1).T
        Wa = A - np.diag(np.diag(A))
        yield f"sym-spin-theta-{N}", nets.Hopfield(W, rng.normal(size=N) * 0.3)
        yield f"asym-binary-theta-{N}", nets.Hopfield(Wa, rng.normal(size=N) * 0.3, units="binary")
        yield f"asym-spin-{N}", nets.Hopfield(Wa)
        P = np.where(rng.random((2, N)) < 0.5, 1, -1)
        yield f"hebb2-spin-{N}", nets.Hopfield.from_patterns(P)                       # many ties f = 0
        yield f"hebb2-binary-{N}", nets.Hopfield.from_patterns((P + 1) // 2, units="binary")
        yield f"hebb3-int16-{N}", nets.Hopfield.from_patterns(np.where(rng.random((3, N)) < 0.5, 1, -1),
                                                             weights="int16")
        # small integers with thresholds on the ties: f = 0 exactly for many states
        Wi = rng.integers(-2, 3, size=(N, N)).astype(np.float64)
        np.fill_diagonal(Wi, 0)
        yield f"int-asym-binary-ties-{N}", nets.Hopfield(Wi, rng.integers(-1, 2, size=N), units="binary")
    # non-integer W whose fields are within rounding of zero (0.1 + 0.2 - 0.3 != 0 in floats)
    W = np.array([[0, 0.1, 0.2, -0.3], [0.3, 0, -0.1, -0.2], [0.7, -0.1, 0, -0.6], [0.1, 0.2, 0.3, 0]])
    yield "near-ties", nets.Hopfield(W, units="binary")
    yield "near-ties-theta", nets.Hopfield(W, np.array([0.3, 0.1, 0.0, 0.6]), units="binary", scale=0.1)


RANDOM_NETS = list(_random_nets())


@pytest.mark.parametrize("name,net", RANDOM_NETS, ids=[n for n, _ in RANDOM_NETS])
def test_tables_equal_hopfield_step_on_every_state(name, net):
    sync, asy = state_space(net)
    ref_sync, ref_asy = _tables_by_step(net)
    np.testing.assert_array_equal(sync, ref_sync)
    np.testing.assert_array_equal(asy, ref_asy)


def test_near_tie_states_go_through_the_reference_step(monkeypatch):
    # with a huge tolerance every state of a float net is recomputed by Hopfield.step
    import nets.hopfield_states as hs

    monkeypatch.setattr(hs, "_TIE_TOL", 1e300)
    for name, net in RANDOM_NETS:
        if name.startswith(("sym-spin", "asym", "near")):
            sync, asy = state_space(net)
            ref_sync, ref_asy = _tables_by_step(net)
            np.testing.assert_array_equal(sync, ref_sync)
            np.testing.assert_array_equal(asy, ref_asy)


@pytest.mark.parametrize("name,net", RANDOM_NETS[:8], ids=[n for n, _ in RANDOM_NETS[:8]])
def test_sync_fixed_points_are_exactly_the_fixed_states(name, net):
    sync, _ = state_space(net)
    smap = am.sync_map(sync)
    off = -1 if net.units == "spin" else 0
    fixed = {x for x in range(1 << net.n_units) if net.is_fixed_point(HopfieldState(decode(x, net.n_units, off=off)))}
    assert set(smap.rep[smap.length == 1].tolist()) == fixed


def test_encode_decode_roundtrip():
    x = np.arange(1 << 6)
    for off in (-1, 0):
        s = decode(x, 6, off=off)
        assert s.shape == (64, 6) and set(np.unique(s)) == {off, 1}
        np.testing.assert_array_equal(encode(s), x)
    assert decode(5, 3, off=-1).tolist() == [1, -1, 1]


# --- maps of general successor tables ---------------------------------------------------
def _orbit(F, x):
    seen, t = {}, 0
    while x not in seen:
        seen[x], x, t = t, int(F[x]), t + 1
    cyc = [x]
    while int(F[cyc[-1]]) != x:
        cyc.append(int(F[cyc[-1]]))
    return cyc


def test_sync_map_of_random_functions_matches_orbit_following():
    rng = np.random.default_rng(11)
    for n in (1, 2, 8, 64, 256):
        F = rng.integers(0, n, size=n)
        if n == 256:
            F = rng.permutation(n)           # a permutation: every state on a cycle
        smap = am.sync_map(F)
        for x in range(n):
            cyc = _orbit(F, x)
            a = smap.label[x]
            assert smap.rep[a] == min(cyc) and smap.length[a] == len(cyc)
            assert sorted(smap.cycle(a).tolist()) == sorted(cyc)
        assert smap.basin.sum() == n


def _dense_absorption(nxt):
    """Absorption probabilities of the lazy random-site chain by a dense numpy solve.

    Independent of sim.attractors: closed classes from the transitive closure (Floyd-Warshall
    on booleans), then (I - Q) B = R with the self-loop probabilities kept.
    """
    n, N = nxt.shape
    P = np.zeros((n, n))
    for x in range(n):
        for i in range(N):
            P[x, nxt[x, i]] += 1.0 / N
    reach = (P > 0) | np.eye(n, dtype=bool)
    for k in range(n):
        reach |= reach[:, [k]] & reach[[k], :]
    closed = np.array([np.all(reach[x] <= reach[:, x]) for x in range(n)])   # x reaches only states reaching x
    classes = []
    for x in np.flatnonzero(closed):
        if not any(x in c for c in classes):
            classes.append(sorted(np.flatnonzero(reach[x] & reach[:, x]).tolist()))
    classes.sort()
    T = np.flatnonzero(~closed)
    B = np.zeros((n, len(classes)))
    for a, c in enumerate(classes):
        B[c, a] = 1.0
    if len(T):
        R = np.stack([P[np.ix_(T, c)].sum(axis=1) for c in classes], axis=1)
        B[T] = np.linalg.solve(np.eye(len(T)) - P[np.ix_(T, T)], R)
    support = np.stack([reach[:, c[0]] for c in classes], axis=1)     # (n, A): x reaches class a
    return classes, B, support


@pytest.mark.parametrize("seed", range(6))
def test_async_map_matches_a_dense_solve_and_basins_sum_to_the_state_count(seed):
    rng = np.random.default_rng(seed)
    N = 6
    A = rng.normal(size=(N, N))
    if seed % 2:
        W = A - np.diag(np.diag(A))                      # asymmetric: cyclic attractors possible
    else:
        W = np.triu(A, 1) + np.triu(A, 1).T
    net = nets.Hopfield(W, rng.normal(size=N) * 0.2, units="spin" if seed < 3 else "binary")
    _, asy = state_space(net)
    amap = am.async_map(asy, absorb=True)
    classes, B, support = _dense_absorption(asy)
    assert [a.tolist() for a in amap.attractors] == classes
    np.testing.assert_allclose(amap.absorb, B, rtol=0, atol=1e-10)
    n = 1 << N
    assert abs(amap.basin.sum() - n) <= 1e-9 * n
    np.testing.assert_allclose(amap.absorb.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # the adjoint solve (no absorption matrix) gives the same basins
    np.testing.assert_allclose(am.async_map(asy, absorb=False).basin, amap.absorb.sum(axis=0), rtol=1e-12)
    # reachability from the transitive closure
    assert np.all(B[~support] < 1e-12) and np.all(B[support] > 0)
    np.testing.assert_array_equal(amap.reach_size, support.sum(axis=0))
    np.testing.assert_array_equal(amap.n_reachable, support.sum(axis=1))
    np.testing.assert_array_equal(amap.strict_basin, (support & (support.sum(axis=1) == 1)[:, None]).sum(axis=0))
    if seed % 2 == 0:
        assert amap.acyclic and amap.is_fixed.all()     # symmetric W: only fixed points


def test_asymmetric_net_with_a_cyclic_attractor():
    # unit 1 copies unit 0, unit 0 copies NOT unit 1: single-unit moves circulate forever
    # through 00 -> 01 -> 11 -> 10 -> 00 (codes 0 -> 1 -> 3 -> 2 -> 0)
    net = nets.Hopfield(np.array([[0.0, -1.0], [1.0, 0.0]]), units="spin")
    _, asy = state_space(net)
    amap = am.async_map(asy, absorb=True)
    assert [a.tolist() for a in amap.attractors] == [[0, 1, 2, 3]]
    assert not amap.is_fixed[0]
    np.testing.assert_allclose(amap.basin, [4.0])
    cls, _ = am.classify(amap.attractors, np.array([0]), 2)
    assert am.CLASSES[cls[0]] == "cycle"


@pytest.mark.parametrize("N", [8, 9, 10])
def test_goles_symmetric_weights_only_have_cycles_of_length_one_or_two(N):
    rng = np.random.default_rng(N)
    lengths = set()
    for k in range(4):
        A = rng.normal(size=(N, N))
        W = np.triu(A, 1) + np.triu(A, 1).T
        net = nets.Hopfield(W, rng.normal(size=N) * 0.5, units="spin" if k % 2 else "binary")
        lengths |= set(am.sync_map(state_space(net)[0]).length.tolist())
    assert lengths <= {1, 2} and 2 in lengths


# --- theory for Hebbian nets --------------------------------------------------------------
@pytest.mark.parametrize("N", [9, 10])
def test_one_pattern_is_a_ferromagnet_in_gauge(N):
    rng = np.random.default_rng(N)
    xi = np.where(rng.random(N) < 0.5, 1, -1)
    net = nets.Hopfield.from_patterns(xi[None, :])
    res = analyse(net, xi[None, :], absorb=True)
    amap, smap, n = res["async"], res["sync"], 1 << N
    code = int(encode(xi))
    full = n - 1
    assert [a.tolist() for a in amap.attractors] == sorted([[code], [code ^ full]])
    # M = sum_i xi_i s_i: M > 0 flows to xi with certainty, M = 0 (N even) with probability 1/2
    M = N - 2 * np.bitwise_count(np.arange(n) ^ code).astype(int)
    a_xi = [a[0] for a in amap.attractors].index(code)
    expect = np.where(M > 0, 1.0, np.where(M < 0, 0.0, 0.5))
    np.testing.assert_allclose(amap.absorb[:, a_xi], expect, rtol=0, atol=1e-13)
    np.testing.assert_allclose(amap.basin, [n / 2, n / 2], rtol=1e-13)
    # synchronous: states with M = 0 swap with their reverse (a 2-cycle); all others reach +-xi
    n_two = math.comb(N, N // 2) // 2 if N % 2 == 0 else 0
    assert int(np.count_nonzero(smap.length == 2)) == n_two
    m = res["metrics"]
    assert m["n_fixed_points"] == 2 and m["n_spurious"] == 0 and m["stored_stable"] == 1.0
    assert m["basin_stored"] == pytest.approx(1.0, abs=1e-12)
    assert m["strict_stored"] == pytest.approx(1 - 2 * n_two / n, abs=1e-15)


def test_two_hebbian_patterns_are_always_fixed_points():
    # gauge field of unit i in xi^1: (N - 2 + c_i q) / N >= 0 with q = xi^1.xi^2, c_i = xi^1_i xi^2_i
    rng = np.random.default_rng(7)
    for N in (4, 5, 8, 11):
        xi = np.where(rng.random(N) < 0.5, 1, -1)
        one_off = xi.copy()
        one_off[0] *= -1
        pairs = [np.stack([xi, xi]), np.stack([xi, -xi]), np.stack([xi, one_off]), np.stack([xi, -one_off])]
        pairs += [np.where(rng.random((2, N)) < 0.5, 1, -1) for _ in range(6)]
        for P in pairs:
            sync, _ = state_space(nets.Hopfield.from_patterns(P))
            codes = encode(P)
            np.testing.assert_array_equal(sync[codes], codes)


def test_two_hebbian_patterns_make_two_decoupled_ferromagnets():
    # gauge field 2 (S_c - sigma_i)/N: the fixed points are exactly +-xi^1, +-xi^2 and every
    # state ends in one of them under random-site dynamics
    rng = np.random.default_rng(8)
    for N in (5, 6, 9, 10):
        xi = np.where(rng.random(N) < 0.5, 1, -1)
        one_off = xi.copy()
        one_off[1] *= -1
        for P in [np.stack([xi, xi]), np.stack([xi, one_off])] + \
                 [np.where(rng.random((2, N)) < 0.5, 1, -1) for _ in range(4)]:
            res = analyse(nets.Hopfield.from_patterns(P), P)
            full = (1 << N) - 1
            codes = encode(P)
            expect = sorted(set(codes.tolist()) | set((codes ^ full).tolist()))
            assert [int(a[0]) for a in res["async"].attractors] == expect
            assert res["metrics"]["n_spurious"] == 0
            assert res["metrics"]["basin_stored"] == pytest.approx(1.0, abs=1e-12)


def test_classify_stored_reversed_mixture_spurious():
    rng = np.random.default_rng(5)
    N = 11
    X = np.where(rng.random((3, N)) < 0.5, 1, -1)
    codes = encode(X)
    full = (1 << N) - 1
    mix = int(encode(np.sign(X[0] - X[1] + X[2])))           # signed 3-mixture, computed in spins
    others = set(codes.tolist()) | set((codes ^ full).tolist()) | {mix}
    spur = next(x for x in range(1 << N) if x not in others and (x ^ full) not in others
                and x not in {int(encode(np.sign(e0 * X[0] + e1 * X[1] + e2 * X[2])))
                              for e0 in (1, -1) for e1 in (1, -1) for e2 in (1, -1)})
    atts = [np.array([codes[1]]), np.array([codes[2] ^ full]), np.array([mix]), np.array([spur])]
    cls, m = am.classify(atts, codes, N)
    assert [am.CLASSES[c] for c in cls] == ["stored", "reversed", "mixture", "spurious"]
    assert m[0, 1] == 1.0 and m[1, 2] == -1.0
    np.testing.assert_allclose(m[2], X @ np.sign(X[0] - X[1] + X[2]) / N)


# --- Monte Carlo with the simulation loop -------------------------------------------------
def test_absorption_probabilities_agree_with_random_site_simulations():
    rng = np.random.default_rng(2)
    N = 7
    P = np.where(rng.random((3, N)) < 0.5, 1, -1)
    net = nets.Hopfield.from_patterns(P)
    _, asy = state_space(net)
    amap = am.async_map(asy, absorb=True)
    reps = {int(a[0]): j for j, a in enumerate(amap.attractors)}
    starts = np.flatnonzero(amap.n_reachable >= 2)
    assert len(starts) >= 3
    runs = 300
    for x in starts[np.argsort(-amap.absorb[starts].max(axis=1))][-3:]:   # the most uncertain starts
        counts = np.zeros(amap.n_attractors)
        s0 = decode(int(x), N, off=-1)
        for r in range(runs):
            tr = sim.simulate(net, s0, ticks=200, schedule="random-site", rng=sim.child(sim.seed_sequence(9), int(x), r),
                              record=sim.Record(every=200, probes=()))
            assert tr.status == "converged"
            counts[reps[int(encode(tr.final.s))]] += 1
        p = amap.absorb[x]
        se = np.sqrt(p * (1 - p) / runs)
        assert np.all(np.abs(counts / runs - p) <= 4 * se + 1.0 / runs), (x, counts / runs, p)


# --- networkx views --------------------------------------------------------------------
def test_networkx_graphs_have_the_right_nodes_and_edges():
    rng = np.random.default_rng(4)
    N = 5
    net = nets.Hopfield.from_patterns(np.where(rng.random((2, N)) < 0.5, 1, -1))
    sync, asy = state_space(net)
    n = 1 << N
    moves = asy != np.arange(n)[:, None]
    g = am.transition_graph(asy)
    assert g.number_of_nodes() == n and g.number_of_edges() == int(moves.sum())
    assert all(g.edges[x, int(asy[x, i])]["unit"] == i for x, i in zip(*np.nonzero(moves)))
    g2 = am.transition_graph(asy, self_loops=True)
    assert g2.number_of_edges() == int(moves.sum()) + int(np.count_nonzero(moves.sum(axis=1) < N))
    for x in range(n):   # random-site probabilities out of every state sum to 1
        assert sum(d["p"] for _, _, d in g2.out_edges(x, data=True)) == pytest.approx(1.0)
    f = am.functional_graph(sync)
    assert f.number_of_nodes() == n and f.number_of_edges() == n


def test_bad_tables_are_rejected():
    with pytest.raises(ValueError):
        am.sync_map(np.array([0, 1, 2]))              # not 2^N states
    with pytest.raises(ValueError):
        am.async_map(np.array([[0], [2]]))            # code out of range
    with pytest.raises(ValueError):
        state_space(nets.Hopfield(np.zeros((21, 21))))


# --- protocol checks and figures ----------------------------------------------------------
_SCENARIO = """
[meta]
title = "t"
reference = "r"
protocol = "attractor_map"
[net]
kind = "hopfield"
n_units = {N}
[train]
rule = "hebb"
[data]
task = "random_patterns"
n_memories = 3
[run]
schedule = "{schedule}"
trials = 2
[expect]
"basin_total" = {{ min = 0.999999999, max = 1.000000001 }}
[[plot]]
kind = "basins"
[[plot]]
kind = "transition_graph"
n_units = 5
[[plot]]
kind = "energy_hist"
[[plot]]
kind = "basin_classes"
"""


@pytest.mark.parametrize("N,schedule,key", [(21, "random-site", "net.n_units"), (8, "random", "run.schedule")])
def test_protocol_rejects_what_it_cannot_map(tmp_path, N, schedule, key):
    from sim.scenario import load_scenario

    path = tmp_path / "bad.toml"
    path.write_text(_SCENARIO.format(N=N, schedule=schedule))
    with pytest.raises(sim.ScenarioError) as err:
        load_scenario(path)
    assert err.value.key == key


def test_protocol_run_and_its_figures(tmp_path):
    from matplotlib.figure import Figure

    from sim.scenario import load_scenario
    from sim.sweep import run_scenario

    path = tmp_path / "ok.toml"
    path.write_text(_SCENARIO.format(N=8, schedule="random-site"))
    res = run_scenario(load_scenario(path), progress=False)
    assert res.passed
    m = res.metrics
    assert m["n_fixed_points"] >= 2 and 0 <= m["basin_stored"] <= 1 and m["max_cycle_length"] <= 2
    stems = [s for s, _ in res.figures]
    assert stems == ["basins", "transition_graph", "energy_hist", "basin_classes"]
    for stem, fig in res.figures:
        assert isinstance(fig, Figure)
        ax = fig.axes[0]
        assert ax.get_ylabel(), stem
    basins = dict(res.figures)["basins"].axes[0]
    assert len(basins.patches) >= 2 * len(res.demo["basin"])      # a bar and a strict-basin bar each
    assert basins.get_ylabel() == "fraction of the state space"
    graph = dict(res.figures)["transition_graph"].axes[0]
    assert graph.get_ylabel() == "energy E"
