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
* :func:`sigmoid32`, :func:`tanh32` -- the same two in float32 arithmetic (float32 constants
  throughout, so LLVM keeps twice as many lanes per vector as in float64), from
  :func:`_expm1_parts32`: v >= 0 is split as v = n ln2 + r (Cody-Waite: ln2 in a high part
  with 9 significant bits, so n ln2_hi is exact, and a low part), |r| <= ln2 / 2;
  expm1(-r) by its degree-7 Taylor polynomial (truncation < 1.6e-8 relative); 2^-n exact,
  as a product of the powers selected by n's seven bits (branch-free selects, n <= 126:
  v is clamped at 87, where exp(-v) is still a normal float32). Then exp(-v) - 1 =
  2^-n expm1(-r) + (2^-n - 1), with no cancellation, so tanh keeps a relative error near 0.
  Against float64 references over 3e5 float32 arguments: sigmoid32 <= 2.2 ulp for
  |x| < 86 (numpy's float32 1 / (1 + exp(-x)): 3.1), tanh32 <= 2.5 ulp (np.tanh float32:
  1.3) [measured; tests/test_vecmath.py checks <= 3 ulp on 2e5 others]; sigma(x) is exactly 0 below x = -87 (exp(-87) =
  1.6e-38; numpy's float32 formula reaches 0 at -88.7). 409,600 calls over float32
  arrays: sigmoid32 0.31 ms, tanh32 0.38 ms, against 0.63 and 0.82 ms for the float64
  functions on the same float32 arrays [measured].
* :func:`sigmoid_t`, :func:`tanh_t` -- either pair by the argument's type (a numba
  ``overload``): float32 -> :func:`sigmoid32` / :func:`tanh32`, otherwise the float64
  functions. The kernels that are generic in the float type call these, so their float32
  specialisations compute the gates in float32; their arguments must then be float32
  expressions (a float64 literal or a float64 constant in the expression promotes them).
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
from numba.core import types
from numba.extending import overload

from sim.jit import fma_kernel, vector_kernel

__all__ = ["exp_neg", "sigmoid", "tanh", "sigmoid32", "tanh32", "sigmoid_t", "tanh_t", "product", "weight_gradient"]

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


F32 = np.float32
_LOG2E32 = F32(1.4426950408889634)
_LN2_HI32 = F32(0.693359375)      # 355 / 512: n * _LN2_HI32 is exact for n < 2^15
_LN2_LO32 = F32(-2.12194440e-4)   # ln 2 - _LN2_HI32
_D2, _D3, _D4 = F32(1.0 / 2.0), F32(1.0 / 6.0), F32(1.0 / 24.0)
_D5, _D6, _D7 = F32(1.0 / 120.0), F32(1.0 / 720.0), F32(1.0 / 5040.0)
_ONE32, _HALF32 = F32(1.0), F32(0.5)


@vector_kernel
def _expm1_parts32(v):
    """(s, q) with exp(-v) - 1 = s q + (s - 1): s = 2^-n exact, q = expm1(-r); float32 v in [0, 87]."""
    n = np.int32(v * _LOG2E32 + _HALF32)
    fn = np.float32(n)
    y = (fn * _LN2_HI32 - v) + fn * _LN2_LO32  # -r, |r| <= ln 2 / 2 (+ rounding)
    q = y * (_ONE32 + y * (_D2 + y * (_D3 + y * (_D4 + y * (_D5 + y * (_D6 + y * _D7))))))
    s = _ONE32
    s = s * (F32(2.0 ** -1) if (n & 1) != 0 else _ONE32)
    s = s * (F32(2.0 ** -2) if (n & 2) != 0 else _ONE32)
    s = s * (F32(2.0 ** -4) if (n & 4) != 0 else _ONE32)
    s = s * (F32(2.0 ** -8) if (n & 8) != 0 else _ONE32)
    s = s * (F32(2.0 ** -16) if (n & 16) != 0 else _ONE32)
    s = s * (F32(2.0 ** -32) if (n & 32) != 0 else _ONE32)
    s = s * (F32(2.0 ** -64) if (n & 64) != 0 else _ONE32)
    return s, q


@vector_kernel
def sigmoid32(x):
    """sigma(x) of a float32 in float32 arithmetic, branch-free; exactly 0 / 1 beyond |x| = 87."""
    ax = abs(x)
    s, q = _expm1_parts32(min(ax, F32(87.0)))
    e = s * q + s  # exp(-|x|)
    e = e if ax <= F32(87.0) else F32(0.0)
    sg = x / max(ax, F32(1e-30))  # sign of x (0 at 0)
    return (_HALF32 * (_ONE32 + sg) + _HALF32 * (_ONE32 - sg) * e) / (_ONE32 + e)


@vector_kernel
def tanh32(x):
    """tanh(x) of a float32 in float32 arithmetic, branch-free; |x| clamped at 9 (tanh = 1 in float32)."""
    ax = abs(x)
    s, q = _expm1_parts32(min(ax, F32(9.0)) * F32(2.0))
    m = s * q + (s - _ONE32)  # expm1(-2|x|)
    sg = x / max(ax, F32(1e-30))
    return sg * (-m) / (F32(2.0) + m)


def sigmoid_t(x):
    """sigma(x) in the float type of x (numba: :func:`sigmoid32` for float32, else :func:`sigmoid`)."""
    return 1.0 / (1.0 + np.exp(-x))


def tanh_t(x):
    """tanh(x) in the float type of x (numba: :func:`tanh32` for float32, else :func:`tanh`)."""
    return np.tanh(x)


def _is_f32(x) -> bool:
    return isinstance(x, types.Float) and x.bitwidth == 32


@overload(sigmoid_t)
def _sigmoid_t(x):
    return (lambda x: sigmoid32(x)) if _is_f32(x) else (lambda x: sigmoid(x))


@overload(tanh_t)
def _tanh_t(x):
    return (lambda x: tanh32(x)) if _is_f32(x) else (lambda x: tanh(x))


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
