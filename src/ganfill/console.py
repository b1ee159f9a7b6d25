"""What a command says on stderr besides its result: ``ganfill: ...`` notes, warnings and progress."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager


def say(line: str) -> None:
    """A warning or a note for the user: one ``ganfill: ...`` line on stderr."""
    print(f"ganfill: {line}", file=sys.stderr)


@contextmanager
def progress_note(what: str, after_s: float = 3.0, every_s: float = 10.0):
    """A ``ganfill: ...`` line on stderr when ``what`` has taken ``after_s`` seconds, and again
    every ``every_s``: a slow method (``lsgan-yeh``: about a minute a photo) is never silent."""
    done = threading.Event()
    started = time.monotonic()

    def note():
        if not done.wait(after_s):
            say(f"{what} ...")
            while not done.wait(every_s):
                say(f"{what}: {time.monotonic() - started:.0f} s so far")

    thread = threading.Thread(target=note, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
