"""Numba rollout of binary-unit attractor nets with cached local fields.

The kernel keeps ``h = W s`` up to date: when unit i changes by ``d`` every field moves by
``d * W[:, i]`` (a row of ``Wt = W.T``), O(N) per *flip* instead of O(N) per *visit*.
A group's new values are all computed from the state before the group (a group is a
synchronous update), then applied. Twin: :meth:`nets.hopfield.Hopfield.step`.

Flips are applied to ``h`` four rows at a time (:func:`add_rows`, also used to build
``h``): one pass over ``h`` per four rows of ``Wt`` instead of one per row, and four
memory streams instead of one, which cuts a sweep by about a third once W has left the
cache. Until a batch is full its flips are *pending*: the field of a unit visited
meanwhile is ``h[i] + sum_p d_p Wt[k_p, i]`` over the pending flips k_p. For
integer-valued W (Hebbian couplings) every partial sum is an exact integer, so the fields,
and hence every decision, are those of the reference whatever the order of summation. For
other W every code path (the reference's BLAS included) rounds differently; a decision
can differ only for a field within rounding error of zero.
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import kernel

_BATCH = 4  # flips applied to h per pass (add_rows handles four rows per pass)


@kernel
def add_rows(Wt, rows, coef, n, h):
    """h += sum_{p < n} coef[p] * Wt[rows[p]], four rows per pass over h.

    Parameters
    ----------
    Wt : (N, N) float64
    rows : (>= n,) int64, coef : (>= n,) float64
    n : int
    h : (N,) float64, updated in place
    """
    N = h.shape[0]
    p = 0
    while p + 4 <= n:
        c0, c1, c2, c3 = coef[p], coef[p + 1], coef[p + 2], coef[p + 3]
        r0, r1, r2, r3 = Wt[rows[p]], Wt[rows[p + 1]], Wt[rows[p + 2]], Wt[rows[p + 3]]
        for m in range(N):
            h[m] += (c0 * r0[m] + c1 * r1[m]) + (c2 * r2[m] + c3 * r3[m])
        p += 4
    if p + 2 <= n:
        c0, c1 = coef[p], coef[p + 1]
        r0, r1 = Wt[rows[p]], Wt[rows[p + 1]]
        for m in range(N):
            h[m] += c0 * r0[m] + c1 * r1[m]
        p += 2
    if p < n:
        c0 = coef[p]
        r0 = Wt[rows[p]]
        for m in range(N):
            h[m] += c0 * r0[m]


@kernel
def fields(Wt, s, h):
    """h[j] = sum_i Wt[i, j] s[i] = (W s)[j], over the rows with s[i] != 0 (exact for integer W)."""
    N = s.shape[0]
    rows = np.empty(N, dtype=np.int64)
    coef = np.empty(N)
    n = 0
    for i in range(N):
        if s[i] != 0:
            rows[n] = i
            coef[n] = s[i]
            n += 1
    for j in range(N):
        h[j] = 0.0
    add_rows(Wt, rows, coef, n, h)


@kernel
def serial_rollout(p, s, h, drive, out, ctrl):
    """Run ``order.shape[0]`` ticks of grouped updates in place.

    Parameters
    ----------
    p : (Wt (N, N) float64, theta (N,) float64, consts (3,) float64 = [scale, lo, gain])
        Field ``f_i = scale * h_i - theta_i``; ``lo`` is the off value (-1 spin, 0 binary);
        the heat-bath probability of the on value is ``1 / (1 + exp(-gain * f_i / T))``.
    s : (N,) int8, h : (N,) float64
        State and its cached field ``W s`` (on entry); both updated in place. On return
        ``h`` may lack up to three pending flips (callers rebuild it with :func:`fields`).
    drive : (order (n, L) int32, ptr (G+1,) int64, u (n, L) float64, T (n,) float64)
    out : (tick_states (n, N) int8, micro_states (M, N) int8, micro_at (M,) int64)
    ctrl : (5,) int64 = [micro_every, phase, stop_fixed, micro_written (out), ticks_done (out)]
    """
    Wt, theta, consts = p
    order, ptr, u, T = drive
    tick_states, micro_states, micro_at = out
    scale, lo, gain = consts[0], consts[1], consts[2]
    micro_every, phase, stop_fixed = ctrl[0], ctrl[1], ctrl[2]
    n_ticks = order.shape[0]
    G = ptr.shape[0] - 1
    N = s.shape[0]
    new = np.empty(order.shape[1], dtype=np.int8)
    pend = np.empty(_BATCH, dtype=np.int64)   # units flipped since h was last brought up to date
    dpend = np.empty(_BATCH)                  # and their changes
    n_pend = 0
    n_micro = 0
    done = 0
    for k in range(n_ticks):
        Tk = T[k]
        flips = 0
        for g in range(G):
            a, b = ptr[g], ptr[g + 1]
            for j in range(a, b):
                i = order[k, j]
                hi = h[i]
                for q in range(n_pend):
                    hi += dpend[q] * Wt[pend[q], i]
                f = scale * hi - theta[i]
                if Tk > 0.0:
                    x = gain * f / Tk
                    x = min(max(x, -700.0), 700.0)
                    p_on = 1.0 / (1.0 + math.exp(-x))
                    new[j] = 1 if u[k, j] < p_on else lo
                elif f > 0.0:
                    new[j] = 1
                elif f < 0.0:
                    new[j] = lo
                else:
                    new[j] = s[i]
            for j in range(a, b):
                i = order[k, j]
                d = new[j] - s[i]
                if d != 0:
                    s[i] = new[j]
                    pend[n_pend] = i
                    dpend[n_pend] = d
                    n_pend += 1
                    if n_pend == _BATCH:
                        add_rows(Wt, pend, dpend, n_pend, h)
                        n_pend = 0
                    flips += 1
            if micro_every > 0:
                phase += 1
                if phase == micro_every:
                    phase = 0
                    micro_states[n_micro] = s
                    micro_at[n_micro] = k * G + g + 1
                    n_micro += 1
        tick_states[k] = s
        done = k + 1
        if stop_fixed != 0 and flips == 0 and Tk == 0.0:
            add_rows(Wt, pend, dpend, n_pend, h)
            n_pend = 0
            fixed = True
            for i in range(N):
                f = scale * h[i] - theta[i]
                if (f > 0.0 and s[i] != 1) or (f < 0.0 and s[i] != lo):
                    fixed = False
                    break
            if fixed:
                break
    ctrl[1] = phase
    ctrl[3] = n_micro
    ctrl[4] = done
