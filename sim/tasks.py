"""Seeded data generators (tasks) for the protocols.

Each task is a function of its parameters and a ``numpy.random.Generator`` (never a
global random state). Registered tasks carry the schema of their scenario keys in
:data:`TASKS`, so a scenario's ``[data]`` section is validated against the task it names.

* ``random_patterns``: P independent random memories of N units, each unit on with
  probability ``bias`` (Hopfield 1982 and AGS 1987 use unbiased patterns, bias = 1/2).
* :func:`corrupt`: a cue made by flipping exactly ``round(fraction * N)`` distinct units.
* :func:`binary_stream`: a stream of independent bits for clocked nets.
* ``bars_and_stripes``: the 2^(n+1) - 2 distinct n x n bars-and-stripes images (MacKay).
* ``encoder_pairs``: the v environmental vectors of the v-h-v encoder (Ackley, Hinton &
  Sejnowski 1985): length 2v, unit i of V1 and unit i of V2 on.
* ``temporal_xor``: Elman's (1990) stream of bit pairs each followed by their XOR.
* ``plan_sequences``: Jordan's (1986) plans (one-hot) each mapped to a binary sequence.
* ``elman_letters``: Elman's (1990) letter stream (b -> ba, d -> dii, g -> guuu) as the
  6-bit phonetic feature vectors of his Table 1.
* ``elman_sentences``: a continuous stream of two- and three-word sentences from Elman's
  (1990) lexical-class templates (29 words, 12 classes, 15 templates; see the function).
"""
from __future__ import annotations

import numpy as np

from .schema import Key

__all__ = ["TASKS", "random_patterns", "n_patterns", "corrupt", "binary_stream", "bars_and_stripes", "temporal_xor", "encoder_pairs",
           "plan_sequences", "LETTER_FEATURES", "elman_letters", "LEXICON", "TEMPLATES", "WORDS",
           "elman_sentences"]


def _lo(units: str) -> int:
    if units not in ("spin", "binary"):
        raise ValueError(f"units must be 'spin' or 'binary', got {units!r}")
    return -1 if units == "spin" else 0


def random_patterns(n_memories: int, n_units: int, *, units: str = "spin", bias: float = 0.5,
                    rng: np.random.Generator) -> np.ndarray:
    """Random memories, shape (n_memories, n_units), int8, on (1) with probability ``bias``."""
    if n_memories < 1 or n_units < 1:
        raise ValueError("n_memories and n_units must be >= 1")
    if not 0.0 <= bias <= 1.0:
        raise ValueError(f"bias must be in [0, 1], got {bias}")
    on = rng.random((n_memories, n_units)) < bias
    return np.where(on, 1, _lo(units)).astype(np.int8)


