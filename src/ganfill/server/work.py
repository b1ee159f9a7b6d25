"""The work of one request, as a worker process does it (see :mod:`ganfill.server.workers`).

Answers go back as ``(status, payload)``: ``(200, (pngs, info))``, or a 4xx and a one-line message
for bad input, or 500 for a bug (its message only; the traceback stays in the worker's stderr).
"""

from __future__ import annotations

import io
import traceback

import numpy as np
from PIL import Image

from ..errors import is_user_error, one_line


def _png(array: np.ndarray, icc: bytes | None = None) -> bytes:
    """PNG bytes; with the photo's ICC profile, since the pixels are in the photo's own colours."""
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG", **({"icc_profile": icc} if icc else {}))
    return buf.getvalue()


def fill(pipelines: dict, device: str, job) -> tuple[list[bytes], dict]:
    """Fill ``job`` (a :class:`~ganfill.server.workers.Job`) with the pipeline of its method, loaded
    once into ``pipelines``; raises ValueError for bad input."""
    from ..data import load_mask, load_photo, resize_mask
    from ..pipeline import Pipeline

    photo = load_photo(job.image, "image")
    hole = load_mask(job.mask, label="mask")
    h, w = photo.rgb.shape[:2]
    if hole.shape != (h, w):
        hole = resize_mask(hole, (h, w))
    if job.method not in pipelines:
        pipelines[job.method] = Pipeline.from_pretrained(job.method, device=device)
    done = pipelines[job.method](photo.rgb, hole, job.candidates, seed=job.seed, box=job.box, crop=job.crop)
    images = [_png(photo.with_fill(result, hole), photo.icc) for result in done.images]
    return images, {"method": job.method, "source": done.source, "box": str(done.box) if done.box else None}


def worker_main(conn, device: str, threads: int) -> None:
    """A worker process: load what it is asked to, fill what it is sent, until its socket closes."""
    import torch

    from .. import pipeline  # noqa: F401  (imported before "ready", so no request waits on it)

    torch.set_num_threads(threads)
    pipelines: dict = {}
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        kind, body = message
        try:
            if kind == "load":
                from ..pipeline import Pipeline

                if body not in pipelines:
                    pipelines[body] = Pipeline.from_pretrained(body, device=device)
                answer = (200, None)
            else:
                answer = (200, fill(pipelines, device, body))
        except MemoryError:
            answer = (413, "not enough memory for this request; try a smaller hole or photo")
        except Exception as exc:
            if isinstance(exc, (ValueError, TypeError, OSError)) and is_user_error(exc):
                answer = (400, one_line(exc))
            else:
                traceback.print_exc()
                answer = (500, f"internal error: {type(exc).__name__}")
        conn.send(answer)


if __name__ == "__main__":
    import sys
    from multiprocessing.connection import Connection

    worker_main(Connection(int(sys.argv[1])), sys.argv[2], int(sys.argv[3]))
