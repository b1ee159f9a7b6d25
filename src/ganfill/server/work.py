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
    from ..photo import NoFaceError
    from ..pipeline import Pipeline

    photo = load_photo(job.image, "image")
    notes: list[str] = []
    hole = load_mask(job.mask, label="mask", notes=notes)
    h, w = photo.rgb.shape[:2]
    if hole.shape != (h, w):
        hole = resize_mask(hole, (h, w))
    if job.method not in pipelines:
        pipelines[job.method] = Pipeline.from_pretrained(job.method, device=device)
    try:
        done = pipelines[job.method](photo.rgb, hole, job.candidates, seed=job.seed, box=job.box, crop=job.crop,
                                     require_face=job.require_face)
    except NoFaceError as exc:
        raise ValueError(exc.worded("api")) from None
    images = [_png(photo.with_fill(result, hole), photo.icc) for result in done.images]
    return images, {"method": job.method, "source": done.source, "box": str(done.box) if done.box else None,
                    "faces": done.faces, "general": done.general, "warnings": notes + done.warnings}


def worker_main(conn, device: str, threads: int, preload: list[str]) -> None:
    """A worker process: load ``preload`` (a killed worker's methods, for its successor) before it
    says "ready", then load what it is asked to and fill what it is sent, until its socket closes."""
    import torch

    from ..pipeline import Pipeline

    torch.set_num_threads(threads)
    pipelines: dict = {name: Pipeline.from_pretrained(name, device=device) for name in preload}
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        kind, body = message
        try:
            if kind == "load":
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

    worker_main(Connection(int(sys.argv[1])), sys.argv[2], int(sys.argv[3]), [m for m in sys.argv[4].split(",") if m])
