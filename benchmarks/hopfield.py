r"""Hopfield sweeps: rnnlab's numba fast path against a numpy loop, BLAS and the memory floor.

Run ``python -m benchmarks.hopfield [--quick] [--sizes 256,1024,4096] [--threads 1]
[--no-big | --big] [--no-trials] [--no-capacity]``; it prints tables and writes
``benchmarks/results/hopfield.json``. Not part of the test suite.

Everything below is measured in one process run (PERFORMANCE.md targets):

weights   Hebbian couplings ``W = Xi^T Xi`` (zero diagonal) of ``P = round(0.05 N)`` random
          +-1 patterns, ``scale = 1/N``, ``theta = 0``, spin units (Hopfield 1982, Eq. 2),
          built from the same patterns three times: W stored as float64 (the default),
          int32 and int16 (``from_patterns(..., weights=...)``, exact integers: rnnlab's
          own storage choice; the numpy and BLAS peers use the float64 W, as a user would).
sweep     one asynchronous sweep from a random state, the units in a random permutation
          drawn from the seeded ``plan`` stream exactly as :func:`sim.simulate` draws it:

          * rnnlab:   :meth:`nets.Hopfield.rollout`, the numba fast path simulate() calls
            (local fields ``h = W s`` built once per call, then O(N) per flip, so a sweep
            from a random state reads about (1 + flips/N) N^2 weights), without
            simulate's Python loop; one row per weight storage;
          * simulate: ``sim.simulate(net, s0, ticks=1, schedule="random")``, states only
            recorded (for information: plan draws, stop rules, records);
          * numpy:    ``for i in order: f = W[i] @ s; s[i] = +1 if f > 0, -1 if f < 0``
            (a tie keeps the state), the loop a user would write, s and W as float64; also
            spelled ``W[i].dot(s)``, which has half the call overhead in numpy 2;
          * BLAS:     one synchronous update ``s = sign(W @ s)`` (ties keep), for scale.

          ns per synapse = time of one sweep / N^2.
recall    a stored pattern with 20% of its units flipped, random schedule, run to the fixed
          point (the last sweep flips nothing and proves it): time / (sweeps * N^2), for
          rnnlab (``rollout(stop_fixed=True)``, each storage), simulate and the numpy loop.
floor     the float64 bandwidth floor: the fastest of three passes that read the float64 W
          once (numpy ``W.sum()``, BLAS ``W @ x`` and a numba pass adding four rows at a
          time into one accumulator row); bandwidth = 8 N^2 bytes / time, floor per
          synapse = 8 bytes / bandwidth. The "own floor" of an integer W is a numba pass
          reading its bytes once (as uint64 words). W stays wherever the sweeps find it
          (L2 at N=256, L3 at N=1024, RAM at N=4096 on a 32 MB-L3 machine).
check     before anything is timed, every storage, simulate and both numpy loops must
          reach the same final state after the same number of sweeps (they consume the
          same permutations); the benchmark stops with an error otherwise.
big       (``_hopfield_big``; default on, ``--no-big`` skips it, ~25-45 s) N = 20,000,
          int16 Hebbian W (800 MB), in a fresh subprocess: peak resident memory
          (ru_maxrss) against the < 1 GB target, build time, sweeps/s and ns per synapse
          of a sweep and of a 20%-cue recall, checked against the numpy loop on the same W.
trials    (:mod:`benchmarks.hopfield_trials`; ``--no-trials``) ``run_scenario`` with 2
          workers vs 1, with and without the pool's start-up, results asserted identical;
          and, if ``scenarios/ags_1987_capacity.toml`` exists, ``rnnlab run`` of it with
          ``--workers`` 1 and 2 (``--no-capacity`` skips it).
compile   the first fast-path call of this process per storage (a numba cache load, or a
          compile; the dispatcher's cache statistics say which) against a warm call, and,
          unless ``--no-cold``, the first float64 call in a fresh subprocess whose
          ``NUMBA_CACHE_DIR`` is an empty temporary directory (a true cold compile).
targets   PERFORMANCE.md, for N >= 1024: a sweep >= 8x the numpy loop and within 2x of the
          float64 floor; recall >= 20x the numpy loop; shown for float64 W (the default)
          and int16 W. Next to each float64 speedup the table shows the speedup "at floor"
          of code that reads W exactly once per sweep (or once in all, for recall) at the
          measured floor: no implementation keeping W as float64 can beat it.

Method: each implementation is timed in blocks (a warm-up call, then ``--reps`` samples,
each the mean of as many back-to-back calls as fill ``--min-time`` seconds), never in
alternating single calls; ``--rounds`` rounds run one block of every implementation each,
so load bursts on a shared machine hit all of them alike. The figure is the median of all
samples; ratios compare figures from this one run. Thread counts are pinned before numpy
is imported (``--threads``, default 1, for OMP/OpenBLAS/MKL/numba; inherited by
subprocesses and pool workers) and printed. Every result carries the 1-minute load average
before -> after it and the cores used meanwhile by other processes (/proc/stat minus this
process and its children): on a shared machine, compare ratios, not absolute times.
"""
from __future__ import annotations

