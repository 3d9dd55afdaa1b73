"""Scenario files: load, override, validate and expand them (DESIGN.md section 4).

A scenario is a TOML file binding a net, a storage/training rule, a task, a protocol
and the run settings, with its citation and ``[expect]``ations. Loading applies, in
order: the file, its ``[smoke]`` overrides (with ``smoke=True``), ``--set key=value``
overrides (values read with :func:`ast.literal_eval`, bare words as strings), and
``--seed``. Every value is then checked against the schema of the net, rule, task and
protocol it configures; any unknown key, wrong type or out-of-range value raises
:class:`~sim.errors.ScenarioError` naming the file (or ``--set``), the key and what was
expected. No ``eval``/``exec``/pickle of user input.

``[sweep]`` maps dotted keys to lists; the run covers their cartesian product. A sweep
point is labelled ``name=value,...`` with the last component of each key, and metrics of
that point are reported as ``metric[label]``.
"""
from __future__ import annotations

import ast
import itertools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ScenarioError, UserError
from .schedule import SCHEDULES
from .schema import REQUIRED, Key, check

__all__ = ["Scenario", "Expectation", "load_scenario", "parse_set", "point_label", "format_value",
           "SECTIONS"]

SECTIONS = ("meta", "net", "train", "data", "run", "record", "sweep", "smoke", "expect", "plot")
_CONFIG_SECTIONS = ("net", "train", "data", "run", "record")

META_KEYS = {
    "id": Key("str", default="", doc="short id, e.g. H4 in SCENARIOS.md"),
    "title": Key("str"),
    "reference": Key("str", doc="the citation"),
    "protocol": Key("str"),
    "notes": Key("str", default=""),
    "nightly": Key("bool", default=False, doc="full settings are slow"),
}
RUN_KEYS = {
    "seed": Key("int", default=0, min=0),
    "trials": Key("int", default=1, min=1, doc="independent repetitions per sweep point"),
    "schedule": Key("str", default="random", choices=SCHEDULES),
    "sweeps": Key("int", default=100, min=1, doc="maximum number of sweeps (ticks)"),
    "temperature": Key("temperature", default=0.0),
}
RECORD_KEYS = {
    "every": Key("any", default="sweep", doc='"sweep", "update", or every k sweeps'),
    "probes": Key("str_list", default=["energy", "overlap"]),
}
_EXPECT_KEYS = {"min", "max", "published", "note"}


@dataclass(frozen=True)
class Expectation:
    """An ``[expect]`` entry: bounds on one metric, with the published value for display."""

    metric: str
    min: float | None = None
    max: float | None = None
    published: Any = None
    note: str = ""

    def holds(self, value: float) -> bool:
        return (value == value and (self.min is None or value >= self.min)
                and (self.max is None or value <= self.max))

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            return f"[{format_value(self.min)}, {format_value(self.max)}]"
        return f">= {format_value(self.min)}" if self.min is not None else f"<= {format_value(self.max)}"


@dataclass
class Scenario:
    """A validated scenario.

    Attributes
    ----------
    path : Path
    config : dict
        Resolved ``net``, ``train``, ``data``, ``run``, ``record`` and ``meta`` tables
        (defaults filled in), before sweep values are applied.
    sweep : dict of dotted key -> list
    expect : list of Expectation
    plots : list of dict
    overrides : list of str
        The ``--set`` overrides applied, as given.
    smoke : bool
    """

    path: Path
    config: dict[str, dict[str, Any]]
    sweep: dict[str, list]
    expect: list[Expectation]
    plots: list[dict[str, Any]]
    overrides: list[str] = field(default_factory=list)
    smoke: bool = False
    #: expectations on sweep points that overrides removed from this run (not checked)
    unchecked: list[Expectation] = field(default_factory=list)
    _points: list = field(default_factory=list, repr=False)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def meta(self) -> dict[str, Any]:
        return self.config["meta"]

    def points(self) -> list[tuple[str, dict[str, dict[str, Any]]]]:
        """Sweep points as (label, validated config of that point), in sweep order."""
        return [(label, {s: dict(t) for s, t in cfg.items()}) for label, cfg in self._points]

    def resolved(self) -> dict[str, Any]:
        """Everything needed to rerun: the config, sweep, expectations and plots."""
        return {**self.config, "sweep": self.sweep,
                "expect": {e.metric: {k: v for k, v in (("min", e.min), ("max", e.max),
                                                         ("published", e.published), ("note", e.note))
                                      if v not in (None, "")} for e in self.expect},
                "plot": self.plots}


