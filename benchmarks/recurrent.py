r"""Recurrent-net training step: rnnlab's fused numba kernel vs the numpy path vs torch.nn.RNN.

The gated cells' cases (``CELL_CASES``: benchmarks/_lstm_cases.py, _gru_cases.py) run after the RNN's
in the same process, with their own tables and targets.

Run ``python -m benchmarks.recurrent [--quick] [--threads 2] [--no-torch]``; it prints a
table and writes ``benchmarks/results/recurrent.json``. Not part of the test suite.

The step (PERFORMANCE.md "LSTM/GRU/RNN training"): a vanilla tanh RNN
``h_t = tanh(W h_{t-1} + U x_t + b)``, linear output ``y_t = V h_t + c``, MSE averaged over
all T*B*K outputs (a target per step), h_{-1} = 0: forward + full BPTT, loss and the
gradients of W, U, b, V, c. T = 100, I = K = 16 inputs/outputs, H in {32, 128},
B in {1, 32}, float64 and float32. Implementations, all on the same weights and data:

* kernel: :func:`nets._kernels.rnn_bptt.rnn_bptt` (tanh, MSE + identity) with preallocated outputs;
* bptt:   ``RNN.bptt(..., fast=True)``, the call a user makes: the kernel plus the Python
  wrapper (conversions, fresh outputs); float64, and float32 from float32 params;
* numpy:  ``RNN.bptt(..., fast=False)``, the numpy twin (float64 only: the net is float64);
* torch:  ``torch.nn.RNN(nonlinearity="tanh")`` + ``nn.Linear`` + ``MSELoss`` on CPU,
  ``zero_grad, forward, backward`` (b_ih = b, b_hh = 0; the reported db is b_ih.grad),
  if torch is importable (never required).

Check: before timing, the kernel's loss and gradients must equal the numpy path's
(float64: 1e-10 relative to the largest entry) and torch's (float64: 1e-10; float32:
1e-3 relative) on the same weights; the benchmark stops with an error otherwise.

Method: blocks of repetitions per implementation (benchmarks._harness.time_rounds),
medians, ratios from this one run; thread counts pinned before numpy is imported
(``--threads``, default 2, for BLAS, numba and ``torch.set_num_threads``). Targets
(PERFORMANCE.md), measured on the user's call (bptt, as the LSTM and GRU cases do; the
kernel-only ratios are reported beside them): float64 >= 2x torch float64 (H <= 256),
>= 10x at batch 1; float32 H=128 B=32 >= 1.5x torch float32.

Measured [2026-11-22 19:00, the full run at fc123a2, 2 threads, quiet machine: no other
process or steal time], on RNN.bptt(fast=True): float64 H=32 B=1 42x, H=32 B=32 3.9x,
H=128 B=1 10.5x (kernel alone 10.7x), H=128 B=32 2.08x; float32 H=128 B=32 2.11x: every
target met. Three more runs of the H=128 cases right after: B=1 9.25x, 11.8x, 10.3x
(ours 0.44-0.59 ms, torch 4.5-5.5 ms), B=32 2.67x, 2.02x, 2.27x, float32 B=32 2.74x,
2.08x, 2.09x. At B=1 the two per-step products read W (128 KB) from L2 at ~0.08 ns per
multiply-add, the rate measured for the product alone; they are ~60 % of the step.

Measured [2026-11-22 22:50, full run at 7d75881 (float32 activations now computed in
float32), 2 threads, no other process]: float64 H=32 B=1 42x, H=32 B=32 5.4x, H=128 B=1
9.79x (MISS of 10x: ours 0.524 ms, torch 5.1 ms), H=128 B=32 2.21x; float32 H=128 B=32 2.26x
(2.11x in the run above).
"""
from __future__ import annotations

import sys

if __name__ == "__main__":
    from benchmarks._threads import pin

    pin(sys.argv[1:] if any(a.startswith("--threads") for a in sys.argv[1:]) else ["--threads", "2"])

