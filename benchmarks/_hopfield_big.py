r"""The big case of :mod:`benchmarks.hopfield`: a Hebbian net of N = 20,000 units in int16.

PERFORMANCE.md: "a Hebbian Hopfield net of N = 20,000 units fits in < 1 GB (integer
weights are exact for Hebb: int16 holds sums of up to 32,767 patterns)". W alone is
2 N^2 bytes = 800 MB (763 MiB) in int16 (3.2 GB in float64).

Everything runs in a fresh subprocess (``python -m benchmarks._hopfield_big``), so the
peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is that of the
net and its run, plus the interpreter with numpy, scipy and numba imported (reported
separately as the baseline), not that of the benchmark's other cases. In that process:

1. ``P = round(0.05 N)`` random +-1 patterns (int8; no float temporary of their shape);
2. build: ``Hopfield.from_patterns(patterns, weights="int16")`` (``hebb_weights`` in row
   blocks, then the constructor's checks), timed once; of which the constructor's
   symmetry check (``nets.hopfield._is_symmetric``) is timed again on its own;
3. sweep: one asynchronous sweep from a random state (``rollout``, the fast path
   ``simulate`` calls; it builds the fields ``h = W s`` once, then O(N) per flip), a
   warm-up call then ``reps`` timed calls, median: sweeps/s and ns per synapse (time / N^2);
4. recall: a stored pattern with 20% of its units flipped, random schedule, to the
   fixed point: ns per synapse per sweep = time / (sweeps N^2), and sweeps/s;
5. floor: a numba pass reading the bytes of the int16 W once (``byte_pass``), median of ``reps``;
6. check: the sweep's and the recall's final states equal those of the numpy loop
   ``f = W[i] @ s`` run on the same int16 rows (exact: integer products in float64),
   which is timed once (one sweep) for information.

ru_maxrss is read after every phase (it is the peak so far), together with the current RSS
and VmHWM (the peak of this address space, from /proc/self/status). The process is started
through a bare interpreter, so that its ru_maxrss does not inherit the benchmark's peak
(see ``_LAUNCH``).
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

N_BIG = 20_000
LIMIT_BYTES = 10**9   # PERFORMANCE.md: "< 1 GB"


def _maxrss() -> int:
    """Peak resident set size of this process so far, in bytes."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(r if sys.platform == "darwin" else r * 1024)


