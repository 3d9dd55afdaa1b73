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
"""
from __future__ import annotations

import numpy as np

from benchmarks._harness import CpuMeter, fmt_cpu, table, time_rounds

NAME = "lstm"
T_STEPS, N_IN, N_OUT = 100, 16, 16
CASES = [(32, 1), (32, 32), (128, 1), (128, 32), (512, 1), (512, 32)]
QUICK_CASES = [(32, 1), (128, 32)]


def _net(H: int, seed: int = 0):
    from nets.lstm import LSTM
    return LSTM.from_config({"n_inputs": N_IN, "n_hidden": H, "n_outputs": N_OUT, "init": "torch",
                             "peepholes": False, "forget_bias": 0.5}, rng=np.random.default_rng(seed))


def _problem(H: int, B: int, seed: int = 0):
    rng = np.random.default_rng(seed + 1)
    return _net(H, seed), rng.normal(size=(T_STEPS, B, N_IN)), rng.normal(size=(T_STEPS, B, N_OUT))


def _torch_step(torch, net, xs, ys, dtype):
    tdt = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    H = net.n_hidden
    m = torch.nn.LSTM(N_IN, H).to(tdt)
    lin = torch.nn.Linear(H, N_OUT).to(tdt)
    sd = net.state_dict()
    with torch.no_grad():
        for k, v in m.named_parameters():
            v.copy_(torch.from_numpy(sd[k].astype(dtype)))
        lin.weight.copy_(torch.from_numpy(sd["out.weight"].astype(dtype)))
        lin.bias.copy_(torch.from_numpy(sd["out.bias"].astype(dtype)))
    x = torch.from_numpy(xs.astype(dtype))
    y = torch.from_numpy(ys.astype(dtype))
    params = [m.weight_hh_l0, m.weight_ih_l0, m.bias_ih_l0, lin.weight, lin.bias, m.bias_hh_l0]
    out = {}

    def step():
        for q in params:
            q.grad = None
        hseq, _ = m(x)
        loss = torch.nn.functional.mse_loss(lin(hseq), y)
        loss.backward()
        out["loss"] = loss

    def result():
        return float(out["loss"].detach()), [q.grad.numpy() for q in params[:5]]
    return step, result


def _maxrel(a, b) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def _check(name, loss, grads, ref_loss, ref_grads, tol) -> float:
    errs = [abs(loss - ref_loss) / max(abs(ref_loss), 1e-300)] + [_maxrel(g, r) for g, r in zip(grads, ref_grads)]
    if max(errs) > tol:
        raise SystemExit(f"check failed: {name}: max rel error {max(errs):.3g} > {tol:g}")
    return max(errs)


def _flops(H: int, B: int) -> float:
    """Matrix-product flops of one step: recurrent fwd/bwd, dW, U x, dU, and the output layer."""
    G = 4 * H
    return T_STEPS * B * 2.0 * (3 * G * H + 2 * G * N_IN + 3 * H * N_OUT)


def _gemm_rate(dtype, B: int, H: int) -> float:
    """GFLOP/s of np.dot (T*B, H) x (H, 4H) in this process (BLAS threads as pinned)."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(T_STEPS * B, H)).astype(dtype)
    w = rng.normal(size=(H, 4 * H)).astype(dtype)
    t = time_rounds({"gemm": lambda: a @ w}, rounds=1, reps=5, min_time=0.1)
    return 2.0 * T_STEPS * B * H * 4 * H / t["gemm"]["median_s"] / 1e9


