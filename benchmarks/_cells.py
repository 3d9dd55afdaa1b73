"""What the recurrent benchmark cases share (benchmarks/_lstm_cases.py, _gru_cases.py; recurrent.py
uses the torch step and the checks).

One layer of a torch-form cell with a linear output and MSE over T = 100 steps, I = K = 16:
the torch reference step with rnnlab's weights, the agreement checks, the timing of the
implementations and their ratios, the matrix-product flops and the GEMM rate they are
compared with at H = 512, and the result table.
"""
from __future__ import annotations

import numpy as np

from benchmarks._harness import CpuMeter, fmt_cpu, table, time_rounds

T_STEPS, N_IN, N_OUT = 100, 16, 16
CASES = [(32, 1), (32, 32), (128, 1), (128, 32), (512, 1), (512, 32)]
QUICK_CASES = [(32, 1), (128, 32)]
COLUMNS = ["kernel_f64", "numpy_f64", "torch_f64", "kernel_f32", "torch_f32"]


def torch_step(torch, module, net, xs, ys, dtype, grad_names):
    """A torch ``zero_grad, forward, backward`` step of ``module`` (torch.nn.LSTM / GRU) +
    ``nn.Linear`` + ``mse_loss``, the weights loaded from ``net.state_dict()``.

    Returns ``step`` and ``result() -> (loss, [grads of grad_names])`` (names of the
    module's parameters, or "out.weight" / "out.bias" of the output layer).
    """
    tdt = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    m = module(N_IN, net.n_hidden).to(tdt)
    lin = torch.nn.Linear(net.n_hidden, N_OUT).to(tdt)
    sd = net.state_dict()
    with torch.no_grad():
        for k, v in m.named_parameters():
            v.copy_(torch.from_numpy(sd[k].astype(dtype)))
        lin.weight.copy_(torch.from_numpy(sd["out.weight"].astype(dtype)))
        lin.bias.copy_(torch.from_numpy(sd["out.bias"].astype(dtype)))
    x = torch.from_numpy(xs.astype(dtype))
    y = torch.from_numpy(ys.astype(dtype))
    named = dict(m.named_parameters()) | {"out.weight": lin.weight, "out.bias": lin.bias}
    params = list(named.values())
    out = {}

    def step():
        for q in params:
            q.grad = None
        hseq, _ = m(x)
        loss = torch.nn.functional.mse_loss(lin(hseq), y)
        loss.backward()
        out["loss"] = loss
        return loss

    def result():
        return float(out["loss"].detach()), [named[k].grad.detach().numpy() for k in grad_names]
    return step, result


def maxrel(a, b) -> float:
    """max |a - b| / max |b| over all entries."""
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def check(name, loss, grads, ref_loss, ref_grads, tol) -> float:
    """The largest relative error of the loss and the gradients; stops the benchmark above tol."""
    errs = [abs(loss - ref_loss) / max(abs(ref_loss), 1e-300)] + [maxrel(g, r) for g, r in zip(grads, ref_grads)]
    if len(grads) != len(ref_grads) or max(errs) > tol:
        raise SystemExit(f"check failed: {name}: max rel error {max(errs):.3g} > {tol:g}")
    return max(errs)


def flops(H: int, B: int, n_gates: int) -> float:
    """Matrix-product flops of one step: W h fwd/bwd and dW, U x and dU, the output layer."""
    G = n_gates * H
    return T_STEPS * B * 2.0 * (3 * G * H + 2 * G * N_IN + 3 * H * N_OUT)


