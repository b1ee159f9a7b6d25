"""How a command ends: which errors are the user's (reported in one line) and SIGTERM as an interrupt.

Shared by the CLI (``cli.main`` prints them) and the batch runner (one line per failed file).
"""

from __future__ import annotations

import signal
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


class UserError(Exception):
    """A problem with what the user asked for, reported as one line."""


def one_line(exc: BaseException) -> str:
    """An error as the one line the user sees: its message's first line, or its class's name."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def is_user_error(exc: BaseException) -> bool:
    """Reported in one line: a :class:`UserError`, an ``OSError`` (a file, a disk, a permission), and a
    ``ValueError`` that ganfill raised about its input (its own classes: ImageError, CheckpointError,
    NoFaceError; or a ``raise ValueError`` in ganfill's code).  A ValueError from inside a library
    is a bug and keeps its traceback."""
    if isinstance(exc, (UserError, OSError)) or type(exc).__module__.startswith("ganfill."):
        return True
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(PACKAGE_DIR)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds like Ctrl-C."""


def sigterm_as_interrupt():
    """Turn SIGTERM (what `kill`, systemd and container runtimes send) into :class:`Terminated`, so
    a half-written output's temp file is removed on the way out instead of left behind.  Returns
    the previous handler (None where signals cannot be set: outside the main thread)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def terminate(signum, frame):
        raise Terminated()

    return signal.signal(signal.SIGTERM, terminate)
