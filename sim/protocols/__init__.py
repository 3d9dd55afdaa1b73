"""Experiment procedures. A protocol turns a resolved scenario config into metrics.

A protocol runs *trials* — independent repetitions, each with its own seed stream, so
that they can run in any order, in any process, with the same result — then aggregates
them per sweep point, runs an optional *demo* (one recorded trajectory for figures) and
draws the figures the scenario asks for.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..schema import Key

__all__ = ["Protocol", "PROTOCOLS"]


class Protocol:
    """Base class of protocols (see :mod:`sim.protocols.recall` for an example)."""

    name: ClassVar[str]
    #: config sections the protocol needs besides [run] and [record]
    sections: ClassVar[tuple[str, ...]] = ()
    #: config sections the protocol uses when they are given (validated then), but does not need
    optional_sections: ClassVar[tuple[str, ...]] = ()
    #: protocol-specific [run] keys
    run_keys: ClassVar[dict[str, Key]] = {}
    #: metric names it reports (the base names of [expect] keys)
    metrics: ClassVar[tuple[str, ...]] = ()
    #: [[plot]] kinds it can draw, each with the schema of its options
    plots: ClassVar[dict[str, dict[str, Key]]] = {}

    def validate(self, scenario) -> None:
        """Cross-key checks; raise ScenarioError."""

    def trial(self, cfg: dict[str, dict[str, Any]], ss: np.random.SeedSequence, k: int) -> dict[str, Any]:
        """Trial ``k`` of one sweep point, from its own seed stream ``ss``."""
        raise NotImplementedError

    def aggregate(self, cfg, results: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, tuple]]:
        """Metrics of one sweep point, and their intervals (lo, hi)."""
        raise NotImplementedError

    def demo(self, cfg, ss: np.random.SeedSequence):
        """An illustrative recorded run for figures, or None."""
        return None

    def figures(self, scenario, points: list[dict[str, Any]], demo) -> list[tuple[str, Any]]:
        """(file stem, matplotlib Figure) pairs for the scenario's [[plot]] entries."""
        return []


def _load() -> dict[str, Protocol]:
    """Instances of every Protocol subclass defined in the modules of this package."""
    import importlib
    import inspect
    import pkgutil

    found: dict[str, Protocol] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, Protocol) and obj.__module__ == module.__name__ \
                    and "name" in vars(obj):
                if obj.name in found:
                    raise RuntimeError(f"two protocols are named {obj.name!r}")
                found[obj.name] = obj()
    return found


PROTOCOLS: dict[str, Protocol] = _load()