def format_value(v: Any) -> str:
    """Canonical text of a sweep value: ``0.10`` -> ``0.1``, ``0.0`` and ``0`` -> ``0``, ``5`` -> ``5``."""
    if isinstance(v, float):
        return f"{v:.12g}"
    return str(v)


def point_label(values: dict[str, Any]) -> str:
    return ",".join(f"{k.rsplit('.', 1)[-1]}={format_value(v)}" for k, v in values.items())


def parse_set(text: str) -> tuple[str, Any]:
    """Read ``key=value``: the value by :func:`ast.literal_eval`, a bare word as a string."""
    if "=" not in text:
        raise ScenarioError("--set", text, "expected key=value, e.g. --set run.trials=5")
    key, raw = text.split("=", 1)
    key, raw = key.strip(), raw.strip()
    if not key or "." not in key:
        raise ScenarioError("--set", key or text, "expected a dotted key such as run.trials")
    if raw in ("true", "false"):  # TOML spelling of booleans
        return key, raw == "true"
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        if not raw or not all(c.isalnum() or c in "-_." for c in raw):
            raise ScenarioError("--set", key, f"cannot read the value {raw!r} (use Python literal syntax)") from None
        value = raw
    if isinstance(value, tuple):
        value = list(value)
    return key, value


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise UserError(f"{path}: no such scenario file")
    if path.is_dir():
        raise UserError(f"{path}: is a directory, not a scenario file")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the file: {exc}") from None


def _section_schemas(tables: dict[str, dict], origin, protocol) -> dict[str, dict[str, Key]]:
    """The schema of each config section, which depends on the net kind, rule and task."""
    from .core import registry
    from .tasks import TASKS

    nets = {k: c for k, c in registry().items() if getattr(c, "config_keys", None)}
    schemas: dict[str, dict[str, Key]] = {}
    kind = tables.get("net", {}).get("kind")
    schemas["net"] = {"kind": Key("str", choices=tuple(sorted(nets)))}
    net_cls = nets.get(kind)
    own = protocol.section_keys  # a protocol may define a section's schema itself (seqlearn: several nets)
    if "net" in protocol.sections and "net" not in own:
        check(schemas["net"]["kind"], kind if kind is not None else _missing(origin, "net.kind"),
              source=origin("net.kind"), name="net.kind")
        schemas["net"].update(net_cls.config_keys)
    rules = getattr(net_cls, "rules", {}) if net_cls else {}
    schemas["train"] = {"rule": Key("str", choices=tuple(sorted(rules)) or None)}
    rule = tables.get("train", {}).get("rule")
    if "train" in tables and rule in rules:
        schemas["train"].update(rules[rule])
    schemas["data"] = {"task": Key("str", choices=tuple(sorted(TASKS)))}
    task = tables.get("data", {}).get("task")
    if task in TASKS:
        schemas["data"].update(TASKS[task])
    schemas["run"] = {**RUN_KEYS, **protocol.run_keys}
    schemas["record"] = dict(RECORD_KEYS)
    schemas.update({sec: dict(keys) for sec, keys in own.items()})
    return schemas


def _missing(origin, name):
    sec, key = name.split(".", 1)
    raise ScenarioError(origin(name), name, "this key is required")


def _validate_table(section: str, table: dict, schema: dict[str, Key], origin) -> dict[str, Any]:
    out = {}
    for k, v in table.items():
        name = f"{section}.{k}"
        if k not in schema:
            known = ", ".join(sorted(schema)) or "(none)"
            raise ScenarioError(origin(name), name, f"unknown key; expected one of: {known}")
        out[k] = check(schema[k], v, source=origin(name), name=name)
    for k, key in schema.items():
        if k not in out:
            if key.default is REQUIRED:
                raise ScenarioError(origin(f"{section}.{k}"), f"{section}.{k}",
                                    f"this key is required ({key.expectation()})")
            out[k] = key.default
    return out


def _validate_record(rec: dict, origin) -> dict:
    every = rec["every"]
    if not (every in ("sweep", "update") or (isinstance(every, int) and not isinstance(every, bool) and every >= 1)):
        raise ScenarioError(origin("record.every"), "record.every",
                            f'expected "sweep", "update" or an integer >= 1, got {every!r}')
    from .record import PROBES

    bad = [p for p in rec["probes"] if p not in PROBES]
    if bad:
        raise ScenarioError(origin("record.probes"), "record.probes",
                            f"unknown probe(s) {bad}; expected some of {', '.join(PROBES)}")
    return rec


