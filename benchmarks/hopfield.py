r"""Hopfield sweeps: rnnlab's numba fast path against a numpy loop, BLAS and the memory floor.

Run ``python -m benchmarks.hopfield [--quick] [--sizes 256,1024,4096] [--threads 1]``; it
prints tables and writes ``benchmarks/results/hopfield.json``. Not part of the test suite.

Everything below is measured in one process run, for each N (PERFORMANCE.md targets):

weights   Hebbian couplings ``W = Xi^T Xi`` (zero diagonal) of ``P = round(0.05 N)`` random
          +-1 patterns: exact integers stored as float64, ``scale = 1/N``, ``theta = 0``,
          spin units (Hopfield 1982, Eq. 2). The same W serves both experiments.
sweep     one asynchronous sweep from a random state, the units in a random permutation
          drawn from the seeded ``plan`` stream exactly as :func:`sim.simulate` draws it:

          * rnnlab:   :meth:`nets.Hopfield.rollout`, the numba fast path simulate() calls
            (local fields ``h = W s`` built once per call, then O(N) per flip, so a sweep
            from a random state reads about (1 + flips/N) N^2 weights), without
            simulate's Python loop;
          * simulate: ``sim.simulate(net, s0, ticks=1, schedule="random")``, states only
            recorded (for information: plan draws, stop rules, records);
          * numpy:    ``for i in order: f = W[i] @ s; s[i] = +1 if f > 0, -1 if f < 0``
            (a tie keeps the state), the loop a user would write, s as float64; also
            spelled ``W[i].dot(s)``, which has half the call overhead in numpy 2;
          * BLAS:     one synchronous update ``s = sign(W @ s)`` (ties keep), for scale.

          ns per synapse = time of one sweep / N^2.
recall    a stored pattern with 20% of its units flipped, random schedule, run to the fixed
          point (the last sweep flips nothing and proves it): time / (sweeps * N^2), for
          rnnlab (``rollout(stop_fixed=True)``), simulate (information) and the numpy loop.
floor     the fastest of three passes that read all of W once (numpy ``W.sum()``, BLAS
          ``W @ x`` and a numba pass adding four rows at a time into one accumulator row);
          bandwidth = 8 N^2 bytes / time, and the
          floor per synapse = 8 bytes / bandwidth. W stays wherever the sweeps find it (L2
          at N=256, L3 at N=1024, RAM at N=4096 on a 32 MB-L3 machine).
compile   the first fast-path call of this process (a numba cache load, or a compile; the
          dispatcher's cache statistics say which) against a warm call, and, unless
          ``--no-cold``, the first call in a fresh subprocess whose ``NUMBA_CACHE_DIR`` is an
          empty temporary directory (a true cold compile; the repo's cache is not touched).
targets   PERFORMANCE.md, for N >= 1024: a sweep >= 8x the numpy loop and within 2x of the
          floor; recall >= 20x the numpy loop. Next to each speedup the table shows the
          speedup "at floor" of code that reads W exactly once per sweep (or once in all,
          for recall) at the measured floor: no implementation keeping W as float64 can
          beat it on the machine at hand, which tells a missed target that is out of reach
          from one that is not.

Method: each implementation is timed in blocks (a warm-up call, then ``--reps`` samples,
each the mean of as many back-to-back calls as fill ``--min-time`` seconds), never in
alternating single calls; ``--rounds`` rounds run one block of every implementation each,
so load bursts on a shared machine hit all of them alike. The figure is the median of all
samples; ratios compare figures from this one run. Thread counts are pinned before numpy
is imported (``--threads``, default 1, for OMP/OpenBLAS/MKL/numba) and printed. The numpy
peer is the faster of two spellings of the loop (``W[i] @ s`` and ``W[i].dot(s)``).
rnnlab, simulate and both numpy loops must reach the same final state after the same
number of sweeps (they consume the same permutations); the benchmark stops with an error
if they do not.
"""
from __future__ import annotations

import os
import sys

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def _threads_from_argv(argv: list[str]) -> int:
    """``--threads`` read before argparse runs: it must be set before numpy is imported."""
    value = "1"
    for k, a in enumerate(argv):
        if a == "--threads" and k + 1 < len(argv):
            value = argv[k + 1]
        elif a.startswith("--threads="):
            value = a.split("=", 1)[1]
    try:
        return max(1, int(value))
    except ValueError:  # argparse reports it
        return 1


