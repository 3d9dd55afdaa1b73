"""Independent reference for scenario L2 (Hochreiter & Schmidhuber 1997, Exp. 2a, noise-free long lags): torch.

Written apart from the lab, float64 autograd. p + 1 one-hot symbols (x, y, a_1..a_{p-1});
the two sequences (x, a_1..a_{p-1}, x) and (y, a_1..a_{p-1}, y), each with probability 1/2;
the net reads the first p symbols and predicts the next one at every step. The net of the
L2 scenario: one 1997 cell with an input gate, no output gate, no forget gate, no biases,
no recurrent weights: c_t = c_{t-1} + i_t g_t, i_t = sigma(u_i . x_t), g_t = sigma(u_g . x_t),
outputs y_t = sigma(v c_t + S x_t) (the input -> output shortcut S); 10,504 trainable weights
for p = 100 as in the paper's Table 2. Init U(-0.2, 0.2), v = 0 held until the evaluation
error stalls (falls by less than 1 % from one check to the next: the cell "added once the
error stops decreasing"); E = 1/2 sum (y - t)^2 over the sequence, exact gradient, one
change per sequence at rate 1.0. Success: max |y - t| < 0.25 at every step of both
sequences, checked every 100 sequences. Not part of the test suite; needs torch. Run:
``python -m benchmarks.torch_reference.l2_noise_free P SEED... [--g-range LO HI] [--no-hold] [--lr LR]`` (one line per seed:
sequences to success or None within 60,000, and when the cell was added).
"""
import time

import numpy as np


def trial(p, seed, max_seq=60000, check_every=100, lr=1.0, stall_tol=0.01, g_range=(0.0, 1.0), hold_v=True):
    import torch
    rng = np.random.default_rng(seed)
    n = p + 1
    seqs = []
    for s in (0, 1):  # x, y
        sym = [s] + list(range(2, p + 1)) + [s]  # s, a_1..a_{p-1}, s (p + 1 symbols)
        x = torch.tensor(np.eye(n)[sym[:-1]])
        t = torch.tensor(np.eye(n)[sym[1:]])
        seqs.append((x, t))
    u = lambda *sh: torch.tensor(rng.uniform(-0.2, 0.2, sh), requires_grad=True)  # noqa: E731
    ui, ug, S = u(n), u(n), u(n, n)
    v = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    hold, added, prev = hold_v, None, None
    lo, hi = g_range

    def run(x):
        c = torch.cumsum(torch.sigmoid(x @ ui) * (lo + (hi - lo) * torch.sigmoid(x @ ug)), 0)  # (p,)
        return torch.sigmoid(c[:, None] * v[None, :] + x @ S.T)

    for k in range(1, max_seq + 1):
        x, t = seqs[rng.integers(2)]
        E = 0.5 * ((run(x) - t) ** 2).sum()
        for w in (ui, ug, S, v):
            w.grad = None
        E.backward()
        with torch.no_grad():
            for w in (ui, ug, S) + (() if hold else (v,)):
                w -= lr * w.grad
        if k % check_every == 0:
            with torch.no_grad():
                err = [run(x) - t for x, t in seqs]
                mse = float(sum((e ** 2).mean() for e in err) / 2)
                if max(float(e.abs().max()) for e in err) < 0.25:
                    return k, added
                if hold and prev is not None and prev - mse < stall_tol * prev:
                    hold, added = False, k
                prev = mse
    return None, added


if __name__ == "__main__":
    import argparse

    import torch
    torch.set_num_threads(1)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("p", type=int)
    ap.add_argument("seeds", type=int, nargs="+")
    ap.add_argument("--g-range", type=float, nargs=2, default=(0.0, 1.0), help="cell input squash range (paper: -2 2)")
    ap.add_argument("--no-hold", action="store_true", help="the cell's output weights train from the start")
    ap.add_argument("--lr", type=float, default=1.0)
    a = ap.parse_args()
    for sd in a.seeds:
        t0 = time.time()
        done, added = trial(a.p, sd, g_range=tuple(a.g_range), hold_v=not a.no_hold, lr=a.lr)
        print(sd, done, "cell added at", added, f"{time.time() - t0:.0f} s", flush=True)
