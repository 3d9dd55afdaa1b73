"""Experiment procedures. A protocol turns a resolved scenario config into metrics.

A protocol runs *trials* — independent repetitions, each with its own seed stream, so
that they can run in any order, in any process, with the same result — then aggregates
them per sweep point, runs an optional *demo* (one recorded trajectory for figures) and
draws the figures the scenario asks for.
"""
from __future__ import annotations

import abc
import importlib
import inspect
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ..schema import Key

__all__ = ["Protocol", "PROTOCOLS", "MODULES"]


class Protocol(abc.ABC):
    """Base class of protocols (see :mod:`sim.protocols.recall` for an example)."""

    name: ClassVar[str]
    #: config sections the protocol needs besides [run] and [record]
    sections: ClassVar[tuple[str, ...]] = ()
    #: config sections the protocol uses when they are given (validated then), but does not need
    optional_sections: ClassVar[tuple[str, ...]] = ()
    #: protocol-specific [run] keys
    run_keys: ClassVar[dict[str, Key]] = {}
    #: schemas of config sections the protocol defines itself, replacing the net/rule-derived
    #: ones (e.g. seqlearn's [net] lists several architectures and its [train] is net-independent)
    section_keys: ClassVar[dict[str, dict[str, Key]]] = {}
    #: metric names it reports (the base names of [expect] keys)
    metrics: ClassVar[tuple[str, ...]] = ()
    #: [[plot]] kinds it can draw, each with the schema of its options
    plots: ClassVar[dict[str, dict[str, Key]]] = {}

    def validate(self, scenario) -> None:
        """Cross-key checks; raise ScenarioError."""

    @abc.abstractmethod
    def trial(self, cfg: dict[str, dict[str, Any]], ss: np.random.SeedSequence, k: int) -> dict[str, Any]:
        """Trial ``k`` of one sweep point, from its own seed stream ``ss``."""

    @abc.abstractmethod
    def aggregate(self, cfg, results: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, tuple]]:
        """Metrics of one sweep point, and their intervals (lo, hi)."""

    def demo(self, cfg, ss: np.random.SeedSequence):
        """An illustrative recorded run for figures, or None."""
        return None

    def figures(self, scenario, points: list[dict[str, Any]], demo) -> list[tuple[str, Any]]:
        """(file stem, matplotlib Figure) pairs for the scenario's [[plot]] entries."""
        return []


#: protocol name -> module of this package defining it (imported on first use, so that a
#: run pays only for the protocol it needs; tests/test_protocol_registry.py checks the map)
MODULES: dict[str, str] = {
    "attractor_map": "attractors",
    "boltzmann_sampling": "boltzmann_sampling",
    "capacity": "capacity",
    "dynamics": "dynamics",
    "gates": "gates",
    "gate_limits": "gate_limits",
    "encoder": "encoder",
    "glauber": "glauber",
    "lexical_classes": "lexical",
    "online1997": "online1997",
    "plan_sequences": "jordan",
    "rbm_likelihood": "rbm",
    "rbm_pseudo_ll": "rbm",
    "recall": "recall",
    "retention_attractor": "retention",
    "seqlearn": "seqlearn",
    "sequence": "sequence",
    "stability": "stability",
    "theory": "theory",
}


class _Registry(Mapping):
    """Read-only mapping name -> Protocol instance, importing each module lazily."""

    def __init__(self, modules: dict[str, str]):
        self._modules = dict(modules)
        self._loaded: dict[str, Protocol] = {}

    def __getitem__(self, name: str) -> Protocol:
        if name not in self._loaded:
            if name not in self._modules:
                raise KeyError(name)
            module = importlib.import_module(f"{__name__}.{self._modules[name]}")
            classes = [obj for obj in vars(module).values()
                       if inspect.isclass(obj) and issubclass(obj, Protocol) and vars(obj).get("name") == name]
            if len(classes) != 1:
                raise RuntimeError(f"module {module.__name__} must define exactly one protocol named {name!r}")
            self._loaded[name] = classes[0]()
        return self._loaded[name]

    def __iter__(self):
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


PROTOCOLS: Mapping[str, Protocol] = _Registry(MODULES)