import sys

if __name__ == "__main__":
    from benchmarks._threads import pin

    pin(sys.argv[1:])

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from benchmarks import _hopfield_big as big_case  # noqa: E402
from benchmarks import hopfield_trials  # noqa: E402
from benchmarks._harness import fmt_cpu, machine, machine_lines, table, write_json  # noqa: E402
from benchmarks._hopfield_cases import (DTYPES, LOAD, NOISE, bench_size, cold_compile,  # noqa: E402
                                        first_call)
from benchmarks._threads import pinned  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "hopfield.json"

# (label, ratio key, sizes it applies to, target, sense): PERFORMANCE.md, "N >= 1024"
TARGETS = (
    ("sweep: rnnlab vs numpy loop", "sweep_speedup", 1024, 8.0, ">="),
    ("recall 20% cue: rnnlab vs numpy loop", "recall_speedup", 1024, 20.0, ">="),
    ("sweep: rnnlab / float64 floor", "sweep_over_floor", 1024, 2.0, "<="),
    ("sweep, int16 W: vs numpy loop", "sweep_speedup_int16", 1024, 8.0, ">="),
    ("recall, int16 W: vs numpy loop", "recall_speedup_int16", 1024, 20.0, ">="),
    ("sweep, int16 W: / float64 floor", "sweep_over_floor_int16", 1024, 2.0, "<="),
)


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
                         "at_floor": ceiling, "pass": bool(ok), "cpu": r["cpu"]})
    return rows


# --- report ---------------------------------------------------------------------------
def _compile_lines(compile_: dict) -> list[str]:
    lines = ["numba compile (fast path on a 64-unit net), first call in this process per weight storage"]
    for c in compile_["first_call"]:
        hits = sum(v["hits"] for v in c["cache"].values())
        misses = sum(v["misses"] for v in c["cache"].values())
        how = "compiled (cache miss)" if misses else ("cache hit" if hits else "already loaded")
        lines.append(f"  {c['weights']:>7}: first call {c['first_call_s'] * 1e3:.1f} ms, warm call "
                     f"{c['warm_call_s'] * 1e6:.1f} us ({hits} cache hit(s), {misses} miss(es): {how})")
    cold = compile_.get("cold")
    if cold is None:
        lines.append("  cold compile: skipped (--quick / --no-cold)")
    elif "error" in cold:
        lines.append(f"  cold compile: failed ({cold['error']})")
    else:
        lines.append(f"  cold compile (fresh process, empty NUMBA_CACHE_DIR, float64): first call "
                     f"{cold['first_call_s']:.2f} s (process wall {cold['process_wall_s']:.2f} s incl. imports)")
    return lines