def bench_case(H, B, torch, *, rounds, reps, min_time) -> dict:
    net, xs, ys = _problem(H, B)
    p64 = net.train_params()
    p32 = type(p64)(*(a.astype(np.float32) for a in p64))
    res = {"H": H, "B": B, "T": T_STEPS, "I": N_IN, "K": N_OUT, "ms": {}, "checks": {}}
    impls = {}
    ours = {}
    for p, tag in ((p64, "f64"), (p32, "f32")):
        L, g, _ = net.bptt(p, xs, ys, loss="mse", fast=True)
        ours[tag] = (L, list(g))
        impls[f"kernel_{tag}"] = (lambda p=p: net.bptt(p, xs, ys, loss="mse", fast=True))
    if H <= 128:
        L, g, _ = net.bptt(p64, xs, ys, loss="mse")
        res["checks"]["kernel_f64_vs_numpy"] = _check("kernel f64 vs numpy", *ours["f64"], L, list(g), 1e-10)
        res["checks"]["kernel_f32_vs_numpy"] = _check("kernel f32 vs numpy", *ours["f32"], L, list(g), 1e-3)
        impls["numpy_f64"] = lambda: net.bptt(p64, xs, ys, loss="mse")
    if torch is not None:
        for dtype, tag in ((np.float64, "f64"), (np.float32, "f32")):
            step, result = _torch_step(torch, net, xs, ys, dtype)
            step()
            res["checks"][f"torch_{tag}_vs_kernel"] = _check(f"torch {tag} vs kernel", *ours[tag], *result(),
                                                             1e-10 if tag == "f64" else 1e-3)
            impls[f"torch_{tag}"] = step
    with CpuMeter() as cm:
        t = time_rounds(impls, rounds=rounds, reps=reps, min_time=min_time)
    res["ms"] = {k: v["median_s"] * 1e3 for k, v in t.items()}
    res["cpu"] = cm.result
    ms = res["ms"]
    res["ratios"] = {}
    if "numpy_f64" in ms:
        res["ratios"]["kernel_vs_numpy_f64"] = ms["numpy_f64"] / ms["kernel_f64"]
    if torch is not None:
        res["ratios"]["vs_torch_f64"] = ms["torch_f64"] / ms["kernel_f64"]
        res["ratios"]["vs_torch_f32"] = ms["torch_f32"] / ms["kernel_f32"]
    if H >= 512:
        res["gflops"] = {tag: _flops(H, B) / (ms[f"kernel_{tag}"] * 1e-3) / 1e9 for tag in ("f64", "f32")}
        res["gemm_gflops"] = {"f64": _gemm_rate(np.float64, B, H), "f32": _gemm_rate(np.float32, B, H)}
    return res


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
    cols = ["kernel_f64", "numpy_f64", "torch_f64", "kernel_f32", "torch_f32"]
    rows = []
    for r in results:
        rt = r["ratios"]
        gf = (f"{r['gflops']['f64']:.0f}/{r['gemm_gflops']['f64']:.0f} {r['gflops']['f32']:.0f}/"
              f"{r['gemm_gflops']['f32']:.0f}") if "gflops" in r else "-"
        rows.append([f"H={r['H']} B={r['B']}"] + [f"{r['ms'][c]:.3f}" if c in r["ms"] else "-" for c in cols]
                    + [f"{rt['kernel_vs_numpy_f64']:.1f}x" if "kernel_vs_numpy_f64" in rt else "-",
                       f"{rt.get('vs_torch_f64', float('nan')):.2f}x", f"{rt.get('vs_torch_f32', float('nan')):.2f}x",
                       gf, f"{max(r['checks'].values()):.1e}" if r["checks"] else "-", fmt_cpu(r["cpu"])])
    lines = [f"LSTM (torch form, no peepholes), linear output, MSE; T={T_STEPS}, I={N_IN}, K={N_OUT}; "
             f"forward + full BPTT; ms per step, medians; first kernel calls (cache load or compile): {first:.2f} s",
             table(["case"] + cols + ["vs numpy", "vs torch64", "vs torch32", "GFLOP/s kern/gemm f64 f32",
                                      "max rel err", "machine"], rows)]
    return {"results": results, "targets": targets(results), "lines": lines, "first_call_s": first}
