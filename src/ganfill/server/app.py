"""The web page and REST API: ``ganfill serve``.

One engine behind both: a :class:`ganfill.Pipeline` with a registry method, the same as
``ganfill inpaint``.  Built to be exposed with care:

* the request body is counted while it arrives and refused past the upload limit (413, nothing
  large read or written), slow headers and slow bodies are cut off (408), idle connections
  closed (server/limits.py); uploads are decoded from bytes: no path on this machine ever comes
  from a request;
* the default method is loaded at start-up, and each method once per worker: the loaded models
  are a fixed set whatever the requests ask (the seed is per call);
* the work runs in worker processes (server/workers.py) behind a bounded queue: when it is full a
  request gets 503 at once instead of waiting; a request past its time limit (504), past the
  worker's memory limit (413), or whose client went away has its worker process killed, so no
  abandoned work holds a worker;
* methods whose time or memory is not bounded by the photo (``lsgan-yeh``'s 1,500-step search,
  ``biharmonic``'s dense solve) are off unless the operator turns them on, and at most
  ``workers - 1`` slow requests run at once, so that normal requests are answered beside them;
* every bad input is a 4xx with a JSON ``{"detail": "..."}`` message of one short line; a form
  field sent twice is refused.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response

from .. import inputs
from ..data.images import MASK_RULE
from .config import ServerConfig

STATIC = Path(__file__).resolve().parent / "static"
FORM_FIELDS = ("image", "mask", "method", "candidates", "seed", "box", "crop", "format", "require_face")


class Engine:
    """The methods this server offers, the worker processes that run them, and the queue."""

    def __init__(self, config: ServerConfig):
        from ..methods import method_info, method_names

        self.config = config
        for name in (config.method, *config.enable):
            method_info(name)                       # an unknown name fails at start-up
        #: the methods a request may ask for: every one of bounded cost, and those turned on
        self.offered = [n for n in method_names() if method_info(n).bounded_cost or n in config.enable]
        if config.method not in self.offered:
            self.offered.insert(0, config.method)
        self.slow = {n for n in self.offered if method_info(n).speed == "slow" or not method_info(n).bounded_cost}
        self.workers = _worker_pool(config)
        # Threads only wait on worker processes; one per worker, so a waiting job never blocks another.
        self.threads = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="ganfill")
        self._lock = threading.Lock()
        self._pending = 0
        self._slow_running = 0

    def loaded(self) -> list[str]:
        return self.workers.loaded()

    def check_method(self, name: str) -> None:
        from ..methods import method_info

        method_info(name)                           # ValueError (400) for an unknown name
        if name not in self.offered:
            raise HTTPException(403, f"method {name!r} is off on this server: its time or memory grows with "
                                     f"the request; its operator can turn it on (ganfill serve --enable {name})")

    def try_enter(self, method: str) -> bool:
        with self._lock:
            if self._pending >= self.config.max_queue:
                return False
            if method in self.slow:
                if self._slow_running >= max(1, self.config.workers - 1):
                    return False
                self._slow_running += 1
            self._pending += 1
            return True

    def leave(self, method: str) -> None:
        with self._lock:
            self._pending -= 1
            if method in self.slow:
                self._slow_running -= 1


def _worker_pool(config: ServerConfig):
    from .workers import WorkerPool

    return WorkerPool(config.workers, config.device, config.max_memory_mb, config.worker_threads)


async def _read_limited(upload: UploadFile, limit: int, what: str) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"{what} is larger than the limit of {limit / 2**20:g} MB")
    return data


def _form_int(text: str, name: str) -> int:
    """A whole number from a form field (a short run of digits), for the checks of :mod:`ganfill.inputs`."""
    text = text.strip()
    if not (text.lstrip("-").isascii() and text.lstrip("-").isdecimal() and len(text) <= 20):
        raise ValueError(f"{name} must be a whole number, got {inputs.quote(text)}")
    return int(text)


def _options(method: str | None, candidates: str, seed: str, box: str | None, crop: str, format: str,
             default_method: str, require_face: str = "false") -> dict:
    """The form's options, checked as the CLI and Python check them; HTTPException 422 when bad."""
    try:
        if format not in ("png", "json"):
            raise ValueError(f"format must be png or json, got {inputs.quote(format)}")
        if crop not in ("face", "hole"):
            raise ValueError(f"crop must be face or hole, got {inputs.quote(crop)}")
        if require_face.strip().lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"require_face must be true or false, got {inputs.quote(require_face)}")
        parsed_box = inputs.as_box(box) if box else None
        return {"method": method or default_method,
                "candidates": inputs.check_candidates(_form_int(candidates, "candidates")),
                "seed": inputs.check_seed(_form_int(seed, "seed")),
                "box": str(parsed_box) if parsed_box else None, "crop": crop,
                "require_face": require_face.strip().lower() in ("true", "1")}
    except (ValueError, TypeError) as exc:
        raise HTTPException(422, str(exc)) from None