def load_scenario(path: str | Path, *, overrides: list[str] | tuple[str, ...] = (), smoke: bool = False,
                  seed: int | None = None) -> Scenario:
    """Read, override and validate a scenario file.

    Parameters
    ----------
    path : str or Path
    overrides : list of str
        ``key=value`` strings (``--set``), applied after ``[smoke]``.
    smoke : bool
        Apply the file's ``[smoke]`` overrides.
    seed : int, optional
        Replaces ``run.seed``.
    """
    from .protocols import PROTOCOLS

    path = Path(path)
    src = str(path)
    raw = _read_toml(path)
    for sec, table in raw.items():
        if sec not in SECTIONS:
            raise ScenarioError(src, sec, f"unknown section; expected some of: {', '.join(SECTIONS)}")
        want_list = sec == "plot"
        if want_list and not (isinstance(table, list) and all(isinstance(t, dict) for t in table)):
            raise ScenarioError(src, sec, "expected an array of tables ([[plot]])")
        if not want_list and not isinstance(table, dict):
            raise ScenarioError(src, sec, "expected a table ([" + sec + "])")
    meta = _validate_table("meta", raw.get("meta", {}), META_KEYS, lambda n: src)
    if meta["protocol"] not in PROTOCOLS:
        raise ScenarioError(src, "meta.protocol", f"expected one of {', '.join(sorted(PROTOCOLS))}, "
                                                  f"got {meta['protocol']!r}")
    protocol = PROTOCOLS[meta["protocol"]]

    tables = {s: dict(raw.get(s, {})) for s in _CONFIG_SECTIONS}
    sweep = {k: v for k, v in raw.get("sweep", {}).items()}
    file_sweep = dict(sweep)
    where: dict[str, str] = {}

    def apply(key: str, value: Any, source: str):
        if key.startswith("sweep."):
            skey = key[len("sweep."):]
            if skey not in sweep:
                raise ScenarioError(source, key, f"no such sweep key; the sweep has: {', '.join(sweep) or '(none)'}")
            sweep[skey] = value
            where[key] = source
            return
        sec, _, name = key.partition(".")
        if sec not in _CONFIG_SECTIONS or not name or "." in name:
            raise ScenarioError(source, key, "expected section.key with section one of "
                                             + ", ".join(_CONFIG_SECTIONS) + " (or sweep.<key>)")
        tables[sec][name] = value
        where[key] = source

    if smoke:
        smoke_table = raw.get("smoke", {})
        if not smoke_table:
            raise UserError(f"{src}: --smoke asked for, but the file has no [smoke] section")
        for k, v in smoke_table.items():
            apply(k, v, f"{src} [smoke]")
    applied = []
    for text in overrides:
        k, v = parse_set(text)
        apply(k, v, "--set")
        applied.append(text)
    if seed is not None:
        apply("run.seed", seed, "--seed")

    def origin(name: str) -> str:
        return where.get(name, src)

    for sec in _CONFIG_SECTIONS:
        if sec in protocol.sections and sec not in raw and sec not in {k.split(".")[0] for k in where}:
            raise ScenarioError(src, sec, f"the {protocol.name} protocol needs a [{sec}] section")
        if sec not in protocol.sections + protocol.optional_sections and sec not in ("run", "record") and tables[sec]:
            raise ScenarioError(src, sec, f"the {protocol.name} protocol takes no [{sec}] section")
    config = _validate_config(tables, meta, protocol, origin)

    for k, values in sweep.items():
        sec, _, name = k.partition(".")
        if sec not in protocol.sections + protocol.optional_sections + ("run",) or not name or "." in name:
            raise ScenarioError(src, f"sweep.{k}", "expected a dotted key of a net/train/data/run setting")
        if not isinstance(values, list) or not values:
            raise ScenarioError(origin(f"sweep.{k}"), f"sweep.{k}", "expected a non-empty list of values")
    # every point is validated on its own: a swept rule or task brings its own keys
    points = []
    for values in itertools.product(*sweep.values()):
        point_tables = {s: dict(t) for s, t in tables.items()}
        for k, v in zip(sweep, values):
            sec, _, name = k.partition(".")
            point_tables[sec][name] = v
        point_origin = lambda n, _o=origin: _o(f"sweep.{n}") if n in sweep else _o(n)  # noqa: E731
        try:
            cfg = _validate_config(point_tables, meta, protocol, point_origin)
        except ScenarioError as exc:
            if exc.key in sweep:
                raise ScenarioError(exc.source, f"sweep.{exc.key}", exc.message) from None
            raise
        points.append((point_label(dict(zip(sweep, values))), cfg))
    sweep = {k: [points[i][1][k.split(".")[0]][k.split(".", 1)[1]] for i in _first_index_of_each(sweep, j)]
             for j, k in enumerate(sweep)}

    scenario = Scenario(path=path, config=config, sweep=sweep, expect=[], plots=[], overrides=applied, smoke=smoke,
                        _points=points)
    labels = {label for label, _ in scenario.points()}
    file_labels = labels
    if file_sweep != sweep:  # expectations are written against the file's own sweep
        file_labels = {point_label(dict(zip(file_sweep, vals)))
                       for vals in itertools.product(*file_sweep.values())} if file_sweep else {""}
    for k, v in raw.get("expect", {}).items():
        e = _expectation(src, k, v, protocol, labels | file_labels)
        (scenario.expect if _label_of(e.metric) in labels else scenario.unchecked).append(e)
    scenario.plots = [_plot(src, i, p, protocol) for i, p in enumerate(raw.get("plot", []))]
    protocol.validate(scenario)
    return scenario