import argparse  # noqa: E402
import importlib  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks._cells import check as _check  # noqa: E402
from benchmarks._cells import torch_step as _torch_cell_step  # noqa: E402
from benchmarks._harness import CpuMeter, fmt_cpu, machine, machine_lines, table, time_rounds, write_json  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "recurrent.json"
#: gated-cell case modules run after the RNN cases; each has NAME and
#: run(torch, *, rounds, reps, min_time, quick) -> {"results", "targets", "lines", ...}
CELL_CASES = ["benchmarks._lstm_cases", "benchmarks._gru_cases"]
T_STEPS, N_IN, N_OUT = 100, 16, 16
CASES = [(32, 1), (32, 32), (128, 1), (128, 32)]
#: torch.nn.RNN + nn.Linear gradients in the order of rnnlab's (dW, dU, db, dV, dc); the state dict
#: puts b into bias_ih_l0 and zeros into bias_hh_l0 (their sum is the one bias)
TORCH_GRADS = ["weight_hh_l0", "weight_ih_l0", "bias_ih_l0", "out.weight", "out.bias"]


def _problem(H: int, B: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    p = (rng.uniform(-1, 1, (H, H)) / np.sqrt(H), rng.uniform(-1, 1, (H, N_IN)) / np.sqrt(N_IN),
         rng.uniform(-0.1, 0.1, H), rng.uniform(-1, 1, (N_OUT, H)) / np.sqrt(H), rng.uniform(-0.1, 0.1, N_OUT))
    xs = rng.normal(size=(T_STEPS, B, N_IN))
    ys = rng.normal(size=(T_STEPS, B, N_OUT))
    return p, xs, ys


def _kernel_step(p, xs, ys, dtype):
    from nets._kernels.rnn_bptt import ACT_CODES, LOSS_CODES, rnn_bptt
    p = tuple(np.ascontiguousarray(a, dtype=dtype) for a in p)
    xs, ys = xs.astype(dtype), ys.astype(dtype)
    T, B, _ = xs.shape
    H = p[0].shape[0]
    h0 = np.zeros((B, H), dtype)
    hs = np.empty((T + 1, B, H), dtype)
    dn = np.empty(T, dtype)
    g = tuple(np.empty_like(a) for a in p)
    scale = 1.0 / ys.size
    state = (h0, np.zeros((B, H), dtype))  # (h0, dh_final)
    cfg = (scale, ACT_CODES["tanh"], LOSS_CODES[("mse", "identity")])
    work = (hs, dn, np.empty((B, H), dtype), np.empty((T * B, H), dtype))  # hs, dh_norm, dh0, scratch
    out = {}

    def step():
        out["loss"] = rnn_bptt(p, xs, ys, state, cfg, work, g)
        return out["loss"]
    return step, out, g


def bench_case(H, B, torch, *, rounds, reps, min_time) -> dict:
    import nets
    p, xs, ys = _problem(H, B)
    net = nets.rnn.RNN(p[0], p[1], p[2], V=p[3], c=p[4], activation="tanh")
    tp = net.train_params()
    tp = type(tp)(*(np.array(a) for a in tp))  # writable, as a training loop holds them (read-only: copied per call)
    L_np, g_np, _ = net.bptt(tp, xs, ys, loss="mse")
    res = {"H": H, "B": B, "T": T_STEPS, "I": N_IN, "K": N_OUT, "ms": {}, "checks": {}}
    impls = {}
    for dtype, tag in ((np.float64, "f64"), (np.float32, "f32")):
        step, out, g = _kernel_step(p, xs, ys, dtype)
        step()
        tol = 1e-10 if tag == "f64" else 1e-4
        res["checks"][f"kernel_{tag}_vs_numpy"] = _check(f"kernel {tag}", out["loss"], g, L_np, g_np, tol)
        impls[f"kernel_{tag}"] = step
        if torch is not None:
            tstep, tresult = _torch_cell_step(torch, lambda i, h: torch.nn.RNN(i, h, nonlinearity="tanh"), net, xs,
                                              ys, dtype, TORCH_GRADS)
            tstep()
            res["checks"][f"torch_{tag}_vs_kernel"] = _check(f"torch {tag}", out["loss"], g, *tresult(),
                                                             1e-10 if tag == "f64" else 1e-3)
            impls[f"torch_{tag}"] = tstep
    tp32 = type(tp)(*(a.astype(np.float32) for a in tp))
    x32, y32 = xs.astype(np.float32), ys.astype(np.float32)
    for tag, args in (("f64", (tp, xs, ys)), ("f32", (tp32, x32, y32))):
        L, g_b, _ = net.bptt(*args, loss="mse", fast=True)
        res["checks"][f"bptt_{tag}_vs_numpy"] = _check(f"bptt {tag}", L, g_b, L_np, g_np,
                                                       1e-10 if tag == "f64" else 1e-4)
    impls["bptt_fast_f64"] = lambda: net.bptt(tp, xs, ys, loss="mse", fast=True)
    impls["bptt_fast_f32"] = lambda: net.bptt(tp32, x32, y32, loss="mse", fast=True)
    impls["numpy_f64"] = lambda: net.bptt(tp, xs, ys, loss="mse")
    with CpuMeter() as cm:
        t = time_rounds(impls, rounds=rounds, reps=reps, min_time=min_time)
    res["ms"] = {k: v["median_s"] * 1e3 for k, v in t.items()}
    res["cpu"] = cm.result
    ms = res["ms"]
    res["ratios"] = {"kernel_vs_numpy_f64": ms["numpy_f64"] / ms["kernel_f64"]}
    if torch is not None:  # the targets: the call a user makes, RNN.bptt(fast=True), against torch's step
        res["ratios"]["vs_torch_f64"] = ms["torch_f64"] / ms["bptt_fast_f64"]
        res["ratios"]["vs_torch_f32"] = ms["torch_f32"] / ms["bptt_fast_f32"]
        res["ratios"]["kernel_vs_torch_f64"] = ms["torch_f64"] / ms["kernel_f64"]
        res["ratios"]["kernel_vs_torch_f32"] = ms["torch_f32"] / ms["kernel_f32"]
    return res


def targets(results: list[dict]) -> list[dict]:
    """PERFORMANCE.md targets that these cases measure."""
    rows = []
    for r in results:
        rt = r["ratios"]
        if "vs_torch_f64" not in rt:
            continue
        goal = 10.0 if r["B"] == 1 else 2.0
        rows.append({"target": f"float64 vs torch float64{' (batch 1)' if r['B'] == 1 else ''}",
                     "H": r["H"], "B": r["B"], "measured": rt["vs_torch_f64"], "goal": goal,
                     "pass": rt["vs_torch_f64"] >= goal})
        if r["H"] == 128 and r["B"] == 32:
            rows.append({"target": "float32 vs torch float32", "H": 128, "B": 32,
                         "measured": rt["vs_torch_f32"], "goal": 1.5, "pass": rt["vs_torch_f32"] >= 1.5})
    return rows


def _tanh_cost(H=128, B=32) -> dict:
    """Time of T*B*H tanh evaluations alone (numba): the kernel's vectorised
    :func:`nets._kernels.vecmath.tanh` and the scalar ``math.tanh`` it replaced."""
    import math

    from numba import njit

    from nets._kernels.vecmath import tanh

    @njit(cache=False, error_model="numpy")
    def vec_all(a, out):
        for i in range(a.shape[0]):
            out[i] = tanh(a[i])

    @njit(cache=False)
    def math_all(a, out):
        for i in range(a.shape[0]):
            out[i] = math.tanh(a[i])
    a = np.random.default_rng(1).normal(size=T_STEPS * B * H)
    out = np.empty_like(a)
    t = time_rounds({"vec": lambda: vec_all(a, out), "math": lambda: math_all(a, out)}, rounds=1, reps=5,
                    min_time=0.05)
    return {"H": H, "B": B, "ms_f64": t["vec"]["median_s"] * 1e3, "ms_math_tanh_f64": t["math"]["median_s"] * 1e3}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter samples")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    rounds, reps, min_time = (1, 3, 0.05) if args.quick else (3, 5, 0.2)
    torch = None
    torch_note = "torch: skipped (--no-torch)"
    if not args.no_torch:
        try:
            import torch  # noqa: F811
            torch.set_num_threads(args.threads)
            torch_note = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
        except ImportError:
            torch_note = "torch: not installed (pip install torch==2.13.0 for the comparison)"
    t0 = time.perf_counter()
    import nets  # noqa: F401
    from nets._kernels.rnn_bptt import rnn_bptt  # noqa: F401
    p, xs, ys = _problem(8, 2)
    _kernel_step(p, xs, ys, np.float64)[0]()
    _kernel_step(p, xs, ys, np.float32)[0]()
    first = time.perf_counter() - t0
    results = [bench_case(H, B, torch, rounds=rounds, reps=reps, min_time=min_time) for H, B in CASES]
    tanh = _tanh_cost()
    goals = targets(results)
    mc = machine()
    lines = ["rnnlab recurrent training-step benchmark - " + machine_lines(mc)[0], machine_lines(mc)[1],
             torch_note, f"first kernel calls (numba cache load or compile, f64 + f32): {first:.2f} s",
             f"tanh RNN, linear output, MSE; T={T_STEPS}, I={N_IN}, K={N_OUT}; forward + full BPTT; "
             "ms per step, medians", ""]
    cols = ["kernel_f64", "bptt_fast_f64", "numpy_f64", "torch_f64", "kernel_f32", "bptt_fast_f32", "torch_f32"]
    rows = []
    for r in results:
        rows.append([f"H={r['H']} B={r['B']}"] + [f"{r['ms'][c]:.3f}" if c in r["ms"] else "-" for c in cols]
                    + [f"{r['ratios']['kernel_vs_numpy_f64']:.1f}x",
                       f"{r['ratios'].get('vs_torch_f64', float('nan')):.2f}x",
                       f"{r['ratios'].get('vs_torch_f32', float('nan')):.2f}x",
                       f"{max(r['checks'].values()):.1e}", fmt_cpu(r["cpu"])])
    lines.append(table(["case"] + cols + ["vs numpy", "vs torch64", "vs torch32", "max rel err", "machine"], rows))
    lines += ["", f"tanh alone, T*B*H = {T_STEPS * 32 * 128} calls (H=128 B=32, float64): vectorised "
              f"vecmath.tanh {tanh['ms_f64']:.3f} ms ({tanh['ms_f64'] / results[-1]['ms']['kernel_f64']:.0%} of "
              f"kernel_f64 at that size), scalar math.tanh {tanh['ms_math_tanh_f64']:.3f} ms", ""]
    if goals:
        lines.append(table(["target (PERFORMANCE.md)", "H", "B", "measured", "goal", "result"],
                           [[g["target"], str(g["H"]), str(g["B"]), f"{g['measured']:.2f}x", f">= {g['goal']:g}x",
                             "PASS" if g["pass"] else "MISS"] for g in goals]))
    else:
        lines.append("targets vs torch: not measured (torch not importable)")
    cells = {}
    for mod in CELL_CASES:
        cases = importlib.import_module(mod)
        out = cases.run(torch, rounds=rounds, reps=reps, min_time=min_time, quick=args.quick)
        cells[cases.NAME] = out
        lines += [""] + out["lines"]
        if out["targets"]:
            lines.append(table(["target (PERFORMANCE.md)", "H", "B", "measured", "goal", "result"],
                               [[g["target"], str(g["H"]), str(g["B"]), f"{g['measured']:.2f}x",
                                 f">= {g['goal']:g}x", "PASS" if g["pass"] else "MISS"] for g in out["targets"]]))
    print("\n".join(lines))
    write_json(args.out, {"machine": mc, "torch": torch_note, "first_call_s": first, "results": results,
                          "tanh_cost": tanh, "targets": goals, "cells": cells,
                          "settings": {"rounds": rounds, "reps": reps, "min_time": min_time,
                                       "threads": args.threads}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
