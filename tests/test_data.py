"""Image and mask loading, preprocessing, the face folders and their decode cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import ganfill.data.dataset as dataset_mod
from ganfill.data import (ArrayFaces, FaceFolder, ImageError, list_images, load_image, load_mask, mask_to_tensor,
                          preprocess, resize_mask, save_image_atomic, to_tensor, to_uint8)


def _rgb(h=20, w=30, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _check_rgb(arr: np.ndarray, h: int, w: int) -> None:
    assert arr.shape == (h, w, 3)
    assert arr.dtype == np.uint8


# ------------------------------------------------------------------ load_image

def test_load_rgb_png_is_exact(tmp_path):
    img = _rgb()
    path = tmp_path / "rgb.png"
    Image.fromarray(img).save(path)
    out = load_image(path)
    _check_rgb(out, 20, 30)
    assert np.array_equal(out, img)


def test_load_rgba_composites_transparent_on_white(tmp_path):
    rgba = np.zeros((10, 12, 4), dtype=np.uint8)
    rgba[..., :3] = (10, 200, 30)
    rgba[:, :6, 3] = 255   # left half opaque
    rgba[:, 6:, 3] = 0     # right half fully transparent
    path = tmp_path / "rgba.png"
    Image.fromarray(rgba, "RGBA").save(path)
    out = load_image(path)
    _check_rgb(out, 10, 12)
    assert (out[:, :6] == (10, 200, 30)).all()
    assert (out[:, 6:] == 255).all()


def test_load_grayscale_gives_three_equal_channels(tmp_path):
    gray = np.random.default_rng(1).integers(0, 256, size=(16, 8), dtype=np.uint8)
    path = tmp_path / "gray.png"
    Image.fromarray(gray, "L").save(path)
    out = load_image(path)
    _check_rgb(out, 16, 8)
    for c in range(3):
        assert np.array_equal(out[..., c], gray)


def test_load_palette_png(tmp_path):
    img = _rgb(12, 14)
    pal = Image.fromarray(img).quantize(colors=16)
    assert pal.mode == "P"
    path = tmp_path / "pal.png"
    pal.save(path)
    out = load_image(path)
    _check_rgb(out, 12, 14)
    assert np.array_equal(out, np.asarray(pal.convert("RGB")))


def test_load_16bit_png_scales_to_8bit(tmp_path):
    arr = np.zeros((4, 5), dtype=np.uint16)
    arr[0] = 65535
    arr[1] = 32768
    arr[2] = 257 * 10
    path = tmp_path / "deep.png"
    Image.fromarray(arr).save(path)
    out = load_image(path)
    _check_rgb(out, 4, 5)
    assert (out[0] == 255).all()
    assert (out[1] == 128).all()
    assert (out[2] == 10).all()
    assert (out[3] == 0).all()


def test_exif_orientation_6_is_honoured(tmp_path):
    # Stored 40 wide x 20 high: left half red, right half blue.  Orientation 6 means "rotate 90
    # degrees clockwise to display", so the picture is 20 wide x 40 high with red on top.
    img = np.zeros((20, 40, 3), dtype=np.uint8)
    img[:, :20] = (255, 0, 0)
    img[:, 20:] = (0, 0, 255)
    pil = Image.fromarray(img)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    pil.save(path, exif=exif.tobytes(), quality=95)
    out = load_image(path)
    _check_rgb(out, 40, 20)
    top, bottom = out[:15].reshape(-1, 3).mean(0), out[25:].reshape(-1, 3).mean(0)
    assert top[0] > 200 and top[2] < 50
    assert bottom[2] > 200 and bottom[0] < 50


def test_load_real_celeba_face(test_dir):
    out = load_image(sorted(test_dir.iterdir())[0])
    _check_rgb(out, 64, 64)


# ------------------------------------------------------------------ load_mask

def test_load_mask_thresholds_at_127(tmp_path):
    arr = np.array([[0, 126, 127, 128, 200, 255]], dtype=np.uint8)
    path = tmp_path / "mask.png"
    Image.fromarray(arr, "L").save(path)
    mask = load_mask(path)
    assert mask.dtype == bool and mask.shape == (1, 6)
    assert mask.tolist() == [[False, False, False, True, True, True]]


def test_load_mask_rgb_file(tmp_path):
    arr = np.zeros((4, 4, 3), dtype=np.uint8)
    arr[1:3, 1:3] = 255
    path = tmp_path / "mask_rgb.png"
    Image.fromarray(arr).save(path)
    expected = np.zeros((4, 4), dtype=bool)
    expected[1:3, 1:3] = True
    assert np.array_equal(load_mask(path), expected)


def _painted_layer() -> np.ndarray:
    """White opaque paint (the hole) on a transparent background; a black opaque stroke is not a hole."""
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[2:4, 2:6] = (255, 255, 255, 255)
    rgba[6, :] = (0, 0, 0, 255)
    return rgba


def test_load_mask_rgba_painted_layer(tmp_path):
    path = tmp_path / "layer.png"
    Image.fromarray(_painted_layer(), "RGBA").save(path)
    expected = np.zeros((8, 8), dtype=bool)
    expected[2:4, 2:6] = True
    assert np.array_equal(load_mask(path), expected)


def test_load_mask_palette_layer_with_transparency(tmp_path):
    # The same layer, quantised to a palette PNG with a transparent entry (as PNG optimisers do):
    # the transparent background must stay known, as in the RGBA file.
    pal = Image.fromarray(_painted_layer(), "RGBA").quantize(colors=4)
    path = tmp_path / "layer-p.png"
    pal.save(path)
    with Image.open(path) as check:
        assert check.mode == "P" and "transparency" in check.info
    expected = np.zeros((8, 8), dtype=bool)
    expected[2:4, 2:6] = True
    assert np.array_equal(load_mask(path), expected)


def test_load_mask_honours_exif_like_load_image(tmp_path):
    # A photo and its mask saved with the same EXIF orientation must come back in the same frame.
    hole = np.zeros((20, 40), dtype=np.uint8)
    hole[:, :20] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    mask_path, image_path = tmp_path / "mask.png", tmp_path / "photo.png"
    Image.fromarray(hole, "L").save(mask_path, exif=exif.tobytes())
    Image.fromarray(np.stack([hole] * 3, axis=-1)).save(image_path, exif=exif.tobytes())
    image, mask = load_image(image_path), load_mask(mask_path)
    assert image.shape[:2] == mask.shape == (40, 20)
    assert np.array_equal(mask, image[..., 0] > 127)


def test_load_mask_nearest_resize(tmp_path):
    small = np.random.default_rng(3).random((8, 8)) > 0.5
    path = tmp_path / "small.png"
    Image.fromarray(small.astype(np.uint8) * 255, "L").save(path)
    big = load_mask(path, size=(32, 32))
    assert big.shape == (32, 32) and big.dtype == bool
    # Nearest neighbour by an integer factor: every pixel becomes a 4x4 block, no blurred values.
    assert np.array_equal(big, np.kron(small, np.ones((4, 4), dtype=bool)))
    assert np.array_equal(resize_mask(small, (32, 32)), big)
    # Same size: untouched.
    assert np.array_equal(load_mask(path, size=(8, 8)), small)


# ------------------------------------------------------------------ bad files

def _bad_files(tmp_path):
    missing = tmp_path / "missing.png"
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("this is not an image\nsecond line\n")
    good = tmp_path / "good.jpg"
    Image.fromarray(_rgb(64, 64)).save(good, quality=95)
    truncated = tmp_path / "truncated.jpg"
    data = good.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    return {"missing": missing, "empty": empty, "text": text, "truncated": truncated, "folder": tmp_path}


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "truncated", "folder"])
@pytest.mark.parametrize("loader", [load_image, load_mask])
def test_bad_files_raise_one_line_image_error(tmp_path, kind, loader):
    path = _bad_files(tmp_path)[kind]
    with pytest.raises(ImageError) as info:
        loader(path)
    msg = str(info.value)
    assert msg and "\n" not in msg
    assert str(path) in msg


def test_image_error_is_a_value_error():
    assert issubclass(ImageError, ValueError)


# ------------------------------------------------------------------ preprocess

def test_preprocess_crop_variants(data_root):
    aligned = data_root / "celeba-aligned"
    if not aligned.is_dir():
        pytest.skip("no aligned faces")
    img = load_image(list_images(aligned, limit=1)[0])
    assert img.shape[:2] == (109, 89)
    for crop in (None, 64, 80, (10, 20, 60, 60)):
        out = preprocess(img, crop)
        assert out.shape == (64, 64, 3) and out.dtype == np.uint8


def test_preprocess_box_cuts_the_right_region():
    img = np.zeros((100, 80, 3), dtype=np.uint8)
    img[30:70, 10:50] = (50, 100, 150)     # a 40x40 box at x=10, y=30
    out = preprocess(img, (10, 30, 40, 40))
    assert (out == (50, 100, 150)).all()


def test_preprocess_int_crop_is_centred():
    img = np.zeros((100, 80, 3), dtype=np.uint8)
    img[30:70, 20:60] = 200                # the centred 40x40 square
    assert (preprocess(img, 40) == 200).all()
    # A larger crop than the image is clipped to the largest centred square.
    assert preprocess(img, 500).shape == (64, 64, 3)


def test_preprocess_none_is_largest_centred_square():
    img = np.zeros((100, 80, 3), dtype=np.uint8)
    img[10:90] = 255                       # the centred 80x80 square is all white
    assert (preprocess(img, None) == 255).all()


def test_preprocess_64_is_identity():
    img = _rgb(64, 64)
    assert np.array_equal(preprocess(img), img)


# ------------------------------------------------------------------ FaceFolder

def test_face_folder_items(test_dir):
    ds = FaceFolder(test_dir, limit=8)
    assert len(ds) == 8
    assert ds.images.shape == (8, 64, 64, 3) and ds.images.dtype == np.uint8
    x = ds[3]
    assert x.shape == (3, 64, 64) and x.dtype == torch.float32
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert torch.equal(x, to_tensor(ds.images[3])[0])
    assert ds.files == sorted(ds.files)


def test_face_folder_batch_without_flip(test_dir):
    ds = FaceFolder(test_dir, limit=8)
    b = ds.batch([5, 0, 2])
    assert b.shape == (3, 3, 64, 64)
    assert torch.equal(b, to_tensor(ds.images[[5, 0, 2]]))


def test_face_folder_batch_flip_is_seeded(test_dir):
    ds = FaceFolder(test_dir, limit=8, flip=True)
    idx = list(range(8))
    a = ds.batch(idx, torch.Generator().manual_seed(123))
    b = ds.batch(idx, torch.Generator().manual_seed(123))
    assert torch.equal(a, b)
    # The flips are exactly those drawn from the generator.
    flips = torch.rand(8, generator=torch.Generator().manual_seed(123)) < 0.5
    plain = to_tensor(ds.images)
    for i in range(8):
        expected = plain[i].flip(-1) if flips[i] else plain[i]
        assert torch.equal(a[i], expected)
    # Over several seeds both flipped and unflipped items occur.
    seen = torch.stack([torch.rand(8, generator=torch.Generator().manual_seed(s)) < 0.5 for s in range(5)])
    assert seen.any() and not seen.all()


def test_array_faces_matches_folder(test_dir):
    ds = FaceFolder(test_dir, limit=4)
    arr = ArrayFaces(ds.images)
    assert len(arr) == 4
    assert torch.equal(arr.batch([0, 1, 2, 3]), ds.batch([0, 1, 2, 3]))


def test_disk_cache_written_and_reused(test_dir, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANFILL_CACHE", str(cache))
    first = FaceFolder(test_dir, limit=8)
    files = list(cache.glob("faces-*.npy"))
    assert len(files) == 1
    assert np.array_equal(np.load(files[0]), first.images)

    def boom(path):
        raise AssertionError(f"decoded {path} although it is cached")

    monkeypatch.setattr(dataset_mod, "load_image", boom)
    second = FaceFolder(test_dir, limit=8)
    assert np.array_equal(second.images, first.images)
    # Another selection of files is another cache entry and must be decoded.
    with pytest.raises(AssertionError, match="decoded"):
        FaceFolder(test_dir, limit=4)


def test_disk_cache_off_writes_nothing(test_dir, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANFILL_CACHE", str(cache))
    FaceFolder(test_dir, limit=2, cache=False)
    assert not cache.exists() or not list(cache.iterdir())


def test_damaged_cache_is_rebuilt(test_dir, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANFILL_CACHE", str(cache))
    good = FaceFolder(test_dir, limit=3).images
    (entry,) = cache.glob("faces-*.npy")
    entry.write_bytes(b"garbage")
    again = FaceFolder(test_dir, limit=3).images
    assert np.array_equal(again, good)
    assert np.array_equal(np.load(entry), good)


def test_cache_notices_a_changed_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GANFILL_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "faces"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(_rgb(64, 64, seed=i)).save(folder / f"{i}.png")
    before = FaceFolder(folder).images
    new = _rgb(64, 64, seed=99)
    Image.fromarray(new).save(folder / "1.png")
    import os
    st = os.stat(folder / "1.png")
    os.utime(folder / "1.png", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    after = FaceFolder(folder).images
    assert np.array_equal(after[1], new)
    assert np.array_equal(after[0], before[0])


# ------------------------------------------------------------------ list_images

def test_list_images_empty_folder(tmp_path):
    with pytest.raises(ImageError, match="no images"):
        list_images(tmp_path)


def test_list_images_missing_folder(tmp_path):
    with pytest.raises(ImageError, match="no such folder"):
        list_images(tmp_path / "nope")


def test_list_images_sorted_recursive_filtered(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.png", "a.JPG", "sub/c.webp", "notes.txt", "d.gif"):
        (tmp_path / name).write_bytes(b"x")
    names = [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)]
    assert names == ["a.JPG", "b.png", "sub/c.webp"]
    assert len(list_images(tmp_path, limit=2)) == 2


def test_face_folder_on_empty_folder(tmp_path):
    with pytest.raises(ImageError):
        FaceFolder(tmp_path)


# ------------------------------------------------------------------ conversions

def test_to_tensor_to_uint8_round_trip_exact():
    values = np.arange(256, dtype=np.uint8)
    img = np.stack([np.resize(values, (16, 16)), np.resize(values[::-1], (16, 16)),
                    np.resize(np.roll(values, 7), (16, 16))], axis=-1)
    t = to_tensor(img)
    assert t.shape == (1, 3, 16, 16) and t.dtype == torch.float32
    assert t.min() == -1.0 and t.max() == 1.0
    assert np.array_equal(to_uint8(t)[0], img)
    batch = np.stack([img, img[::-1]])
    assert np.array_equal(to_uint8(to_tensor(batch)), batch)


def test_to_uint8_clamps_and_rounds():
    t = torch.tensor([-5.0, -1.0, 0.0, 1.0, 5.0]).view(1, 1, 1, 5).expand(1, 3, 1, 5)
    assert to_uint8(t)[0, 0, :, 0].tolist() == [0, 0, 128, 255, 255]


def test_mask_to_tensor():
    m = np.zeros((4, 4), dtype=bool)
    m[1, 2] = True
    t = mask_to_tensor(m)
    assert t.shape == (1, 1, 4, 4) and t.dtype == torch.float32
    assert t.sum() == 1 and t[0, 0, 1, 2] == 1
    assert mask_to_tensor(np.stack([m, ~m])).shape == (2, 1, 4, 4)


def test_save_image_atomic_round_trip(tmp_path):
    img = _rgb(8, 8)
    path = tmp_path / "out" / "img.png"
    save_image_atomic(img, path)
    assert np.array_equal(load_image(path), img)
    assert [p.name for p in path.parent.iterdir()] == ["img.png"]
    with pytest.raises(ImageError):
        save_image_atomic(img, tmp_path / "img.xyz")


def test_a_photo_refiners_training_set_leaves_out_the_validation_faces_by_name(tmp_path):
    """On a GPU machine the folder holds only shares of celeba-wild/train plus a few validation
    faces (for the glimpses): position in the folder no longer tells them apart, their names do."""
    from ganfill.data import WILD_VALIDATION, without_wild_validation

    names = ["00003", "17393", str(WILD_VALIDATION.start - 1), str(WILD_VALIDATION.start),
             str(WILD_VALIDATION.stop - 1), str(WILD_VALIDATION.stop), "other"]
    for i, name in enumerate(names):
        Image.fromarray(np.full((8, 8, 3), i * 30, np.uint8)).save(tmp_path / f"{name}.png")
    faces = FaceFolder(tmp_path, size=8, cache=False)
    kept = without_wild_validation(faces)
    # sorted by name: 00003, 17393, 22210, 22211, 22710, 22711, other -> the validation pair is gone
    assert [int(v) for v in kept.images[:, 0, 0, 0]] == [0, 30, 60, 150, 180]
    assert kept.flip
    assert len(without_wild_validation(faces, limit=2)) == 2