if __name__ == "__main__":
    _n = str(_threads_from_argv(sys.argv[1:]))
    for _var in _THREAD_VARS:
        os.environ[_var] = _n

import argparse  # noqa: E402
import ctypes  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

import nets._kernels.hopfield as _kernels  # noqa: E402
from nets import Hopfield  # noqa: E402
from sim import Record, make_plan, simulate  # noqa: E402
from sim.jit import kernel  # noqa: E402
from sim.rng import generator, seed_sequence  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "hopfield.json"
LOAD = 0.05         # stored patterns per unit
NOISE = 0.20        # fraction of a pattern's units flipped in the recall cue
MAX_SWEEPS = 50     # recall gives up after this many sweeps (never reached at this load)

# (label, ratio key, sizes it applies to, target, sense): PERFORMANCE.md, "N >= 1024"
TARGETS = (
    ("sweep: rnnlab vs numpy loop", "sweep_speedup", 1024, 8.0, ">="),
    ("recall 20% cue: rnnlab vs numpy loop", "recall_speedup", 1024, 20.0, ">="),
    ("sweep: rnnlab / bandwidth floor", "sweep_over_floor", 1024, 2.0, "<="),
)


# --- timing ---------------------------------------------------------------------------
def time_block(fn, *, reps: int, min_time: float) -> dict:
    """``reps`` samples of the seconds per call of ``fn``, after one warm-up call.

    A sample is the mean over as many back-to-back calls as fill ``min_time`` seconds.
    """
    fn()
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    inner = max(1, math.ceil(min_time / max(once, 1e-9)))
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return {"median_s": statistics.median(samples), "samples_s": samples, "calls_per_sample": inner}


def time_rounds(impls: dict, *, rounds: int, reps: int, min_time: float) -> dict:
    """Time every implementation in blocks of ``reps`` samples, ``rounds`` times over.

    Each round runs one block per implementation (never alternating single calls), so a
    burst of load on a shared machine hits every implementation alike rather than the one
    that happened to run then. The figure is the median of all samples of an implementation.
    """
    samples: dict = {k: [] for k in impls}
    calls: dict = {}
    for _ in range(rounds):
        for k, fn in impls.items():
            r = time_block(fn, reps=reps, min_time=min_time)
            samples[k].extend(r["samples_s"])
            calls[k] = r["calls_per_sample"]
    return {k: {"median_s": statistics.median(v), "samples_s": v, "calls_per_sample": calls[k]}
            for k, v in samples.items()}


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
def _column_pass(W, acc):
    """acc[j] = sum_i W[i, j], four rows per pass over acc: one vectorized read of W."""
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


# --- the machine ----------------------------------------------------------------------
def blas_threads() -> int | None:
    """OpenBLAS's own thread count, read from the loaded library (None if not found)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    for lib in sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps))):
        try:
            handle = ctypes.CDLL(lib)
        except OSError:
            continue
        for sym in ("openblas_get_num_threads", "openblas_get_num_threads64_",
                    "scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads"):
            fn = getattr(handle, sym, None)
            if fn is not None:
                fn.restype = ctypes.c_int
                return int(fn())
    return None


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=False, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        rev = None
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "git_rev": rev,
            "threads_env": {v: os.environ.get(v) for v in _THREAD_VARS},
            "numba_threads": numba.config.NUMBA_NUM_THREADS, "blas_threads": blas_threads()}


# --- problem set-up -------------------------------------------------------------------
def hebbian_net(N: int, rng: np.random.Generator) -> tuple[Hopfield, np.ndarray]:
    P = max(1, round(LOAD * N))
    patterns = np.where(rng.random((P, N)) < 0.5, 1, -1).astype(np.int8)
    return Hopfield.from_patterns(patterns, units="spin"), patterns


def drive_for(net: Hopfield, orders: np.ndarray) -> dict:
    """The drive simulate() hands to ``rollout`` for zero-temperature random sweeps."""
    return {"order": orders, "ptr": make_plan("random", net).ptr, "u": None,
            "T": np.zeros(len(orders)), "x": None}


def plan_orders(net: Hopfield, seed: int, n: int) -> np.ndarray:
    """The first ``n`` permutations ``simulate(..., schedule="random", rng=seed)`` draws."""
    return make_plan("random", net).draw(n, generator(seed_sequence(seed), "plan"))


# --- compile time ---------------------------------------------------------------------
_COLD_SNIPPET = r"""
import json, time
import numpy as np
from benchmarks.hopfield import first_call
print(json.dumps(first_call()))
"""


def _dispatchers():
    return {name: obj for name, obj in vars(_kernels).items() if isinstance(obj, numba.core.dispatcher.Dispatcher)}


def first_call() -> dict:
    """Time the first and a warm fast-path call on a small net; report numba's cache stats."""
    net, _ = hebbian_net(64, np.random.default_rng(0))
    s0 = net.State(np.where(np.random.default_rng(1).random(64) < 0.5, 1, -1).astype(np.int8))
    drive = drive_for(net, plan_orders(net, 0, 2))
    t0 = time.perf_counter()
    net.rollout(s0, drive, micro_every=0, phase=0, stop_fixed=True)
    first = time.perf_counter() - t0
    warm = time_block(lambda: net.rollout(s0, drive, micro_every=0, phase=0, stop_fixed=True),
                      reps=5, min_time=0.01)["median_s"]
    stats = {name: {"hits": sum(d.stats.cache_hits.values()), "misses": sum(d.stats.cache_misses.values())}
             for name, d in _dispatchers().items() if d.signatures}  # (helpers live inside the kernels)
    return {"first_call_s": first, "warm_call_s": warm, "cache": stats,
            "cache_dir": next(iter(_dispatchers().values())).stats.cache_path}


