r"""GRU training-step cases for ``python -m benchmarks.recurrent``: rnnlab vs torch.nn.GRU.

The step: one GRU layer in torch's form (reset after the recurrent product, z on the old
state; gates r, z, n), linear output ``y_t = V h_t + c``, MSE averaged over all T*B*K
outputs (a target per step), h_{-1} = 0: forward + full BPTT, the loss and the gradients of
every parameter (U, W, b, bh, V, c). T = 100, I = K = 16, H in {32, 128, 512}, B in {1, 32},
float64 and float32; weights from ``GRU.from_config(init="torch")``.

* kernel: ``GRU.bptt(..., fast=True)`` (:func:`nets._kernels.gru.bptt` and its Python
  wrapper; float32 when the params are float32);
* numpy:  ``GRU.bptt(..., fast=False)`` (float64; timed for H <= 128 only);
* torch:  ``torch.nn.GRU`` + ``nn.Linear`` + ``mse_loss``, ``grad = None, forward,
  backward``, the weights loaded from ``GRU.state_dict()``.

Check before timing: the kernel's loss and gradients equal the numpy path's (float64
1e-10 relative to the largest entry, float32 1e-3; H <= 128) and torch's (float64 1e-10,
float32 1e-3); a failure stops the benchmark. H = 512 is also reported as a fraction of
the GEMM rate measured in the same run (``np.dot`` (T*B, H) x (H, 3H)), counting the
step's matrix-product flops.

Measured [2026-11-22, shared 2-core AVX-512 machine at load 6-11 from other jobs, so
absolute times are 2-4x an idle machine's]: with ``--threads 1`` (torch and BLAS single
threaded) the kernel vs torch was float64 87x / 9.7x at B = 1 (H = 32 / 128), 2.9x / 1.6x
at B = 32, 4.0x / 1.5x at H = 512 (B = 1 / 32); float32 65x / 16x at B = 1, 3.9x / 1.4x at
B = 32 (H = 32 / 128), 9.8x / 1.4x at H = 512; H = 512 B = 32 reached 46 % (f64) and
45 % (f32) of the measured GEMM rate. Targets missed there: H = 128 B = 32 (f64 1.6x of
2x, f32 1.4x of 1.5x), H = 128 B = 1 f64 (9.7x of 10x), the GEMM fraction (0.46 of 0.5).
With ``--threads 2`` on the loaded machine the per-step BLAS calls inside numba (scipy's
OpenBLAS, a thread wake-up per call) became erratic: a (32, 128) x (128, 384) float64
product took 9 ms instead of 0.12 ms single-threaded, so the 2-thread ratios of that
run (H = 128 B = 32: f64 1.1x, f32 1.4x; H = 32 B = 32 slower than the numpy path) say
more about the load than about the kernel. Rerun on an idle machine before quoting.

Re-measured [2026-11-22 16:00-16:06, after the scratch-reuse and backward-sweep changes,
1 thread, load ~2-4, targeted cases]: float64 H=128 B=1 10.7x, H=128 B=32 1.54x (MISS of
2x), H=512 B=32 1.41x; float32 H=128 B=1 15x, H=128 B=32 1.30x (MISS of 1.5x), H=512 B=32
0.99x; H=512 B=32 at 79 % (float64) / 60 % (float32) of the GEMM rate. Same process,
against the previous kernel: H=128 B=32 float64 1.29x faster at load ~7, 1.02x at load
~1.7 (fresh scratch pages cost most on a loaded machine); H=512 B=32 1.09x. At H=128
B=32 the elementwise work is ~10 ms of ~40 ms; the rest is the three GEMM groups.

Measured [2026-11-22 19:05, full ``python -m benchmarks.recurrent --threads 2`` at fc123a2,
quiet machine, no other process or steal time during any case]: float64 H=32 B=1 61x,
H=32 B=32 4.4x, H=128 B=1 14.5x, H=128 B=32 1.87x (MISS of 2x; it was 2.00x in the
previous session's run: torch's 2-thread time moves 20-40 % between runs), H=512 B=1 7.5x,
H=512 B=32 1.56x; float32 H=128 B=32 1.85x; H=512 B=32 at 58 % (float64) / 52 % (float32)
of the GEMM rate.

Measured [2026-11-22 22:10, full run at e121e98 (the same kernels), 2 threads, quiet
machine]: float64 H=32 B=1 53x, H=32 B=32 4.2x, H=128 B=1 17.5x, H=128 B=32 2.17x (ours
34.8 ms, torch 75.6 ms), H=512 B=1 4.7x, H=512 B=32 1.80x; float32 H=128 B=32 2.28x; H=512
B=32 at 63 % (float64) and 49.9 % (float32: a MISS by 0.1 point, shown as 0.50x in the table; 52 %
in the run above) of the GEMM rate. So the float64 H=128 B=32 ratio was 1.87x, 2.00x and
2.17x in three full runs: it sits on the 2x target.

Measured [2026-11-22 22:52, full run at 7d75881: float32 gates now computed in float32
(nets/_kernels/vecmath.py sigmoid_t / tanh_t); 2 threads, no other process, load 1.7-2.2 from
the run's own spinning BLAS threads]: float64 H=32 B=1 62x, H=32 B=32 4.3x, H=128 B=1 12.2x,
H=128 B=32 1.80x (MISS; the float64 kernel is unchanged bit for bit: ours 31.3 ms, torch
56.4 ms against 34.8 and 75.6 ms in the run above), H=512 B=1 7.5x, H=512 B=32 1.50x; float32
H=128 B=32 1.87x; H=512 B=32 at 60 % (float64) and 53 % (float32) of the GEMM rate. The
float64 H=128 B=32 ratio in four full runs: 1.87x, 2.00x, 2.17x, 1.80x.
"""
from __future__ import annotations

