"""The web page and REST API: ``ganfill serve``.

One engine behind both: a :class:`ganfill.Pipeline` with a registry method, the same as
``ganfill inpaint``.  Built to be exposed with care:

* the request body is counted while it arrives and refused past the upload limit (413, nothing
  large read or written), slow headers and slow bodies are cut off (408), idle connections
  closed (server/limits.py); uploads are decoded from bytes: no path on this machine ever comes
  from a request;
* the default method is loaded at start-up, and each method once: the loaded models are a fixed
  set whatever the requests ask (the seed is per call);
* the work runs on a fixed pool of workers behind a bounded queue: when it is full a request gets
  503 at once instead of waiting, and a request that takes too long gets 504;
* every bad input is a 4xx with a JSON ``{"detail": "..."}`` message.
"""

from __future__ import annotations

import asyncio
import base64
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from PIL import Image

from ..methods import DEFAULT_METHOD

STATIC = Path(__file__).resolve().parent / "static"
MAX_CANDIDATES = 8


@dataclass
class ServerConfig:
    method: str = DEFAULT_METHOD    # the default method of a request
    device: str = "auto"            # as ganfill inpaint: a CUDA GPU if there is one
    max_upload_mb: float = 20.0     # per request: the image and the mask together
    max_queue: int = 8              # requests running or waiting; more get 503
    workers: int = 1                # requests computed at once
    timeout_s: float = 120.0        # a request that waits and runs longer gets 504
    header_timeout_s: float = 10.0  # a request's headers must be complete within this (else 408, closed)
    body_timeout_s: float = 120.0   # the whole body within this (408)
    chunk_timeout_s: float = 15.0   # and no pause between body chunks longer than this (408)
    keep_alive_s: int = 5           # an idle kept-alive connection is closed after this
    warm_up: bool = True            # load the default method at start-up, not at the first request

    @property
    def max_body(self) -> int:
        """The most body bytes a request may send: the upload limit for the two files together, and
        64 KiB for the form fields and multipart boundaries.  A per-request limit (not per file)
        bounds what one request can make the server read, whatever the number of parts."""
        return int(self.max_upload_mb * 2**20) + 64 * 1024


