"""Limits that hold while a request is still arriving: its size, and how long it may take.

FastAPI checks nothing until a whole multipart body has been parsed, and starlette spools every
uploaded file to a temporary file first: a 2 GB upload used to be written to disk in full before
the endpoint could answer 413.  uvicorn has a keep-alive timeout but no deadline at all for the
headers or the body of a request, so a client that sends one byte every few seconds holds its
connection for ever (64 of them fill the connection limit).  So:

* :class:`RequestLimits`, an ASGI middleware, refuses a declared ``Content-Length`` over the limit
  before reading anything, counts the body bytes as the app reads them and stops at the limit
  (413), and gives the body an idle timeout per chunk and an overall deadline (408).  Its
  responses carry ``Connection: close``, so uvicorn closes the socket instead of reading and
  discarding the rest of an upload.
* :func:`header_deadline_protocol` makes uvicorn's HTTP protocol close a connection whose request
  headers are not complete within a deadline, counted from the connection (or from the previous
  response, for a kept-alive one).
"""

from __future__ import annotations

import asyncio
import json

from starlette.exceptions import HTTPException


class LimitExceeded(HTTPException):
    """Raised inside ``receive``: an ``HTTPException``, so that FastAPI's body parsing passes it
    on unchanged (it turns any other exception into a 400) and its handler answers it."""

    def __init__(self, status_code: int, detail: str):
        super().__init__(status_code, detail, headers={"Connection": "close"})


class RequestLimits:
    """ASGI middleware: at most ``max_body`` bytes of request body, each chunk within
    ``chunk_timeout_s`` of the previous one and the whole body within ``body_timeout_s``.

    ``stats`` records the largest number of body bytes read from a refused request (for tests
    and for the curious: it shows that the reading stopped at the limit)."""

    def __init__(self, app, max_body: int, body_timeout_s: float = 60.0, chunk_timeout_s: float = 15.0,
                 stats: dict | None = None, too_large: str | None = None):
        self.app = app
        self.too_large = too_large or f"the request is larger than the limit of {max_body / 2**20:g} MB"
        self.max_body = max_body
        self.body_timeout_s = body_timeout_s
        self.chunk_timeout_s = chunk_timeout_s
        self.stats = stats if stats is not None else {}
        self.stats.update(refused=0, read_by_refused=0)

    def _too_large(self) -> LimitExceeded:
        return LimitExceeded(413, self.too_large)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return await _answer(send, 400, "Content-Length is not a number")
        if declared is not None and declared > self.max_body:
            # Refused before a single byte of the body is read.
            self.stats["refused"] += 1
            return await _answer(send, 413, self._too_large().detail)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout_s
        read = 0
        body_done = False
        started = False

        async def limited_receive():
            nonlocal read, body_done
            if body_done:
                # After the body only http.disconnect can come: no deadline applies to that wait
                # (a streaming response may wait on it for as long as it runs).
                return await receive()
            left = deadline - loop.time()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, min(self.chunk_timeout_s, left)))
            except asyncio.TimeoutError:
                raise LimitExceeded(408, "the request body came too slowly") from None
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > self.max_body:
                    self.stats["refused"] += 1
                    self.stats["read_by_refused"] = max(self.stats["read_by_refused"], read)
                    raise self._too_large()
                body_done = not message.get("more_body", False)
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except LimitExceeded as exc:
            # Reached only where no exception handler answered it (a plain ASGI app, say).
            if started:
                raise
            await _answer(send, exc.status_code, exc.detail)


async def _answer(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def header_deadline_protocol(base: type, seconds: float) -> type:
    """A subclass of uvicorn's HTTP protocol class ``base`` (``H11Protocol`` or
    ``HttpToolsProtocol``) that closes a connection whose request headers are not complete
    ``seconds`` after it opened, or after the previous response on a kept-alive connection.

    A request's headers are complete when uvicorn has made its request-response cycle; the
    timer is cancelled then.  uvicorn's own keep-alive timeout still closes idle connections."""

    class HeaderDeadlineProtocol(base):
        def connection_made(self, transport):
            super().connection_made(transport)
            self._arm_header_deadline()

        def _arm_header_deadline(self):
            self._cycle_at_arming = self.cycle
            self._header_timer = self.loop.call_later(seconds, self._header_deadline_passed)

        def _cancel_header_deadline(self):
            timer = getattr(self, "_header_timer", None)
            if timer is not None:
                timer.cancel()
                self._header_timer = None

        def data_received(self, data):
            super().data_received(data)
            if self.cycle is not None and self.cycle is not self._cycle_at_arming:
                self._cancel_header_deadline()        # a new request's headers are in

        def on_response_complete(self):
            finished = self.cycle
            super().on_response_complete()     # may already start a pipelined request's cycle
            self._cancel_header_deadline()
            if not self.transport.is_closing() and self.cycle is finished:
                self._arm_header_deadline()     # waiting for the next request's headers

        def connection_lost(self, exc):
            self._cancel_header_deadline()
            super().connection_lost(exc)

        def _header_deadline_passed(self):
            self._header_timer = None
            if self.transport.is_closing():
                return
            if self.cycle is not None and self.cycle is not self._cycle_at_arming:
                return                                # headers arrived; the request is running
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\n"
                                 b"content-length: 27\r\nconnection: close\r\n\r\nthe request came too slowly")
            self.transport.close()

    HeaderDeadlineProtocol.__name__ = f"HeaderDeadline{base.__name__}"
    return HeaderDeadlineProtocol