def create_app(config: ServerConfig | None = None) -> FastAPI:
    from .limits import RequestLimits
    from .workers import Job, WorkFailed

    config = config or ServerConfig()
    engine = Engine(config)

    @asynccontextmanager
    async def lifespan(app):
        if config.warm_up:
            # Loading the weights takes seconds: do it before the first request, not during it.
            await asyncio.get_running_loop().run_in_executor(
                None, engine.workers.warm_up, config.method, time.monotonic() + 600)
        yield
        engine.threads.shutdown(wait=False, cancel_futures=True)
        engine.workers.close()

    app = FastAPI(title="ganfill", version=_version(), lifespan=lifespan,
                  description="Fill holes in face photos with an LSGAN prior and an autoencoder refiner. "
                              f"Masks: {MASK_RULE}.")
    app.state.engine = engine
    app.state.config = config
    app.state.limit_stats = {}          # what RequestLimits refused, and how much it had read
    # Outermost, so that it counts the bytes before anything else reads them.
    app.add_middleware(RequestLimits, max_body=config.max_body, body_timeout_s=config.body_timeout_s,
                       chunk_timeout_s=config.chunk_timeout_s, stats=app.state.limit_stats,
                       too_large=f"the upload is larger than the limit of {config.max_upload_mb:g} MB per request")

    @app.exception_handler(ValueError)
    async def bad_input(request: Request, exc: ValueError):
        return JSONResponse({"detail": _short_line(exc)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def bad_form(request: Request, exc: RequestValidationError):
        # FastAPI's own answer echoes every bad value in full: a 1 MB field gave a 2 MB answer.
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "the request"
        return JSONResponse({"detail": f"{where}: {first.get('msg', 'invalid')}"[:200]}, status_code=422)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/api/methods")
    def methods() -> dict:
        """The methods this server offers (the default first), those that give several candidates,
        and the most candidates a request may ask."""
        from ..methods import method_info

        offered = [config.method] + [n for n in engine.offered if n != config.method]
        return {"default": config.method, "methods": offered, "max_candidates": inputs.MAX_CANDIDATES,
                "candidates": [n for n in offered if method_info(n).gives_candidates]}

    @app.post("/api/inpaint", responses={200: {"content": {"image/png": {}, "application/json": {}}}})
    async def inpaint(request: Request,
                      image: UploadFile = File(..., description="the photo: PNG, JPEG, WebP, any size"),
                      mask: UploadFile = File(..., description=f"the hole: {MASK_RULE}; resized (nearest) if "
                                                               f"its size differs; a warning if it covers over "
                                                               f"half the photo or its paint is too faint"),
                      method: str = Form(None, description="a method of /api/methods (default: the server's)"),
                      candidates: str = Form("1", description=f"K results, 1 to {inputs.MAX_CANDIDATES}"),
                      seed: str = Form("0", description="0 to 2**63 - 1"),
                      box: str = Form(None, description="x,y,w,h of the face, instead of detecting it"),
                      crop: str = Form("face", description="face or hole"),
                      require_face: str = Form("false", description="true: a photo with no face found is "
                                               "an error (default: the default method fills it with "
                                               "the classical method and warns)"),
                      format: str = Form("png", description="png: the best result as a PNG; json: all K "
                                                            "as data URLs")):
        """Fill the hole of ``image`` where ``mask`` is white.  Returns a PNG (or JSON with K PNGs)."""
        form = await request.form()         # already parsed for the parameters: no second read
        for name in FORM_FIELDS:
            if len(form.getlist(name)) > 1:
                raise HTTPException(422, f"the form field {name!r} was sent more than once")
        options = _options(method, candidates, seed, box, crop, format, config.method, require_face)
        engine.check_method(options["method"])
        limit = int(config.max_upload_mb * 2**20)
        job = Job(await _read_limited(image, limit, "the image"), await _read_limited(mask, limit, "the mask"),
                  **options)
        if not engine.try_enter(job.method):
            raise HTTPException(503, "the server is busy; try again shortly", headers={"Retry-After": "5"})
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + config.timeout_s
        cancelled, started = threading.Event(), threading.Event()
        work = loop.run_in_executor(engine.threads, engine.workers.run, ("fill", job), deadline, cancelled, started)
        work.add_done_callback(lambda _: engine.leave(job.method))
        try:
            while not work.done():
                # A client that went away no longer needs the work: its worker is stopped.  A request
                # still waiting for a worker is answered 504 at its limit too (its work never
                # starts); once started, the worker enforces the limit.
                await asyncio.wait({work}, timeout=0.25)
                if work.done():
                    break
                if not started.is_set() and time.monotonic() > deadline:
                    cancelled.set()
                    raise WorkFailed(504, "")
                if await request.is_disconnected():
                    cancelled.set()
            images, info = await work
        except WorkFailed as exc:
            detail = exc.detail or f"inpainting took longer than {config.timeout_s:g} s"
            raise HTTPException(exc.status, detail) from None
        except asyncio.CancelledError:
            cancelled.set()
            raise
        headers = {"X-Ganfill-Method": info["method"], "X-Ganfill-Crop": info["source"],
                   "X-Ganfill-Faces": str(info["faces"]),
                   **({"X-Ganfill-Box": info["box"]} if info["box"] else {}),
                   # header values are latin-1: the warnings' few non-ASCII characters are replaced
                   **({"X-Ganfill-Warning": " | ".join(info["warnings"]).encode("ascii", "replace").decode()}
                      if info["warnings"] else {})}
        if format == "json":
            return JSONResponse({**info, "images": ["data:image/png;base64," + base64.b64encode(p).decode()
                                                    for p in images]}, headers=headers)
        return Response(images[0], media_type="image/png", headers=headers)

    return app


def _short_line(exc: BaseException) -> str:
    line = str(exc).splitlines()[0] if str(exc) else "bad input"
    return line if len(line) <= 300 else line[:300] + "..."


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