def _status(field: str) -> int:
    """A ``kB`` field of /proc/self/status (VmRSS: current, VmHWM: peak of this address space) in bytes."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def child(N: int, seed: int, reps: int) -> dict:
    """Run the big case in this process and return its figures (see the module docstring)."""
    mem = {}
    inherited = _maxrss()   # before any import: what the process inherited at exec (see bench_big)

    def mark(phase: str) -> None:
        mem[phase] = {"peak_bytes": _maxrss(), "hwm_bytes": _status("VmHWM"), "rss_bytes": _status("VmRSS")}
        print(f"  [{phase}] peak {mem[phase]['peak_bytes'] / 1e6:.0f} MB", file=sys.stderr, flush=True)

    import statistics

    import numpy as np

    import nets.hopfield as hopfield_mod
    from nets import Hopfield

    from ._hopfield_cases import (LOAD, MAX_SWEEPS, NOISE, byte_pass, drive_for, numpy_loop_matmul,
                                  plan_orders, random_spins)
    mark("imports")

    rng = np.random.default_rng([seed, N])
    P = max(1, round(LOAD * N))
    patterns = random_spins(rng, (P, N))
    mark("patterns")

    t0 = time.perf_counter()
    net = Hopfield.from_patterns(patterns, units="spin", weights="int16")
    build_s = time.perf_counter() - t0
    mark("build")
    W = net.params.W
    t0 = time.perf_counter()
    hopfield_mod._is_symmetric(W)
    symmetry_s = time.perf_counter() - t0

    def timed(fn) -> list[float]:
        fn()  # warm-up (numba cache load on the first call)
        out = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
        return out

    n2 = float(N) * N
    s0 = net.State(random_spins(rng, N))
    drive = drive_for(net, plan_orders(net, seed + 1, 1))
    sweep_t = timed(lambda: net.rollout(s0, drive, micro_every=0, phase=0, stop_fixed=False))
    s1 = net.rollout(s0, drive, micro_every=0, phase=0, stop_fixed=False)[0][0].s
    mark("sweep")

    cue = patterns[0].copy()
    flip = rng.choice(N, size=round(NOISE * N), replace=False)
    cue[flip] = -cue[flip]
    cue_state = net.State(cue)
    r_orders = plan_orders(net, seed + 2, MAX_SWEEPS)
    r_drive = drive_for(net, r_orders)
    recall_t = timed(lambda: net.rollout(cue_state, r_drive, micro_every=0, phase=0, stop_fixed=True))
    r_ticks, _, _, sweeps, _ = net.rollout(cue_state, r_drive, micro_every=0, phase=0, stop_fixed=True)
    final = r_ticks[sweeps - 1].s
    mark("recall")

    floor_t = timed(byte_pass(W))
    mark("floor")

    # the numpy loop on the same int16 rows: exact, so the states must agree
    s_np = s0.s.astype(np.float64)
    t0 = time.perf_counter()
    numpy_loop_matmul(W, s_np, drive["order"].tolist(), False)
    numpy_sweep_s = time.perf_counter() - t0
    c_np = cue.astype(np.float64)
    sweeps_np = numpy_loop_matmul(W, c_np, r_orders.tolist(), True)
    agree = bool(np.array_equal(s1, s_np) and np.array_equal(final, c_np) and sweeps_np == sweeps)
    mark("check")

    sw, rc, fl = statistics.median(sweep_t), statistics.median(recall_t), statistics.median(floor_t)
    return {
        "N": N, "P": P, "weights": "int16", "W_bytes": int(W.nbytes), "reps": reps,
        "memory": mem, "peak_bytes": _maxrss(), "peak_hwm_bytes": _status("VmHWM"), "inherited_bytes": inherited,
        "baseline_bytes": mem["imports"]["peak_bytes"],
        "build_s": build_s, "symmetry_check_s": symmetry_s,
        "sweep": {"s": sw, "samples_s": sweep_t, "sweeps_per_s": 1 / sw, "ns_per_synapse": sw / n2 * 1e9,
                  "flips": int(np.sum(s1 != s0.s))},
        "recall": {"s": rc, "samples_s": recall_t, "sweeps": int(sweeps), "sweeps_per_s": sweeps / rc,
                   "ns_per_synapse_sweep": rc / (sweeps * n2) * 1e9, "flips": int(np.sum(final != cue)),
                   "overlap": float(final.astype(np.float64) @ patterns[0] / N)},
        "floor": {"s": fl, "ns_per_synapse": fl / n2 * 1e9, "GB_per_s": W.nbytes / fl / 1e9},
        "numpy_sweep_s": numpy_sweep_s, "numpy_ns_per_synapse": numpy_sweep_s / n2 * 1e9,
        "agree_with_numpy": agree,
    }


# Linux copies the peak RSS of the address space a process replaces into its ru_maxrss at
# exec, and subprocess starts children with vfork (the parent's address space): a child of
# this benchmark would inherit the parent's peak. A bare interpreter in between (~10 MB)
# starts the measured process, so its ru_maxrss is its own; VmHWM (per address space) and
# the value read before any import are reported as a check.
_LAUNCH = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"


def bench_big(*, N: int = N_BIG, seed: int, reps: int, timeout: float = 900) -> dict:
    """Run :func:`child` in a fresh subprocess (same thread pinning) and return its figures."""
    from ._harness import ROOT, CpuMeter

    with CpuMeter() as cpu:
        proc = subprocess.run([sys.executable, "-c", _LAUNCH, sys.executable, "-m", "benchmarks._hopfield_big",
                               str(N), str(seed), str(reps)],
                              cwd=ROOT, capture_output=True, text=True, check=False, timeout=timeout)
    out = {"N": N, "process_wall_s": cpu.result["wall_s"], "cpu": cpu.result}
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:] if proc.stderr.strip() else ["failed"]
        return {**out, "error": " | ".join(tail)}
    out.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    if not out["agree_with_numpy"]:
        raise RuntimeError(f"N={N}: int16 fast path and the numpy loop on the same W disagree")
    return out


def report_lines(big: dict | None) -> list[str]:
    from ._harness import fmt_cpu, table

    head = f"big net: N = {N_BIG:,} Hebbian, int16 weights (fresh subprocess)"
    if big is None:
        return [head, "  skipped (run with --big)"]
    if "error" in big:
        return [head, f"  failed: {big['error']}"]
    mb = lambda b: f"{b / 1e6:.0f} MB"  # noqa: E731
    peak = big["peak_bytes"]
    phases = ", ".join(f"{k} {mb(v['peak_bytes'])}" for k, v in big["memory"].items())
    sw, rc = big["sweep"], big["recall"]
    return [
        f"big net: N = {big['N']:,}, P = {big['P']} Hebbian, int16 W = {mb(big['W_bytes'])} "
        f"(fresh subprocess, {big['process_wall_s']:.0f} s wall; {fmt_cpu(big['cpu'])})",
        f"  peak resident memory (ru_maxrss) {mb(peak)} = {peak / 2**30:.3f} GiB: "
        f"{'PASS' if peak < LIMIT_BYTES else 'MISS'} (< 1 GB = 10^9 bytes); VmHWM {mb(big['peak_hwm_bytes'])}; "
        f"interpreter + numpy/scipy/numba after imports {mb(big['baseline_bytes'])} (inherited at start "
        f"{mb(big['inherited_bytes'])}); net and its run {mb(peak - big['baseline_bytes'])}",
        f"  peak so far after each phase: {phases}",
        f"  build (from_patterns, weights='int16') {big['build_s']:.2f} s, of which symmetry check "
        f"{big['symmetry_check_s']:.2f} s",
        table(["case", "s", "sweeps", "sweeps/s", "ns/synapse", "flips", "over int16 floor"],
              [["async sweep, random state", f"{sw['s']:.3f}", "1", f"{sw['sweeps_per_s']:.2f}",
                f"{sw['ns_per_synapse']:.3f}", str(sw["flips"]),
                f"{sw['ns_per_synapse'] / big['floor']['ns_per_synapse']:.2f}x"],
               [f"recall, 20% cue (overlap {rc['overlap']:.3f})", f"{rc['s']:.3f}", str(rc["sweeps"]),
                f"{rc['sweeps_per_s']:.2f}", f"{rc['ns_per_synapse_sweep']:.3f}", str(rc["flips"]),
                f"{rc['ns_per_synapse_sweep'] / big['floor']['ns_per_synapse']:.2f}x"]]),
        f"  medians of {big['reps']} calls after a warm-up; int16 floor (one numba read of W) "
        f"{big['floor']['ns_per_synapse']:.3f} ns/synapse = {big['floor']['GB_per_s']:.1f} GB/s",
        f"  check: final states equal the numpy loop's on the same int16 W (one sweep "
        f"{big['numpy_sweep_s']:.2f} s = {big['numpy_ns_per_synapse']:.2f} ns/synapse, "
        f"{big['numpy_sweep_s'] / sw['s']:.0f}x rnnlab; information only)",
    ]


if __name__ == "__main__":
    _N, _seed, _reps = (int(a) for a in sys.argv[1:4])
    print(json.dumps(child(_N, _seed, _reps)))
