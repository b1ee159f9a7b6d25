"""The REST API (FastAPI's test client): answers, bad input and options, the upload limit.  The
worker processes' queue, time and memory limits and the load tests are test_server_workers.py's."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from ganfill.server.app import ServerConfig, create_app


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def jpeg(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def huge_png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height: valid signature and IHDR, then a tiny IDAT and IEND."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def face(data_root) -> np.ndarray:
    return np.asarray(Image.open(data_root / "celeba" / "test" / "16001.jpg").convert("RGB"))


@pytest.fixture(scope="module")
def hole() -> np.ndarray:
    mask = np.zeros((64, 64), np.uint8)
    mask[20:44, 16:48] = 255
    return mask


@pytest.fixture(scope="module")
def client():
    # One worker process on one thread (the default's two workers' each): these tests send one
    # request at a time, so a second worker would only import torch and load the networks again.
    return TestClient(create_app(ServerConfig(method="lsgan", workers=1, threads=1)))


def post(client, image: bytes, mask: bytes, **form):
    return client.post("/api/inpaint", files={"image": ("image.png", image), "mask": ("mask.png", mask)},
                       data={k: str(v) for k, v in form.items()})


def test_inpaint_returns_a_png_with_the_surroundings_untouched(client, face, hole):
    r = post(client, png(face), png(hole))
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    out = decode(r.content)
    assert out.shape == face.shape
    assert np.array_equal(out[hole == 0], face[hole == 0])
    assert (out[hole > 0] != face[hole > 0]).any()
    assert r.headers["x-ganfill-method"] == "lsgan"


def test_candidates_as_json(client, face, hole):
    r = post(client, png(face), png(hole), candidates=3, format="json", seed=1)
    assert r.status_code == 200
    body = r.json()
    assert len(body["images"]) == 3 and all(s.startswith("data:image/png;base64,") for s in body["images"])
    assert body["method"] == "lsgan" and body["source"] == "whole"
    assert len(set(body["images"])) > 1


def test_any_registry_method_and_a_big_photo(client, data_root):
    photo = np.asarray(Image.open(data_root / "celeba-wild" / "test" / "22711.jpg").convert("RGB"))   # a test face
    photo = np.asarray(Image.fromarray(photo).resize((445, 545), Image.BICUBIC))
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[240:310, 130:320] = 255
    for method in ("telea", "lsgan+ae"):
        r = post(client, jpeg(photo), png(mask), method=method)
        assert r.status_code == 200, r.text
        out = decode(r.content)
        sent = decode(jpeg(photo))
        assert np.array_equal(out[mask == 0], sent[mask == 0])


def test_methods_and_docs(client):
    info = client.get("/api/methods").json()
    assert info["default"] == "lsgan" and "telea" in info["methods"] and "lsgan+ae" in info["methods"]
    # The page turns the candidates box off for a method that gives a single answer.
    assert "lsgan+ae" in info["candidates"] and "telea" not in info["candidates"]
    assert set(info["candidates"]) <= set(info["methods"])
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/api/inpaint" in schema["paths"]
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text
    assert "http://" not in page.text and "https://" not in page.text     # no CDN: works offline


@pytest.mark.parametrize("image, why", [
    (b"", "empty"),
    (b"just some text, named .png", "not an image"),
    ("truncated-png", "readable"),
    ("truncated-jpeg", "readable"),
    ("huge", "limit"),
    ("dds", "NotImplementedError"),
])
def test_bad_images_are_400_with_one_line(client, face, hole, image, why):
    if image == "truncated-png":
        image = png(face)[:300]
    elif image == "truncated-jpeg":
        image = jpeg(face)[:400]
    elif image == "huge":
        image = huge_png_header(20000, 20000)
    elif image == "dds":                   # PIL's DDS decoder raises NotImplementedError: once a 500
        from test_bad_input import dds_with_unknown_pixel_format
        image = dds_with_unknown_pixel_format()
    r = post(client, image, png(hole))
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert why in detail and "\n" not in detail


def test_masks(client, face, hole):
    # Another size: resized (nearest), as the CLI does.
    big = np.kron(hole, np.ones((2, 2), np.uint8))
    r = post(client, png(face), png(big))
    assert r.status_code == 200
    assert np.array_equal(decode(r.content)[hole == 0], face[hole == 0])
    # No hole: the image back, unchanged.
    r = post(client, png(face), png(np.zeros((64, 64), np.uint8)))
    assert r.status_code == 200 and np.array_equal(decode(r.content), face)
    # All hole: nothing to condition on.
    r = post(client, png(face), png(np.full((64, 64), 255, np.uint8)))
    assert r.status_code == 400 and "nothing to condition on" in r.json()["detail"]
    # A broken mask.
    assert post(client, png(face), b"\x89PNG\r\n").status_code == 400


def test_bad_options(client, face, hole):
    assert post(client, png(face), png(hole), method="nope").status_code == 400
    assert post(client, png(face), png(hole), candidates=0).status_code == 422
    assert post(client, png(face), png(hole), candidates=99).status_code == 422
    assert post(client, png(face), png(hole), candidates="many").status_code == 422
    assert post(client, png(face), png(hole), format="gif").status_code == 422
    assert post(client, png(face), png(hole), method="telea", candidates=2).status_code == 400
    assert post(client, png(face), png(hole), box="1,2").status_code == 422
    r = client.post("/api/inpaint", files={"image": ("image.png", png(face))})
    assert r.status_code == 422


def test_upload_limit(face, hole):
    client = TestClient(create_app(ServerConfig(method="telea", max_upload_mb=0.01)))
    noise = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    r = post(client, png(noise), png(hole))
    assert r.status_code == 413 and "limit" in r.json()["detail"]


def test_methods_of_unbounded_cost_are_off_unless_enabled(face, hole):
    client = TestClient(create_app(ServerConfig(method="telea", warm_up=False)))
    assert "lsgan-yeh" not in client.get("/api/methods").json()["methods"]
    r = post(client, png(face), png(hole), method="lsgan-yeh")
    assert r.status_code == 403 and "--enable lsgan-yeh" in r.json()["detail"]
    assert post(client, png(face), png(hole), method="biharmonic").status_code == 403
    client = TestClient(create_app(ServerConfig(method="telea", warm_up=False, enable=("biharmonic",))))
    assert "biharmonic" in client.get("/api/methods").json()["methods"]
    assert post(client, png(face), png(hole), method="biharmonic").status_code == 200


def test_repeated_fields_and_huge_values_get_short_answers(client, face, hole):
    files = [("image", ("a.png", png(face))), ("image", ("b.png", png(face))), ("mask", ("m.png", png(hole)))]
    r = client.post("/api/inpaint", files=files)
    assert r.status_code == 422 and "more than once" in r.json()["detail"]
    r = client.post("/api/inpaint", files={"mask": ("m.png", png(hole))}, data={"image": "x" * 2**20})
    assert r.status_code == 422 and len(r.content) < 1000
    r = post(client, png(face), png(hole), box="1," * 2**19)
    assert r.status_code == 422 and len(r.content) < 1000
    r = post(client, png(face), png(hole), box=f"0,0,{10**400},10")
    assert r.status_code == 422 and "10,000,000" in r.json()["detail"] and len(r.content) < 1000
    for bad in ("2.5", "3x", "1" * 30, "-1"):
        r = post(client, png(face), png(hole), seed=bad)
        assert r.status_code == 422 and "seed" in r.json()["detail"], bad
    assert post(client, png(face), png(hole), candidates="2.5").status_code == 422


def test_serve_binds_loopback_by_default():
    from ganfill.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