class Engine:
    """Registry methods, each built once, and a bounded pool that runs the work."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self.pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="ganfill")
        self._methods: dict[str, object] = {}
        self._lock = threading.Lock()
        self._pending = 0

    def method(self, name: str):
        """The method called ``name``, loaded once (as a :class:`ganfill.Pipeline` would load it):
        the seed is given per call, so the set of loaded models is bounded by the registry,
        whatever the requests ask."""
        from ..methods import method_options
        from ..pipeline import Pipeline

        method_options(name)                 # ValueError for an unknown name
        with self._lock:
            if name not in self._methods:
                self._methods[name] = Pipeline.from_pretrained(name, device=self.config.device).method
            return self._methods[name]

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._methods)

    def try_enter(self) -> bool:
        with self._lock:
            if self._pending >= self.config.max_queue:
                return False
            self._pending += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._pending -= 1


def _png(array: np.ndarray, icc: bytes | None = None) -> bytes:
    """PNG bytes; with the photo's ICC profile, since the pixels are in the photo's own colours."""
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG", **({"icc_profile": icc} if icc else {}))
    return buf.getvalue()


async def _read_limited(upload: UploadFile, limit: int, what: str) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"{what} is larger than the limit of {limit / 2**20:g} MB")
    return data


def create_app(config: ServerConfig | None = None) -> FastAPI:
    from .limits import RequestLimits

    config = config or ServerConfig()
    engine = Engine(config)

    @asynccontextmanager
    async def lifespan(app):
        if config.warm_up:
            # Loading the weights takes seconds: do it before the first request, not during it.
            await asyncio.get_running_loop().run_in_executor(engine.pool, engine.method, config.method)
        yield
        engine.pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="ganfill", version=_version(), lifespan=lifespan,
                  description="Fill holes in face photos with an LSGAN prior and an autoencoder refiner. "
                              "Masks: white (nonzero) = hole.")
    app.state.engine = engine
    app.state.config = config
    app.state.limit_stats = {}          # what RequestLimits refused, and how much it had read
    # Outermost, so that it counts the bytes before anything else reads them.
    app.add_middleware(RequestLimits, max_body=config.max_body, body_timeout_s=config.body_timeout_s,
                       chunk_timeout_s=config.chunk_timeout_s, stats=app.state.limit_stats,
                       too_large=f"the upload is larger than the limit of {config.max_upload_mb:g} MB per request")

    @app.exception_handler(ValueError)
    async def bad_input(request: Request, exc: ValueError):
        return JSONResponse({"detail": str(exc).splitlines()[0] if str(exc) else "bad input"}, status_code=400)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/api/methods")
    def methods() -> dict:
        """The method names, the default first."""
        from ..methods import method_names

        names = method_names()
        return {"default": config.method, "methods": [config.method] + [n for n in names if n != config.method]}

    @app.post("/api/inpaint", responses={200: {"content": {"image/png": {}, "application/json": {}}}})
    async def inpaint(image: UploadFile = File(..., description="the photo: PNG, JPEG, WebP, any size"),
                      mask: UploadFile = File(..., description="the hole: white / nonzero = hole; resized "
                                                               "(nearest) if its size differs"),
                      method: str = Form(None, description="a method of /api/methods (default: the server's)"),
                      candidates: int = Form(1, description=f"K results, 1 to {MAX_CANDIDATES}"),
                      seed: int = Form(0),
                      box: str = Form(None, description="x,y,w,h of the face, instead of detecting it"),
                      crop: str = Form("face", description="face or hole"),
                      format: str = Form("png", description="png: the best result as a PNG; json: all K "
                                                            "as data URLs")):
        """Fill the hole of ``image`` where ``mask`` is white.  Returns a PNG (or JSON with K PNGs)."""
        if not 1 <= candidates <= MAX_CANDIDATES:
            raise HTTPException(422, f"candidates must be 1 to {MAX_CANDIDATES}")
        if format not in ("png", "json"):
            raise HTTPException(422, "format must be png or json")
        limit = int(config.max_upload_mb * 2**20)
        image_bytes = await _read_limited(image, limit, "the image")
        mask_bytes = await _read_limited(mask, limit, "the mask")
        if not engine.try_enter():
            raise HTTPException(503, "the server is busy; try again shortly", headers={"Retry-After": "5"})
        # The slot is freed when the work ends, not when the request gives up on it: a timed-out
        # job still occupies a worker until it finishes.
        work = engine.pool.submit(_inpaint_bytes, engine, image_bytes, mask_bytes, method or config.method,
                                  candidates, seed, box, crop)
        work.add_done_callback(lambda _: engine.leave())
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(work), config.timeout_s)
        except asyncio.TimeoutError:
            raise HTTPException(504, f"inpainting took longer than {config.timeout_s:g} s") from None
        images, info = result
        headers = {"X-Ganfill-Method": info["method"], "X-Ganfill-Crop": info["source"],
                   **({"X-Ganfill-Box": info["box"]} if info["box"] else {})}
        if format == "json":
            return JSONResponse({**info, "images": ["data:image/png;base64," + base64.b64encode(p).decode()
                                                    for p in images]}, headers=headers)
        return Response(images[0], media_type="image/png", headers=headers)

    return app


def _inpaint_bytes(engine: Engine, image_bytes: bytes, mask_bytes: bytes, method: str, candidates: int,
                   seed: int, box: str | None, crop: str) -> tuple[list[bytes], dict]:
    """The work of one request, on a worker thread; raises ValueError for bad input."""
    from ..data import load_mask, load_photo, resize_mask
    from ..data.faces import Box
    from ..pipeline import Pipeline

    photo = load_photo(image_bytes, "image")
    hole = load_mask(mask_bytes, label="mask")
    h, w = photo.rgb.shape[:2]
    if hole.shape != (h, w):
        hole = resize_mask(hole, (h, w))
    # The loaded method in a pipeline for this call (a pipeline holds no state of its own).
    done = Pipeline(engine.method(method))(photo.rgb, hole, candidates, seed=seed,
                                           box=Box.parse(box) if box else None, crop=crop)
    images = [_png(photo.with_fill(result, hole), photo.icc) for result in done.images]
    return images, {"method": method, "source": done.source, "box": str(done.box) if done.box else None}


def uvicorn_config(app: FastAPI, host: str = "127.0.0.1", port: int = 8000, **options):
    """The uvicorn configuration for a ganfill app: its keep-alive timeout, a deadline for request
    headers (uvicorn has none of its own), and a connection limit well above the queue."""
    import uvicorn
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    from .limits import header_deadline_protocol

    config: ServerConfig = app.state.config
    options.setdefault("log_level", "warning")
    return uvicorn.Config(app, host=host, port=port, timeout_keep_alive=config.keep_alive_s,
                          limit_concurrency=max(64, 4 * config.max_queue),
                          http=header_deadline_protocol(AutoHTTPProtocol, config.header_timeout_s), **options)


def _version() -> str:
    from .. import __version__

    return __version__
