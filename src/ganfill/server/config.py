"""The server's settings: one dataclass, read by ``ganfill serve``'s options for their defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..methods import DEFAULT_METHOD


@dataclass
class ServerConfig:
    method: str = DEFAULT_METHOD    # the default method of a request
    device: str = "auto"            # as ganfill inpaint: a CUDA GPU if there is one
    max_upload_mb: float = 20.0     # per request: the image and the mask together
    max_queue: int = 8              # requests running or waiting; more get 503
    workers: int = 2                # worker processes: requests computed at once
    timeout_s: float = 120.0        # a request that waits and runs longer gets 504 and its work is stopped
    max_memory_mb: float = 4096.0   # a worker process above this (resident) is stopped: 413
    enable: tuple[str, ...] = ()    # methods of unbounded cost that the operator turns on
    header_timeout_s: float = 10.0  # a request's headers must be complete within this (else 408, closed)
    body_timeout_s: float = 120.0   # the whole body within this (408)
    chunk_timeout_s: float = 15.0   # and no pause between body chunks longer than this (408)
    keep_alive_s: int = 5           # an idle kept-alive connection is closed after this
    warm_up: bool = True            # load the default method at start-up, not at the first request
    threads: int | None = None      # torch threads per worker (None: the cores shared among the workers)

    @property
    def max_body(self) -> int:
        """The most body bytes a request may send: the upload limit for the two files together, and
        64 KiB for the form fields and multipart boundaries.  A per-request limit (not per file)
        bounds what one request can make the server read, whatever the number of parts."""
        return int(self.max_upload_mb * 2**20) + 64 * 1024

    @property
    def worker_threads(self) -> int:
        return self.threads or max(1, (os.cpu_count() or 1) // self.workers)
