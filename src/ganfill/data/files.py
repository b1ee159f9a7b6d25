"""Writing a file so that no one ever sees half of it: the one atomic writer of the package.

Images, JSON reports, weights and checkpoints all go through :func:`atomic_write`: a temp file in
the same folder, flushed to disk, then renamed over the target.  A failure, Ctrl-C or SIGTERM
removes the temp file and leaves whatever was at the path untouched.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Callable


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``: readers see the old file or the new, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; outputs are ordinary files
        os.replace(tmp, path)
    finally:
        # Also on BaseException: a KeyboardInterrupt (or SIGTERM turned into one) leaves no debris.
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json_atomic(data, path: str | os.PathLike) -> None:
    """``data`` as indented JSON at ``path``, atomically."""
    text = json.dumps(data, indent=2) + "\n"
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))
