"""The bad-input matrix of docs/reliability.md, through the CLI and the Python API (the REST API's
side is in test_server.py): one clear line, a non-zero exit, no output file, nothing damaged."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from ganfill.cli import main
from ganfill.data import ImageError, load_photo
from ganfill.pipeline import Pipeline

OLD = b"an earlier result that must survive"


@pytest.fixture
def face_png(test_dir, tmp_path):
    path = tmp_path / "face.png"
    Image.open(test_dir / "16001.jpg").convert("RGB").save(path)
    return path


@pytest.fixture
def hole_png(tmp_path):
    mask = np.zeros((64, 64), np.uint8)
    mask[20:44, 16:48] = 255
    path = tmp_path / "hole.png"
    Image.fromarray(mask).save(path)
    return path


def huge_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def dds_with_unknown_pixel_format() -> bytes:
    """A DDS header whose pixel format PIL does not implement: its decoder raises NotImplementedError,
    which no ``except OSError`` catches (it stopped a whole batch, and was a 500 on the server)."""
    header = struct.pack("<7I", 124, 0x1007, 4, 4, 0, 0, 0) + bytes(44)
    pixel_format = struct.pack("<2I", 32, 0x4) + b"XXXX" + bytes(20)
    return b"DDS " + header + pixel_format + struct.pack("<5I", 0x1000, 0, 0, 0, 0) + bytes(64)


def bad_bytes(kind: str, face_png) -> tuple[bytes, str]:
    good = face_png.read_bytes()
    jpeg = io.BytesIO()
    Image.open(face_png).save(jpeg, format="JPEG")
    return {
        "zero-byte": (b"", "empty"),
        "text-as-png": (b"hello, I am text\n", "not an image"),
        "truncated-png": (good[: len(good) // 3], "not a readable image"),
        "truncated-jpeg": (jpeg.getvalue()[:300], "not a readable image"),
        "corrupt-png": (good[:60] + bytes(200) + good[260:], "not a readable image"),
        "20000x20000": (huge_png(20000, 20000), "limit"),
        "dds-as-png": (dds_with_unknown_pixel_format(), "NotImplementedError"),
    }[kind]


def run_cli(argv, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


BAD = ["zero-byte", "text-as-png", "truncated-png", "truncated-jpeg", "corrupt-png", "20000x20000", "dds-as-png"]


@pytest.mark.parametrize("kind", BAD)
@pytest.mark.parametrize("role", ["image", "mask"])
def test_cli_bad_file_is_one_line_no_output_and_nothing_damaged(kind, role, face_png, hole_png, tmp_path, capsys):
    data, message = bad_bytes(kind, face_png)
    bad = tmp_path / "bad.png"
    bad.write_bytes(data)
    out = tmp_path / "out.png"
    out.write_bytes(OLD)                  # a result from before, which a failure must not touch
    image, mask = (bad, hole_png) if role == "image" else (face_png, bad)
    code, stdout, stderr = run_cli(["inpaint", image, "--mask", mask, "-o", out, "--method", "telea"], capsys)
    assert code == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganfill: error:") and message in lines[0]
    assert "Traceback" not in stderr
    assert out.read_bytes() == OLD
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []    # no temp left behind


@pytest.mark.parametrize("kind", BAD)
def test_python_api_bad_file_is_an_image_error(kind, face_png, tmp_path):
    data, message = bad_bytes(kind, face_png)
    path = tmp_path / "bad.png"
    path.write_bytes(data)
    for source in (path, data):
        with pytest.raises(ImageError, match=message) as info:
            load_photo(source)
        assert "\n" not in str(info.value)


def test_python_api_mask_checks(face_png):
    photo = load_photo(face_png).rgb
    with pytest.raises(ValueError, match="nothing to condition on"):
        Pipeline("telea")(photo, np.ones((64, 64), bool))
    with pytest.raises(ValueError, match="mask"):
        Pipeline("telea")(photo, np.zeros((2, 64, 64), bool))
    with pytest.warns(UserWarning, match="resizing the mask"):     # another size: resized, as the CLI does
        Pipeline("telea")(photo, np.zeros((32, 32), bool))
    unchanged = Pipeline("telea")(photo, np.zeros((64, 64), bool))
    assert unchanged.source == "no hole" and np.array_equal(unchanged.images[0], photo)


def test_cli_mask_sizes_and_coverage(face_png, tmp_path, capsys):
    big = tmp_path / "big.png"
    m = np.zeros((128, 128), np.uint8)
    m[40:88, 32:96] = 255
    Image.fromarray(m).save(big)
    code, _, err = run_cli(["inpaint", face_png, "--mask", big, "-o", tmp_path / "a.png", "--method", "telea"], capsys)
    assert code == 0 and "resizing the mask" in err
    none = tmp_path / "none.png"
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(none)
    code, _, err = run_cli(["inpaint", face_png, "--mask", none, "-o", tmp_path / "b.png"], capsys)
    assert code == 0 and "no hole" in err
    assert (tmp_path / "b.png").read_bytes() and np.array_equal(
        np.asarray(Image.open(tmp_path / "b.png")), np.asarray(Image.open(face_png)))
    full = tmp_path / "full.png"
    Image.fromarray(np.full((64, 64), 255, np.uint8)).save(full)
    code, _, err = run_cli(["inpaint", face_png, "--mask", full, "-o", tmp_path / "c.png"], capsys)
    assert code == 1 and "nothing to condition on" in err and not (tmp_path / "c.png").exists()


@pytest.mark.parametrize("mode", ["RGBA", "L", "P", "I;16", "CMYK", "exif-rotated"])
def test_cli_every_image_mode(mode, test_dir, hole_png, tmp_path, capsys):
    rgb = Image.open(test_dir / "16002.jpg").convert("RGB")
    path = tmp_path / ("in.jpg" if mode in ("CMYK", "exif-rotated") else "in.png")
    if mode == "I;16":
        Image.fromarray(np.asarray(rgb.convert("L")).astype(np.uint16) * 257).save(path)
    elif mode == "exif-rotated":
        exif = Image.Exif()
        exif[0x0112] = 6                  # stored rotated; shown turned 90 degrees clockwise
        rgb.transpose(Image.Transpose.ROTATE_90).save(path, exif=exif.tobytes(), quality=95)
    else:
        rgb.convert(mode).save(path)
    out = tmp_path / "out.png"
    code, _, err = run_cli(["inpaint", path, "--mask", hole_png, "-o", out, "--method", "lsgan"], capsys)
    assert code == 0, err
    photo = load_photo(path)
    result = np.asarray(Image.open(out))
    hole = np.asarray(Image.open(hole_png)) > 127
    assert result.shape == photo.pixels.shape
    assert np.array_equal(result[~hole], photo.pixels[~hole])
    assert (result[hole] != photo.pixels[hole]).any()


def test_non_utf8_file_names(face_png, hole_png, tmp_path, subprocess_env):
    if sys.platform != "linux":
        pytest.skip("byte file names are a POSIX thing")
    name = os.fsdecode(b"visage-\xff\xfe.png")
    image = tmp_path / name
    image.write_bytes(face_png.read_bytes())
    out = tmp_path / os.fsdecode(b"sortie-\xe9.png")
    env = dict(subprocess_env, LC_ALL="C.UTF-8", PYTHONIOENCODING="utf-8")
    args = [b"inpaint", os.fsencode(image), b"--mask", os.fsencode(hole_png), b"-o", os.fsencode(out),
            b"--method", b"telea"]
    r = subprocess.run([sys.executable.encode(), b"-m", b"ganfill", *args], capture_output=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert out.exists()
    # A bad file with such a name still gets its one-line error.
    broken = tmp_path / os.fsdecode(b"cass\xe9.png")
    broken.write_bytes(b"nope")
    args[1] = os.fsencode(broken)
    r = subprocess.run([sys.executable.encode(), b"-m", b"ganfill", *args], capture_output=True, env=env,
                       timeout=300)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and b"Traceback" not in r.stderr


def test_decompression_bomb_keeps_memory_bounded(tmp_path, hole_png, subprocess_env):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(huge_png(20000, 20000))
    # The child's own peak, VmHWM: its ru_maxrss would include the high-water mark of the test
    # process that started it (Linux keeps the larger of the two across exec), hundreds of MB or,
    # after a test of 64-megapixel photos in the same worker, more than the limit itself.
    code = ("import re\n"
            "from ganfill.cli import main\n"
            f"rc = main(['inpaint', {str(bomb)!r}, '--mask', {str(hole_png)!r}, '-o', {str(tmp_path / 'o.png')!r},"
            " '--method', 'telea'])\n"
            "print(rc, int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) // 1024)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env, timeout=300)
    rc, peak_mb = map(int, r.stdout.split())
    assert rc == 1 and "limit" in r.stderr
    assert peak_mb < 1500, f"peak memory {peak_mb} MB for a refused 20000x20000 image"
