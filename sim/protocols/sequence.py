r"""The sequence protocol: train a recurrent net to predict the next element of a stream,
then measure its error at each position of the stream's cycle.

Per trial (its own seed streams: ``data`` for the training stream, ``init`` for the
weights, ``test`` for a fresh test stream), a new net of the scenario's kind is built
(``from_config``) and trained by the scenario's rule over ``passes`` passes through one
training stream x_0 .. x_{T-1}: the input is x_t, the target x_{t+1}, and the stream
wraps around (the target of the last input is x_0, the true continuation of the looped
sequence; the context is carried over from pass to pass). The trained net then reads a
fresh stream with the same regularities, starting from the context it ended training
with, and is scored without learning.

Task ``temporal_xor`` (Elman 1990, "Finding structure in time", Cognitive Science
14:179-211, section "Temporal XOR" [paper]; SCENARIOS.md E1): groups (a, b, a XOR b).
The bit predicted after input x_t is at position (t + 1) mod 3 of its group; only the
third (XOR) bit is predictable. Metrics per sweep point (means over trials with 95 %
Student-t intervals; each trial is one independent net and stream):

* ``xor_mse``, ``other_mse``: mean squared error (y - target)^2 when the target is an XOR
  bit, and at the other two positions;
* ``xor_mse_ratio``: per trial xor_mse / other_mse, then averaged;
* ``n_pass``: the number of trials with xor_mse_ratio < ``run.pass_ratio`` (interval:
  the count itself);
* ``xor_accuracy``, ``other_accuracy``: fraction of steps where the output rounded at
  0.5 equals the target bit;
* ``xor_accuracy_min``: the smallest xor_accuracy over trials;
* ``final_sse``: the training error of the last pass (sum over steps of 1/2 (y - t)^2).

Task ``elman_letters`` (same paper, "Structure in letter sequences" [paper]; SCENARIOS.md
E2): the 6-bit feature vectors of the consonants b, d, g, each followed by its vowels
(ba, dii, guuu). The consonant after a syllable is random (which one is unpredictable,
that one comes is not); the vowels are fully predictable. Metrics:

* ``rms_vowel``, ``rms_consonant``: sqrt of the mean over steps and bits of (y - target)^2
  at the steps whose target letter is a vowel / a consonant (the optimum for the
  consonants, predicting the bit means, is sqrt(4/54) = 0.272 [computed]);
* ``err_bit1`` ... ``err_bit6``: mean |y - target| of each feature bit over all steps
  (bit 1 Consonantal, bit 4 High); ``bit1_bit4_ratio``: per trial err_bit1 / err_bit4.

Each letters trial keeps ``letter_rms`` (the per-step RMS error over the first
``_WINDOW`` test letters, with ``letter_codes`` 0..5 = b d g a i u) and
``letter_bit_err`` (|error| of bits 1 and 4 there), drawn by the ``letter_errors`` plot
(Elman's Figs. 5-7).

Each XOR trial also keeps ``mse_by_phase``: the mean squared error at each of ``phase`` = 12
consecutive positions of the test stream (aligned to group starts), the data of Elman's
Fig. 3 (the RMS error over 12 consecutive inputs, a sawtooth with minima at every third
bit), drawn by the ``error_by_position`` plot; ``sse`` per pass gives ``loss_curve``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core import get_net
from ..errors import ScenarioError
from ..rng import child, generator
from ..schema import Key
from ..stats import means_with_intervals
from ..tasks import elman_letters, temporal_xor
from . import Protocol

_PHASE = 12  # positions shown in Elman's Fig. 3
_WINDOW = 24  # letters shown in the letter-error figure
_LETTERS = "bdgaiu"
_N_IN = {"temporal_xor": 1, "elman_letters": 6}


class Sequence(Protocol):
    name = "sequence"
    sections = ("net", "train", "data")
    run_keys = {
        "pass_ratio": Key("float", default=0.8, min=0.0,
                          doc="a trial passes when MSE(XOR steps) / MSE(other steps) is below this"),
    }
    metrics = ("xor_mse", "other_mse", "xor_mse_ratio", "n_pass", "xor_accuracy", "other_accuracy",
               "xor_accuracy_min", "final_sse",
               "rms_vowel", "rms_consonant", "bit1_bit4_ratio") + tuple(f"err_bit{i}" for i in range(1, 7))
    plots = {"error_by_position": {}, "loss_curve": {}, "letter_errors": {}}

    def validate(self, scenario) -> None:
        src = str(scenario.path)
        for _, cfg in scenario.points():
            net_cfg, data = cfg["net"], cfg["data"]
            if not hasattr(get_net(net_cfg["kind"]), "from_config") or net_cfg["kind"] != "elman":
                raise ScenarioError(src, "net.kind", "the sequence protocol trains an 'elman' net")
            if cfg["train"]["rule"] != "copy_back":
                raise ScenarioError(src, "train.rule", "the sequence protocol trains with rule 'copy_back'")
            if data["task"] not in _N_IN:
                raise ScenarioError(src, "data.task", f"the sequence protocol supports tasks {sorted(_N_IN)}")
            n = _N_IN[data["task"]]
            if net_cfg["n_inputs"] != n or net_cfg["n_outputs"] != n:
                raise ScenarioError(src, "net.n_inputs", f"{data['task']} needs {n} input and {n} output units")
            if data["task"] == "temporal_xor" and data["n_bits"] % 3:
                raise ScenarioError(src, "data.n_bits", "expected a multiple of 3 (whole bit groups)")

    # --- one trial ----------------------------------------------------------------------
    @staticmethod
    def _train(cfg, ss_k):
        from nets.elman import copy_back_train

        xs = _stream(cfg["data"], generator(ss_k, "data"))[0]
        net = get_net(cfg["net"]["kind"]).from_config(cfg["net"], rng=generator(ss_k, "init"))
        tr = cfg["train"]
        params, h, sse = copy_back_train(net, net.train_params(), xs, np.roll(xs, -1, axis=0),
                                         lr=tr["lr"], passes=tr["passes"])
        return net, params, h, sse, len(xs)

    @staticmethod
    def _test_letters(cfg, ss_k, net, params, h):
        xs, letters = _stream(cfg["data"], generator(ss_k, "test"))
        target = np.roll(xs, -1, axis=0)                      # (T, 6)
        nxt = np.roll(np.array([_LETTERS.index(ch) for ch in letters]), -1)
        _, y = net.forward(params, xs, state0=h)               # (T, 6)
        sq = (y - target) ** 2
        vowel = nxt >= 3
        out = {"rms_vowel": float(np.sqrt(sq[vowel].mean())), "rms_consonant": float(np.sqrt(sq[~vowel].mean()))}
        err = np.abs(y - target).mean(axis=0)
        for i in range(6):
            out[f"err_bit{i + 1}"] = float(err[i])
        w = slice(0, min(_WINDOW, len(xs)))
        out["letter_rms"] = np.sqrt(sq[w].mean(axis=1))
        out["letter_codes"] = nxt[w]
        out["letter_bit_err"] = np.abs(y - target)[w][:, [0, 3]]
        return out

    @staticmethod
    def _test(cfg, ss_k, net, params, h):
        if cfg["data"]["task"] == "elman_letters":
            return Sequence._test_letters(cfg, ss_k, net, params, h)
        xs = temporal_xor(cfg["data"]["n_bits"], rng=generator(ss_k, "test"))
        target = np.roll(xs, -1, axis=0)[:, 0]               # (T,)
        _, y = net.forward(params, xs, state0=h)              # (T, 1)
        y = y[:, 0]
        sq = (y - target) ** 2
        correct = (y >= 0.5) == (target == 1.0)
        T = len(xs)
        pos = (np.arange(T) + 1) % 3                          # position of the predicted bit
        xor = pos == 2
        n_ph = T // _PHASE * _PHASE
        by_phase = sq[:n_ph].reshape(-1, _PHASE).mean(axis=0)  # (12,), aligned to group starts
        return {"xor_mse": float(sq[xor].mean()), "other_mse": float(sq[~xor].mean()),
                "xor_accuracy": float(correct[xor].mean()), "other_accuracy": float(correct[~xor].mean()),
                "mse_by_phase": by_phase}

    def trial(self, cfg, ss, k):
        ss_k = child(ss, k)
        net, params, h, sse, steps = self._train(cfg, ss_k)
        out = self._test(cfg, ss_k, net, params, h)
        out["sse"] = sse
        out["steps"] = steps
        return out

    def aggregate(self, cfg, results):
        if cfg["data"]["task"] == "elman_letters":
            names = ("rms_vowel", "rms_consonant") + tuple(f"err_bit{i}" for i in range(1, 7))
            per = {m: [r[m] for r in results] for m in names}
            per["bit1_bit4_ratio"] = [r["err_bit1"] / r["err_bit4"] for r in results]
            per["final_sse"] = [r["sse"][-1] for r in results]
            return means_with_intervals(per)
        ratio = [r["xor_mse"] / r["other_mse"] for r in results]
        per = {
            "xor_mse": [r["xor_mse"] for r in results],
            "other_mse": [r["other_mse"] for r in results],
            "xor_mse_ratio": ratio,
            "xor_accuracy": [r["xor_accuracy"] for r in results],
            "other_accuracy": [r["other_accuracy"] for r in results],
            "final_sse": [r["sse"][-1] for r in results],
        }
        metrics, intervals = means_with_intervals(per)
        n_pass = float(sum(q < cfg["run"]["pass_ratio"] for q in ratio))
        metrics["n_pass"], intervals["n_pass"] = n_pass, (n_pass, n_pass)
        lo = float(min(r["xor_accuracy"] for r in results))
        metrics["xor_accuracy_min"], intervals["xor_accuracy_min"] = lo, (lo, lo)
        return metrics, intervals

    # --- figures --------------------------------------------------------------------------
    def figures(self, scenario, points, demo) -> list[tuple[str, Any]]:
        from ..plots.sequence import error_by_position_figure, letter_errors_figure, loss_curve_figure

        out = []
        name = scenario.meta.get("id") or scenario.name
        for spec in scenario.plots:
            for p in points:
                stem = spec["kind"] + (f"_{p['label']}" if p["label"] else "")
                trials = p["trials"]
                if spec["kind"] == "letter_errors":
                    fig = letter_errors_figure(np.array([r["letter_rms"] for r in trials]),
                                               [_LETTERS[i] for i in trials[0]["letter_codes"]],
                                               np.array([r["letter_bit_err"] for r in trials]),
                                               title=f"{name}: error predicting the next letter (fresh stream)")
                elif spec["kind"] == "error_by_position":
                    fig = error_by_position_figure(np.array([r["mse_by_phase"] for r in trials]), period=3,
                                                   predictable=(2,),
                                                   title=f"{name}: error by position on a fresh stream")
                else:
                    fig = loss_curve_figure(np.array([r["sse"] / r["steps"] for r in trials]),
                                            ylabel="mean 1/2 (y - target)$^2$ per input",
                                            title=f"{name}: training error per pass")
                out.append((stem, fig))
        return out


def _stream(data: dict, rng) -> tuple[np.ndarray, str | None]:
    """The stream (T, I) of a ``[data]`` table, and its letters for ``elman_letters``."""
    if data["task"] == "elman_letters":
        return elman_letters(data["n_consonants"], rng=rng)
    return temporal_xor(data["n_bits"], rng=rng), None