def corrupt(pattern: np.ndarray, fraction: float, *, units: str = "spin",
            rng: np.random.Generator) -> np.ndarray:
    """A copy of ``pattern`` (N,) with exactly ``round(fraction * N)`` distinct units flipped."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    lo = _lo(units)
    out = np.array(pattern, dtype=np.int8, copy=True)
    k = int(round(fraction * out.size))
    if k:
        idx = rng.choice(out.size, size=k, replace=False)
        out[idx] = np.where(out[idx] == 1, lo, 1)
    return out


def n_patterns(data: dict, n_units: int) -> int:
    """P from a random_patterns ``[data]`` table: ``n_memories``, or ``round(load * n_units)``.

    Raises ValueError unless exactly one of the two is given and P >= 1.
    """
    n, load = data.get("n_memories"), data.get("load")
    if (n is None) == (load is None):
        raise ValueError("give exactly one of n_memories (P) and load (alpha = P/N)")
    P = int(n) if n is not None else int(round(load * n_units))
    if P < 1:
        raise ValueError(f"load {load} with {n_units} units stores round(load * N) = {P} patterns; need >= 1")
    return P


def binary_stream(length: int, *, p: float = 0.5, rng: np.random.Generator) -> np.ndarray:
    """Independent bits, shape (length, 1), float64 (one input per tick)."""
    return (rng.random((length, 1)) < p).astype(np.float64)


def bars_and_stripes(n: int, *, n_samples: int | None = None, rng: np.random.Generator | None = None) -> np.ndarray:
    """The bars-and-stripes images of size n x n [definition] (MacKay, ITILA), flattened row by row.

    An image has every row uniformly on or off, or every column; the 2^(n+1) - 2 distinct
    images (all-off and all-on counted once: 14 for 3 x 3, 30 for 4 x 4) are returned in a
    fixed order, shape (2^(n+1) - 2, n*n) int8 (for n = 1: the two images [0] and [1]).
    With ``n_samples``, that many images drawn uniformly (with replacement) by ``rng``.
    """
    if n < 1:
        raise ValueError(f"bars-and-stripes needs n >= 1, got {n}")
    if n > 12:
        raise ValueError(f"bars-and-stripes of size {n} would have {2 ** (n + 1) - 2} images; use n <= 12")
    bits = (np.arange(1 << n)[:, None] >> np.arange(n)) & 1           # (2^n, n) line patterns
    rows = np.repeat(bits, n, axis=1)                                  # row r = bit r (horizontal bars)
    cols = np.tile(bits, (1, n))                                       # column c = bit c (vertical stripes)
    images = np.unique(np.vstack([rows, cols]).astype(np.int8), axis=0)
    if n_samples is None:
        return images
    if rng is None:
        raise ValueError("drawing n_samples images needs rng=")
    return images[rng.integers(0, len(images), size=n_samples)]


def temporal_xor(n_bits: int, *, rng: np.random.Generator) -> np.ndarray:
    """Elman's (1990) temporal XOR stream: random bit pairs, each followed by their XOR.

    Returns shape (n_bits, 1), float64: groups (a, b, a XOR b) of 3 bits, a and b fair
    coin flips (n_bits a multiple of 3; Elman used 3,000 bits).
    """
    if n_bits < 3 or n_bits % 3:
        raise ValueError(f"n_bits must be a positive multiple of 3, got {n_bits}")
    pairs = rng.integers(0, 2, size=(n_bits // 3, 2))
    groups = np.column_stack([pairs, pairs[:, 0] ^ pairs[:, 1]])  # (n_bits // 3, 3)
    return groups.reshape(n_bits, 1).astype(np.float64)


def encoder_pairs(v: int) -> np.ndarray:
    """The encoder environment [Ackley, Hinton & Sejnowski 1985]: (v, 2v) int8, row k = (e_k, e_k)."""
    if v < 1:
        raise ValueError(f"an encoder needs v >= 1 units per visible group, got {v}")
    e = np.eye(v, dtype=np.int8)
    return np.hstack([e, e])


def plan_sequences(n_plans: int, length: int, n_bits: int, *, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Jordan-style plans and the sequences they stand for (SCENARIOS.md J1).

    Returns ``plans`` (n_plans, n_plans), one-hot float64, and ``seqs`` (n_plans, length,
    n_bits), random binary float64 (fair bits) with two constraints, met by redrawing: the
    sequences differ from each other, and no sequence is one pattern repeated (each is a
    real oscillation when cycled).
    """
    if n_plans < 1 or length < 2 or n_bits < 1:
        raise ValueError("need n_plans >= 1, length >= 2 and n_bits >= 1")
    if n_plans > 2 ** (length * n_bits) - 2 ** n_bits:
        raise ValueError(f"cannot draw {n_plans} distinct non-constant sequences of {length} x {n_bits} bits")
    while True:
        seqs = rng.integers(0, 2, size=(n_plans, length, n_bits))
        flat = seqs.reshape(n_plans, -1)
        constant = np.all(seqs == seqs[:, :1], axis=(1, 2))
        if not constant.any() and len(np.unique(flat, axis=0)) == n_plans:
            return np.eye(n_plans), seqs.astype(np.float64)


#: Elman (1990), Table 1 [paper]: Consonantal, Vowel, Interrupted, High, Back, Voiced
LETTER_FEATURES: dict[str, tuple[int, ...]] = {
    "b": (1, 0, 1, 0, 0, 1),
    "d": (1, 0, 1, 1, 0, 1),
    "g": (1, 0, 1, 0, 1, 1),
    "a": (0, 1, 0, 0, 1, 1),
    "i": (0, 1, 0, 1, 0, 1),
    "u": (0, 1, 0, 1, 1, 1),
}
_SYLLABLES = {"b": "ba", "d": "dii", "g": "guuu"}


