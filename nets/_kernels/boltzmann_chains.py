r"""Numba kernel: sequential Gibbs sweeps of C independent chains of one Boltzmann machine.

State S (C, N) of 0/1 units, cached fields H = S W (C, N) (biases not included). A sweep
visits the units in index order; unit i is updated in all C chains before unit i + 1
(so the weights W[i] are read once per unit for every chain), with the heat-bath rule at
inverse temperature beta = 1/T:

    x = beta (H[c, i] + b_i),   s_c,i <- [u_c,i < sigma(x)].

**Decision without division or ``math.exp``** (DESIGN.md section 7). With
e = exp(-|x|) computed by :func:`nets._kernels.vecmath.exp_neg` (branch-free plain arithmetic: exp(-|x|/256) by
a degree-11 Taylor polynomial, then eight squarings; relative error < 1e-13 for
|x| <= 40; |x| is clamped at 350), sigma(x) = 1/(1+e) for x >= 0 and e/(1+e) for x < 0, so

    u < sigma(x)   <=>   u (1 + e) < (1 if x >= 0 else e).

LLVM vectorises this over the C chains of one unit (``math.exp`` is a scalar call here).

**Blocked field updates.** Units are processed in blocks of K (the width of ``D``). A flip
d = s_new - s_old of unit i in chain c is added at once to the fields of the *same block*
(H[c, j] += d W[i, j], j in the block, the only fields read before the block ends) and
recorded in D[c, i - i0]; after the block, the other fields get all the block's flips in
one matrix product H[:, outside] += (D W[block])[:, outside] (BLAS ``np.dot``: about N C
multiply-adds per unit, but at matrix-product speed instead of ~0.45 C row updates of N
per unit that are bound by cache bandwidth). With K >= N there is one block and no
product (pure flip updates). ``Wp`` is W padded with zero rows to a multiple of K.

**Chains in groups** (:func:`gibbs_groups`): the chains run in fixed groups of G, one
group after the other (the fields of a group stay in cache). Not in parallel: a
``prange`` over groups that each call BLAS nests numba's threads inside OpenBLAS's and
ran 10x *slower* than one thread on the shared 2-core machine [measured: 226 against
2,900 chain-sweeps/s of numpy at N = 1000, C = 128, 2 threads].

Twin: :func:`nets.boltzmann_chains.gibbs_sweeps_reference` (numpy, the same operations
in the same order; its matrix product is numpy's BLAS, so fields agree to rounding, and
identical uniforms give identical states unless a uniform lies within ~1e-15 of its
probability). The exact check: tests/test_boltzmann_chains.py compares the visible
distribution of many chains with the enumerated one.
"""
from __future__ import annotations

import numpy as np

from sim.jit import kernel

from .vecmath import exp_neg


@kernel
def _decide(x, u, so, d):
    """d[c] = s_new - s_old for the C chains of one unit: contiguous loops that vectorise."""
    for c in range(x.shape[0]):
        xc = x[c]
        e = exp_neg(abs(xc))
        rhs = 1.0 if xc >= 0.0 else e
        d[c] = (1.0 if u[c] * (1.0 + e) < rhs else 0.0) - so[c]


@kernel
def gibbs_sweeps(Wp, b, S, H, U, beta, c0, work):
    """``U.shape[0]`` sequential Gibbs sweeps of the C chains, in place on S and H.

    The chains are chains c0 .. c0 + C - 1 of the uniforms U (a group of a larger set).

    Parameters
    ----------
    Wp : (M, N) float64
        Symmetric couplings W (zero diagonal) padded with zero rows to M = K ceil(N / K).
    b : (N,) float64
        Biases.
    S : (C, N) int8
        States in {0, 1} (in/out).
    H : (C, N) float64
        Fields S W (in/out; kept up to date).
    U : (n, N, C_all) float64
        Uniforms: U[k, i, c0 + c] for unit i of chain c in sweep k.
    beta : (n,) float64
        Inverse temperature of each sweep.
    c0 : int
        Offset of these chains in U.
    work : (D (C, K), tmp (C, N), x (C,), so (C,), d (C,)) float64
        Scratch: the flips of the current block (K = block width), the block's matrix
        product (unused when K >= N), and one unit's fields, old states and flips.
    """
    D, tmp, x, so, d = work
    C, N = S.shape
    K = D.shape[1]
    for k in range(U.shape[0]):
        bt = beta[k]
        for i0 in range(0, N, K):
            m = min(K, N - i0)
            for c in range(C):
                for q in range(K):
                    D[c, q] = 0.0
            for q in range(m):
                i = i0 + q
                bi = b[i]
                for c in range(C):
                    x[c] = (H[c, i] + bi) * bt
                    so[c] = S[c, i]
                _decide(x, U[k, i, c0:c0 + C], so, d)
                Wi = Wp[i, i0:i0 + m]
                for c in range(C):
                    dc = d[c]
                    if dc != 0.0:
                        D[c, q] = dc
                        S[c, i] = 1 - S[c, i]
                        Hc = H[c, i0:i0 + m]
                        for j in range(m):
                            Hc[j] += dc * Wi[j]
            if m < N:
                np.dot(D, Wp[i0:i0 + K], tmp)
                for c in range(C):
                    for j in range(i0):
                        H[c, j] += tmp[c, j]
                    for j in range(i0 + m, N):
                        H[c, j] += tmp[c, j]


@kernel
def gibbs_groups(Wp, b, S, H, U, beta, G, K):
    """:func:`gibbs_sweeps` on groups of G chains (rows g G .. g G + G - 1 of S), one after the other.

    Scratch is allocated per group, outside the sweeps.
    """
    C, N = S.shape
    n_groups = (C + G - 1) // G
    for g in range(n_groups):
        c0 = g * G
        c1 = min(C, c0 + G)
        Cg = c1 - c0
        work = (np.zeros((Cg, K)), np.zeros((Cg, N)), np.zeros(Cg), np.zeros(Cg), np.zeros(Cg))
        gibbs_sweeps(Wp, b, S[c0:c1], H[c0:c1], U, beta, c0, work)