def cold_compile() -> dict:
    """First fast-path call in a fresh process with an empty numba cache directory."""
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
def bench_size(N: int, *, seed: int, rounds: int, reps: int, min_time: float) -> dict:
    """Set up both experiments for one N, check that every code path agrees, then time them."""
    rng = np.random.default_rng([seed, N])
    net, patterns = hebbian_net(N, rng)
    W = net.params.W
    n2 = float(N) * N
    rec = Record(probes=("state",))

    # one asynchronous sweep from a random state (the permutation simulate() would draw)
    sweep_seed = seed + 1
    s0 = net.State(np.where(rng.random(N) < 0.5, 1, -1).astype(np.int8))
    orders = plan_orders(net, sweep_seed, 1)
    drive = drive_for(net, orders)
    ticks, *_ = net.rollout(s0, drive, micro_every=0, phase=0, stop_fixed=False)
    traj = simulate(net, s0, ticks=1, schedule="random", record=rec, rng=sweep_seed, stop=False)
    order_list = orders.tolist()
    s_f = s0.s.astype(np.float64)
    for name, loop in NUMPY_LOOPS.items():
        s_np = s_f.copy()
        loop(W, s_np, order_list, False)
        if not (np.array_equal(ticks[0].s, s_np) and np.array_equal(traj.final.s, ticks[0].s)):
            raise RuntimeError(f"N={N}: rnnlab, simulate and {name} disagree after one sweep")

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
    r_list = r_orders[:sweeps].tolist()

    x = np.ones(N)
    acc = np.empty(N)
    impls = {
        # memory floor: passes that read all of W once
        "floor/numpy_sum": lambda: W.sum(),
        "floor/blas_gemv": lambda: W @ x,
        "floor/numba_pass": lambda: _column_pass(W, acc),
        # (a)-(c) one sweep
        "sweep/rnnlab": lambda: net.rollout(s0, drive, micro_every=0, phase=0, stop_fixed=False),
        "sweep/simulate": lambda: simulate(net, s0, ticks=1, schedule="random", record=rec,
                                           rng=sweep_seed, stop=False),
        **{f"sweep/{name}": (lambda loop=loop: loop(W, s_f.copy(), order_list, False))
           for name, loop in NUMPY_LOOPS.items()},
        "sweep/blas_sync": lambda: blas_sync(W, s_f),
        # (d) recall
        "recall/rnnlab": lambda: net.rollout(cue_state, r_drive, micro_every=0, phase=0, stop_fixed=True),
        "recall/simulate": lambda: simulate(net, cue_state, ticks=MAX_SWEEPS, schedule="random",
                                            record=rec, rng=recall_seed),
        **{f"recall/{name}": (lambda loop=loop: loop(W, c_f.copy(), r_list, True))
           for name, loop in NUMPY_LOOPS.items()},
    }
    t = time_rounds(impls, rounds=rounds, reps=reps, min_time=min_time)
    part = lambda what: {k.split("/", 1)[1]: v for k, v in t.items() if k.startswith(what + "/")}  # noqa: E731

    floor = part("floor")
    best = min(floor, key=lambda k: floor[k]["median_s"])
    fl = floor[best]["median_s"] / n2 * 1e9
    sweep, recall = part("sweep"), part("recall")
    sw = {k: v["median_s"] / n2 * 1e9 for k, v in sweep.items()}
    rc = {k: v["median_s"] / (sweeps * n2) * 1e9 for k, v in recall.items()}
    sw_peer = min(NUMPY_LOOPS, key=lambda k: sw[k])
    rc_peer = min(NUMPY_LOOPS, key=lambda k: rc[k])
    return {
        "N": N, "P": int(len(patterns)),
        "floor": {"method": best, "GB_per_s": 8 / fl, "ns_per_synapse": fl,
                  "ns_per_synapse_by_method": {k: v["median_s"] / n2 * 1e9 for k, v in floor.items()}},
        "sweep": {"flips": int(np.sum(ticks[0].s != s0.s)), "ns_per_synapse": sw, "numpy_peer": sw_peer},
        "recall": {"sweeps": int(sweeps), "flips": int(np.sum(final != cue)),
                   "overlap": float(final.astype(np.float64) @ patterns[0] / N),
                   "ns_per_synapse_sweep": rc, "numpy_peer": rc_peer},
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
        },
        "timings": t,
    }


