r"""The theory protocol: published closed-form results, computed, not simulated.

No net, task or trials: the scenario names a ``quantity`` in ``[run]`` and its
parameters, and the protocol evaluates it with :mod:`nets.hopfield_theory`
(equations and citations there).

``quantity = "rs_capacity"`` -- Amit, Gutfreund & Sompolinsky (1987) replica-symmetric
T = 0 retrieval: sqrt(2 alpha) = erf(y)/y - (2/sqrt(pi)) e^{-y^2}, m = erf(y). Metrics
``alpha_c`` (max of g(y)^2/2), ``y_c``, ``m_c`` = erf(y_c) and ``error_c`` = (1 - m_c)/2.
[computed] 0.13791, 1.511, 0.96742, 0.0163.

``quantity = "noise_formula"`` -- Hopfield (1982) Eq. 10 at ``n_units`` = N and
``n_memories`` = n: ``sigma`` = sqrt((n-1)N/2), ``p_bit_error`` =
1/2 erfc((N/2)/(sigma sqrt 2)), ``p_no_error`` = (1 - P)^N and ``p_no_error_poisson`` =
e^{-NP}. [computed] N = 100, n = 10: 0.00921, 0.396 (paper: 0.0091, "about 0.40").

Values are exact computations, so each metric's "interval" is the value itself.
Figures: ``rs_overlap`` (m(alpha) with alpha_c) and ``noise_formula`` (P and P(no error)
against n at the scenario's N, with the ``published`` values of the ``[expect]`` entries
and an optional ``simulated`` value -- the paper's measured fraction with no error --
as markers).
"""
from __future__ import annotations

import numpy as np

from nets import hopfield_theory as theory

from ..errors import ScenarioError
from ..schema import Key
from . import Protocol

#: metrics reported for each quantity
QUANTITIES: dict[str, tuple[str, ...]] = {
    "rs_capacity": ("alpha_c", "y_c", "m_c", "error_c"),
    "noise_formula": ("sigma", "p_bit_error", "p_no_error", "p_no_error_poisson"),
}
_WHAT = {"p_bit_error": "P", "p_no_error": "P(no error)"}
_PLOT_QUANTITY = {"rs_overlap": "rs_capacity", "noise_formula": "noise_formula"}


class Theory(Protocol):
    name = "theory"
    sections = ()
    run_keys = {
        "quantity": Key("str", choices=tuple(QUANTITIES), doc="what to compute"),
        "n_units": Key("int", default=100, min=1, doc="N of the noise formula"),
        "n_memories": Key("int", default=10, min=1, doc="n of the noise formula"),
    }
    metrics = tuple(m for ms in QUANTITIES.values() for m in ms)
    plots = {
        "rs_overlap": {"alpha_max": Key("float", default=0.16, min=0.14, max=1.0, doc="right end of the alpha axis")},
        "noise_formula": {
            "n_max": Key("int", default=20, min=3, doc="largest n drawn"),
            "simulated": Key("float", default=None, min=0.0, max=1.0,
                             doc="the paper's measured fraction of memories with no error, at run.n_memories"),
        },
    }

    def validate(self, scenario) -> None:
        src = str(scenario.path)
        quantities = {cfg["run"]["quantity"] for _, cfg in scenario.points()}
        allowed = {m for q in quantities for m in QUANTITIES[q]}
        for e in scenario.expect + scenario.unchecked:
            base = e.metric.partition("[")[0]
            if base not in allowed:
                raise ScenarioError(src, f"expect.{e.metric}", f"quantity {'/'.join(sorted(quantities))} reports "
                                                               f"{', '.join(sorted(allowed))}, not {base!r}")
        for p in scenario.plots:
            if _PLOT_QUANTITY[p["kind"]] not in quantities:
                raise ScenarioError(src, "plot.kind", f"a {p['kind']} plot needs quantity = "
                                                      f"{_PLOT_QUANTITY[p['kind']]!r}")

    def trial(self, cfg, ss, k):
        run = cfg["run"]
        if run["quantity"] == "rs_capacity":
            alpha_c, y_c, m_c = theory.rs_capacity()
            return {"alpha_c": alpha_c, "y_c": y_c, "m_c": m_c, "error_c": (1.0 - m_c) / 2.0}
        out = theory.hopfield_noise(run["n_units"], run["n_memories"])
        return {k: out[k] for k in QUANTITIES["noise_formula"]}

    def aggregate(self, cfg, results):
        metrics = {k: float(v) for k, v in results[0].items()}
        return metrics, {k: (v, v) for k, v in metrics.items()}

    def figures(self, scenario, points, demo):
        from ..plots.capacity import noise_formula_figure, rs_overlap_figure

        out = []
        cfg = scenario.points()[0][1]
        for spec in scenario.plots:
            spec = {"kind": spec["kind"], **{k: spec.get(k, key.default) for k, key in self.plots[spec["kind"]].items()}}
            if spec["kind"] == "rs_overlap":
                alpha_c, _, m_c = theory.rs_capacity()
                rs = {**theory.rs_branches(spec["alpha_max"]), "alpha_c": alpha_c, "m_c": m_c}
                out.append(("rs_overlap", rs_overlap_figure(rs, alpha_max=spec["alpha_max"])))
            else:
                N, n0 = cfg["run"]["n_units"], cfg["run"]["n_memories"]
                n = np.arange(2, max(spec["n_max"], n0) + 1)
                curve = {"n": n, **theory.hopfield_noise(N, n)}
                published = [{"n": n0, "value": float(e.published), "what": e.metric.partition("[")[0],
                              "label": f"paper, Eq. 10: {_WHAT[e.metric.partition('[')[0]]} = {e.published}"}
                             for e in scenario.expect
                             if e.metric.partition("[")[0] in ("p_bit_error", "p_no_error")
                             and isinstance(e.published, (int, float))]
                if spec["simulated"] is not None:
                    published.append({"n": n0, "value": spec["simulated"], "what": "p_no_error",
                                      "label": f"paper's simulation (Fig. 2): {spec['simulated']}"})
                out.append(("noise_formula", noise_formula_figure(curve, N, published=published)))
        return out
