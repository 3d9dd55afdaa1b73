"""The one simulation loop shared by every net.

``simulate(net, state0, ticks=..., schedule=..., temperature=..., record=..., rng=...)``

1. The seed becomes named child streams (``init``, ``plan``, ``noise``; see
   :mod:`sim.rng`), so adding a probe never changes the noise.
2. The run proceeds in chunks of ticks. For each chunk the update orders are drawn from
   the ``plan`` stream and the uniforms ``u`` from the ``noise`` stream, tick by tick
   (chunking never changes a draw; ticks at T = 0 of a net that is not stochastic draw
   no noise).
3. ``fast=True`` runs the chunk in the net's numba ``rollout``; ``fast=False`` in a
   Python loop over the pure ``Net.step``. Both consume the same plan and noise and give
   the same trajectory.
4. After every tick the stop rules are applied, in this order:
   *diverged* (a NaN/inf: the run ends at the last finite state);
   *converged* (the state did not change over the tick, is a fixed point of the
   deterministic dynamics, and every remaining tick is at T = 0 with no input stream;
   a run whose last tick is at T > 0 never converges, it ends "ok");
   *cycle* (deterministic schedule, T = 0 throughout, no inputs: the state equals the
   one of an earlier tick t' < t - 1; ``period = t - t'``).
5. Derived probes (energy, overlaps, field norms) are computed from the recorded states.
"""
from __future__ import annotations

import hashlib

import numpy as np

from .core import Net, state_is_finite, states_equal
from .record import Record, Trajectory
from .rng import SeedLike, generator, seed_sequence
from .schedule import Plan, make_plan, temperatures

__all__ = ["simulate"]

_FIRST_CHUNK, _MAX_CHUNK = 8, 512


def _reference_rollout(net: Net, state, drive: dict, micro_every: int, phase: int):
    """The numpy twin of every ``rollout``: a Python loop over ``net.step``.

    Returns the same tuple as ``Net.rollout``: per-tick states, micro records (state,
    update index within the chunk), ticks done (always all: stopping is decided by the
    caller), and the updates since the last micro record.
    """
    order, ptr, u, T, xs = drive["order"], drive["ptr"], drive["u"], drive["T"], drive["x"]
    n_ticks, G = order.shape[0], len(ptr) - 1
    ticks, micro, micro_at = [], [], []
    for k in range(n_ticks):
        x = None if xs is None else xs[k]
        for g in range(G):
            lo, hi = ptr[g], ptr[g + 1]
            uk = None if u is None else u[k, lo:hi]
            state = net.step(state, x, units=order[k, lo:hi], u=uk, T=float(T[k]))
            if micro_every:
                phase += 1
                if phase == micro_every:
                    phase = 0
                    micro.append(state)
                    micro_at.append(k * G + g + 1)
        ticks.append(state)
    return ticks, micro, micro_at, n_ticks, phase


def _stack(states: list) -> dict[str, np.ndarray]:
    fields = states[0]._fields
    return {f: np.stack([np.asarray(getattr(s, f)) for s in states]) for f in fields}


