"""Load test of `ganfill serve`: many clients for a while, good and bad requests mixed, a slow method among them.

    .venv/bin/python scripts/bench_server_load.py --clients 16 --seconds 60 --json docs/results/server-load.json

Starts a server on a free loopback port (the default method, `lsgan-yeh` turned on, 2 workers,
a 20 s time limit), then each client sends, in turn: a good face (checked: outside the hole
byte-identical to what it sent, so an image meant for another client would show), a good face
with the default method, a broken image, a repeated field, a huge box; and the first client's
2nd, 18th, ... request is an `lsgan-yeh` with 8 candidates (minutes of work, stopped at the time
limit).  It records the status codes, the latency of the good requests while a slow one runs, and
the memory of the server and its worker processes after a warm-up (each worker's methods loaded),
a third of the way in, and at the end.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path, default=None, help="write the summary here")
    args = parser.parse_args()

    import httpx
    import subprocess
    import sys

    from ganfill.data import default_data_root

    faces = sorted((default_data_root() / "celeba-wild" / "test").glob("*.jpg"))[:16]
    photos = [np.asarray(Image.open(f).convert("RGB")) for f in faces]
    hole = np.zeros((256, 256), np.uint8)
    hole[96:160, 72:184] = 255
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # The server in its own process, as `ganfill serve` runs: its memory is the server's alone.
    server = subprocess.Popen([sys.executable, "-m", "ganfill", "serve", "--port", str(port), "--workers", "2",
                               "--timeout", "20", "--max-queue", "32", "--enable", "lsgan-yeh"],
                              stderr=subprocess.DEVNULL)
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/methods", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    url = f"http://127.0.0.1:{port}/api/inpaint"

    def memory() -> float:
        """The server and its worker processes, resident."""
        tasks = Path(f"/proc/{server.pid}/task").iterdir()       # workers are started from its threads
        children = [int(p) for task in tasks for p in (task / "children").read_text().split()]
        return sum(rss_mb(pid) for pid in [server.pid, *children])

    # Every worker loads the methods it is asked for once (a fixed set, the registry's): warm them
    # up first, so that the growth measured is what the load itself adds.
    for _ in range(4):
        for data in ({"method": "telea"}, {}):
            httpx.post(url, files={"image": ("i.png", png(photos[0])), "mask": ("m.png", png(hole))}, data=data,
                       timeout=120)
    start_memory = memory()
    samples: list[float] = []
    threading.Thread(target=lambda: (time.sleep(args.seconds / 3), samples.append(memory())), daemon=True).start()
    codes: dict[str, dict[int, int]] = {}
    latencies: list[tuple[float, bool]] = []        # (seconds, whether a slow request was running)
    wrong = 0
    slow_running = threading.Event()
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def one(client: int, n: int) -> None:
        nonlocal wrong
        photo = photos[(client + n) % len(photos)]
        kind = "slow" if n % 16 == 1 and client == 0 else ("good", "default", "broken", "repeated",
                                                           "huge-box", "good")[n % 6]
        files = {"image": ("i.png", png(photo)), "mask": ("m.png", png(hole))}
        data = {"method": "telea"}
        if kind == "default":
            data = {}
        elif kind == "broken":
            files["image"] = ("i.png", png(photo)[:500])
        elif kind == "repeated":
            files = [("image", ("i.png", png(photo))), ("image", ("j.png", png(photo))), ("mask", ("m.png", png(hole)))]
        elif kind == "huge-box":
            data["box"] = f"0,0,{10**400},10"
        elif kind == "slow":
            data = {"method": "lsgan-yeh", "candidates": "8"}
            slow_running.set()
        started = time.monotonic()
        try:
            r = httpx.post(url, files=files, data=data, timeout=120)
        except httpx.HTTPError as exc:            # no answer at all: counted, never hidden
            with lock:
                codes.setdefault(kind, {}).setdefault(type(exc).__name__, 0)
                codes[kind][type(exc).__name__] += 1
            return
        took = time.monotonic() - started
        if kind == "slow":
            slow_running.clear()
        with lock:
            codes.setdefault(kind, {}).setdefault(r.status_code, 0)
            codes[kind][r.status_code] += 1
            if kind in ("good", "default") and r.status_code == 200:
                out = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
                if not np.array_equal(out[hole == 0], photo[hole == 0]):
                    wrong += 1
                latencies.append((took, slow_running.is_set()))

    def client(c: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            one(c, n)
            n += 1

    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(client, range(args.clients)))
    end_memory = memory()
    server.terminate()
    server.wait(30)
    beside_slow = [t for t, slow in latencies if slow]
    summary = {
        "clients": args.clients, "seconds": args.seconds, "status_codes": codes,
        "requests": sum(sum(c.values()) for c in codes.values()),
        "answers_500": sum(c.get(500, 0) for c in codes.values()), "wrong_images": wrong,
        "no_answer": sum(n for c in codes.values() for k, n in c.items() if isinstance(k, str)),
        "memory_start_mb": round(start_memory, 1), "memory_end_mb": round(end_memory, 1),
        "memory_growth_mb": round(end_memory - start_memory, 1),
        "memory_growth_last_two_thirds_mb": round(end_memory - samples[0], 1) if samples else None,
        "good_requests_beside_a_slow_one": len(beside_slow),
        "their_median_s": round(float(np.median(beside_slow)), 2) if beside_slow else None,
        "good_median_s": round(float(np.median([t for t, _ in latencies])), 2) if latencies else None,
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
