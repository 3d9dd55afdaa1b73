r"""LSTM training-step cases for ``python -m benchmarks.recurrent``: rnnlab vs torch.nn.LSTM.

The step: one LSTM layer in torch's form (gates i, f, g, o, no peepholes, tanh), linear
output ``y_t = V h_t + c``, MSE averaged over all T*B*K outputs (a target per step),
h_{-1} = c_{-1} = 0: forward + full BPTT, the loss and the gradients of W, U, b, V, c.
T = 100, I = K = 16, H in {32, 128, 512}, B in {1, 32}, float64 and float32.

* kernel: ``LSTM.bptt(..., fast=True)`` (:func:`nets._kernels.lstm.lstm_bptt` and its
  Python wrapper, float32 when the params are float32);
* numpy:  ``LSTM.bptt(..., fast=False)`` (float64; timed for H <= 128 only);
* torch:  ``torch.nn.LSTM`` + ``nn.Linear`` + ``mse_loss``, ``zero_grad, forward,
  backward`` (bias_ih = b, bias_hh = 0; the reported db is bias_ih.grad).

Check before timing: the kernel's loss and gradients equal the numpy path's (float64,
1e-10 relative to the largest entry; H <= 128) and torch's (float64 1e-10, float32 1e-3).
H = 512 is also reported as a fraction of the GEMM rate measured in the same run
(``np.dot`` of (T*B, H) x (H, 4H)), counting the step's matrix-product flops.

Measured [2026-11-22, 1 thread for BLAS, numba and torch, loaded shared machine: load
4-7 on 2 cores; ratios from one run] kernel vs torch: float64 H=32 B=1 51x, H=32 B=32
4.3x, H=128 B=1 7.8x (MISS of >= 10x; 8.4x and 16x in two other runs), H=128 B=32
1.8x (MISS of >= 2x; 1.9x in another run), H=512 B=1 5.1x, H=512 B=32 1.5x; float32
H=32 B=1 4.1x, H=128 B=1 1.65x, B=32 0.71x (H=128) and 0.75x (H=512); H=512 B=32 reaches
55 % (float64) and 58 % (float32) of the GEMM rate. At H=128 B=32 the step is dominated by
its three GEMM groups (recurrent forward, recurrent backward, dW over all rows), which
run at small-matrix BLAS efficiency; the elementwise work is ~5 ms of ~75 ms. With 2
threads on this loaded machine BLAS threads spin and every implementation (torch too)
slows down 5-20x, so those figures are not reported.

Re-measured [2026-11-22 16:00-16:05, after the scratch-reuse change, 1 thread, load
~3-4, targeted cases of this module]: float64 H=128 B=1 8.6x (MISS of 10x), H=128 B=32
1.6x (MISS of 2x), H=512 B=32 1.5x; float32 H=128 B=1 1.33x (MISS of 1.5x), B=32 0.72x
(H=128), 0.76x (H=512); H=512 B=32 at 69 % (float64) / 65 % (float32) of the GEMM rate.
Per phase at H=128 float64, load ~1.7 (kernel variants with parts removed): B=1 1.95 ms =
recurrent products 1.23 ms (each reads the whole 512 KB W or W^T from L2 per step: at
~85 GB/s this is the bandwidth floor), input / weight-gradient GEMMs 0.42 ms, elementwise,
loss and wrapper 0.32 ms; B=32 48-50 ms = elementwise, loss and wrapper ~10 ms + the
three GEMM groups ~38 ms (the same products timed alone: forward per step 9.7 ms, backward
per step 10.5 ms, dW 11.7 ms, 36-43 GFLOP/s), so the B=32 miss is mostly BLAS time.
2 threads on the loaded machine: torch float64 B=1 took 0.6-2.4 s per step (spinning
threads), so no 2-thread ratio is quoted.

Measured [2026-11-22 19:00, full ``python -m benchmarks.recurrent --threads 2`` at fc123a2,
quiet machine: no other process or steal time during any case; after fused multiply-adds,
weight gradients as (X^T D)^T and the fused input product]: float64 H=32 B=1 50x, H=32
B=32 4.4x, H=128 B=1 15.8x, H=128 B=32 1.45x (MISS of 2x; two more runs of that case
right after: 1.83x and 2.35x, torch 54-78 ms against our 33-37 ms: the ratio straddles
the target), H=512 B=1 3.9x, H=512 B=32 1.76x; float32 H=32 B=1 5.6x, H=128 B=1 2.12x, B=32
0.97x (H=32), 0.51x (H=128), 0.74x (H=512); H=512 B=32 float32 at 61 % of the GEMM rate
(float64 125 %: the reference GEMM ran slow in that run). In one process against the
kernel of d61971d, 2 threads: H=128 B=32 float64 1.10-1.14x faster, B=1 1.03x.

Measured [2026-11-22 22:06, full run at e121e98 (the same kernels), 2 threads, quiet machine,
no other process]: float64 H=32 B=1 42x, H=32 B=32 3.7x, H=128 B=1 10.5x, H=128 B=32 2.08x
(ours 28.1 ms, torch 58.5 ms), H=512 B=1 3.6x, H=512 B=32 1.84x; float32 H=32 B=1 5.3x,
H=128 B=1 1.13x (MISS of 1.5x: torch float32 took 1.35 ms here against ~2.5 ms in the
run above; torch's float32 LSTM has a fused CPU path and its time varies between runs,
ours 1.20 ms), B=32 0.92x (H=32), 0.64x (H=128), 0.75x (H=512); H=512 B=32 at 75 % (float64)
and 60 % (float32) of the GEMM rate. Our float32 step at B=1 is only 1.4x faster than
float64 (1.20 vs 1.68 ms): the matrix-vector products halve their bytes, but the gate
nonlinearities are computed in float64 (module docstring of nets/_kernels/lstm.py).

Measured [2026-11-22 22:51, full run at 7d75881, after the float32 gates (the float32
kernel now computes them in float32; float64 unchanged bit for bit), 2 threads, no other
process]: float64 H=32 B=1 39x, H=32 B=32 3.6x, H=128 B=1 9.5x (MISS of 10x: ours 1.71 ms,
torch 16.2 ms), H=128 B=32 1.94x (MISS of 2x: ours 26.6 ms, torch 51.6 ms), H=512 B=1 3.1x,
H=512 B=32 1.67x; float32 H=32 B=1 5.2x, H=128 B=1 1.64x (PASS: ours 0.84 ms, torch 1.38 ms;
1.13x in the run above with ours at 1.20 ms), B=32 0.94x (H=32), 0.72x (H=128), 0.81x
(H=512); H=512 B=32 at 77 % (float64) and 65 % (float32) of the GEMM rate. Over the last
three full runs the float64 H=128 ratios were B=1 15.8x, 10.5x, 9.5x and B=32 1.45x, 2.08x,
1.94x: our float64 B=1 step sits at its floor (the two per-step matrix-vector products read
the 512 KB W from L2 each step, ~1.2 ms of the 1.7), and the ratio moves with torch's time.
"""
from __future__ import annotations

