"""rnnlab's engine: the Net interface, schedules, the simulation loop and records."""
from .core import Net, get_net, register, registry, state_is_finite, states_equal
from .errors import ScenarioError, UserError
from .record import PROBES, STATUSES, Record, Trajectory
from .retention import read_retention, retention_curve, write_retention
from .rng import child, generator, seed_sequence, streams
from .schedule import SCHEDULES, Plan, greedy_colouring, make_plan, temperatures
from .simulate import simulate

__all__ = [
    "Net", "get_net", "register", "registry", "state_is_finite", "states_equal",
    "ScenarioError", "UserError",
    "PROBES", "STATUSES", "Record", "Trajectory",
    "read_retention", "retention_curve", "write_retention",
    "child", "generator", "seed_sequence", "streams",
    "SCHEDULES", "Plan", "greedy_colouring", "make_plan", "temperatures",
    "simulate",
]
