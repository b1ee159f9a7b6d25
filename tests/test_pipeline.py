"""``ganfill.Pipeline``: loaded once, seeded per call, batched, thread-safe, strict about its input;
a box must overlap the photo, and the CLI fills a folder in batches.  The memory a photo may cost
whatever its box or aspect ratio is test_boxes_and_memory.py's."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from PIL import Image

import ganfill
from ganfill.data import load_image
from ganfill.data.faces import Box
from ganfill.methods import get_method


@pytest.fixture(scope="module")
def aligned(wild_dir):
    """Photos in no training set (celeba-wild/test faces), by the names the tests use."""
    from test_photo import TestPhotos

    return TestPhotos(wild_dir)


@pytest.fixture(scope="module")
def pipe():
    return ganfill.Pipeline.from_pretrained("lsgan", device="cpu")


@pytest.fixture(scope="module")
def few_steps():
    """lsgan with 3 latent-search steps (the shipped 10 cost 2.4 times as long), for the tests of
    batches, seeds and input types: each image's search is its own from the first step (its own
    start, its own loss, Adam per element), so a slip there shows in any number of steps."""
    return ganfill.Pipeline.from_pretrained("lsgan", device="cpu", iterations=3)


def eyes_mask(shape) -> np.ndarray:
    h, w = shape
    mask = np.zeros((h, w), bool)
    mask[int(h * 0.44):int(h * 0.58), int(w * 0.28):int(w * 0.72)] = True
    return mask


@pytest.fixture(scope="module")
def photos(aligned):
    images = [load_image(aligned / f"{i:06d}.jpg") for i in (1, 2, 5)]
    return images, [eyes_mask(p.shape[:2]) for p in images]


class Counting:
    """A method wrapper that counts the model calls."""

    def __init__(self, method):
        self.method, self.calls = method, []

    def __getattr__(self, name):
        return getattr(self.method, name)


def test_a_list_is_one_model_call_and_equals_the_photos_one_by_one(few_steps, photos, monkeypatch):
    pipe, (images, masks) = few_steps, photos
    calls = []
    original = type(pipe.method).candidates
    monkeypatch.setattr(type(pipe.method), "candidates",
                        lambda self, *a, **k: calls.append(len(a[0])) or original(self, *a, **k))
    batch = pipe(images, masks, candidates=2, seed=11)
    assert calls == [3]                                     # one call on the three 64-px crops
    calls.clear()
    one_by_one = [pipe(img, m, candidates=2, seed=11, index=i) for i, (img, m) in enumerate(zip(images, masks))]
    assert calls == [1, 1, 1]
    for b, s, img, m in zip(batch, one_by_one, images, masks):
        assert b.source == "face" and b.box == s.box and len(b.images) == 2
        for x, y in zip(b.images, s.images):
            assert np.array_equal(x, y)
            assert np.array_equal(x[~m], img[~m])
    # the same as the thin wrapper that other code calls
    assert np.array_equal(ganfill.Pipeline(pipe.method)(images[1], masks[1], 2, seed=11, index=1).images[1],
                          batch[1].images[1])


def test_randomness_belongs_to_the_call(few_steps, photos):
    pipe, (images, masks) = few_steps, photos
    a = pipe(images[0], masks[0], candidates=2, seed=1)
    b = pipe(images[0], masks[0], candidates=2, seed=2)
    assert not np.array_equal(a.images[1], b.images[1])     # another seed, other candidates
    assert np.array_equal(pipe(images[0], masks[0], candidates=2, seed=1).images[1], a.images[1])
    g1 = pipe(images[0], masks[0], candidates=2, generator=torch.Generator().manual_seed(5))
    g2 = pipe(images[0], masks[0], candidates=2, generator=torch.Generator().manual_seed(5))
    g3 = pipe(images[0], masks[0], candidates=2, generator=torch.Generator().manual_seed(6))
    assert np.array_equal(g1.images[1], g2.images[1]) and not np.array_equal(g1.images[1], g3.images[1])
    with pytest.raises(ValueError, match="seed or generator"):
        pipe(images[0], masks[0], seed=1, generator=torch.Generator())


def test_two_threads_share_one_pipeline(pipe, photos):
    images, masks = photos
    expected = [pipe(images[i % 3], masks[i % 3], seed=i).images[0] for i in range(4)]
    got: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def work(i):
        try:
            got[i] = pipe(images[i % 3], masks[i % 3], seed=i).images[0]
        except BaseException as exc:    # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(np.array_equal(got[i], expected[i]) for i in range(4))
    inpainter = pipe.method.inpainter
    assert not any(p.requires_grad for p in (*inpainter.G.parameters(), *inpainter.D.parameters()))


def test_input_arrays_are_converted_as_documented_or_refused(few_steps, photos):
    pipe, (images, masks) = few_steps, photos
    img, m = images[0], masks[0]
    expected = pipe(img, m).images[0]
    assert np.array_equal(pipe(img.astype(np.float32) / 255, m).images[0], expected)
    assert np.array_equal(pipe(img.astype(np.uint16) * 257, m).images[0], expected)
    assert np.array_equal(pipe(Image.fromarray(img), Image.fromarray(m.astype(np.uint8) * 255)).images[0], expected)
    assert np.array_equal(pipe(img, m.astype(np.uint8)).images[0], expected)      # nonzero = hole
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pipe(img.astype(np.float64), m)                      # 0-255 floats: ambiguous, refused
    with pytest.raises(ValueError, match="0-255"):
        pipe(img.astype(np.int32) * 300, m)
    with pytest.raises(ValueError, match="alpha"):
        pipe(np.dstack([img, img[..., :1]]), m)
    with pytest.raises(ValueError, match="mask"):
        pipe(img, np.stack([m, m]))
    with pytest.warns(UserWarning, match="resizing the mask"):       # another size: resized, as the CLI does
        small = pipe(img, m[::2, ::2])
    from ganfill.data import resize_mask
    resized = resize_mask(m[::2, ::2], m.shape)
    assert small.images[0].shape == img.shape and np.array_equal(small.images[0][~resized], img[~resized])
    with pytest.raises(TypeError, match="method"):
        ganfill.Pipeline(None)
    with pytest.raises(TypeError, match="method"):
        ganfill.Pipeline.from_pretrained(3)
    with pytest.raises(ValueError, match="unknown method"):
        ganfill.Pipeline.from_pretrained("nope")
    with pytest.raises(ValueError, match="device"):
        ganfill.Pipeline.from_pretrained("telea", device="tpu")
    with pytest.raises(ValueError, match="photo 1: .*mask"):
        pipe([img, img], [m, np.stack([m, m])])


def test_pipeline_is_listed_and_takes_paths(tmp_path, photos):
    """`dir(ganfill)` (and so tab completion) lists the lazily imported Pipeline; a photo and a mask
    given as file paths are read as the CLI reads them."""
    assert "Pipeline" in dir(ganfill)
    img = photos[0][0]
    m = np.zeros(img.shape[:2], bool)
    m[20:40, 20:40] = True
    Image.fromarray(img).save(tmp_path / "p.png")
    Image.fromarray(m.astype(np.uint8) * 255).save(tmp_path / "m.png")
    pipe = ganfill.Pipeline.from_pretrained("telea")
    assert np.array_equal(pipe(tmp_path / "p.png", str(tmp_path / "m.png")).images[0], pipe(img, m).images[0])


def test_auto_is_resolved_in_one_place():
    from ganfill.models.device import resolve_device

    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device(None) == resolve_device("auto") and resolve_device("cpu") == torch.device("cpu")
    method = ganfill.Pipeline.from_pretrained("context-encoder", device="auto").method
    assert method.device == resolve_device("auto")


def test_full_size_methods_read_only_the_window_they_need(photos):
    """Telea on a window around the hole equals Telea on the whole photo."""
    import cv2

    img = np.asarray(Image.fromarray(photos[0][0]).resize((356, 436)))
    m = np.zeros(img.shape[:2], bool)
    m[200:240, 100:250] = True
    m[300:305, 40:45] = True
    whole = cv2.inpaint(img, m.astype(np.uint8) * 255, 3.0, cv2.INPAINT_TELEA)
    assert np.array_equal(ganfill.Pipeline("telea")(img, m).images[0], whole)


# ---------------------------------------------------------------- boxes and folders

def test_a_box_must_overlap_the_photo(pipe, photos):
    img, m = photos[0][0], photos[1][0]
    for box in (Box(6000, 6000, 10, 10), Box(30000, 30000, 10, 10), Box(-50, 0, 50, 50)):
        with pytest.raises(ValueError, match="outside the 256x256 image") as info:
            pipe(img, m, box=box)
        assert "\n" not in str(info.value)


def test_cli_folder_runs_in_batches_and_seeds_each_photo_by_its_name(aligned, tmp_path, pipe):
    from conftest import run_ganfill

    from ganfill.batch import photo_index

    images, masks, out = tmp_path / "images", tmp_path / "masks", tmp_path / "out"
    images.mkdir()
    masks.mkdir()
    names = ("000001", "000002", "000005")
    for name in names:
        (images / f"{name}.jpg").write_bytes((aligned / f"{name}.jpg").read_bytes())
        Image.fromarray(eyes_mask((256, 256)).astype(np.uint8) * 255).save(masks / f"{name}.png")
    (images / "broken.png").write_bytes(b"not a png at all")
    Image.fromarray(eyes_mask((256, 256)).astype(np.uint8) * 255).save(masks / "broken.png")
    r = run_ganfill("inpaint", images, "--mask-dir", masks, "-o", out, "--method", "lsgan", "--seed", 3,
                    "--device", "cpu", "--no-progress")
    assert r.returncode == 1 and "inpainted 3 of 4 images" in r.stdout and "broken.png" in r.stderr, r.stderr
    for name in names:
        photo = load_image(images / f"{name}.jpg")
        expected = pipe(photo, eyes_mask(photo.shape[:2]), seed=3, index=photo_index(f"{name}.jpg")).images[0]
        assert np.array_equal(load_image(out / f"{name}.png"), expected)
