"""Property and fuzz tests on the image and mask loaders: any bytes give an image or an ImageError."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ganfill.data import ImageError, load_image, load_mask

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _png_bytes(arr: np.ndarray, mode: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode).save(buf, format="PNG")
    return buf.getvalue()


@SETTINGS
@given(data=st.binary(min_size=0, max_size=2048), suffix=st.sampled_from([".png", ".jpg", ".webp", ".bmp"]))
def test_arbitrary_bytes_give_an_image_or_a_one_line_image_error(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    for loader, ndim, dtype in ((load_image, 3, np.uint8), (load_mask, 2, bool)):
        try:
            out = loader(path)
        except ImageError as exc:
            assert "\n" not in str(exc) and str(path) in str(exc)
        else:
            assert out.ndim == ndim and out.dtype == dtype


@SETTINGS
@given(h=st.integers(1, 40), w=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_truncated_png_never_escapes_as_anything_but_image_error(tmp_path, h, w, seed):
    rng = np.random.default_rng(seed)
    full = _png_bytes(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")
    path = tmp_path / "cut.png"
    path.write_bytes(full[: int(rng.integers(1, len(full)))])
    try:
        img = load_image(path)
    except ImageError:
        return
    assert img.shape == (h, w, 3) and img.dtype == np.uint8


@SETTINGS
@given(h=st.integers(1, 48), w=st.integers(1, 48), th=st.integers(1, 48), tw=st.integers(1, 48),
       seed=st.integers(0, 2**16))
def test_masks_threshold_at_127_and_resize_to_any_size(tmp_path, h, w, th, tw, seed):
    rng = np.random.default_rng(seed)
    gray = rng.integers(0, 256, (h, w), dtype=np.uint8)
    path = tmp_path / "mask.png"
    path.write_bytes(_png_bytes(gray, "L"))
    mask = load_mask(path)
    assert mask.dtype == bool and mask.shape == (h, w)
    assert np.array_equal(mask, gray > 127)
    resized = load_mask(path, (th, tw))
    assert resized.shape == (th, tw) and resized.dtype == bool
    # Nearest neighbour: each pixel is the value of a source pixel at (or, for rounding, next to)
    # the position it maps back to; not flipped, shifted, smeared or inverted.
    ys = np.minimum(((np.arange(th) + 0.5) * h / th).astype(int), h - 1)
    xs = np.minimum(((np.arange(tw) + 0.5) * w / tw).astype(int), w - 1)
    near = np.zeros((th, tw), bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near |= mask[np.ix_(np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1))] == resized
    assert near.all()
    # An integer upscale repeats each pixel exactly.
    k = 1 + seed % 3
    assert np.array_equal(load_mask(path, (h * k, w * k)), mask.repeat(k, 0).repeat(k, 1))


@SETTINGS
@given(h=st.integers(1, 32), w=st.integers(1, 32), mode=st.sampled_from(["L", "RGB", "RGBA", "P", "I;16"]),
       seed=st.integers(0, 2**16))
def test_every_mode_loads_as_uint8_rgb_of_the_same_size(tmp_path, h, w, mode, seed):
    rng = np.random.default_rng(seed)
    if mode == "I;16":
        img = Image.fromarray(rng.integers(0, 65536, (h, w), dtype=np.uint16))
    elif mode == "P":
        img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB").convert("P")
    else:
        channels = {"L": None, "RGB": 3, "RGBA": 4}[mode]
        shape = (h, w) if channels is None else (h, w, channels)
        img = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)
    path = tmp_path / "img.png"
    img.save(path)
    out = load_image(path)
    assert out.shape == (h, w, 3) and out.dtype == np.uint8
