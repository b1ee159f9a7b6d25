"""Nothing lost, nothing silently wrong: the faults a hostile probe found, each refused in one line.

Writing over an input, damaged or non-finite weights, non-finite pixels, numbers too large to
compute with, values of the wrong type, and what a batch leaves unread.  The server's side (time,
memory, repeated fields, short answers) is in test_server.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganfill.cli import main


@pytest.fixture
def photo_and_mask(tmp_path, wild_dir) -> tuple[Path, Path]:
    photo = tmp_path / "a.png"
    Image.open(wild_dir / "22711.jpg").convert("RGB").save(photo)
    mask = np.zeros((256, 256), np.uint8)
    mask[100:150, 80:180] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    return photo, tmp_path / "m.png"


def run(capsys, *argv) -> tuple[int, str]:
    code = main([*map(str, argv)])
    return code, capsys.readouterr().err


# ---------------------------------------------------------------- 1. data loss

@pytest.mark.parametrize("target", ["photo", "mask", "photo-by-another-name", "mask-as-candidate"])
def test_an_output_never_replaces_the_input_photo_or_mask(photo_and_mask, capsys, target):
    photo, mask = photo_and_mask
    before = {p: p.read_bytes() for p in (photo, mask)}
    extra = []
    if target == "photo":
        output = photo
    elif target == "mask":
        output = mask
    elif target == "photo-by-another-name":
        (photo.parent / "sub").mkdir()
        output = photo.parent / "sub" / ".." / "a.png"
    else:                                        # -o m.png --candidates 2 writes m-1.png, m-2.png
        shutil.copy(mask, mask.parent / "m-2.png")
        mask = mask.parent / "m-2.png"
        before[mask] = mask.read_bytes()
        output, extra = photo.parent / "m.png", ["--candidates", 2, "--method", "lsgan"]
    code, err = run(capsys, "inpaint", photo, "--mask", mask, "-o", output, "--method", "telea", *extra)
    assert code == 1 and "--overwrite" in err and len(err.strip().splitlines()) == 1
    assert all(p.read_bytes() == data for p, data in before.items())


def test_overwrite_replaces_the_photo_when_asked(photo_and_mask, capsys):
    photo, mask = photo_and_mask
    before = np.asarray(Image.open(photo))
    code, _ = run(capsys, "inpaint", photo, "--mask", mask, "-o", photo, "--method", "telea", "--overwrite")
    after = np.asarray(Image.open(photo))
    assert code == 0 and not np.array_equal(before, after)


def test_a_folder_is_not_filled_into_itself_or_its_masks(photo_and_mask, tmp_path, capsys):
    photo, mask = photo_and_mask
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(photo, folder / "a.png")
    masks = tmp_path / "masks"
    masks.mkdir()
    shutil.copy(mask, masks / "a.png")
    before = (folder / "a.png").read_bytes(), (masks / "a.png").read_bytes()
    code, err = run(capsys, "inpaint", folder, "--mask", mask, "-o", folder, "--method", "telea")
    assert code == 1 and "the input folder" in err
    code, err = run(capsys, "inpaint", folder, "--mask-dir", masks, "-o", masks, "--method", "telea")
    assert code == 1 and "the mask folder" in err
    assert ((folder / "a.png").read_bytes(), (masks / "a.png").read_bytes()) == before


def test_an_output_folder_inside_the_input_is_never_read_back(photo_and_mask, tmp_path, capsys):
    photo, mask = photo_and_mask
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(photo, folder / "a.png")
    for again in (False, True):
        code, err = run(capsys, "inpaint", folder, "--mask", mask, "-o", folder / "out", "--method", "telea",
                        "--no-progress")
        assert code == 0 and ("out/: the output folder" in err) == again
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.png")) == ["a.png", "out/a.png"]


def test_a_batch_says_what_it_did_not_read(photo_and_mask, tmp_path, capsys):
    photo, mask = photo_and_mask
    folder, elsewhere = tmp_path / "in", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    shutil.copy(photo, folder / "a.png")
    shutil.copy(photo, elsewhere / "b.png")
    (folder / "linked").symlink_to(elsewhere, target_is_directory=True)
    (folder / "notes.txt").write_text("not a photo")
    (folder / "gone.png").symlink_to(tmp_path / "missing.png")
    code, err = run(capsys, "inpaint", folder, "--mask", mask, "-o", tmp_path / "out", "--method", "telea",
                    "--no-progress")
    assert code == 0
    assert "linked/: a link to a folder, not followed" in err
    assert "gone.png: a broken link" in err and "1 file not named as images (.txt)" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png"]


# ---------------------------------------------------------------- 2. silently black results

def test_the_shipped_weights_match_their_checksums():
    from ganfill.weights import CHECKSUMS, WEIGHTS_DIR, file_digest

    listed = dict(line.split()[::-1] for line in (WEIGHTS_DIR / CHECKSUMS).read_text().splitlines())
    assert sorted(listed) == sorted(p.name for p in WEIGHTS_DIR.glob("*.safetensors"))
    for name, digest in listed.items():
        assert file_digest(WEIGHTS_DIR / name) == digest, f"{name} is damaged"


def test_a_damaged_shipped_file_is_refused_by_name(tmp_path, monkeypatch, capsys, photo_and_mask):
    from ganfill.weights import CHECKSUMS, WEIGHTS_DIR

    for file in [*WEIGHTS_DIR.glob("*.safetensors"), WEIGHTS_DIR / CHECKSUMS]:
        shutil.copy(file, tmp_path / file.name)
    damaged = bytearray((tmp_path / "refiner-wild.safetensors").read_bytes())
    damaged[-100] ^= 0x40                     # one bit of one weight
    (tmp_path / "refiner-wild.safetensors").write_bytes(bytes(damaged))
    monkeypatch.setenv("GANFILL_WEIGHTS_DIR", str(tmp_path))
    photo, mask = photo_and_mask
    out = tmp_path / "out.png"
    code, err = run(capsys, "inpaint", photo, "--mask", mask, "-o", out, "--box", "40,40,180,180")
    assert code == 1 and "refiner-wild.safetensors" in err and "SHA-256" in err and not out.exists()


def test_a_weights_file_with_a_nan_is_refused_on_load(tmp_path):
    from ganfill.models.io import CheckpointError, load_tensors, save_tensors
    from ganfill.weights import WEIGHTS_DIR, load_refiner

    tensors, meta = load_tensors(WEIGHTS_DIR / "refiner-wild.safetensors")
    name = next(k for k, v in tensors.items() if v.is_floating_point())
    tensors[name] = tensors[name].clone().flatten()
    tensors[name][0] = float("nan")
    tensors[name] = tensors[name].reshape(load_tensors(WEIGHTS_DIR / "refiner-wild.safetensors")[0][name].shape)
    save_tensors(tmp_path / "nan.safetensors", tensors, meta)
    with pytest.raises(CheckpointError, match=f"{name}.*NaN"):
        load_refiner(tmp_path / "nan.safetensors")


def test_a_non_finite_model_output_is_an_error_not_black_pixels():
    from ganfill.data import to_uint8
    from ganfill.data.tensors import NonFiniteError

    out = torch.zeros(1, 3, 4, 4)
    assert to_uint8(out).shape == (1, 4, 4, 3)
    out[0, 1, 2, 3] = float("nan")
    with pytest.raises(NonFiniteError, match="NaN"):
        to_uint8(out)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_float_tiff_with_a_non_finite_pixel_is_refused(tmp_path, capsys, bad):
    pixels = np.full((64, 64), 0.5, np.float32)
    pixels[3, 4] = bad
    Image.fromarray(pixels, "F").save(tmp_path / "f.tif")
    mask = np.zeros((64, 64), np.uint8)
    mask[20:40, 20:40] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    code, err = run(capsys, "inpaint", tmp_path / "f.tif", "--mask", tmp_path / "m.png", "-o", tmp_path / "o.png",
                    "--method", "telea")
    assert code == 1 and "NaN or infinite" in err and not (tmp_path / "o.png").exists()


def test_the_float_range_rule_reads_finite_values_only(tmp_path):
    from ganfill.data import load_image

    pixels = np.full((8, 8), 0.5, np.float32)
    Image.fromarray(pixels, "F").save(tmp_path / "f.tif")
    assert (load_image(tmp_path / "f.tif") == 128).all()          # 0-1 floats are scaled to 0-255


# ---------------------------------------------------------------- 3, 6, 7: numbers and types

def test_a_huge_box_is_one_line_everywhere(photo_and_mask, capsys):
    import ganfill
    from ganfill.data.faces import Box

    photo, mask = photo_and_mask
    huge = f"0,0,{10**400},10"
    code, err = run(capsys, "inpaint", photo, "--mask", mask, "-o", photo.parent / "o.png", "--box", huge)
    assert code == 1 and "10,000,000" in err and len(err) < 300
    with pytest.raises(ValueError, match="10,000,000"):
        Box(0, 0, 10**400, 10)
    pipe = ganfill.Pipeline.from_pretrained("telea")
    image = np.asarray(Image.open(photo))
    hole = np.asarray(Image.open(mask)) > 127
    with pytest.raises(ValueError, match="10,000,000"):
        pipe(image, hole, box=huge)


def test_the_python_api_checks_types_with_plain_messages(photo_and_mask):
    import ganfill

    photo, mask = photo_and_mask
    image = np.asarray(Image.open(photo))
    hole = np.asarray(Image.open(mask)) > 127
    pipe = ganfill.Pipeline.from_pretrained("lsgan")
    with pytest.raises(TypeError, match="candidates must be a whole number, got float 2.5"):
        pipe(image, hole, candidates=2.5)
    with pytest.raises(TypeError, match="candidates must be a whole number, got str '3'"):
        pipe(image, hole, candidates="3")
    with pytest.raises(ValueError, match="candidates must be 1 to 8"):
        pipe(image, hole, candidates=5000)
    with pytest.raises(ValueError, match="seed must be 0 to"):
        pipe(image, hole, seed=2**64)
    with pytest.raises(TypeError, match="box must be"):
        pipe(image, hole, box={"x": 1})
    # A plain tuple is a box, as people write it.
    tuple_box = pipe(image, hole, box=(40, 40, 180, 180), seed=3).images[0]
    assert np.array_equal(tuple_box, pipe(image, hole, box="40,40,180,180", seed=3).images[0])


def test_the_cli_caps_candidates_as_the_api_does(photo_and_mask, capsys):
    from ganfill.inputs import MAX_CANDIDATES

    photo, mask = photo_and_mask
    code, err = run(capsys, "inpaint", photo, "--mask", mask, "-o", photo.parent / "o.png",
                    "--candidates", 5000, "--method", "lsgan")
    assert code == 1 and f"candidates must be 1 to {MAX_CANDIDATES}" in err
    assert not list(photo.parent.glob("o*.png"))
