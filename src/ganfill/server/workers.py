"""Where the server's work runs: worker processes that can be stopped.

A thread cannot be stopped in Python, so a request that ran past its time used to keep its worker
busy after its client had been told 504 (an 8-candidate ``lsgan-yeh`` held the only worker for
165 s).  Here each worker is a process: it loads the methods it is asked for once and fills one
request at a time.  A request past its time limit, past the worker's memory limit, or whose client
went away, gets its process killed; a fresh one takes its place at the next request.

A worker is a fresh interpreter (``python -m ganfill.server.work``), not a fork of the server: a
fork of a process with running threads may inherit a held lock, and ``multiprocessing``'s other
start methods re-run the caller's main script.  It talks to the server over a socket pair of its
own (its stdout and stderr stay free for libraries and tracebacks).
"""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

#: how often a waiting request checks its deadline, its client and its worker's memory
POLL_S = 0.05
#: the longest a new worker process may take to import its modules
STARTUP_S = 120.0


@dataclass(frozen=True)
class Job:
    """One request's work, as plain data that crosses to a worker process."""

    image: bytes
    mask: bytes
    method: str
    candidates: int
    seed: int
    box: str | None
    crop: str
    require_face: bool = False


class WorkFailed(Exception):
    """A request whose work did not produce a result: ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _rss_mb(pid: int) -> float | None:
    """Resident memory of process ``pid`` in MB (None where /proc cannot tell)."""
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


class Worker:
    """One worker process and the pipe to it; started on first use, replaced after a kill."""

    def __init__(self, device: str, threads: int):
        self.device = device
        self.threads = threads
        self.process = None
        self.conn = None
        self.ready = False
        #: the methods this process has loaded (gone with it)
        self.loaded: set[str] = set()

    def _start(self, preload: list[str] | None = None) -> None:
        """Boot a fresh process; it says "ready" once its modules are imported and the methods of
        ``preload`` loaded (:meth:`call` waits for that, outside any request's time)."""
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ganfill.server.work", str(theirs.fileno()), self.device, str(self.threads),
             ",".join(preload or ())], pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        theirs.close()
        self.conn = Connection(ours.detach())
        self.ready = False
        self.loaded = set(preload or ())

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)
            self.conn.close()
        self.process = self.conn = None
        self.loaded = set()

    def replace(self, drop: str | None = None) -> None:
        """Kill the process and boot its successor now, with the methods it had loaded (less
        ``drop``, the method of the work that was stopped), so the next request waits for neither."""
        preload = sorted(self.loaded - {drop})
        self.stop()
        self._start(preload)

    def call(self, message: tuple, deadline: float, cancelled: threading.Event, max_memory_mb: float):
        """Send ``message``, wait for the answer; the process is replaced (and WorkFailed raised) at
        ``deadline`` (time.monotonic), when ``cancelled`` is set, or past ``max_memory_mb``."""
        if not self.alive():
            self.stop()
            self._start()
        if not self.ready:
            # Starting a worker is the server's cost, not the request's: its time is not counted.
            started = time.monotonic()
            if not self.conn.poll(STARTUP_S) or self.conn.recv() != "ready":
                self.stop()
                raise WorkFailed(503, "a worker process could not be started; try again")
            self.ready = True
            deadline += time.monotonic() - started
        self.conn.send(message)
        while not self.conn.poll(POLL_S):
            reason = None
            if cancelled.is_set():
                reason = WorkFailed(499, "the request was cancelled")
            elif time.monotonic() > deadline:
                reason = WorkFailed(504, "")
            else:
                rss = _rss_mb(self.process.pid)
                if rss is not None and rss > max_memory_mb:
                    reason = WorkFailed(413, f"the work needed more than {max_memory_mb:g} MB of memory; "
                                             f"try a smaller hole or photo, or another method")
                elif not self.alive():
                    reason = WorkFailed(503, "the worker stopped unexpectedly; try again")
            if reason is not None:
                kind, body = message
                self.replace(drop=body if kind == "load" else body.method)
                raise reason
        try:
            status, payload = self.conn.recv()
        except (EOFError, OSError):
            self.stop()
            raise WorkFailed(503, "the worker stopped unexpectedly; try again") from None
        if status != 200:
            raise WorkFailed(status, payload)
        kind, body = message
        self.loaded.add(body if kind == "load" else body.method)
        return payload


class WorkerPool:
    """``size`` worker processes; :meth:`run` borrows one for a job (blocking: call it from a thread)."""

    def __init__(self, size: int, device: str, max_memory_mb: float, threads: int):
        self.max_memory_mb = max_memory_mb
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._all = [Worker(device, threads) for _ in range(size)]
        for worker in self._all:
            self._idle.put(worker)

    def run(self, message: tuple, deadline: float, cancelled: threading.Event, started: threading.Event):
        """``started`` is set once a worker has the job: from then on the worker enforces the deadline."""
        worker = self._idle.get()
        try:
            if cancelled.is_set():          # its request was answered while it waited for a worker
                raise WorkFailed(499, "the request was cancelled")
            if time.monotonic() > deadline:
                raise WorkFailed(504, "")   # its time went by in the queue
            started.set()
            return worker.call(message, deadline, cancelled, self.max_memory_mb)
        finally:
            self._idle.put(worker)

    def warm_up(self, method: str, deadline: float) -> None:
        """Start every worker and load ``method`` in each, before the first request."""
        threads = [threading.Thread(target=w.call, args=(("load", method), deadline, threading.Event(),
                                                          self.max_memory_mb)) for w in self._all]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def close(self) -> None:
        for worker in self._all:
            worker.stop()

    def loaded(self) -> list[str]:
        """The methods some worker process holds loaded now."""
        return sorted(set().union(*(w.loaded for w in self._all)))

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._all if w.alive()]
