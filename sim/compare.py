"""``rnnlab compare``: every architecture's memory retention on one pair of axes (issue 7).

Sources: the retention scenarios (``scenarios/retention_*.toml`` by default, or
``--scenarios FILE ...``), run at the file's seed or at each ``--seeds`` value, each run
stored as an ordinary run directory; or stored runs (``--runs``: run directories,
``retention.json`` files, or directories searched for them, newest run per scenario,
seed and mode). Each run's ``retention.json`` (:mod:`sim.retention`) is read and
validated.

Pooling over seeds: curves of the same scenario, architecture, family, raw metric and
``detail`` (its ``seed`` aside) with the same ages are merged. With ``n_i`` trials per
point in seed ``i`` and weights ``w_i = n_i / sum n``, the pooled value is
``y = sum w_i y_i`` and its 95 % interval ``y +- 1.96 * sqrt(sum (w_i s_i)^2)`` with
``s_i = (hi_i - lo_i) / (2 * 1.96)`` (independent seeds, normal approximation of each
interval); ``n`` is summed. A single seed is shown as stored.

By default only the first curve of each architecture in each scenario is shown (a
protocol lists its headline curve first, e.g. the highest load); ``--all-curves`` shows
every curve (other loads, sizes), labelled by the ``detail`` entries that differ.

Output: a table (one row per curve: n, the retention span = the largest age up to
which fidelity stays >= 0.5, and fidelity [interval] at up to six ages taken from the
curves' own ages, never interpolated) and one figure (:mod:`sim.plots.retention`),
written with the pooled curves to ``OUT/compare/<UTC time>/`` and, with
``--save-figure``, to ``figures/retention_compare.png``. In the figure (not the table), a
curve with more than ``--bins`` ages is averaged over ``--bins`` bins of age spaced
geometrically (ages 0 and 1 alone, then edges growing by a constant factor): the bin's
point is (mean age, mean y) and its interval ``+- 1.96 sqrt(sum s_a^2) / m`` over the m
ages of the bin (independent per-age estimates, as for seeds); ``--bins 0`` draws every
age. Exit status as ``rnnlab run``:
0 when every expectation of the runs held, 1 when one failed, 2 for a user error.
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .errors import UserError
from .retention import RETENTION_FILE, X_LABEL, Y_LABEL, read_retention

__all__ = ["default_retention_scenarios", "find_runs", "pool_curves", "bin_ages", "headline", "label_curves",
           "table_ages",
           "retention_span", "compare_table", "cmd_compare"]

_Z = 1.959963984540054  # 97.5 % normal quantile


def default_retention_scenarios(scenario_dir: str | Path) -> list[Path]:
    """The default set: ``scenario_dir/retention_*.toml``, sorted."""
    return sorted(Path(scenario_dir).glob("retention_*.toml"))


def _run_info(run_dir: Path) -> dict[str, Any]:
    """Scenario name, seed, mode, finish time and pass/fail of a stored run (what is known)."""
    info: dict[str, Any] = {"run_dir": str(run_dir), "name": run_dir.parent.name, "seed": None, "smoke": None,
                            "finished": "", "passed": None}
    try:
        m = json.loads((run_dir / "manifest.json").read_text())
        info.update(name=m.get("name", info["name"]), seed=m.get("seed"), smoke=m.get("smoke"),
                    finished=m.get("finished", ""))
    except (OSError, json.JSONDecodeError, AttributeError):
        pass
    try:
        info["passed"] = json.loads((run_dir / "metrics.json").read_text()).get("passed")
    except (OSError, json.JSONDecodeError, AttributeError):
        pass
    return info


def find_runs(paths: Iterable[str | Path], seeds: Sequence[int] | None = None) -> list[tuple[dict, dict]]:
    """(run info, retention document) of every stored run under ``paths``.

    A path is a ``retention.json``, a run directory holding one, or a directory searched
    recursively. Of several runs of one scenario at one seed and mode the newest is kept.
    ``seeds`` keeps only runs at those seeds.
    """
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_file():
            files.append(p)
        elif (p / RETENTION_FILE).is_file():
            files.append(p / RETENTION_FILE)
        elif p.is_dir():
            found = sorted(p.rglob(RETENTION_FILE))
            if not found:
                raise UserError(f"--runs {p}: no {RETENTION_FILE} under this directory (run a retention "
                                "scenario first, e.g. rnnlab run scenarios/retention_attractor.toml)")
            files.extend(found)
        else:
            raise UserError(f"--runs {p}: no such file or directory")
    newest: dict[tuple, tuple[dict, dict]] = {}
    for f in dict.fromkeys(f.resolve() for f in files):
        info = _run_info(f.parent)
        if seeds is not None and info["seed"] not in seeds:
            continue
        doc = read_retention(f)
        key = (info["name"], info["seed"], info["smoke"]) if info["seed"] is not None else (str(f),)
        if key not in newest or (info["finished"], info["run_dir"]) > (newest[key][0]["finished"],
                                                                       newest[key][0]["run_dir"]):
            newest[key] = (info, doc)
    if not newest:
        raise UserError(f"--runs: no stored retention run at seeds {list(seeds)}" if seeds is not None
                        else "--runs: no retention runs found")
    return sorted(newest.values(), key=lambda t: (t[0]["name"], str(t[0]["seed"]), t[0]["run_dir"]))


def _curve_key(scenario: str, c: dict) -> tuple:
    detail = {k: v for k, v in c["detail"].items() if k != "seed"}
    return (scenario, c["arch"], c["family"], c["raw_label"], json.dumps(detail, sort_keys=True, default=str),
            tuple(c["x"]))


def pool_curves(docs: Sequence[dict]) -> list[dict]:
    """Merge the curves of several runs (seeds) of the same scenario; see the module docstring.

    Returns curves in the :mod:`sim.retention` format plus ``scenario`` and ``seeds``
    (the number of runs pooled), in first-seen order.
    """
    groups: dict[tuple, list[dict]] = {}
    for doc in docs:
        for c in doc["curves"]:
            groups.setdefault(_curve_key(doc["scenario"], c), []).append(c)
    out = []
    for key, cs in groups.items():
        base = {**cs[0], "scenario": key[0], "seeds": len(cs), "detail": dict(cs[0]["detail"])}
        if len(cs) > 1:
            n = np.array([c["n"] for c in cs], float)
            w = (n / n.sum())[:, None]
            y = np.array([c["y"] for c in cs])
            s = (np.array([c["hi"] for c in cs]) - np.array([c["lo"] for c in cs])) / (2 * _Z)
            my = np.sum(w * y, axis=0)
            half = _Z * np.sqrt(np.sum((w * s) ** 2, axis=0))
            base.update(y=my.tolist(), lo=(my - half).tolist(), hi=(my + half).tolist(),
                        raw=np.sum(w * np.array([c["raw"] for c in cs]), axis=0).tolist(), n=int(n.sum()))
            base["detail"].pop("seed", None)
        out.append(base)
    return out


def bin_ages(curve: dict, bins: int) -> dict:
    """``curve`` with its ages averaged over at most ``bins`` geometric age bins (module doc).

    A curve with at most ``bins`` ages (or ``bins = 0``) is returned unchanged. Ages 0 and
    1 keep bins of their own; larger ages fall in bins whose edges grow geometrically up to
    the largest age. Empty bins are dropped.
    """
    x = np.asarray(curve["x"], float)
    if bins <= 0 or len(x) <= bins:
        return curve
    top = float(x.max())
    inner = np.geomspace(2.0, top + 1.0, max(bins - 1, 2)) if top >= 2.0 else np.array([top + 1.0])
    edges = np.unique(np.concatenate([[0.0, 1.0, 2.0], np.floor(inner)]))
    which = np.searchsorted(edges, x, side="right") - 1
    y, lo, hi, raw = (np.asarray(curve[k], float) for k in ("y", "lo", "hi", "raw"))
    s = (hi - lo) / (2 * _Z)
    out = {k: [] for k in ("x", "y", "lo", "hi", "raw")}
    for b in np.unique(which):
        m = which == b
        my, half = float(np.mean(y[m])), float(_Z * np.sqrt(np.sum(s[m] ** 2)) / m.sum())
        out["x"].append(float(np.mean(x[m])))
        out["y"].append(my)
        out["lo"].append(my - half)
        out["hi"].append(my + half)
        out["raw"].append(float(np.mean(raw[m])))
    return {**curve, **out}


def label_curves(curves: list[dict]) -> list[dict]:
    """Add ``label``: the arch, plus the ``detail`` entries (and scenario) that tell apart curves of one arch."""
    by_arch: dict[str, list[dict]] = {}
    for c in curves:
        by_arch.setdefault(c["arch"], []).append(c)
    for arch, cs in by_arch.items():
        if len(cs) == 1:
            cs[0]["label"] = arch
            continue
        keys = sorted({k for c in cs for k in c["detail"]})
        differ = [k for k in keys if len({json.dumps(c["detail"].get(k), default=str) for c in cs}) > 1]
        scen = len({c["scenario"] for c in cs}) > 1
        for c in cs:
            parts = ([c["scenario"]] if scen else []) + [f"{k}={_short(c['detail'].get(k))}" for k in differ]
            c["label"] = f"{arch} ({', '.join(parts)})" if parts else arch
    return curves


def _short(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def table_ages(curves: Sequence[dict], k: int = 6) -> list[float]:
    """Up to ``k`` ages present in the curves, roughly log-spaced over their range."""
    ages = np.array(sorted({a for c in curves for a in c["x"]}), float)
    if len(ages) <= k:
        return ages.tolist()
    lo, hi = ages[0], ages[-1]
    targets = np.expm1(np.linspace(np.log1p(lo), np.log1p(hi), k))
    picks = sorted({float(ages[np.argmin(np.abs(np.log1p(ages) - np.log1p(t)))]) for t in targets})
    return picks


def retention_span(x: Sequence[float], y: Sequence[float], level: float = 0.5) -> str:
    """The largest age up to which ``y >= level`` from the youngest age on (``>=`` when it never drops)."""
    last = None
    for a, v in zip(x, y):
        if not (v >= level):  # NaN counts as a drop
            break
        last = a
    if last is None:
        return f"< {_fmt_age(x[0])}"
    return f">= {_fmt_age(last)}" if last == x[-1] else _fmt_age(last)


def _fmt_age(a: float) -> str:
    return str(int(a)) if float(a).is_integer() else f"{a:.3g}"


def _cell(c: dict, age: float, metric: str) -> str:
    try:
        j = c["x"].index(age)
    except ValueError:
        return "."
    if metric == "raw":
        v = c["raw"][j]
        return "nan" if math.isnan(v) else f"{v:.3f}"
    y, lo, hi = c["y"][j], c["lo"][j], c["hi"][j]
    if math.isnan(y):
        return "nan"
    return f"{y:.2f}" + ("" if math.isnan(lo) or math.isnan(hi) else f" [{lo:.2f},{hi:.2f}]")


def compare_table(curves: Sequence[dict], *, metric: str = "normalised") -> str:
    """The arch x age table (``.`` where a curve has no point at that age)."""
    from .cli import _table

    ages = table_ages(curves)
    header = ["architecture", "family", "n", "span(y>=0.5)"] + [f"age {_fmt_age(a)}" for a in ages]
    rows = [[c["label"], c["family"], str(c["n"]), retention_span(c["x"], c["y"])]
            + [_cell(c, a, metric) for a in ages] for c in curves]
    what = ("normalised fidelity (0 = chance, 1 = perfect) [95 % interval]" if metric == "normalised"
            else "raw recall metric (per curve: " + "; ".join(sorted({c["raw_label"] for c in curves})) + ")")
    return (f"{what}\nspan: fidelity stays >= 0.5 from the newest memory up to this age; "
            "'.': no point at that age\n" + _table(rows, header))


def headline(curves: list[dict]) -> list[dict]:
    """The first curve of each (scenario, arch): a protocol lists its headline curve of an arch first."""
    seen, out = set(), []
    for c in curves:
        if (c["scenario"], c["arch"]) not in seen:
            seen.add((c["scenario"], c["arch"]))
            out.append(c)
    return out


def _filter_arch(curves: list[dict], archs: Sequence[str] | None) -> list[dict]:
    if not archs:
        return curves
    have = sorted({c["arch"] for c in curves})
    wanted = {a.lower() for a in archs}
    unknown = sorted(wanted - {a.lower() for a in have})
    if unknown:
        raise UserError(f"--arch {' '.join(unknown)}: no such architecture in these runs; they have: "
                        + ", ".join(have))
    return [c for c in curves if c["arch"].lower() in wanted]


def _run_scenarios(files: Sequence[Path], *, seeds, smoke: bool, workers: int, out: Path) -> list[tuple[dict, dict]]:
    from .protocols import PROTOCOLS
    from .scenario import load_scenario
    from .store import new_run_dir, save_run
    from .sweep import run_scenario

    runs = []
    for f in files:
        for seed in (seeds or [None]):
            scenario = load_scenario(f, smoke=smoke, seed=seed)
            if getattr(PROTOCOLS[scenario.meta["protocol"]], "retention", None) is None:
                raise UserError(f"{f}: protocol {scenario.meta['protocol']!r} writes no retention curves; "
                                "give a retention scenario (scenarios/retention_*.toml)")
            started = datetime.now(timezone.utc).isoformat(timespec="seconds")
            run_dir = new_run_dir(out, scenario.name, seed=scenario.config["run"]["seed"], smoke=smoke)
            print(f"{scenario.name} (seed {scenario.config['run']['seed']}{', smoke' if smoke else ''}) ...",
                  flush=True)
            result = run_scenario(scenario, workers=workers, figures=True)
            save_run(run_dir, scenario, result, started=started)
            n_fail = sum(not c.passed for c in result.checks)
            print(f"  {len(result.checks) - n_fail} expectations passed, {n_fail} failed ({result.runtime:.1f} s) "
                  f"-> {run_dir}", flush=True)
            if not (run_dir / RETENTION_FILE).exists():  # e.g. retention over time, not over memory age
                print(f"  no memory-age curves at these settings (no {RETENTION_FILE}); not in the comparison")
                continue
            runs.append((_run_info(run_dir), read_retention(run_dir)))
    if not runs:
        raise UserError(f"none of {', '.join(str(f) for f in files)} wrote retention curves ({RETENTION_FILE})")
    return runs


def cmd_compare(args) -> int:
    """The ``rnnlab compare`` subcommand (arguments parsed in :mod:`sim.cli`)."""
    from .cli import _scenario_dir
    from .plots import save_figure
    from .plots.retention import retention_compare_figure
    from .store import atomic_write_bytes, write_json

    out = Path(args.out)
    if args.runs:
        if args.scenarios or args.smoke:
            raise UserError("--runs reads stored runs; --scenarios and --smoke apply only when running scenarios")
        runs = find_runs(args.runs, seeds=args.seeds)
    else:
        if args.scenarios:
            files = [Path(f) for f in args.scenarios]
        else:
            sdir = _scenario_dir(None)
            files = default_retention_scenarios(sdir)
            if not files:
                raise UserError(f"{sdir}: no retention scenarios (retention_*.toml); give --scenarios FILE or "
                                "--runs DIR")
        runs = _run_scenarios(files, seeds=args.seeds, smoke=args.smoke, workers=args.workers, out=out)
    curves = _filter_arch(pool_curves([doc for _, doc in runs]), args.arch)
    curves = label_curves(curves if args.all_curves else headline(curves))

    print()
    print(compare_table(curves, metric=args.metric))
    x_label = runs[0][1]["x_label"] if len({d["x_label"] for _, d in runs}) == 1 else X_LABEL
    y_label = runs[0][1]["y_label"] if len({d["y_label"] for _, d in runs}) == 1 else Y_LABEL
    fig = retention_compare_figure([bin_ages(c, args.bins) for c in curves], metric=args.metric,
                                   x_label=x_label, y_label=y_label)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    dest = out / "compare" / stamp
    for i in range(2, 1000):
        if not dest.exists():
            break
        dest = out / "compare" / f"{stamp}-{i}"
    try:
        dest.mkdir(parents=True)
        png = save_figure(fig, dest / "retention_compare.png")
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write the figure: {exc}") from None
    write_json(dest / "retention_compare.json", {
        "metric": args.metric, "x_label": x_label, "y_label": y_label,
        "runs": [info for info, _ in runs], "curves": curves})
    print(f"\n{len(curves)} curves from {len(runs)} run(s) -> {png}")
    if args.save_figure:
        gallery = _scenario_dir(None).resolve().parent / "figures" / "retention_compare.png"
        atomic_write_bytes(gallery, png.read_bytes())
        print(f"  and {gallery}")
    failed = [info["run_dir"] for info, _ in runs if info["passed"] is False]
    if failed:
        print(f"{len(failed)} run(s) failed an expectation: {', '.join(failed)}")
    return 1 if failed else 0
