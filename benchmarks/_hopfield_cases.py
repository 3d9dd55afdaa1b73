r"""The per-size cases of :mod:`benchmarks.hopfield`: peers, problem set-up, compile time, timing.

For each N one Hebbian net ``W = Xi^T Xi`` (zero diagonal, ``P = round(0.05 N)`` random
+-1 patterns, ``scale = 1/N``, spin units; Hopfield 1982, Eq. 2) is built three times
from the same patterns, with W stored as float64 (the default), int32 and int16
(``Hopfield.from_patterns(..., weights=...)``: exact integers, rnnlab's own storage
choice). The numpy loop and BLAS peers use the float64 W, as a user would. Before
anything is timed, every rnnlab storage, ``sim.simulate`` and both numpy loops must reach
identical final states (after one sweep, and at the recall fixed point after the same
number of sweeps); the benchmark stops with an error otherwise. See
:mod:`benchmarks.hopfield` for what each row measures.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import numba
import numpy as np

import nets._kernels.hopfield as _kernels
from nets import Hopfield
from sim import Record, make_plan, simulate
from sim.jit import kernel
from sim.rng import generator, seed_sequence

from ._harness import ROOT, CpuMeter, time_block, time_rounds

LOAD = 0.05         # stored patterns per unit
NOISE = 0.20        # fraction of a pattern's units flipped in the recall cue
MAX_SWEEPS = 50     # recall gives up after this many sweeps (never reached at this load)
DTYPES = ("float64", "int32", "int16")   # rnnlab's weight storages
INT_DTYPES = DTYPES[1:]


# --- the peers ------------------------------------------------------------------------
def numpy_loop_matmul(W: np.ndarray, s: np.ndarray, orders: list[list[int]], until_fixed: bool) -> int:
    """Asynchronous sweeps one unit at a time in numpy (``f = W[i] @ s``), in place on float64 ``s``.

    Returns the number of sweeps run: all of ``orders``, or up to and including the
    first sweep that flips nothing when ``until_fixed``.
    """
    for k, order in enumerate(orders):
        flips = 0
        for i in order:
            f = W[i] @ s
            if f > 0.0:
                if s[i] < 0.0:
                    s[i] = 1.0
                    flips += 1
            elif f < 0.0:
                if s[i] > 0.0:
                    s[i] = -1.0
                    flips += 1
        if until_fixed and flips == 0:
            return k + 1
    return len(orders)


def numpy_loop_dot(W: np.ndarray, s: np.ndarray, orders: list[list[int]], until_fixed: bool) -> int:
    """The same loop spelled ``f = W[i].dot(s)``: about half the call overhead of ``@`` in numpy 2."""
    for k, order in enumerate(orders):
        flips = 0
        for i in order:
            f = W[i].dot(s)
            if f > 0.0:
                if s[i] < 0.0:
                    s[i] = 1.0
                    flips += 1
            elif f < 0.0:
                if s[i] > 0.0:
                    s[i] = -1.0
                    flips += 1
        if until_fixed and flips == 0:
            return k + 1
    return len(orders)


NUMPY_LOOPS = {"numpy_matmul": numpy_loop_matmul, "numpy_dot": numpy_loop_dot}


def blas_sync(W: np.ndarray, s: np.ndarray) -> np.ndarray:
    """One synchronous (Little) update ``sign(W s)``, a tie keeping the state."""
    f = W @ s
    return np.where(f > 0.0, 1.0, np.where(f < 0.0, -1.0, s))


@kernel
def column_pass(W, acc):
    """acc[j] = sum_i W[i, j], four rows per pass over acc: one vectorized read of W (any dtype)."""
    n, m = W.shape
    for j in range(m):
        acc[j] = 0.0
    i = 0
    while i + 4 <= n:
        r0, r1, r2, r3 = W[i], W[i + 1], W[i + 2], W[i + 3]
        for j in range(m):
            acc[j] += (r0[j] + r1[j]) + (r2[j] + r3[j])
        i += 4
    while i < n:
        r0 = W[i]
        for j in range(m):
            acc[j] += r0[j]
        i += 1


def byte_pass(W: np.ndarray):
    """A call reading every byte of ``W`` once: :func:`column_pass` over W viewed as uint64 words.

    Integer adds of the raw words (wrapping, meaningless sums) run at memory speed whatever
    W's dtype, where a pass in W's own dtype would pay for widening int16/int32 to float.
    Falls back to W's own dtype when a row is not a whole number of 8-byte words.
    """
    if W.flags.c_contiguous and (W.shape[1] * W.itemsize) % 8 == 0:
        V = W.view(np.uint64)
        acc = np.empty(V.shape[1], dtype=np.uint64)
    else:
        V, acc = W, np.empty(W.shape[1])
    return lambda: column_pass(V, acc)


# --- problem set-up -------------------------------------------------------------------
def random_spins(rng: np.random.Generator, shape) -> np.ndarray:
    """+-1 int8 entries, each +1 with probability 1/2 (no float temporary of the full shape)."""
    return (2 * rng.integers(0, 2, size=shape, dtype=np.int8) - 1).astype(np.int8, copy=False)


def hebbian_patterns(N: int, rng: np.random.Generator) -> np.ndarray:
    P = max(1, round(LOAD * N))
    return np.where(rng.random((P, N)) < 0.5, 1, -1).astype(np.int8)


def hebbian_net(N: int, rng: np.random.Generator, weights: str = "float64") -> tuple[Hopfield, np.ndarray]:
    patterns = hebbian_patterns(N, rng)
    return Hopfield.from_patterns(patterns, units="spin", weights=weights), patterns


def drive_for(net: Hopfield, orders: np.ndarray) -> dict:
    """The drive simulate() hands to ``rollout`` for zero-temperature random sweeps."""
    return {"order": orders, "ptr": make_plan("random", net).ptr, "u": None,
            "T": np.zeros(len(orders)), "x": None}


def plan_orders(net: Hopfield, seed: int, n: int) -> np.ndarray:
    """The first ``n`` permutations ``simulate(..., schedule="random", rng=seed)`` draws."""
    return make_plan("random", net).draw(n, generator(seed_sequence(seed), "plan"))


# --- compile time ---------------------------------------------------------------------
_COLD_SNIPPET = r"""
import json
from benchmarks._hopfield_cases import first_call
print(json.dumps(first_call()))
"""


def _dispatchers():
    return {name: obj for name, obj in vars(_kernels).items() if isinstance(obj, numba.core.dispatcher.Dispatcher)}


def _cache_counts() -> dict:
    return {name: (sum(d.stats.cache_hits.values()), sum(d.stats.cache_misses.values()))
            for name, d in _dispatchers().items()}


def first_call(weights: str = "float64") -> dict:
    """Time the first and a warm fast-path call on a small net with ``weights`` storage.

    Also reports numba's cache hits and misses caused by that first call.
    """
    net, _ = hebbian_net(64, np.random.default_rng(0), weights)
    s0 = net.State(random_spins(np.random.default_rng(1), 64))
    drive = drive_for(net, plan_orders(net, 0, 2))
    before = _cache_counts()
    t0 = time.perf_counter()
    net.rollout(s0, drive, micro_every=0, phase=0, stop_fixed=True)
    first = time.perf_counter() - t0
    after = _cache_counts()
    warm = time_block(lambda: net.rollout(s0, drive, micro_every=0, phase=0, stop_fixed=True),
                      reps=5, min_time=0.01)["median_s"]
    stats = {k: {"hits": after[k][0] - before.get(k, (0, 0))[0], "misses": after[k][1] - before.get(k, (0, 0))[1]}
             for k in after if after[k] != before.get(k, (0, 0))}
    return {"weights": weights, "first_call_s": first, "warm_call_s": warm, "cache": stats,
            "cache_dir": next(iter(_dispatchers().values())).stats.cache_path}


def cold_compile() -> dict:
    """First float64 fast-path call in a fresh process with an empty numba cache directory."""
    with tempfile.TemporaryDirectory(prefix="rnnlab-numba-cold-") as tmp:
        env = {**os.environ, "NUMBA_CACHE_DIR": tmp}
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _COLD_SNIPPET], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False, timeout=600)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = wall
    return out


# --- one size -------------------------------------------------------------------------
def _key(weights: str) -> str:
    return "rnnlab" if weights == "float64" else f"rnnlab_{weights}"


def bench_size(N: int, *, seed: int, rounds: int, reps: int, min_time: float) -> dict:
    """Set up both experiments for one N, check that every code path agrees, then time them."""
    rng = np.random.default_rng([seed, N])
    patterns = hebbian_patterns(N, rng)
    nets = {w: Hopfield.from_patterns(patterns, units="spin", weights=w) for w in DTYPES}
    net = nets["float64"]
    W = net.params.W
    n2 = float(N) * N
    rec = Record(probes=("state",))

    # one asynchronous sweep from a random state (the permutation simulate() would draw)
    sweep_seed = seed + 1
    s0 = net.State(np.where(rng.random(N) < 0.5, 1, -1).astype(np.int8))
    orders = plan_orders(net, sweep_seed, 1)
    drive = drive_for(net, orders)
    ticks = {w: nets[w].rollout(s0, drive, micro_every=0, phase=0, stop_fixed=False)[0] for w in DTYPES}
    traj = simulate(net, s0, ticks=1, schedule="random", record=rec, rng=sweep_seed, stop=False)
    order_list = orders.tolist()
    s_f = s0.s.astype(np.float64)
    for name, loop in NUMPY_LOOPS.items():
        s_np = s_f.copy()
        loop(W, s_np, order_list, False)
        if not (np.array_equal(ticks["float64"][0].s, s_np) and np.array_equal(traj.final.s, s_np)):
            raise RuntimeError(f"N={N}: rnnlab, simulate and {name} disagree after one sweep")
    for w in INT_DTYPES:
        t_w = simulate(nets[w], s0, ticks=1, schedule="random", record=rec, rng=sweep_seed, stop=False)
        if not (np.array_equal(ticks[w][0].s, ticks["float64"][0].s) and np.array_equal(t_w.final.s, traj.final.s)):
            raise RuntimeError(f"N={N}: {w} weights give another state after one sweep than float64")

    # recall from a 20%-corrupted stored pattern, to the fixed point
    recall_seed = seed + 2
    cue = patterns[0].copy()
    flip = rng.choice(N, size=round(NOISE * N), replace=False)
    cue[flip] = -cue[flip]
    cue_state = net.State(cue)
    r_orders = plan_orders(net, recall_seed, MAX_SWEEPS)
    r_drive = drive_for(net, r_orders)
    r_ticks, _, _, sweeps, _ = net.rollout(cue_state, r_drive, micro_every=0, phase=0, stop_fixed=True)
    final = r_ticks[sweeps - 1].s
    traj = simulate(net, cue_state, ticks=MAX_SWEEPS, schedule="random", record=rec, rng=recall_seed)
    c_f = cue.astype(np.float64)
    for name, loop in NUMPY_LOOPS.items():
        s_np = c_f.copy()
        sweeps_np = loop(W, s_np, r_orders.tolist(), True)
        if not (sweeps == sweeps_np == traj.ticks and traj.status == "converged"
                and np.array_equal(final, s_np) and np.array_equal(traj.final.s, final)):
            raise RuntimeError(f"N={N}: recall disagrees (sweeps rnnlab {sweeps}, {name} {sweeps_np}, "
                               f"simulate {traj.ticks} {traj.status})")
    for w in INT_DTYPES:
        rt_w, _, _, sw_w, _ = nets[w].rollout(cue_state, r_drive, micro_every=0, phase=0, stop_fixed=True)
        t_w = simulate(nets[w], cue_state, ticks=MAX_SWEEPS, schedule="random", record=rec, rng=recall_seed)
        if not (sw_w == sweeps == t_w.ticks and t_w.status == "converged" and np.array_equal(rt_w[sw_w - 1].s, final)
                and np.array_equal(t_w.final.s, final)):
            raise RuntimeError(f"N={N}: recall with {w} weights disagrees with float64 "
                               f"(sweeps {sw_w} / {t_w.ticks} vs {sweeps})")
    r_list = r_orders[:sweeps].tolist()

    x = np.ones(N)
    acc = np.empty(N)
    impls = {
        # memory floor: passes that read all of W once
        "floor/numpy_sum": lambda: W.sum(),
        "floor/blas_gemv": lambda: W @ x,
        "floor/numba_pass": lambda: column_pass(W, acc),
        **{f"floor_{w}/numba_pass": byte_pass(nets[w].params.W) for w in INT_DTYPES},
        # one sweep
        **{f"sweep/{_key(w)}": (lambda n_=nets[w]: n_.rollout(s0, drive, micro_every=0, phase=0, stop_fixed=False))
           for w in DTYPES},
        "sweep/simulate": lambda: simulate(net, s0, ticks=1, schedule="random", record=rec,
                                           rng=sweep_seed, stop=False),
        **{f"sweep/{name}": (lambda loop=loop: loop(W, s_f.copy(), order_list, False))
           for name, loop in NUMPY_LOOPS.items()},
        "sweep/blas_sync": lambda: blas_sync(W, s_f),
        # recall
        **{f"recall/{_key(w)}": (lambda n_=nets[w]: n_.rollout(cue_state, r_drive, micro_every=0, phase=0,
                                                                stop_fixed=True))
           for w in DTYPES},
        "recall/simulate": lambda: simulate(net, cue_state, ticks=MAX_SWEEPS, schedule="random",
                                            record=rec, rng=recall_seed),
        **{f"recall/{name}": (lambda loop=loop: loop(W, c_f.copy(), r_list, True))
           for name, loop in NUMPY_LOOPS.items()},
    }
    with CpuMeter() as cpu:
        t = time_rounds(impls, rounds=rounds, reps=reps, min_time=min_time)
    part = lambda what: {k.split("/", 1)[1]: v for k, v in t.items() if k.startswith(what + "/")}  # noqa: E731

    floor = part("floor")
    best = min(floor, key=lambda k: floor[k]["median_s"])
    fl = floor[best]["median_s"] / n2 * 1e9
    int_floor = {w: part(f"floor_{w}")["numba_pass"]["median_s"] / n2 * 1e9 for w in INT_DTYPES}
    own_floor = {"float64": fl, **int_floor}
    sweep, recall = part("sweep"), part("recall")
    sw = {k: v["median_s"] / n2 * 1e9 for k, v in sweep.items()}
    rc = {k: v["median_s"] / (sweeps * n2) * 1e9 for k, v in recall.items()}
    sw_peer = min(NUMPY_LOOPS, key=lambda k: sw[k])
    rc_peer = min(NUMPY_LOOPS, key=lambda k: rc[k])
    storage = {w: {"sweep_ns": sw[_key(w)], "recall_ns": rc[_key(w)],
                   "sweep_speedup": sw[sw_peer] / sw[_key(w)], "recall_speedup": rc[rc_peer] / rc[_key(w)],
                   "sweep_over_floor": sw[_key(w)] / fl, "recall_over_floor": rc[_key(w)] / fl,
                   "own_floor_ns": own_floor[w], "sweep_over_own_floor": sw[_key(w)] / own_floor[w],
                   "W_bytes": int(nets[w].params.W.nbytes)}
               for w in DTYPES}
    return {
        "N": N, "P": int(len(patterns)), "cpu": cpu.result,
        "floor": {"method": best, "GB_per_s": 8 / fl, "ns_per_synapse": fl,
                  "ns_per_synapse_by_method": {k: v["median_s"] / n2 * 1e9 for k, v in floor.items()},
                  "int_ns_per_synapse": int_floor},
        "sweep": {"flips": int(np.sum(ticks["float64"][0].s != s0.s)), "ns_per_synapse": sw, "numpy_peer": sw_peer},
        "recall": {"sweeps": int(sweeps), "flips": int(np.sum(final != cue)),
                   "overlap": float(final.astype(np.float64) @ patterns[0] / N),
                   "ns_per_synapse_sweep": rc, "numpy_peer": rc_peer},
        "storage": storage,
        "ratios": {
            # against the faster numpy spelling: the peer a careful user would write
            "sweep_speedup": sw[sw_peer] / sw["rnnlab"],
            "recall_speedup": rc[rc_peer] / rc["rnnlab"],
            "sweep_speedup_vs_matmul_loop": sw["numpy_matmul"] / sw["rnnlab"],
            "recall_speedup_vs_matmul_loop": rc["numpy_matmul"] / rc["rnnlab"],
            # the speedup of code reading W once per sweep (sweep) or once in all (recall) at the floor
            "sweep_speedup_at_floor": sw[sw_peer] / fl,
            "recall_speedup_at_floor": rc[rc_peer] * sweeps / fl,
            "sweep_over_floor": sw["rnnlab"] / fl,
            "recall_over_floor": rc["rnnlab"] / fl,
            "sweep_blas_over_floor": sw["blas_sync"] / fl,
            "sweep_simulate_over_rnnlab": sw["simulate"] / sw["rnnlab"],
            "recall_simulate_over_rnnlab": rc["simulate"] / rc["rnnlab"],
            **{f"{k}_{w}": storage[w][k] for w in INT_DTYPES
               for k in ("sweep_speedup", "recall_speedup", "sweep_over_floor")},
        },
        "timings": t,
    }