def gemm_rate(dtype, B: int, H: int, n_gates: int) -> float:
    """GFLOP/s of np.dot (T*B, H) x (H, n_gates H) in this process (BLAS threads as pinned)."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(T_STEPS * B, H)).astype(dtype)
    w = rng.normal(size=(H, n_gates * H)).astype(dtype)
    t = time_rounds({"gemm": lambda: a @ w}, rounds=1, reps=5, min_time=0.1)
    return 2.0 * T_STEPS * B * H * n_gates * H / t["gemm"]["median_s"] / 1e9


def bench_cell(net, xs, ys, torch, module, grad_names, n_gates: int, label: str, *, rounds, reps,
               min_time) -> dict:
    """Check and time one case: ``net.bptt(fast=True)`` in float64 and float32, the numpy
    path (float64, H <= 128 only) and torch's ``module`` (if torch is given).

    Checks before timing (a failure stops the benchmark): kernel vs numpy (float64 1e-10
    relative to the largest entry, float32 1e-3) and torch vs kernel (float64 1e-10,
    float32 1e-3). Empty gradients (absent parameters) are dropped before comparing.
    """
    H, B = net.n_hidden, xs.shape[1]
    p64 = net.train_params()
    p32 = type(p64)(*(a.astype(np.float32) for a in p64))
    x32, y32 = xs.astype(np.float32), ys.astype(np.float32)
    res = {"H": H, "B": B, "T": T_STEPS, "I": N_IN, "K": N_OUT, "ms": {}, "checks": {}}

    def ours(loss, grads, *_):
        return loss, [g for g in grads if g.size]
    mine = {"f64": ours(*net.bptt(p64, xs, ys, loss="mse", fast=True)),
            "f32": ours(*net.bptt(p32, x32, y32, loss="mse", fast=True))}
    impls = {"kernel_f64": lambda: net.bptt(p64, xs, ys, loss="mse", fast=True),
             "kernel_f32": lambda: net.bptt(p32, x32, y32, loss="mse", fast=True)}
    if H <= 128:
        ref = ours(*net.bptt(p64, xs, ys, loss="mse"))
        res["checks"]["kernel_f64_vs_numpy"] = check(f"{label} kernel f64 vs numpy", *mine["f64"], *ref, 1e-10)
        res["checks"]["kernel_f32_vs_numpy"] = check(f"{label} kernel f32 vs numpy", *mine["f32"], *ref, 1e-3)
        impls["numpy_f64"] = lambda: net.bptt(p64, xs, ys, loss="mse")
    if torch is not None:
        for dtype, tag in ((np.float64, "f64"), (np.float32, "f32")):
            step, result = torch_step(torch, module, net, xs, ys, dtype, grad_names)
            step()
            res["checks"][f"torch_{tag}_vs_kernel"] = check(f"{label} torch {tag} vs kernel", *mine[tag], *result(),
                                                            1e-10 if tag == "f64" else 1e-3)
            impls[f"torch_{tag}"] = step
    return time_case(res, impls, torch, n_gates, rounds=rounds, reps=reps, min_time=min_time)


def time_case(res: dict, impls: dict, torch, n_gates: int, *, rounds, reps, min_time) -> dict:
    """Time ``impls`` into ``res``: "ms" (medians), "cpu", "ratios", and at H >= 512 "gflops"
    and "gemm_gflops"."""
    H, B = res["H"], res["B"]
    with CpuMeter() as cm:
        t = time_rounds(impls, rounds=rounds, reps=reps, min_time=min_time)
    ms = res["ms"] = {k: v["median_s"] * 1e3 for k, v in t.items()}
    res["cpu"] = cm.result
    rt = res["ratios"] = {}
    if "numpy_f64" in ms:
        rt["kernel_vs_numpy_f64"] = ms["numpy_f64"] / ms["kernel_f64"]
    if torch is not None:
        rt["vs_torch_f64"] = ms["torch_f64"] / ms["kernel_f64"]
        rt["vs_torch_f32"] = ms["torch_f32"] / ms["kernel_f32"]
    if H >= 512:
        res["gflops"] = {tag: flops(H, B, n_gates) / (ms[f"kernel_{tag}"] * 1e-3) / 1e9 for tag in ("f64", "f32")}
        res["gemm_gflops"] = {"f64": gemm_rate(np.float64, B, H, n_gates), "f32": gemm_rate(np.float32, B, H, n_gates)}
    return res


def result_table(results: list[dict]) -> str:
    """One row per case: times, ratios, GFLOP/s against the GEMM rate, check error, machine load."""
    rows = []
    for r in results:
        rt = r["ratios"]
        gf = (f"{r['gflops']['f64']:.0f}/{r['gemm_gflops']['f64']:.0f} {r['gflops']['f32']:.0f}/"
              f"{r['gemm_gflops']['f32']:.0f}") if "gflops" in r else "-"
        rows.append([f"H={r['H']} B={r['B']}"] + [f"{r['ms'][c]:.3f}" if c in r["ms"] else "-" for c in COLUMNS]
                    + [f"{rt['kernel_vs_numpy_f64']:.1f}x" if "kernel_vs_numpy_f64" in rt else "-",
                       f"{rt.get('vs_torch_f64', float('nan')):.2f}x", f"{rt.get('vs_torch_f32', float('nan')):.2f}x",
                       gf, f"{max(r['checks'].values()):.1e}" if r["checks"] else "-", fmt_cpu(r["cpu"])])
    return table(["case"] + COLUMNS + ["vs numpy", "vs torch64", "vs torch32", "GFLOP/s kern/gemm f64 f32",
                                       "max rel err", "machine"], rows)