def elman_letters(n_consonants: int, *, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Elman's (1990) letter sequence: random consonants b, d, g (equally likely), each
    replaced by ba, dii, guuu.

    Returns the feature vectors (T, 6) float64 (:data:`LETTER_FEATURES`) and the letters as
    a string of length T (T = sum of the syllable lengths; about 3 n_consonants).
    """
    if n_consonants < 1:
        raise ValueError(f"n_consonants must be >= 1, got {n_consonants}")
    letters = "".join(_SYLLABLES["bdg"[i]] for i in rng.integers(0, 3, size=n_consonants))
    return np.array([LETTER_FEATURES[ch] for ch in letters], dtype=np.float64), letters


#: Elman's (1990) lexical classes as in a public R/keras re-implementation (SCENARIOS.md E3,
#: [public re-impl]); its author says the full class membership is not published and some
#: memberships are guesses. Nouns and verbs never share a word.
LEXICON: dict[str, tuple[str, ...]] = {
    "noun_human": ("man", "woman", "boy", "girl"),
    "noun_animal": ("cat", "dog", "mouse", "lion", "dragon", "monster"),
    "noun_inanimate": ("book", "rock", "glass", "plate", "sandwich", "cookie", "bread", "car"),
    "noun_aggressive": ("dragon", "monster", "lion"),
    "noun_fragile": ("glass", "plate"),
    "noun_food": ("sandwich", "cookie", "bread"),
    "verb_intransitive": ("think", "sleep", "exist"),
    "verb_transitive": ("smell", "move", "see", "break", "smash", "like", "chase", "eat"),
    "verb_agentpatient": ("move", "break", "smell", "see"),
    "verb_perception": ("see", "smell"),
    "verb_destroy": ("break", "smash"),
    "verb_eat": ("eat",),
}
#: the 15 sentence templates (same source)
TEMPLATES: tuple[tuple[str, ...], ...] = (
    ("noun_human", "verb_eat", "noun_food"),
    ("noun_human", "verb_perception", "noun_inanimate"),
    ("noun_human", "verb_destroy", "noun_fragile"),
    ("noun_human", "verb_intransitive"),
    ("noun_human", "verb_agentpatient", "noun_inanimate"),
    ("noun_human", "verb_agentpatient"),
    ("noun_animal", "verb_eat", "noun_food"),
    ("noun_animal", "verb_transitive", "noun_animal"),
    ("noun_animal", "verb_agentpatient", "noun_inanimate"),
    ("noun_animal", "verb_agentpatient"),
    ("noun_inanimate", "verb_agentpatient"),
    ("noun_aggressive", "verb_destroy", "noun_fragile"),
    ("noun_aggressive", "verb_eat", "noun_human"),
    ("noun_aggressive", "verb_eat", "noun_animal"),
    ("noun_aggressive", "verb_eat", "noun_food"),
)
#: the 29 words in order of first appearance in :data:`LEXICON` (word i is input bit i)
WORDS: tuple[str, ...] = tuple(dict.fromkeys(w for ws in LEXICON.values() for w in ws))


def elman_sentences(n_sentences: int, *, n_bits: int = 31, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A continuous word stream of ``n_sentences`` sentences, no sentence boundaries marked.

    Each sentence: a template drawn uniformly from :data:`TEMPLATES`, then each of its
    classes replaced by a word drawn uniformly from that class (:data:`LEXICON`).

    Returns ``words`` (T,) int (indices into :data:`WORDS`) and their one-hot codes
    (T, n_bits) float64 (Elman: 31 bits, the last two unused).
    """
    if n_sentences < 1:
        raise ValueError(f"n_sentences must be >= 1, got {n_sentences}")
    if n_bits < len(WORDS):
        raise ValueError(f"n_bits must be >= {len(WORDS)} (one per word), got {n_bits}")
    index = {w: i for i, w in enumerate(WORDS)}
    words = []
    for t in rng.integers(0, len(TEMPLATES), size=n_sentences):
        for cls in TEMPLATES[t]:
            members = LEXICON[cls]
            words.append(index[members[rng.integers(0, len(members))]])
    words = np.array(words, dtype=np.int64)
    return words, np.eye(n_bits)[words]


#: scenario-visible tasks: name -> schema of their ``[data]`` keys
TASKS: dict[str, dict[str, Key]] = {
    "bars_and_stripes": {
        "size": Key("int", default=3, min=1, max=12, doc="image side n (2^(n+1) - 2 distinct n x n images)"),
    },
    "random_patterns": {
        "n_memories": Key("int", default=None, min=1, doc="number of stored memories P (or give load)"),
        "load": Key("float", default=None, min=0.0, doc="load alpha = P/N, P = round(alpha N) (or give n_memories)"),
        "bias": Key("float", default=0.5, min=0.0, max=1.0, doc="probability that a unit is on"),
    },
    "temporal_xor": {
        "n_bits": Key("int", default=3000, min=3, doc="length of the stream (a multiple of 3)"),
    },
    "plan_sequences": {
        "n_plans": Key("int", default=3, min=1, doc="number of plans (one-hot plan units)"),
        "length": Key("int", default=5, min=2, doc="steps per sequence (one cycle)"),
        "cycles": Key("int", default=3, min=1, doc="cycles of each sequence per training sequence"),
    },
    "elman_letters": {
        "n_consonants": Key("int", default=1000, min=1, doc="consonants drawn (each becomes ba, dii or guuu)"),
    },
    "elman_sentences": {
        "n_sentences": Key("int", default=10000, min=1, doc="sentences in the training stream (2-3 words each)"),
        "n_test_sentences": Key("int", default=2000, min=1, doc="sentences in the fresh analysis stream"),
    },
    "encoder_pairs": {
        "v": Key("int", default=4, min=1, doc="units per visible group (v patterns of length 2v)"),
    },
    "digits": {  # sim.datasets.digits (scikit-learn's bundled 8x8 digits; the optional extra "digits")
        "test_fraction": Key("float", default=0.2, min=0.01, max=0.99, doc="fraction of the 1797 images held out"),
        "binarize": Key("float", default=0.5, min=0.0, max=1.0, doc="test images scored as [x > binarize]"),
    },
}

# the sequence-learning tasks (sim/sequence_tasks.py) validate their [data] keys the same way
from .sequence_tasks import SEQUENCE_TASK_KEYS  # noqa: E402

TASKS.update(SEQUENCE_TASK_KEYS)
from .series_tasks import SERIES_TASK_KEYS  # noqa: E402  (series prediction, counting)
TASKS.update(SERIES_TASK_KEYS)
