r"""The boltzmann_sampling protocol: annealed Gibbs chains converge to the exact distribution.

Per trial, a random Boltzmann machine (:mod:`nets.boltzmann`) of ``n_units`` 0/1 units,
the first ``n_visible`` visible, couplings w_ij = w_ji ~ N(0, weight_sd^2) (zero
diagonal) and biases b_i ~ N(0, bias_sd^2), energy

    E(s) = - sum_i b_i s_i - sum_{i<j} w_ij s_i s_j,

is sampled by ``chains`` independent Gibbs chains, each run by :func:`sim.simulate` from
a uniformly random start for ``run.sweeps`` sweeps under the temperature schedule
``run.temperature`` (e.g. the piecewise schedule of Ackley, Hinton & Sejnowski 1985,
[[20, 2], [15, 2], [12, 2], [10, 4]], continued down to T_f = 1 and held there for
sampling). The last state of every chain is one sample. The oracle is the exact visible
marginal P(v) = sum_h exp(-E(v, h)/T_f) / Z, enumerated over all 2^N states
(:mod:`nets.boltzmann_exact`).

**Theory** [computed]. For n independent samples from P over K = 2^n_visible visible
states, 2 n KL(p_hat || P) -> chi^2_{K-1} (the G-test), so E[KL] ~ (K - 1) / (2 n) (the
1/n law of a multinomial estimate: slope -1 of log KL against log n) and
KL < chi^2_{K-1}(1 - alpha) / (2 n) with probability 1 - alpha. At finite n, cells with
n P_k << 1 contribute far less than 1/(2 n) each, so for a machine with rare visible
states E[KL] lies below (K - 1)/(2 n) and the slope is above -1; the protocol also computes the *exact*
expectation E_n = sum_k E[p_hat_k log p_hat_k] - sum_k P_k log P_k with p_hat_k ~
Binomial(n, P_k)/n, which iid sampling from P attains exactly. Chains that have not
mixed (annealing too fast, sampling too short) show as KL above E_n and a flatter slope.

Metrics per sweep point (means over trials; 95 % Student-t intervals over trials, each
trial being an independent machine):

* ``kl_final``: KL(p_hat || P) of the visible marginal over all chains at the last sweep;
* ``kl_bound_ratio``: the largest (over trials) KL / bound, bound = the (1 - ``alpha``)
  chi-square quantile above (below 1 at any seed unless the sampler is biased);
* ``kl_expected_ratio``: KL / E_n at n = chains (1 on average for an exact sampler);
* ``kl_slope``: least-squares slope of log mean KL against log n, the mean KL at n being
  the average over the chains//n disjoint blocks of n chains (n = chains, chains/2, ...,
  down to ``min_samples``);
* ``kl_slope_theory``: the same slope of the exact expectation E_n (-1 in the limit);
* ``kl_slope_excess``: kl_slope - kl_slope_theory (0 for an exact sampler);
* ``kl_start``: KL at sweep 0 (the random starts), for scale.

Figures: ``kl_samples`` (mean KL against n, log-log, with (K - 1)/(2 n), E_n and the
bound) and ``annealing`` (temperature, KL and mean energy of the chains against sweeps).

References: D. H. Ackley, G. E. Hinton, T. J. Sejnowski, "A learning algorithm for
Boltzmann machines", Cognitive Science 9:147-169 (1985) [paper]; the G-test asymptotics,
S. S. Wilks, Ann. Math. Stat. 9:60-62 (1938) [textbook].
"""
from __future__ import annotations

import math

import numpy as np
from scipy.stats import binom

from nets import boltzmann_exact as bx
from nets.boltzmann import BoltzmannMachine

from ..errors import ScenarioError
from ..record import Record
from ..rng import child, generator
from ..schedule import temperatures
from ..schema import Key
from ..simulate import simulate
from ..stats import means_with_intervals
from . import Protocol

__all__ = ["BoltzmannSampling", "random_machine", "expected_kl", "block_kl"]


