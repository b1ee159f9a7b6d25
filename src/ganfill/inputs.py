"""What every interface accepts for the options of a fill, checked where they are parsed.

The CLI, the REST API and ``ganfill.Pipeline`` all call these, so a number means the same and is
refused with the same one-line message wherever it comes from (quoting at most a short prefix of
the value).  Nothing here imports torch: the CLI checks options before any model is loaded.
"""

from __future__ import annotations

import numbers

from .data.faces import Box, quote

#: the most results one call may ask for (each is a full-size image held in memory)
MAX_CANDIDATES = 8
#: seeds are 0 .. 2**63 - 1 (the range a torch generator and numpy's SeedSequence both take)
MAX_SEED = 2**63 - 1

def _whole_number(value, name: str) -> int:
    """``value`` as an int if it is a whole number (not a bool, not a float, not a string)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {type(value).__name__} {quote(value)}")
    return int(value)


def check_candidates(value) -> int:
    """The number of results per photo: a whole number from 1 to :data:`MAX_CANDIDATES`."""
    k = _whole_number(value, "candidates")
    if not 1 <= k <= MAX_CANDIDATES:
        raise ValueError(f"candidates must be 1 to {MAX_CANDIDATES}, got {quote(k)}")
    return k


def check_seed(value) -> int:
    """A seed: a whole number from 0 to :data:`MAX_SEED`."""
    seed = _whole_number(value, "seed")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be 0 to 2**63 - 1, got {quote(seed)}")
    return seed


def as_box(value) -> Box | None:
    """The face's box from ``"x,y,w,h"``, a :class:`Box` or a sequence of four whole numbers
    (None: detect the face); coordinates bounded by :data:`~ganfill.data.faces.MAX_BOX_SIDE`."""
    if value is None or isinstance(value, Box):
        return value
    if isinstance(value, str):
        return Box.parse(value)
    if isinstance(value, (tuple, list)) and len(value) == 4:
        return Box(*(_whole_number(v, "box") for v in value))
    raise TypeError(f"box must be 'x,y,w,h', a Box or four whole numbers, got {type(value).__name__} {quote(value)}")
