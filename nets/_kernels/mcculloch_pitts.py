"""Numba rollout of McCulloch-Pitts threshold units (twin: :meth:`nets.perceptron.McCullochPitts.step`).

Unit i fires at t+1 iff no inhibitory synapse onto it is active at t and the number of
active excitatory synapses (counted with multiplicity) reaches its threshold theta_i.
Integer arithmetic throughout, so the kernel and the twin agree bit for bit.
"""
from __future__ import annotations

from sim.jit import kernel


@kernel
def rollout(p, s, plan, xs, out, ctrl):
    """Run ``order.shape[0]`` ticks in place on ``s``.

    Parameters
    ----------
    p : (W (N, N) int64, U (N, I) int64, Wi (N, N) int8, Ui (N, I) int8, theta (N,) int64)
        Excitatory synapse counts from units and inputs, inhibitory masks, thresholds.
    s : (N,) int8, 0/1, updated in place
    plan : (order (n, L) int32, ptr (G+1,) int64)
        Update order of each tick and the group boundaries (a group updates together).
    xs : (n, I) int8 inputs, one row per tick (I may be 0)
    out : (ticks (n, N) int8, micro (M, N) int8, micro_at (M,) int64, buf (N,) int8)
    ctrl : (3,) int64
        [micro_every, phase, n_micro]; phase and n_micro are written back.
    """
    W, U, Wi, Ui, theta = p
    order, ptr = plan
    ticks, micro, micro_at, buf = out
    micro_every = ctrl[0]
    phase = ctrl[1]
    n_micro = 0
    N = s.shape[0]
    I = xs.shape[1]
    G = ptr.shape[0] - 1
    for k in range(order.shape[0]):
        for g in range(G):
            lo = ptr[g]
            hi = ptr[g + 1]
            for q in range(lo, hi):
                i = order[k, q]
                acc = 0
                inhibited = False
                for j in range(N):
                    if s[j] != 0:
                        acc += W[i, j]
                        if Wi[i, j] != 0:
                            inhibited = True
                for j in range(I):
                    if xs[k, j] != 0:
                        acc += U[i, j]
                        if Ui[i, j] != 0:
                            inhibited = True
                buf[q - lo] = 1 if (not inhibited and acc >= theta[i]) else 0
            for q in range(lo, hi):
                s[order[k, q]] = buf[q - lo]
            if micro_every > 0:
                phase += 1
                if phase == micro_every:
                    phase = 0
                    for j in range(N):
                        micro[n_micro, j] = s[j]
                    micro_at[n_micro] = k * G + g + 1
                    n_micro += 1
        for j in range(N):
            ticks[k, j] = s[j]
    ctrl[1] = phase
    ctrl[2] = n_micro
