"""Colour profiles and metadata of written photos: an ICC photo is converted to
sRGB for the model and written back in its own profile, outside the hole byte-identical; EXIF,
DPI and the profile are kept; WebP is lossless; RGBA to JPEG is composited on white, with a warning."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image, ImageCms

from ganfill.cli import main
from ganfill.data import load_image, load_photo


# No ICC file ships with PIL or any installed package, and ImageCms can only create sRGB, LAB and
# XYZ profiles, so the test writes a real wide-gamut profile itself: an ICC v2 matrix/TRC display
# profile with the Adobe RGB (1998) primaries (adapted to D50) and its 563/256 gamma, which is all
# an Adobe RGB profile is.  LittleCMS reads it like the one a camera embeds.
def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + bytes(4) + _s15(x) + _s15(y) + _s15(z)


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return b"desc" + bytes(4) + struct.pack(">I", len(ascii_)) + ascii_ + bytes(8) + bytes(3) + bytes(67)


def rgb_icc_profile(name: str, red, green, blue, gamma: float) -> bytes:
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256)) + bytes(2)
    tags = [(b"desc", _desc(name)), (b"wtpt", _xyz(0.9642, 1.0, 0.8249)), (b"rXYZ", _xyz(*red)),
            (b"gXYZ", _xyz(*green)), (b"bXYZ", _xyz(*blue)), (b"rTRC", curve), (b"gTRC", curve),
            (b"bTRC", curve), (b"cprt", b"text" + bytes(4) + b"No copyright, use freely\0")]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        body += bytes(-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = (struct.pack(">I", offset + len(data)) + bytes(4) + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + bytes(12) + b"acsp" + bytes(28) + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + bytes(48))
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


ADOBE_RGB = rgb_icc_profile("Adobe RGB (1998) compatible", (0.60974, 0.31111, 0.01947),
                            (0.20528, 0.62567, 0.06087), (0.14919, 0.06322, 0.74457), 563 / 256)


def adobe_to_srgb(rgb: np.ndarray) -> np.ndarray:
    adobe = ImageCms.ImageCmsProfile(io.BytesIO(ADOBE_RGB))
    srgb = ImageCms.createProfile("sRGB")
    out = ImageCms.profileToProfile(Image.fromarray(rgb), adobe, srgb, outputMode="RGB",
                                    renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
    return np.asarray(out)


@pytest.fixture
def face(test_dir) -> np.ndarray:
    return np.asarray(Image.open(test_dir / "16001.jpg").convert("RGB"))


def run_cli(argv, capsys) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def test_the_profile_is_readable_and_not_srgb(face):
    # Guards the rest: if the handmade profile were sRGB-like, the tests below could not fail.
    converted = adobe_to_srgb(face)
    assert np.abs(converted.astype(int) - face).max() > 10


def test_icc_photo_model_sees_srgb_and_output_is_in_its_own_profile(face, hole, tmp_path, capsys):
    path = tmp_path / "adobe.png"
    Image.fromarray(face).save(path, icc_profile=ADOBE_RGB)
    photo = load_photo(path)
    assert np.array_equal(photo.pixels, face)                       # the file's own pixels
    assert np.array_equal(photo.rgb, adobe_to_srgb(face))           # the model's sRGB view
    assert np.array_equal(load_image(path), photo.rgb)

    # A flat sRGB fill comes back in Adobe RGB values: sRGB (200, 40, 40) is not (200, 40, 40) there.
    hole_mask = hole[1]
    filled = photo.with_fill(np.full_like(face, (200, 40, 40)), hole_mask)
    assert np.array_equal(filled[~hole_mask], face[~hole_mask])
    back = adobe_to_srgb(filled)[hole_mask]
    assert np.abs(back.astype(int) - (200, 40, 40)).max() <= 2      # shows as the sRGB colour it was
    assert np.abs(filled[hole_mask].astype(int) - (200, 40, 40)).max() > 10

    out = tmp_path / "out.png"
    code, err = run_cli(["inpaint", path, "--mask", hole[0], "-o", out, "--method", "telea"], capsys)
    assert code == 0, err
    written = Image.open(out)
    assert written.info.get("icc_profile") == ADOBE_RGB
    result = np.asarray(written.convert("RGB"))
    assert np.array_equal(result[~hole_mask], face[~hole_mask])     # byte-identical outside the hole
    assert (result[hole_mask] != face[hole_mask]).any()


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_exif_dpi_and_profile_are_kept_and_orientation_reset(face, hole, tmp_path, capsys, suffix):
    exif = Image.Exif()
    exif[0x0112] = 6                       # stored rotated: shown turned 90 degrees clockwise
    exif[0x010F] = "ganfill-test-camera"   # Make
    path = tmp_path / "in.jpg"
    Image.fromarray(face).transpose(Image.Transpose.ROTATE_90).save(
        path, exif=exif.tobytes(), dpi=(300, 300), icc_profile=ADOBE_RGB, quality=95)
    out = tmp_path / f"out{suffix}"
    code, err = run_cli(["inpaint", path, "--mask", hole[0], "-o", out, "--method", "telea"], capsys)
    assert code == 0, err
    written = Image.open(out)
    tags = written.getexif()
    assert tags.get(0x010F) == "ganfill-test-camera"
    assert tags.get(0x0112) == 1           # already upright: a viewer must not turn it again
    assert written.info.get("icc_profile") == ADOBE_RGB
    if suffix != ".webp":                  # WebP has no DPI field
        assert tuple(round(v) for v in written.info["dpi"]) == (300, 300)
    assert written.size == (64, 64)


def test_webp_is_lossless_outside_the_hole(face, hole, tmp_path, capsys):
    path = tmp_path / "in.png"
    Image.fromarray(face).save(path)
    out = tmp_path / "out.webp"
    code, err = run_cli(["inpaint", path, "--mask", hole[0], "-o", out, "--method", "telea"], capsys)
    assert code == 0 and "lossy" not in err
    result = np.asarray(Image.open(out).convert("RGB"))
    assert np.array_equal(result[~hole[1]], face[~hole[1]])


def test_rgba_to_jpeg_is_composited_on_white_with_a_warning(face, hole, tmp_path, capsys):
    rgba = np.dstack([face, np.full((64, 64), 255, np.uint8)])
    rgba[:, :10, :3] = (255, 0, 0)         # a hidden colour under fully transparent pixels
    rgba[:, :10, 3] = 0
    path = tmp_path / "in.png"
    Image.fromarray(rgba, "RGBA").save(path)
    out = tmp_path / "out.jpg"
    code, err = run_cli(["inpaint", path, "--mask", hole[0], "-o", out, "--method", "telea"], capsys)
    assert code == 0, err
    assert "composited on white" in err and "lossy" in err
    result = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert result[:, :8].min() > 235, "the hidden red under transparent pixels shows through"
    opaque = ~hole[1]
    opaque[:, :12] = False
    assert np.abs(result[opaque] - face[opaque]).mean() < 3  # the opaque part is the photo (JPEG noise)
    # PNG keeps the alpha and says nothing.
    code, err = run_cli(["inpaint", path, "--mask", hole[0], "-o", tmp_path / "out.png", "--method", "telea"],
                        capsys)
    assert code == 0 and "composited" not in err
    kept = np.asarray(Image.open(tmp_path / "out.png"))
    assert kept.shape == (64, 64, 4) and np.array_equal(kept[~hole[1]], rgba[~hole[1]])


def test_the_server_returns_the_photo_in_its_own_profile(face, hole):
    from fastapi.testclient import TestClient

    from ganfill.server.app import ServerConfig, create_app

    buf = io.BytesIO()
    Image.fromarray(face).save(buf, format="PNG", icc_profile=ADOBE_RGB)
    mask = io.BytesIO()
    Image.fromarray(hole[1].astype(np.uint8) * 255).save(mask, format="PNG")
    client = TestClient(create_app(ServerConfig(method="telea")))
    r = client.post("/api/inpaint", files={"image": ("a.png", buf.getvalue()), "mask": ("m.png", mask.getvalue())})
    assert r.status_code == 200
    out = Image.open(io.BytesIO(r.content))
    assert out.info.get("icc_profile") == ADOBE_RGB
    assert np.array_equal(np.asarray(out.convert("RGB"))[~hole[1]], face[~hole[1]])
