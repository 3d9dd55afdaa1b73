"""Numba rollout of binary-unit attractor nets with cached local fields.

The kernel keeps ``h = W s`` up to date: when unit i changes by ``d`` every field moves by
``d * W[:, i]`` (a row of ``Wt = W.T``), O(N) per *flip* instead of O(N) per *visit*.
A group's new values are all computed from the state before the group (a group is a
synchronous update), then applied. Twin: :meth:`nets.hopfield.Hopfield.step`.
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import kernel


@kernel
def fields(Wt, s, h):
    """h[j] = sum_i Wt[i, j] s[i] = (W s)[j], accumulated row by row (exact for integer W)."""
    N = s.shape[0]
    for j in range(N):
        h[j] = 0.0
    for i in range(N):
        si = s[i]
        if si != 0:
            row = Wt[i]
            for j in range(N):
                h[j] += si * row[j]


@kernel
def serial_rollout(p, s, h, drive, out, ctrl):
    """Run ``order.shape[0]`` ticks of grouped updates in place.

    Parameters
    ----------
    p : (Wt (N, N) float64, theta (N,) float64, consts (3,) float64 = [scale, lo, gain])
        Field ``f_i = scale * h_i - theta_i``; ``lo`` is the off value (-1 spin, 0 binary);
        the heat-bath probability of the on value is ``1 / (1 + exp(-gain * f_i / T))``.
    s : (N,) int8, h : (N,) float64
        State and its cached field ``W s``; both updated in place.
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
    n_micro = 0
    done = 0
    for k in range(n_ticks):
        Tk = T[k]
        flips = 0
        for g in range(G):
            a, b = ptr[g], ptr[g + 1]
            for j in range(a, b):
                i = order[k, j]
                f = scale * h[i] - theta[i]
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
                    row = Wt[i]
                    for m in range(N):
                        h[m] += d * row[m]
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