import time

import numpy as np

from benchmarks._cells import CASES, N_IN, N_OUT, QUICK_CASES, T_STEPS, bench_cell, result_table

NAME = "gru"
#: torch.nn.GRU gradients in the order of GRUTrainParams with the empty U dropped: U0, W, b, bh, V, c
TORCH_GRADS = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "out.weight", "out.bias"]


def _problem(H: int, B: int, seed: int = 0):
    from nets.gru import GRU
    rng = np.random.default_rng(seed)
    net = GRU.from_config({"n_inputs": N_IN, "n_hidden": H, "n_outputs": N_OUT, "init": "torch"}, rng=rng)
    return net, rng.normal(size=(T_STEPS, B, N_IN)), rng.normal(size=(T_STEPS, B, N_OUT))


def bench_case(H, B, torch, *, rounds, reps, min_time) -> dict:
    net, xs, ys = _problem(H, B)
    return bench_cell(net, xs, ys, torch, torch.nn.GRU if torch is not None else None, TORCH_GRADS, 3, "GRU",
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
            row("GRU float64 vs torch float64" + (" (batch 1)" if r["B"] == 1 else ""), r, rt["vs_torch_f64"],
                10.0 if r["B"] == 1 else 2.0)
        if "vs_torch_f32" in rt and r["H"] == 128 and r["B"] == 32:
            row("GRU float32 vs torch float32", r, rt["vs_torch_f32"], 1.5)
        if "gflops" in r and r["B"] == 32:
            for tag in ("f64", "f32"):
                row(f"GRU H=512 {tag}: fraction of GEMM rate", r, r["gflops"][tag] / r["gemm_gflops"][tag], 0.5)
    return rows


def run(torch, *, rounds: int, reps: int, min_time: float, quick: bool = False) -> dict:
    """Run the cases; returns {"results", "targets", "lines", "first_call_s"} for benchmarks.recurrent."""
    t0 = time.perf_counter()
    net, xs, ys = _problem(4, 2)
    for dtype in (np.float64, np.float32):
        net.bptt(type(net.params)(*(a.astype(dtype) for a in net.params)), xs.astype(dtype), ys, loss="mse",
                 fast=True)
    first = time.perf_counter() - t0
    results = [bench_case(H, B, torch, rounds=rounds, reps=reps, min_time=min_time)
               for H, B in (QUICK_CASES if quick else CASES)]
    lines = [f"GRU (torch form: reset after, z on the old state), linear output, MSE; T={T_STEPS}, I={N_IN}, "
             f"K={N_OUT}; forward + full BPTT; ms per step, medians; first kernel calls (cache load or compile): "
             f"{first:.2f} s",
             result_table(results)]
    return {"results": results, "targets": targets(results), "lines": lines, "first_call_s": first}
