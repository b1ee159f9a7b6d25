"""The server's limits while a request arrives, against a real uvicorn on loopback:
the body is counted as it is read and refused past the limit (413, nothing large read), slow or
idle clients are cut off (408 / closed), and the default method is loaded at start-up."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlparse

import httpx
import pytest

from ganfill.server.app import ServerConfig, create_app

# Each test runs a real uvicorn and waits out its timeouts: 15-30 s each on 2 CPU cores.
pytestmark = pytest.mark.slow

MB = 2**20

# The limits are the middleware's and act before any worker is asked for anything, so these servers
# start without warm-up: two worker processes importing torch would only delay (and load) each test.
# Warm-up itself is test_the_default_method_is_loaded_at_start_up's.
COLD = {"method": "telea", "warm_up": False}


def address(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname, parsed.port


def read_until_closed(sock: socket.socket, limit_s: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection; and how long that took."""
    started = time.monotonic()
    sock.settimeout(limit_s)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return data, time.monotonic() - started


def test_a_500_mb_upload_is_refused_after_reading_less_than_25_mb(serve):
    # The default limit: 20 MB per request, + 64 KiB for the form fields.
    app = create_app(ServerConfig(**COLD))
    url = serve(app) + "api/inpaint"
    boundary = "ganfilltestboundary"
    sent = 0

    def body():
        nonlocal sent
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"big.png\"\r\n"
                f"Content-Type: image/png\r\n\r\n").encode()
        sent += len(head)
        yield head
        chunk = bytes(MB)
        for _ in range(500):                  # 500 MB, streamed: no Content-Length, chunked
            sent += len(chunk)
            yield chunk

    started = time.monotonic()
    r = httpx.post(url, content=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                   timeout=60, verify=False)      # http on loopback: no CA bundle to load
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    read = app.state.limit_stats["read_by_refused"]
    assert 20 * MB < read < 25 * MB, f"the server read {read / MB:.1f} MB of a 500 MB upload"
    # The client was stopped too: it sent the limit plus what the sockets' buffers held, not 500 MB.
    assert sent < 80 * MB, f"the client sent {sent / MB:.0f} MB before the server closed"
    assert time.monotonic() - started < 30


def test_a_declared_content_length_over_the_limit_is_refused_before_the_body(serve):
    app = create_app(ServerConfig(**COLD, max_upload_mb=10))
    with socket.create_connection(address(serve(app))) as sock:
        sock.sendall(b"POST /api/inpaint HTTP/1.1\r\nHost: test\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                     b"Content-Length: 524288000\r\n\r\n")        # 500 MB announced, none sent
        answer, took = read_until_closed(sock, 10)
    assert answer.startswith(b"HTTP/1.1 413") and b"limit" in answer
    assert took < 5


def test_slow_headers_and_idle_connections_are_cut_off(serve):
    app = create_app(ServerConfig(**COLD, header_timeout_s=1.0, keep_alive_s=1))
    host = address(serve(app))
    # Slowloris: a header line every 0.3 s, never the blank line that ends them.
    with socket.create_connection(host) as sock:
        sock.sendall(b"GET /api/methods HTTP/1.1\r\nHost: test\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 6:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                closed = True
                break
            sock.settimeout(0.3)
            try:
                data = sock.recv(4096)
            except socket.timeout:
                continue
            assert data.startswith(b"HTTP/1.1 408") or data == b""
            closed = True
            break
        assert closed and time.monotonic() - started < 3
    # A connection that sends nothing at all.
    with socket.create_connection(host) as sock:
        _, took = read_until_closed(sock, 6)
        assert took < 3
    # A kept-alive connection, idle after its response.
    with socket.create_connection(host) as sock:
        sock.sendall(b"GET /api/methods HTTP/1.1\r\nHost: test\r\n\r\n")
        answer, took = read_until_closed(sock, 6)
        assert answer.startswith(b"HTTP/1.1 200") and took < 3


@pytest.mark.parametrize("pause_s, what", [(2.0, "idle body"), (0.3, "slow body")])
def test_a_slow_body_gets_408(serve, pause_s, what):
    # The idle case pauses longer than the per-chunk timeout; the slow case keeps under it but
    # never finishes within the overall body deadline.
    app = create_app(ServerConfig(**COLD, chunk_timeout_s=1.0, body_timeout_s=1.5))
    with socket.create_connection(address(serve(app))) as sock:
        sock.sendall(b"POST /api/inpaint HTTP/1.1\r\nHost: test\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                     b"Content-Length: 100000\r\n\r\n--x\r\n")
        started = time.monotonic()
        answer = b""
        sock.settimeout(pause_s)
        while time.monotonic() - started < 6 and not answer:
            try:
                answer = sock.recv(4096)
            except socket.timeout:
                sock.sendall(b"a")
        took = time.monotonic() - started
        rest, _ = read_until_closed(sock, 3)       # the JSON body may come in a later packet
        answer += rest
        assert answer.startswith(b"HTTP/1.1 408"), (what, answer[:80])
        assert b"too slowly" in answer and took < 4


@pytest.mark.parametrize("warm_up", [True, False])
def test_the_default_method_is_loaded_at_start_up(serve, warm_up):
    app = create_app(ServerConfig(method="telea", warm_up=warm_up))
    url = serve(app)
    assert app.state.engine.loaded() == (["telea"] if warm_up else [])
    assert httpx.get(url + "api/methods", verify=False).status_code == 200
