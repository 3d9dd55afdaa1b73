"""Seeds and named random streams.

One integer seed determines a whole run. Streams are addressed by *name* (``"init"``,
``"plan"``, ``"noise"``, ``"data"``...) and by *trial index*, never by the order in which
they were requested, so that adding a probe or a stream never changes the numbers any
other stream produces, and trial ``k`` of a sweep gets the same numbers whether it runs
first, last, alone or in another process.

A stream is ``SeedSequence(entropy=seed, spawn_key=path)``, which is exactly what
``SeedSequence(seed).spawn`` produces for the child at ``path``; names are turned into
spawn-key entries by a stable CRC-32 of their UTF-8 bytes.
"""
from __future__ import annotations

import zlib
from typing import Iterable

import numpy as np

__all__ = ["SeedLike", "seed_sequence", "child", "generator", "streams", "fresh_seed"]

SeedLike = int | np.random.SeedSequence | None


def _key(part: int | str) -> int:
    if isinstance(part, (int, np.integer)):
        if part < 0:
            raise ValueError(f"stream index must be >= 0, got {part}")
        return int(part)
    return zlib.crc32(str(part).encode("utf-8"))


def fresh_seed() -> int:
    """A new random 63-bit seed from OS entropy (recorded so the run can be repeated)."""
    return int(np.random.SeedSequence().entropy % (2**63))


def seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Turn an entry-point seed into a SeedSequence (``None`` draws fresh entropy)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        return np.random.SeedSequence(fresh_seed())
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, a SeedSequence or None, not {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.SeedSequence(int(seed))


def child(ss: np.random.SeedSequence, *path: int | str) -> np.random.SeedSequence:
    """The child stream of ``ss`` at ``path`` (ints are trial indices, strings names)."""
    return np.random.SeedSequence(
        entropy=ss.entropy, spawn_key=tuple(ss.spawn_key) + tuple(_key(p) for p in path)
    )


def generator(ss: np.random.SeedSequence, *path: int | str) -> np.random.Generator:
    """A PCG64 generator on the child stream at ``path``."""
    return np.random.Generator(np.random.PCG64(child(ss, *path)))


def streams(ss: np.random.SeedSequence, names: Iterable[str]) -> dict[str, np.random.Generator]:
    """One independent generator per name."""
    return {name: generator(ss, name) for name in names}
