r"""Branch-free, vectorisable scalar math shared by the numba kernels (DESIGN.md section 7).

``math.exp`` / ``math.tanh`` are scalar library calls inside numba loops; LLVM cannot
vectorise a loop that contains them. The functions here are plain arithmetic without
data-dependent branches, so a loop over a contiguous row that calls them (they inline)
vectorises, provided the caller is compiled with :func:`sim.jit.vector_kernel` (numpy's
error model: no ZeroDivisionError branch before each division; every divisor below is
>= 1).

* :func:`exp_neg` -- exp(-u) for u >= 0: exp(-u/256) by its degree-11 Taylor polynomial
  (|u/256| <= 1.37, truncation < 1e-16 relative for u <= 40), then eight squarings
  (p <- p^2, exact power of two of the argument's scale). Relative error < 1e-13 for
  u <= 40; u is clamped at 350 (only results below 4e-18 are affected).
  Bit-for-bit twin in numpy: :func:`nets.boltzmann_chains._exp_neg` (same operations,
  same order; tests/test_boltzmann_chains.py).
* :func:`sigmoid` -- sigma(x) = (1 or e) / (1 + e) with e = exp(-|x|): no overflow; the
  choice of numerator is made with the sign s = x / max(|x|, 1e-300) instead of a branch:
  (0.5 (1 + s) + 0.5 (1 - s) e) / (1 + e), which is exactly 1/(1+e) for x > 0, e/(1+e)
  for x < 0 and 1/2 at 0; beyond |x| = 708 e is set to 0, so sigma saturates to exactly
  0 and 1 as numpy's 1 / (1 + exp(-x)) does (the GRU gate limits rely on it).
* :func:`tanh` -- tanh(x) = sign(x) * (-m) / (2 + m), m = expm1(-2|x|): m by the Taylor
  polynomial of expm1 at -2|x|/256, then eight doublings m <- m (m + 2)
  (expm1(2y) = expm1(y) (expm1(y) + 2)); |x| clamped at 20, where tanh rounds to 1 (a
  larger clamp sticks at m = -1 + 2^-53, one ulp short). No cancellation near 0, so
  the error is relative (<= ~10 ulp of np.tanh, tests/test_vecmath.py). Finite x only
  (sigmoid and tanh of +-inf are nan: the sign is x / |x|).
* :func:`product` -- out (B, N) = X (B, K) @ M (K, N): BLAS ``np.dot`` for B >= 8, else a
  loop nest over contiguous rows of M, four rows per pass (for a few rows a BLAS call
  costs more than its arithmetic, ~1 us, and a threaded BLAS must wake its threads),
  compiled with fused multiply-adds (:func:`sim.jit.fma_kernel`). exp_neg, sigmoid and
  tanh round every operation as numpy does (:func:`sim.jit.vector_kernel`): the Gibbs
  samplers' numpy twins repeat exp_neg bit for bit.

* :func:`weight_gradient` -- out (N, K) = D^T X for D (R, N), X (R, K) (a weight gradient
  summed over all R = T*B rows), computed as (X^T D)^T for R >= 512: OpenBLAS is slower
  on D^T X at many rows, and the transposed store costs more than it saves at few
  [measured, one thread, N = 512, ms for D^T X / (X^T D)^T: K = 128: R = 100 0.30/0.44,
  R = 800 2.38/2.30, R = 3,200 11.4/9.5; K = 16: R = 3,200 3.3/1.8].

Users: nets/_kernels/{lstm,gru,rnn_bptt,jordan,rbm,boltzmann_chains}.py. An edit here
recompiles them (the cache key carries a hash of every kernel module: sim/jit.py).
"""
from __future__ import annotations

import numpy as np

from sim.jit import fma_kernel, vector_kernel

__all__ = ["exp_neg", "sigmoid", "tanh", "product"]

# Taylor coefficients 1/k! (compile-time constants)
_C2, _C3, _C4, _C5, _C6 = 1.0 / 2.0, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0
_C7, _C8, _C9, _C10, _C11 = 1.0 / 5040.0, 1.0 / 40320.0, 1.0 / 362880.0, 1.0 / 3628800.0, 1.0 / 39916800.0
_C12 = 1.0 / 479001600.0


@vector_kernel
def exp_neg(u):
    """exp(-u) for u >= 0 in branch-free arithmetic; u is clamped at 350."""
    u = min(u, 350.0)
    y = u * -0.00390625                     # -u / 256 (exact)
    p = 1.0 + y * (1.0 + y * (_C2 + y * (_C3 + y * (_C4 + y * (_C5 + y * (
        _C6 + y * (_C7 + y * (_C8 + y * (_C9 + y * (_C10 + y * _C11))))))))))
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p


@vector_kernel
def sigmoid(x):
    """sigma(x) = 1 / (1 + exp(-x)) without overflow or branch."""
    ax = abs(x)
    e = exp_neg(ax)
    e = e if ax <= 708.0 else 0.0  # saturate exactly to 0 / 1 as numpy does (a select, no branch)
    s = x / max(ax, 1e-300)  # sign of x (0 at 0)
    return (0.5 * (1.0 + s) + 0.5 * (1.0 - s) * e) / (1.0 + e)


@vector_kernel
def tanh(x):
    """tanh(x) from expm1(-2|x|) in branch-free arithmetic (relative error ~1e-15)."""
    ax = abs(x)
    y = min(ax, 20.0) * -0.0078125          # -2|x| / 256 (exact); tanh(20) = 1 in float64
    m = y * (1.0 + y * (_C2 + y * (_C3 + y * (_C4 + y * (_C5 + y * (_C6 + y * (
        _C7 + y * (_C8 + y * (_C9 + y * (_C10 + y * (_C11 + y * _C12)))))))))))
    m = m * (m + 2.0)
    m = m * (m + 2.0)
    m = m * (m + 2.0)
    m = m * (m + 2.0)
    m = m * (m + 2.0)
    m = m * (m + 2.0)
    m = m * (m + 2.0)
    m = m * (m + 2.0)
    s = x / max(ax, 1e-300)  # sign of x (0 at 0)
    return s * (-m) / (2.0 + m)


@fma_kernel
def product(X, M, out):
    """out (B, N) = X (B, K) @ M (K, N): BLAS for B >= 8, else a loop nest over rows of M."""
    B, K = X.shape
    N = M.shape[1]
    if B >= 8:
        np.dot(X, M, out)
    else:
        K4 = K - K % 4
        for bb in range(B):  # no row views here: each would cost a reference count per k
            for j in range(N):
                out[bb, j] = 0.0
            for k in range(0, K4, 4):  # four rows of M per pass over out: a quarter of the stores
                x0 = X[bb, k]
                x1 = X[bb, k + 1]
                x2 = X[bb, k + 2]
                x3 = X[bb, k + 3]
                for j in range(N):
                    out[bb, j] += x0 * M[k, j] + x1 * M[k + 1, j] + x2 * M[k + 2, j] + x3 * M[k + 3, j]
            for k in range(K4, K):
                xk = X[bb, k]
                for j in range(N):
                    out[bb, j] += xk * M[k, j]


@fma_kernel
def weight_gradient(D, X, out):
    """out (N, K) = D (R, N)^T @ X (R, K) (C-contiguous D and X)."""
    if D.shape[0] >= 512:
        out[:, :] = np.dot(X.T, D).T
    else:
        out[:, :] = np.dot(D.T, X)