def report(meta: dict, compile_: dict, results: list[dict], goals: list[dict]) -> str:
    f3 = lambda v: f"{v:.3f}"  # noqa: E731
    mc = meta["machine"]
    lines = [
        "rnnlab Hopfield benchmark - " + machine_lines(mc)[0], machine_lines(mc)[1],
        f"medians of {meta['rounds']} x {meta['reps']} samples (>= {meta['min_time']} s each): {meta['rounds']} "
        f"round(s) of one warmed-up block per implementation;",
        "shared machines drift 20-30% between runs: compare the ratios (same run), not absolute times",
        f"Hebbian W (P = {LOAD:g} N random +-1 patterns, exact integers), random schedule, spin units",
        "",
        "one asynchronous sweep from a random state, ns per synapse (time / N^2); float64 W everywhere",
        table(["N", "P", "flips", "rnnlab", "simulate", "np W[i]@s", "np .dot", "BLAS sync", "floor", "GB/s",
               "speedup", "/floor", "machine"],
              [[str(r["N"]), str(r["P"]), str(r["sweep"]["flips"])]
               + [f3(r["sweep"]["ns_per_synapse"][k]) for k in
                  ("rnnlab", "simulate", "numpy_matmul", "numpy_dot", "blas_sync")]
               + [f3(r["floor"]["ns_per_synapse"]), f"{r['floor']['GB_per_s']:.0f}",
                  f"{r['ratios']['sweep_speedup']:.1f}x", f"{r['ratios']['sweep_over_floor']:.2f}x", fmt_cpu(r["cpu"])]
               for r in results]),
        "  speedup = faster numpy loop / rnnlab; /floor = rnnlab / floor; floor = fastest single read of W ("
        + ", ".join(f"N={r['N']}: {r['floor']['method']}" for r in results) + ")",
        "",
        f"recall from a {NOISE:.0%}-corrupted stored pattern to the fixed point, ns per synapse per sweep",
        table(["N", "sweeps", "flips", "overlap", "rnnlab", "simulate", "np W[i]@s", "np .dot", "speedup",
               "/floor"],
              [[str(r["N"]), str(r["recall"]["sweeps"]), str(r["recall"]["flips"]), f"{r['recall']['overlap']:.3f}"]
               + [f3(r["recall"]["ns_per_synapse_sweep"][k]) for k in
                  ("rnnlab", "simulate", "numpy_matmul", "numpy_dot")]
               + [f"{r['ratios']['recall_speedup']:.1f}x", f"{r['ratios']['recall_over_floor']:.2f}x"]
               for r in results]),
        "",
        "weight storage: rnnlab with W as float64 / int32 / int16 (exact Hebbian integers, rnnlab's own design",
        "choice); the numpy loop and the floor are float64, as a user would store W. Identical final states checked.",
        table(["N", "W", "W MB", "sweep ns", "vs numpy", "/f64 floor", "/own floor", "recall ns", "vs numpy",
               "/f64 floor", "machine"],
              [[str(r["N"]), w, f"{s['W_bytes'] / 1e6:.1f}", f3(s["sweep_ns"]), f"{s['sweep_speedup']:.1f}x",
                f"{s['sweep_over_floor']:.2f}x", f"{s['sweep_over_own_floor']:.2f}x", f3(s["recall_ns"]),
                f"{s['recall_speedup']:.1f}x", f"{s['recall_over_floor']:.2f}x",
                fmt_cpu(r["cpu"]) if w == DTYPES[0] else ""]
               for r in results for w, s in r["storage"].items()]),
        "  ns per synapse (recall: per sweep); vs numpy = faster float64 numpy loop / this row; own floor = one read "
        "of this W's bytes ("
        + ", ".join(f"N={r['N']}: int32 {r['floor']['int_ns_per_synapse']['int32']:.3f}, int16 "
                    f"{r['floor']['int_ns_per_synapse']['int16']:.3f} ns" for r in results) + ")",
        "",
        "targets (PERFORMANCE.md, N >= 1024; ratios from this run). 'at floor' is the speedup of code that",
        "reads W exactly once per sweep (sweep) or once in total (recall) at the measured float64 floor: the most",
        "any implementation storing W as float64 can reach on this machine",
        table(["target", "N", "measured", "goal", "at floor", "result", "machine"],
              [[g["target"], str(g["N"]), f"{g['measured']:.2f}x", g["goal"],
                "-" if g["at_floor"] is None else f"{g['at_floor']:.1f}x", "PASS" if g["pass"] else "MISS",
                fmt_cpu(g["cpu"])]
               for g in goals]) if goals else "  (no size >= 1024 was run)",
        "",
        *_compile_lines(compile_),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.hopfield", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=None, help="comma-separated N (default 256,1024,4096; --quick 256,1024)")
    ap.add_argument("--quick", action="store_true",
                    help="fewer, shorter samples; no cold compile, no big net (unless --big), quick trials, "
                         "no capacity scenario")
    ap.add_argument("--rounds", type=int, default=None, help="blocks per implementation (default 3; quick 1)")
    ap.add_argument("--reps", type=int, default=None, help="samples per block (default 5)")
    ap.add_argument("--min-time", type=float, default=None, help="seconds per sample (default 0.05; quick 0.02)")
    ap.add_argument("--threads", type=int, default=1, help="OMP/OpenBLAS/MKL/numba threads (default 1)")
    ap.add_argument("--seed", type=int, default=1982)
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-compile subprocess")
    big = ap.add_mutually_exclusive_group()
    big.add_argument("--big", dest="big", action="store_true", default=None,
                     help=f"run the N = {big_case.N_BIG:,} int16 case (default on, off with --quick)")
    big.add_argument("--no-big", dest="big", action="store_false", help="skip the N = 20,000 case")
    ap.add_argument("--no-trials", action="store_true", help="skip the 2-workers-vs-1 trials case")
    ap.add_argument("--no-capacity", action="store_true", help="skip timing rnnlab run on the capacity scenario")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    sizes = [int(v) for v in (args.sizes or ("256,1024" if args.quick else "256,1024,4096")).split(",")]
    if any(n < 2 for n in sizes):
        ap.error("--sizes must be integers >= 2")
    rounds = args.rounds or (1 if args.quick else 3)
    reps = args.reps or 5
    min_time = args.min_time or (0.02 if args.quick else 0.05)
    run_big = (not args.quick) if args.big is None else args.big
    if not pinned(args.threads):
        print(f"warning: thread variables were not set to {args.threads} before numpy was imported "
              "(run as python -m benchmarks.hopfield)", file=sys.stderr)

    t_start = time.perf_counter()
    compile_ = {"first_call": [first_call(w) for w in DTYPES]}    # before anything else calls the kernels
    compile_["cold"] = None if (args.quick or args.no_cold) else cold_compile()
    results = []
    for N in sizes:
        print(f"N = {N} ...", file=sys.stderr, flush=True)
        results.append(bench_size(N, seed=args.seed, rounds=rounds, reps=reps, min_time=min_time))
    goals = targets(results)
    big_res = None
    if run_big:
        print(f"N = {big_case.N_BIG} (int16, subprocess) ...", file=sys.stderr, flush=True)
        big_res = big_case.bench_big(seed=args.seed, reps=3 if args.quick else 5)
    trials = None
    if not args.no_trials:
        print("trials: 2 workers vs 1 ...", file=sys.stderr, flush=True)
        trials = hopfield_trials.run_all(quick=args.quick, reps=None, capacity=not (args.quick or args.no_capacity))
        if args.quick and not args.no_capacity:
            trials["capacity_skipped"] = "--quick"
    meta = {"benchmark": "hopfield", "machine": machine(), "rounds": rounds, "reps": reps, "min_time": min_time,
            "seed": args.seed, "load": LOAD, "noise": NOISE, "sizes": sizes,
            "wall_s": time.perf_counter() - t_start}
    print(report(meta, compile_, results, goals))
    print("\n" + "\n".join(big_case.report_lines(big_res)))
    if trials is not None:
        print("\n" + "\n".join(hopfield_trials.report_lines(trials)))
    write_json(args.out, {**meta, "compile": compile_, "results": results, "targets": goals, "big": big_res,
                          "trials": trials})
    print(f"\nwrote {args.out} ({meta['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
