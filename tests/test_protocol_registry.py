"""Every protocol module is registered under the name its class declares, and vice versa."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import sim.protocols as P


def test_registry_matches_the_modules():
    declared = {}
    for info in pkgutil.iter_modules(P.__path__):
        module = importlib.import_module(f"sim.protocols.{info.name}")
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, P.Protocol) and obj.__module__ == module.__name__ \
                    and "name" in vars(obj):
                assert obj.name not in declared, f"two protocols named {obj.name!r}"
                declared[obj.name] = info.name
    assert declared == P.MODULES
    for name in P.MODULES:
        assert P.PROTOCOLS[name].name == name
    assert sorted(P.PROTOCOLS) == sorted(declared) and "nope" not in P.PROTOCOLS
