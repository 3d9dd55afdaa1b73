"""Numba rollout of the continuous (graded-response) Hopfield net, explicit Euler steps.

For each group of units (one group with every unit for ``schedule = "sync"``) the new
potentials are computed from the outputs before the group, then applied:

    u_i <- u_i + dt * ( sum_j W_ij V_j + I_i - u_i / tau ),    V_j = tanh(gain * u_j).

Twin: :meth:`nets.hopfield_continuous.HopfieldContinuous.step`. The kernel sums
``W_ij V_j`` in index order, the twin with BLAS; they agree to rounding (1e-12 over the
conformance runs). ``math.tanh`` is scalar here (no SVML): it costs N calls per tick
against N^2 multiply-adds for the field, a small share once N >= 100.
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import kernel


@kernel
def euler_rollout(p, u, drive, out, ctrl):
    """Run ``order.shape[0]`` ticks of grouped Euler updates in place on ``u``.

    Parameters
    ----------
    p : (W (N, N), Wt = W.T (N, N) C-contiguous, I (N,), consts (3,) = [gain, tau, dt]), float64
    u : (N,) float64
        Potentials; updated in place.
    drive : (order (n, L) int32, ptr (G+1,) int64)
        Update order of each tick and its group boundaries.
    out : (tick_states (n, N) float64, micro_states (M, N) float64, micro_at (M,) int64)
    ctrl : (3,) int64 = [micro_every, phase (in/out), micro_written (out)]
    """
    W, Wt, I, consts = p
    order, ptr = drive
    tick_states, micro_states, micro_at = out
    gain, tau, dt = consts[0], consts[1], consts[2]
    micro_every, phase = ctrl[0], ctrl[1]
    n_ticks = order.shape[0]
    G = ptr.shape[0] - 1
    N = u.shape[0]
    V = np.empty(N)
    h = np.empty(N)
    new = np.empty(order.shape[1])
    for m in range(N):
        V[m] = math.tanh(gain * u[m])
    n_micro = 0
    for k in range(n_ticks):
        for g in range(G):
            a, b = ptr[g], ptr[g + 1]
            if b - a == N:
                # every unit at once: h = W V column by column (a vectorisable axpy; each
                # h_i is summed over m in index order, as in the row dot product below)
                for i in range(N):
                    h[i] = 0.0
                for m in range(N):
                    vm = V[m]
                    for i in range(N):
                        h[i] += Wt[m, i] * vm
                for j in range(a, b):
                    i = order[k, j]
                    new[j] = u[i] + dt * (h[i] + I[i] - u[i] / tau)
            else:
                for j in range(a, b):
                    i = order[k, j]
                    acc = 0.0
                    for m in range(N):
                        acc += W[i, m] * V[m]
                    new[j] = u[i] + dt * (acc + I[i] - u[i] / tau)
            for j in range(a, b):
                i = order[k, j]
                u[i] = new[j]
                V[i] = math.tanh(gain * new[j])
            if micro_every > 0:
                phase += 1
                if phase == micro_every:
                    phase = 0
                    micro_states[n_micro] = u
                    micro_at[n_micro] = k * G + g + 1
                    n_micro += 1
        tick_states[k] = u
    ctrl[1] = phase
    ctrl[2] = n_micro
