r"""The gate_limits protocol: a GRU's update and reset gates at their limits (U1).

SCENARIOS.md section 8, U1 [definition]: with the update gate saturated so that the old
state passes unchanged (z = 1 in Cho et al.'s convention h_t = z h_{t-1} + (1 - z) n_t,
z = 0 in the "notes" convention h_t = (1 - z) h_{t-1} + z n_t) a GRU copies its state
exactly for any number of steps; with the reset gate r = 0 the candidate
n_t = tanh(U_n x_t + b_n + r * (...)) no longer depends on the past.

Per trial (its own streams: ``init`` for the weights of ``GRU.from_config``, ``data`` for
the inputs x_t ~ N(0, 1) and initial states h_0 ~ U(-1, 1)), the net's gate is forced by
zeroing its input and recurrent weights (every layer and direction) and setting its input
bias to +-``run.limit_bias``: sigma(+-1000) is exactly 1 / 0 in float64 (exp(-1000)
underflows), so the limits are exact, not approximate. Over ``run.steps`` steps and a batch
of ``run.batch`` sequences (a one-layer unidirectional net runs through the numba kernel
when ``run.fast``), metrics (max over the trial's batch and steps):

* ``copy_dev``: max |h_t - h_0| with the update gate at its copy limit (0 exactly);
* ``candidate_dev``: max |n_t(h_0) - n_t(h_0')| for two different initial states with
  r = 0 (0 exactly);
* ``free_copy_dev``, ``free_candidate_dev``: the same quantities for the unforced net,
  the contrast showing that both checks can fail (clearly > 0 for random weights);
* ``gate_at_limit``: 1 when every forced gate value equals its limit exactly.

Deterministic computations: a metric's interval over trials is (min, max).
"""
from __future__ import annotations

import numpy as np

from ..core import get_net
from ..errors import ScenarioError
from ..rng import child, generator
from ..schema import Key
from . import Protocol

_METRICS = ("copy_dev", "candidate_dev", "free_copy_dev", "free_candidate_dev", "gate_at_limit")


def _forced(params, gate: int, bias: float):
    """Params with gate ``gate`` (0 r, 1 z) driven by its bias alone, set to ``bias``."""
    H = params.W.shape[3]
    rows = slice(gate * H, (gate + 1) * H)
    p = [np.array(a) for a in params]
    for i in (0, 1, 2):  # U0, U, W: no input, no recurrence into this gate
        p[i][..., rows, :] = 0.0
    p[3][..., rows] = bias  # b
    p[4][..., rows] = 0.0   # bh
    return type(params)(*p)


class GateLimits(Protocol):
    name = "gate_limits"
    sections = ("net",)
    run_keys = {
        "steps": Key("int", default=1000, min=1, doc="sequence length T"),
        "batch": Key("int", default=4, min=1, doc="sequences per trial"),
        "limit_bias": Key("float", default=1000.0, min=40.0,
                          doc="|bias| of a forced gate; >= 745 makes sigma exactly 0 / 1 in float64"),
        "fast": Key("bool", default=True, doc="numba forward kernel for a one-layer unidirectional net"),
    }
    metrics = _METRICS

    def validate(self, scenario) -> None:
        src = str(scenario.path)
        for _, cfg in scenario.points():
            if cfg["net"]["kind"] != "gru":
                raise ScenarioError(src, "net.kind", "the gate_limits protocol takes a 'gru' net")
            if cfg["net"].get("bidirectional"):
                raise ScenarioError(src, "net.bidirectional", "false: the copy limit is a statement about time")

    def trial(self, cfg, ss, k):
        ss_k = child(ss, k)
        run = cfg["run"]
        net = get_net("gru").from_config(cfg["net"], rng=generator(ss_k, "init"))
        rng = generator(ss_k, "data")
        T, B = run["steps"], run["batch"]
        xs = rng.normal(size=(T, B, net.n_inputs))
        h0 = rng.uniform(-1.0, 1.0, size=(2, net.n_layers, B, net.n_hidden))
        top0 = h0[:, -1]  # (2, B, H): the top layer's initial states
        fast = bool(run["fast"])
        copy_z = 1.0 if net.update == "cho" else 0.0
        bias = run["limit_bias"]

        def trace(p, state0):
            return net.gate_trace(p, xs, state0, fast=fast)

        p_copy = _forced(net.params, 1, bias if copy_z == 1.0 else -bias)
        p_reset = _forced(net.params, 0, -bias)
        copy = trace(p_copy, h0[0])
        free = trace(net.params, h0[0])
        reset_a, reset_b = trace(p_reset, h0[0]), trace(p_reset, h0[1])
        free_b = trace(net.params, h0[1])
        return {
            "copy_dev": float(np.max(np.abs(copy["h"] - top0[0]))),
            "candidate_dev": float(np.max(np.abs(reset_a["gates"]["n"] - reset_b["gates"]["n"]))),
            "free_copy_dev": float(np.max(np.abs(free["h"] - top0[0]))),
            "free_candidate_dev": float(np.max(np.abs(free["gates"]["n"] - free_b["gates"]["n"]))),
            "gate_at_limit": float(np.all(copy["gates"]["z"] == copy_z) and np.all(reset_a["gates"]["r"] == 0.0)),
        }

    def aggregate(self, cfg, results):
        metrics, intervals = {}, {}
        for m in _METRICS:
            v = np.array([r[m] for r in results])
            metrics[m] = float(v.max()) if m.endswith("dev") and not m.startswith("free") else float(v.min())
            intervals[m] = (float(v.min()), float(v.max()))
        return metrics, intervals
