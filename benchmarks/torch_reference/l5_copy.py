"""Independent reference for scenario L5 (the copying memory task, Arjovsky, Shah & Bengio 2016): torch.

torch.nn.LSTM / nn.GRU + nn.Linear in float32 on the copy task re-implemented here (10 data
symbols from 8, T - 1 blanks, the delimiter, 10 blanks; targets T + 10 blanks then the data;
softmax cross-entropy over all T + 20 steps, baseline 10 ln 8 / (T + 20)), fresh batches,
gradient norm clipped to 1, torch's default init with the LSTM forget-gate bias set
(bias_ih) and bias_hh's forget rows zeroed; 500 held-out test sequences; ce / baseline printed
at ten points. Not part of the test suite; needs torch. Run:
``python -m benchmarks.torch_reference.l5_copy T KIND H UPDATES OPTIMIZER LR FORGET_BIAS SEED``
(e.g. ``100 lstm 64 2000 rmsprop 0.001 1 0``: the L5 setting; RMSprop's alpha is torch's 0.99,
the lab's rho is 0.9). Measured [2026-11-22]: see the L5 scenario notes.
"""
import math
import sys
import time

import numpy as np


def main(argv):
    import torch
    torch.set_num_threads(1)
    T, kind, H, updates = int(argv[0]), argv[1], int(argv[2]), int(argv[3])
    opt_name, lr, fb, seed = argv[4], float(argv[5]), float(argv[6]), int(argv[7])
    B, A, L = 64, 10, T + 20
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)

    def batch(n):
        data = rng.integers(1, 9, size=(10, n))
        sx = np.zeros((L, n), np.int64)
        sx[:10] = data
        sx[9 + T] = 9
        sy = np.zeros((L, n), np.int64)
        sy[T + 10:] = data
        return torch.tensor(np.eye(A, dtype=np.float32)[sx]), torch.tensor(sy)

    rnn = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(A, H)
    out = torch.nn.Linear(H, A)
    if kind == "lstm":
        with torch.no_grad():
            rnn.bias_ih_l0[H:2 * H] = fb
            rnn.bias_hh_l0[H:2 * H] = 0.0
    params = list(rnn.parameters()) + list(out.parameters())
    opt = torch.optim.Adam(params, lr=lr) if opt_name == "adam" else torch.optim.RMSprop(params, lr=lr)
    base = 10 * math.log(8) / L
    xt, yt = batch(500)
    t0 = time.time()
    for u in range(1, updates + 1):
        x, y = batch(B)
        h, _ = rnn(x)
        loss = torch.nn.functional.cross_entropy(out(h).reshape(-1, A), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if u % max(1, updates // 10) == 0:
            with torch.no_grad():
                h, _ = rnn(xt)
                ce = torch.nn.functional.cross_entropy(out(h).reshape(-1, A), yt.reshape(-1)).item()
            print(f"{u} ce_ratio {ce / base:.3f}", flush=True)
    print(f"time {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