def simulate(
    net: Net,
    state0=None,
    *,
    ticks: int | None = None,
    inputs: np.ndarray | None = None,
    schedule: str | Plan = "sync",
    temperature=None,
    record: Record | None = None,
    rng: SeedLike = None,
    fast: bool = True,
    stop: bool = True,
    blocks=None,
) -> Trajectory:
    """Run ``net`` from ``state0`` and return its :class:`~sim.record.Trajectory`.

    Parameters
    ----------
    net : Net
    state0 : State or ndarray, optional
        Initial state; drawn from the ``init`` stream when None.
    ticks : int, optional
        Maximum number of ticks (sweeps); defaults to ``len(inputs)``.
    inputs : ndarray (ticks, n_inputs), optional
        Input stream for ``schedule="clocked"``: ``x[t]`` drives tick t.
    schedule : str or Plan
        See :mod:`sim.schedule`.
    temperature : float, list or dict, optional
        Temperature schedule (see :func:`sim.schedule.temperatures`); the net's
        ``default_temperature`` when None.
    record : Record, optional
        What to keep (default: state and energy, every tick).
    rng : int, SeedSequence or None
        The run's seed.
    fast : bool
        Use the net's numba fast path when it has one.
    stop : bool
        Apply the converged / cycle stop rules (divergence always stops).
    blocks : list, optional
        Groups for ``schedule="blocks"``.
    """
    record = record or Record()
    ss = seed_sequence(rng)
    plan = make_plan(schedule, net, blocks=blocks)
    if inputs is not None:
        inputs = np.asarray(inputs, dtype=np.float64)
        if inputs.ndim != 2 or inputs.shape[1] != net.n_inputs:
            raise ValueError(f"inputs must have shape (ticks, {net.n_inputs}), got {inputs.shape}")
        ticks = len(inputs) if ticks is None else ticks
        if ticks > len(inputs):
            raise ValueError(f"ticks={ticks} but only {len(inputs)} inputs were given")
    elif plan.clocked:
        raise ValueError("schedule 'clocked' needs inputs=(ticks, n_inputs)")
    if ticks is None or isinstance(ticks, bool) or not isinstance(ticks, (int, np.integer)) or ticks < 0:
        raise ValueError(f"ticks must be an int >= 0, got {ticks!r}")
    ticks = int(ticks)
    T = temperatures(net.default_temperature if temperature is None else temperature, ticks)
    state = net.init_state(rng=generator(ss, "init")) if state0 is None else net.coerce_state(state0)
    if not state_is_finite(state):
        raise ValueError("the initial state holds NaN or inf")
    rng_plan, rng_noise = generator(ss, "plan"), generator(ss, "noise")
    use_fast = fast and net.has_rollout

    G, L = plan.n_groups, plan.updates_per_tick
    T_zero_from = _zero_suffix_start(T)
    may_cycle = stop and plan.deterministic and inputs is None and T_zero_from == 0
    seen: dict[bytes, int] = {}
    if may_cycle:
        seen[_key(state)] = 0
    recs, rec_t, rec_update = [state], [0.0], [0]
    status, period, t, phase = "ok", None, 0, 0
    chunk = _FIRST_CHUNK
    while t < ticks and status == "ok":
        n = min(chunk, ticks - t)
        chunk = min(2 * chunk, _MAX_CHUNK)
        u = None
        if any(net.uses_noise(T[t + k]) for k in range(n)):
            u = np.zeros((n, L))
            for k in range(n):
                if net.uses_noise(T[t + k]):
                    u[k] = rng_noise.random(L)
        drive = {"order": plan.draw(n, rng_plan), "ptr": plan.ptr, "u": u, "T": T[t:t + n],
                 "x": None if inputs is None else inputs[t:t + n]}
        micro_every = record.every if record.micro else 0
        stop_fixed = stop and inputs is None and T_zero_from <= t
        if use_fast:
            tick_states, micro, micro_at, done, phase = net.rollout(
                state, drive, micro_every=micro_every, phase=phase, stop_fixed=stop_fixed)
        else:
            tick_states, micro, micro_at, done, phase = _reference_rollout(
                net, state, drive, micro_every, phase)
        # stop rules, tick by tick
        last = n
        for k in range(done):
            s_new = tick_states[k]
            if not state_is_finite(s_new):
                status, last = "diverged", k
                break
            tick = t + k + 1
            # a fast path that stopped early has verified the fixed point itself
            verified = use_fast and done < n and k == done - 1
            if stop and inputs is None and T_zero_from <= tick and states_equal(s_new, state) \
                    and (verified or net.is_fixed_point(s_new)):
                status, last, state = "converged", k + 1, s_new
                break
            if may_cycle:
                key = _key(s_new)
                if key in seen:
                    status, period, last, state = "cycle", tick - seen[key], k + 1, s_new
                    break
                seen[key] = tick
            state = s_new
        else:
            if done < n:
                raise RuntimeError(f"{net.kind}.rollout stopped after {done} of {n} ticks "
                                   "without a stop rule holding (fast path bug)")
        # keep the records up to the stopping point
        if record.micro:
            for s_m, at in zip(micro, micro_at):
                if at <= last * G:
                    recs.append(s_m)
                    rec_update.append(t * G + at)
                    rec_t.append((t * G + at) / G)
        else:
            for k in range(last):
                if (t + k + 1) % record.every == 0:
                    recs.append(tick_states[k])
                    rec_update.append((t + k + 1) * G)
                    rec_t.append(float(t + k + 1))
        t += last
    if rec_update[-1] != t * G:
        recs.append(state)
        rec_update.append(t * G)
        rec_t.append(float(t))

    traj = Trajectory(states=_stack(recs), t=np.asarray(rec_t), update=np.asarray(rec_update, dtype=np.int64),
                      final=state, ticks=t, status=status, period=period, temperature=T[:t].copy(),
                      seed={"entropy": int(ss.entropy), "spawn_key": list(ss.spawn_key)},
                      schedule=plan.kind)
    _derive_probes(net, traj, recs, record)
    return traj


def _has(net: Net, method: str) -> bool:
    return getattr(type(net), method) is not getattr(Net, method)


def _zero_suffix_start(T: np.ndarray) -> int:
    """The first tick from which every temperature is 0.

    ``len(T) + 1`` (never) when the last temperature is > 0: a run whose final tick is
    noisy ends "ok" even if that tick happened to leave the state unchanged.
    """
    nz = np.flatnonzero(T > 0)
    if len(nz) == 0:
        return 0
    return len(T) + 1 if nz[-1] == len(T) - 1 else int(nz[-1]) + 1


def _key(state) -> bytes:
    """A 16-byte digest of the state (cycle detection keeps one per tick, not the states)."""
    h = hashlib.blake2b(digest_size=16)
    for f in state:
        h.update(np.ascontiguousarray(f).tobytes())
    return h.digest()


def _derive_probes(net: Net, traj: Trajectory, recs: list, record: Record) -> None:
    probes = record.probes if record.probes is not None else (("state", "energy") if _has(net, "energy") else ())
    for probe in probes:
        if probe == "energy":
            traj.probes["energy"] = np.array([net.energy(s) for s in recs], dtype=np.float64)
        elif probe == "overlap":
            traj.probes["overlap"] = np.stack([net.overlap(s, record.patterns) for s in recs])
        elif probe == "field_norm":
            traj.probes["field_norm"] = np.array([np.linalg.norm(net.field(s)) for s in recs])
