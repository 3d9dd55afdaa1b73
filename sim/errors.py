"""Errors that reach the user.

:class:`UserError` is raised for bad input (a scenario file, a ``--set`` override, a
command-line flag). The command line prints its message and exits with status 2, with
no traceback. Everything else is a bug and keeps its traceback.
"""
from __future__ import annotations

__all__ = ["UserError", "ScenarioError"]


class UserError(Exception):
    """Bad input from the user; the message says what was expected."""


class ScenarioError(UserError):
    """A scenario file or override is invalid.

    Parameters
    ----------
    source : str
        The file (or ``--set``) where the bad value came from.
    key : str
        The dotted key, e.g. ``"net.n_units"``; empty for file-level problems.
    message : str
        What was wrong and what was expected.
    """

    def __init__(self, source: str, key: str, message: str):
        self.source, self.key, self.message = source, key, message
        where = f"{source}: key '{key}'" if key else f"{source}"
        super().__init__(f"{where}: {message}")