import numpy as np

from benchmarks._cells import CASES, N_IN, N_OUT, QUICK_CASES, T_STEPS, bench_cell, result_table

NAME = "lstm"
#: torch.nn.LSTM gradients in the order of LSTM.bptt's (W, U, b, V, c)
TORCH_GRADS = ["weight_hh_l0", "weight_ih_l0", "bias_ih_l0", "out.weight", "out.bias"]


def _net(H: int, seed: int = 0):
    from nets.lstm import LSTM
    return LSTM.from_config({"n_inputs": N_IN, "n_hidden": H, "n_outputs": N_OUT, "init": "torch",
                             "peepholes": False, "forget_bias": 0.5}, rng=np.random.default_rng(seed))


def _problem(H: int, B: int, seed: int = 0):
    rng = np.random.default_rng(seed + 1)
    return _net(H, seed), rng.normal(size=(T_STEPS, B, N_IN)), rng.normal(size=(T_STEPS, B, N_OUT))


def bench_case(H, B, torch, *, rounds, reps, min_time) -> dict:
    net, xs, ys = _problem(H, B)
    return bench_cell(net, xs, ys, torch, torch.nn.LSTM if torch is not None else None, TORCH_GRADS, 4, "LSTM",
                      rounds=rounds, reps=reps, min_time=min_time)


def targets(results: list[dict]) -> list[dict]:
    """PERFORMANCE.md targets these cases measure."""
    rows = []

    def row(target, r, measured, goal):
        rows.append({"target": target, "H": r["H"], "B": r["B"], "measured": measured, "goal": goal,
                     "pass": measured >= goal})
    for r in results:
        rt = r["ratios"]
        if "vs_torch_f64" in rt and r["H"] <= 256:
            row("LSTM float64 vs torch float64" + (" (batch 1)" if r["B"] == 1 else ""), r, rt["vs_torch_f64"],
                10.0 if r["B"] == 1 else 2.0)
        if "vs_torch_f32" in rt and r["B"] == 1 and r["H"] <= 128:
            row("LSTM float32 batch 1 vs torch float32", r, rt["vs_torch_f32"], 1.5)
        if "vs_torch_f32" in rt and r["B"] == 32:
            row("LSTM float32 batch 32 vs torch float32", r, rt["vs_torch_f32"], 0.5)
        if "gflops" in r and r["B"] == 32:
            for tag in ("f64", "f32"):
                row(f"LSTM H=512 {tag}: fraction of GEMM rate", r, r["gflops"][tag] / r["gemm_gflops"][tag], 0.5)
    return rows


def run(torch, *, rounds: int, reps: int, min_time: float, quick: bool = False) -> dict:
    """Run the cases; returns {"results", "targets", "lines"} for benchmarks.recurrent."""
    import time
    t0 = time.perf_counter()
    net, xs, ys = _problem(4, 2)
    for dtype in (np.float64, np.float32):
        net.bptt(type(net.params)(*(a.astype(dtype) for a in net.params)), xs, ys, loss="mse", fast=True)
    first = time.perf_counter() - t0
    results = [bench_case(H, B, torch, rounds=rounds, reps=reps, min_time=min_time)
               for H, B in (QUICK_CASES if quick else CASES)]
    lines = [f"LSTM (torch form, no peepholes), linear output, MSE; T={T_STEPS}, I={N_IN}, K={N_OUT}; "
             f"forward + full BPTT; ms per step, medians; first kernel calls (cache load or compile): {first:.2f} s",
             result_table(results)]
    return {"results": results, "targets": targets(results), "lines": lines, "first_call_s": first}
