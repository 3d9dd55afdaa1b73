r"""Numba: the output layer's loss and dL/dz on the logits, shared by the LSTM and RNN kernels.

For logit rows z = Z[r] + c and targets t = yf[r] (the conventions of
:func:`sim.train.output_loss`, fused on the logits; ``code`` as ``LOSS_CODES`` of
:mod:`nets._kernels.lstm`), the unscaled loss sum and, with ``scale`` = 1/n (mean) or 1 (sum),

    0  MSE, identity output:   sum (z - t)^2,                        dz = 2 scale (z - t)
    3  MSE of y = sigma(z):    sum (y - t)^2,                        dz = 2 scale (y - t) y (1 - y)
    1  BCE, sigmoid output:    sum softplus(z) - t z,                dz = scale (sigma(z) - t)
    2  CE, softmax output:     sum_rows logsumexp(z) sum(t) - t . z, dz = scale (softmax(z) sum(t) - t)

Twin: :func:`sim.train.output_loss` (the kernels' agreement tests run through it).
"""
from __future__ import annotations

import math

from sim.jit import fma_kernel

from .vecmath import sigmoid as _sig


@fma_kernel
def logits_loss(Z, c, yf, scale, code, dc):
    """Unscaled loss of the rows of Z (R, K) (+ c) against yf (R, K); Z becomes dL/dz, dc = sum_r dL/dz."""
    R, K = Z.shape
    loss = 0.0
    for r in range(R):
        for k in range(K):
            Z[r, k] += c[k]
        if code == 0:
            for k in range(K):
                e = Z[r, k] - yf[r, k]
                loss += e * e
                Z[r, k] = 2.0 * scale * e
        elif code == 3:
            for k in range(K):
                y = _sig(Z[r, k])
                e = y - yf[r, k]
                loss += e * e
                Z[r, k] = 2.0 * scale * e * y * (1.0 - y)
        elif code == 1:
            for k in range(K):
                z = Z[r, k]
                loss += max(z, 0.0) + math.log1p(math.exp(-abs(z))) - yf[r, k] * z
                Z[r, k] = scale * (_sig(z) - yf[r, k])
        else:
            zmax = Z[r, 0]
            for k in range(1, K):
                zmax = max(zmax, Z[r, k])
            se = 0.0
            ty = 0.0
            tz = 0.0
            for k in range(K):
                se += math.exp(Z[r, k] - zmax)
                ty += yf[r, k]
                tz += yf[r, k] * Z[r, k]
            loss += (zmax + math.log(se)) * ty - tz
            for k in range(K):
                Z[r, k] = scale * (math.exp(Z[r, k] - zmax) / se * ty - yf[r, k])
    for k in range(K):
        dc[k] = 0.0
    for r in range(R):
        for k in range(K):
            dc[k] += Z[r, k]
    return loss