def _validate_config(tables: dict, meta: dict, protocol, origin) -> dict[str, dict[str, Any]]:
    schemas = _section_schemas(tables, origin, protocol)
    config: dict[str, dict[str, Any]] = {"meta": meta}
    for sec in _CONFIG_SECTIONS:
        if sec in protocol.sections or sec in ("run", "record") or (sec in protocol.optional_sections and tables[sec]):
            config[sec] = _validate_table(sec, tables[sec], schemas[sec], origin)
    config["record"] = _validate_record(config["record"], origin)
    return config


def _first_index_of_each(sweep: dict[str, list], j: int) -> list[int]:
    """For sweep key number ``j``: the index of a point carrying each of its values in turn."""
    sizes = [len(v) for v in sweep.values()]
    stride = 1
    for s in sizes[j + 1:]:
        stride *= s
    return [i * stride for i in range(sizes[j])]


def _label_of(metric: str) -> str:
    return metric.partition("[")[2].rstrip("]")


def _expectation(src: str, metric: str, spec: Any, protocol, labels: set[str]) -> Expectation:
    name = f"expect.{metric}"
    base, _, rest = metric.partition("[")
    if base not in protocol.metrics:
        raise ScenarioError(src, name, f"unknown metric {base!r}; the {protocol.name} protocol reports: "
                                       + ", ".join(protocol.metrics))
    if rest:
        if not rest.endswith("]"):
            raise ScenarioError(src, name, "expected metric[key=value,...]")
        parts = []
        for item in rest[:-1].split(","):
            k, eq, v = item.partition("=")
            if not eq:
                raise ScenarioError(src, name, "expected metric[key=value,...]")
            try:
                val = ast.literal_eval(v.strip())
            except (ValueError, SyntaxError):
                val = v.strip()
            parts.append(f"{k.strip()}={format_value(val)}")
        label = ",".join(parts)
        if label not in labels:
            raise ScenarioError(src, name, f"no sweep point {label!r}; points are: {', '.join(sorted(labels))}")
        metric = f"{base}[{label}]"
    elif labels != {""}:
        raise ScenarioError(src, name, "the scenario sweeps; name the point, e.g. "
                                       f"{base}[{sorted(labels)[0]}]")
    if not isinstance(spec, dict) or set(spec) - _EXPECT_KEYS:
        raise ScenarioError(src, name, "expected a table { min = ..., max = ..., published = ..., note = ... }")
    bounds = {}
    for b in ("min", "max"):
        if b in spec:
            bounds[b] = check(Key("float"), spec[b], source=src, name=f"{name}.{b}")
    if not bounds:
        raise ScenarioError(src, name, "expected at least one of min or max")
    if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
        raise ScenarioError(src, name, "min is larger than max")
    note = spec.get("note", "")
    if not isinstance(note, str):
        raise ScenarioError(src, f"{name}.note", "expected a string")
    return Expectation(metric, bounds.get("min"), bounds.get("max"), spec.get("published"), note)


def _plot(src: str, i: int, spec: dict, protocol) -> dict:
    name = f"plot[{i}]"
    kind = spec.get("kind")
    if kind not in protocol.plots:
        raise ScenarioError(src, f"{name}.kind", "expected one of " + ", ".join(protocol.plots) + f", got {kind!r}")
    options = protocol.plots[kind]
    out = {"kind": kind}
    for k, v in spec.items():
        if k == "kind":
            continue
        if k not in options:
            raise ScenarioError(src, f"{name}.{k}", f"unknown option for a {kind} plot; expected: "
                                                    + (", ".join(options) or "(none)"))
        out[k] = check(options[k], v, source=src, name=f"{name}.{k}")
    return out