def random_machine(n_units: int, n_visible: int, weight_sd: float, bias_sd: float,
                   rng: np.random.Generator) -> BoltzmannMachine:
    """A fully connected machine, w_ij ~ N(0, weight_sd^2) (i < j, symmetric), b_i ~ N(0, bias_sd^2)."""
    A = rng.normal(scale=weight_sd, size=(n_units, n_units))
    W = np.triu(A, 1)
    W = W + W.T
    b = rng.normal(scale=bias_sd, size=n_units)
    return BoltzmannMachine(W, b, visible=n_visible)


def expected_kl(P: np.ndarray, n: int) -> float:
    """Exact E[KL(p_hat || P)] for p_hat the frequencies of n iid samples from P (K,).

    E[KL] = sum_k E[p_hat_k log p_hat_k] - sum_k P_k log P_k, each count Binomial(n, P_k).
    """
    P = np.asarray(P, dtype=np.float64)
    c = np.arange(n + 1)
    xlogx = np.zeros(n + 1)
    xlogx[1:] = (c[1:] / n) * np.log(c[1:] / n)
    on = P > 0
    pmf = binom.pmf(c[None, :], n, P[on][:, None])     # (K_on, n + 1)
    return float((pmf @ xlogx).sum() - P[on] @ np.log(P[on]))


def block_kl(idx: np.ndarray, P: np.ndarray, n: int) -> float:
    """Mean KL(p_hat || P) over the len(idx)//n disjoint blocks of n consecutive samples.

    Parameters
    ----------
    idx : ndarray (C,) int
        State index of each sample (0..K-1).
    P : ndarray (K,)
    """
    K = len(P)
    m = len(idx) // n
    kls = [bx.kl_divergence(np.bincount(idx[j * n:(j + 1) * n], minlength=K) / n, P) for j in range(m)]
    return float(np.mean(kls))


def sample_sizes(chains: int, min_samples: int) -> np.ndarray:
    """n = chains, chains // 2, ... down to >= min_samples, increasing."""
    ns, n = [], chains
    while n >= min_samples:
        ns.append(n)
        n //= 2
    return np.array(ns[::-1], dtype=np.int64)


def _slope(n: np.ndarray, kl: np.ndarray) -> float:
    return float(np.polyfit(np.log(n), np.log(kl), 1)[0])