# --- report ---------------------------------------------------------------------------
def _table(header: list[str], rows: list[list[str]]) -> str:
    w = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    line = lambda r: "  ".join(v.rjust(w[c]) if c else v.ljust(w[c]) for c, v in enumerate(r))  # noqa: E731
    return "\n".join([line(header), line(["-" * k for k in w]), *map(line, rows)])


def targets(results: list[dict]) -> list[dict]:
    rows = []
    for label, key, n_min, target, sense in TARGETS:
        for r in results:
            if r["N"] < n_min:
                continue
            v = r["ratios"][key]
            ok = v >= target if sense == ">=" else v <= target
            ceiling = r["ratios"].get(key + "_at_floor")
            rows.append({"target": label, "N": r["N"], "measured": v, "goal": f"{sense} {target:g}x",
                         "at_floor": ceiling, "pass": bool(ok)})
    return rows


def report(meta: dict, compile_: dict, results: list[dict], goals: list[dict]) -> str:
    f3 = lambda v: f"{v:.3f}"  # noqa: E731
    mc = meta["machine"]
    lines = [
        f"rnnlab Hopfield benchmark - {mc['cpu']}, {mc['cores']} cores, python {mc['python']}, "
        f"numpy {mc['numpy']}, numba {mc['numba']}, git {mc['git_rev']}",
        "threads: " + ", ".join(f"{k}={v}" for k, v in mc["threads_env"].items())
        + f"; numba uses {mc['numba_threads']}, OpenBLAS reports {mc['blas_threads']}",
        f"medians of {meta['rounds']} x {meta['reps']} samples (>= {meta['min_time']} s each): {meta['rounds']} "
        f"round(s) of one warmed-up block per implementation;",
        "shared machines drift 20-30% between runs: compare the ratios (same run), not absolute times",
        f"Hebbian W (P = {LOAD:g} N random +-1 patterns, integers in float64), random schedule, spin units",
        "",
        "one asynchronous sweep from a random state, ns per synapse (time / N^2)",
        _table(["N", "P", "flips", "rnnlab", "simulate", "np W[i]@s", "np .dot", "BLAS sync", "floor", "GB/s",
                "speedup", "/floor"],
               [[str(r["N"]), str(r["P"]), str(r["sweep"]["flips"])]
                + [f3(r["sweep"]["ns_per_synapse"][k]) for k in
                   ("rnnlab", "simulate", "numpy_matmul", "numpy_dot", "blas_sync")]
                + [f3(r["floor"]["ns_per_synapse"]), f"{r['floor']['GB_per_s']:.0f}",
                   f"{r['ratios']['sweep_speedup']:.1f}x", f"{r['ratios']['sweep_over_floor']:.2f}x"]
                for r in results]),
        "  speedup = faster numpy loop / rnnlab; /floor = rnnlab / floor; floor = fastest single read of W ("
        + ", ".join(f"N={r['N']}: {r['floor']['method']}" for r in results) + ")",
        "",
        f"recall from a {NOISE:.0%}-corrupted stored pattern to the fixed point, ns per synapse per sweep",
        _table(["N", "sweeps", "flips", "overlap", "rnnlab", "simulate", "np W[i]@s", "np .dot", "speedup",
                "/floor"],
               [[str(r["N"]), str(r["recall"]["sweeps"]), str(r["recall"]["flips"]), f"{r['recall']['overlap']:.3f}"]
                + [f3(r["recall"]["ns_per_synapse_sweep"][k]) for k in
                   ("rnnlab", "simulate", "numpy_matmul", "numpy_dot")]
                + [f"{r['ratios']['recall_speedup']:.1f}x", f"{r['ratios']['recall_over_floor']:.2f}x"]
                for r in results]),
        "",
        "targets (PERFORMANCE.md, N >= 1024; ratios from this run). 'at floor' is the speedup of code that",
        "reads W exactly once per sweep (sweep) or once in total (recall) at the measured floor: the most",
        "any implementation storing W as float64 can reach on this machine",
        _table(["target", "N", "measured", "goal", "at floor", "result"],
               [[g["target"], str(g["N"]), f"{g['measured']:.2f}x", g["goal"],
                 "-" if g["at_floor"] is None else f"{g['at_floor']:.1f}x", "PASS" if g["pass"] else "MISS"]
                for g in goals]) if goals else "  (no size >= 1024 was run)",
        "",
        "numba compile (fast path on a 64-unit net)",
        f"  first call in this process {compile_['first_call']['first_call_s'] * 1e3:.1f} ms, warm call "
        f"{compile_['first_call']['warm_call_s'] * 1e6:.1f} us; cache "
        + ", ".join(f"{k}: {v['hits']} hit(s) {v['misses']} miss(es)" for k, v in compile_["first_call"]["cache"].items())
        + (" -> cache hit" if all(v["misses"] == 0 for v in compile_["first_call"]["cache"].values())
           else " -> compiled (cache miss)"),
    ]
    cold = compile_.get("cold")
    if cold is None:
        lines.append("  cold compile: skipped (--quick / --no-cold)")
    elif "error" in cold:
        lines.append(f"  cold compile: failed ({cold['error']})")
    else:
        lines.append(f"  cold compile (fresh process, empty NUMBA_CACHE_DIR): first call {cold['first_call_s']:.2f} s "
                     f"(process wall {cold['process_wall_s']:.2f} s incl. imports)")
    return "\n".join(lines)


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.hopfield", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=None, help="comma-separated N (default 256,1024,4096; --quick 256,1024)")
    ap.add_argument("--quick", action="store_true", help="fewer, shorter samples and no cold compile")
    ap.add_argument("--rounds", type=int, default=None, help="blocks per implementation (default 3; quick 1)")
    ap.add_argument("--reps", type=int, default=None, help="samples per block (default 5)")
    ap.add_argument("--min-time", type=float, default=None, help="seconds per sample (default 0.05; quick 0.02)")
    ap.add_argument("--threads", type=int, default=1, help="OMP/OpenBLAS/MKL/numba threads (default 1)")
    ap.add_argument("--seed", type=int, default=1982)
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-compile subprocess")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    sizes = [int(v) for v in (args.sizes or ("256,1024" if args.quick else "256,1024,4096")).split(",")]
    if any(n < 2 for n in sizes):
        ap.error("--sizes must be integers >= 2")
    rounds = args.rounds or (1 if args.quick else 3)
    reps = args.reps or 5
    min_time = args.min_time or (0.02 if args.quick else 0.05)
    if any(os.environ.get(v) != str(args.threads) for v in _THREAD_VARS):
        print(f"warning: thread variables were not set to {args.threads} before numpy was imported "
              "(run as python -m benchmarks.hopfield)", file=sys.stderr)

    t_start = time.perf_counter()
    compile_ = {"first_call": first_call()}    # before anything else calls the kernels
    compile_["cold"] = None if (args.quick or args.no_cold) else cold_compile()
    results = []
    for N in sizes:
        print(f"N = {N} ...", file=sys.stderr, flush=True)
        results.append(bench_size(N, seed=args.seed, rounds=rounds, reps=reps, min_time=min_time))
    goals = targets(results)
    meta = {"benchmark": "hopfield", "machine": machine(), "rounds": rounds, "reps": reps, "min_time": min_time,
            "seed": args.seed, "load": LOAD, "noise": NOISE, "sizes": sizes,
            "wall_s": time.perf_counter() - t_start}
    print(report(meta, compile_, results, goals))
    _write_json(args.out, {**meta, "compile": compile_, "results": results, "targets": goals})
    print(f"\nwrote {args.out} ({meta['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