class BoltzmannSampling(Protocol):
    name = "boltzmann_sampling"
    sections = ()
    run_keys = {
        "n_units": Key("int", default=12, min=2, max=16, doc="units of the random machine"),
        "n_visible": Key("int", default=6, min=1, max=12, doc="visible units (the first n_visible)"),
        "weight_sd": Key("float", default=1.0, min=0.0, doc="couplings ~ N(0, weight_sd^2)"),
        "bias_sd": Key("float", default=0.5, min=0.0, doc="biases ~ N(0, bias_sd^2)"),
        "chains": Key("int", default=4000, min=8, doc="independent Gibbs chains (one sample each)"),
        "min_samples": Key("int", default=128, min=2, doc="smallest n of the KL-vs-n curve"),
        "alpha": Key("float", default=1e-3, min=1e-9, max=0.5, doc="level of the chi-square bound on KL"),
    }
    metrics = ("kl_final", "kl_bound_ratio", "kl_expected_ratio", "kl_slope", "kl_slope_theory", "kl_slope_excess",
               "kl_start")
    plots = {"kl_samples": {}, "annealing": {}}

    def validate(self, scenario) -> None:
        src = str(scenario.path)
        for _, cfg in scenario.points():
            run = cfg["run"]
            if run["n_visible"] > run["n_units"]:
                raise ScenarioError(src, "run.n_visible", f"at most n_units = {run['n_units']}")
            if run["min_samples"] > run["chains"]:
                raise ScenarioError(src, "run.min_samples", f"at most chains = {run['chains']}")
            if run["schedule"] in ("sync", "clocked", "blocks"):
                raise ScenarioError(src, "run.schedule", "Gibbs sampling needs single-unit updates: sequential, "
                                                         "random, random-site or chromatic")
            T = temperatures(run["temperature"], run["sweeps"])
            if not T[-1] > 0:
                raise ScenarioError(src, "run.temperature", "the schedule must end at a temperature > 0")

    def trial(self, cfg, ss, k):
        run = cfg["run"]
        ss_k = child(ss, k)
        net = random_machine(run["n_units"], run["n_visible"], run["weight_sd"], run["bias_sd"],
                             generator(ss_k, "machine"))
        temps = temperatures(run["temperature"], run["sweeps"])
        spec = [[float(T), 1] for T in temps]
        T_f = float(temps[-1])
        P = bx.exact(net, T_f).marginal(net.visible)           # (K,)
        K, C, R = len(P), run["chains"], run["sweeps"] + 1
        init = generator(ss_k, "init")
        vis_idx = np.empty((R, C), dtype=np.int64)               # visible state index per sweep and chain
        energy = np.empty((R, C))
        rec = Record(every=1, probes=("energy",))
        for c in range(C):
            s0 = init.integers(0, 2, size=net.n_units).astype(np.int8)
            tr = simulate(net, s0, ticks=run["sweeps"], schedule=run["schedule"], temperature=spec,
                          record=rec, rng=child(ss_k, "chain", c), stop=False)
            vis_idx[:, c] = bx.state_index(tr.states["s"][:, net.visible])
            energy[:, c] = tr.probes["energy"]
        kl_t = np.array([bx.kl_divergence(np.bincount(vis_idx[t], minlength=K) / C, P) for t in range(R)])
        ns = sample_sizes(C, run["min_samples"])
        kl_n = np.array([block_kl(vis_idx[-1], P, int(n)) for n in ns])
        ekl_n = np.array([expected_kl(P, int(n)) for n in ns])
        bound = bx.kl_bound(C, K, run["alpha"])
        return {"kl_t": kl_t, "energy_mean": energy.mean(axis=1), "temps": temps, "ns": ns, "kl_n": kl_n,
                "ekl_n": ekl_n, "bound": bound, "K": K, "kl_final": float(kl_t[-1]),
                "exact_energy": float(_exact_mean_energy(net, T_f))}

    def aggregate(self, cfg, results):
        per = {
            "kl_final": [r["kl_final"] for r in results],
            "kl_expected_ratio": [r["kl_final"] / r["ekl_n"][-1] for r in results],
            "kl_slope": [_slope(r["ns"], r["kl_n"]) for r in results],
            "kl_slope_theory": [_slope(r["ns"], r["ekl_n"]) for r in results],
            "kl_slope_excess": [_slope(r["ns"], r["kl_n"]) - _slope(r["ns"], r["ekl_n"]) for r in results],
            "kl_start": [r["kl_t"][0] for r in results],
        }
        metrics, intervals = means_with_intervals(per)
        metrics["kl_bound_ratio"] = max(r["kl_final"] / r["bound"] for r in results)
        intervals["kl_bound_ratio"] = (math.nan, math.nan)
        return metrics, intervals

    def figures(self, scenario, points, demo):
        from ..plots import boltzmann_sampling as bplots

        trials = points[0]["trials"]
        sid = scenario.meta["id"] or scenario.name
        out = []
        for spec in scenario.plots:
            if spec["kind"] == "kl_samples":
                out.append(("kl_samples", bplots.kl_samples_figure(
                    trials, title=f"{sid}:\nKL(sampled || exact) of the visible marginal vs number of samples")))
            elif spec["kind"] == "annealing":
                out.append(("annealing", bplots.annealing_kl_figure(
                    trials, title=f"{sid}: annealed Gibbs chains approach the exact distribution")))
        return out


def _exact_mean_energy(net: BoltzmannMachine, T: float) -> float:
    """<E> under the exact Boltzmann distribution at T."""
    d = bx.exact(net, T)
    S = bx.all_states(net.n_units).astype(np.float64)
    W, b = net.params.W, net.params.b
    E = -(S @ b) - 0.5 * np.einsum("ki,ki->k", S @ W, S)
    return float(d.p @ E)
