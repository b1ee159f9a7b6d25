"""The memory a photo may cost whatever its box or aspect ratio (a 64-megapixel photo, boxes far
outside the photo), measured in a fresh process; and a box outside the photo refused by the CLI
and the server alike."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from test_pipeline import eyes_mask

from ganfill.data import load_image
from ganfill.data.faces import Box, crop_resized, crop_square


@pytest.fixture(scope="module")
def aligned(wild_dir):
    """Photos in no training set (celeba-wild/test faces), by the names the tests use."""
    from test_photo import TestPhotos

    return TestPhotos(wild_dir)


def test_crop_square_copies_only_the_window():
    image = np.arange(10 * 10 * 3, dtype=np.uint8).reshape(10, 10, 3)
    assert np.array_equal(crop_square(image, Box(2, 3, 4, 4)), image[3:7, 2:6])
    edge = crop_square(image, Box(-2, -3, 6, 6))
    assert edge.shape == (6, 6, 3)
    assert np.array_equal(edge[3:, 2:], image[:3, :4])
    assert np.array_equal(edge[3 - 1, 2:], image[1, :4])          # mirrored about the edge row
    assert np.array_equal(edge[3:, 2 - 2], image[:3, 2])          # and the edge column
    far = crop_resized(image, Box(-10**6, -10**6, 2 * 10**6, 2 * 10**6), 64, 3)   # a 2-million-pixel square
    assert far.shape == (64, 64, 3)
    with pytest.raises(ValueError, match="outside"):
        crop_square(image, Box(10, 0, 5, 5))


# Each command's peak is its own: VmHWM, the high-water mark of the child's memory (ru_maxrss would
# keep the test process's across exec), reset before each command by Linux's clear_refs "5".  The
# commands of a test share one fresh interpreter (each more would import torch again, seconds of
# CPU); what an earlier one leaves behind can only add to a later one's peak.  Each command gets its
# own stderr file (descriptor 2, so C code's lines too) and its own warnings registry, as a process
# of its own would.
PEAKS = """
import json, os, re, sys, warnings
from ganfill.cli import main
report, results = sys.argv[1], []
for i, args in enumerate(json.loads(sys.argv[2])):
    sys.stderr.flush()
    saved, err = os.dup(2), os.open(f"{report}.{i}.err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(err, 2)
    open("/proc/self/clear_refs", "w").write("5")
    try:
        with warnings.catch_warnings():
            rc = main(args)
    except SystemExit as stop:
        rc = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        peak_kb = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(err)
    results.append([rc, peak_kb // 1024])
    open(report, "w").write(json.dumps(results))
"""


def _cli_peaks(tmp_path, env, *commands) -> list[tuple[int, str, int]]:
    """Run each of ``commands`` (``ganfill ARGS`` as a list) in one fresh process, one after the other;
    for each, its exit code, its stderr and its peak resident memory in MB."""
    import json

    report = tmp_path / "peaks.json"
    r = subprocess.run([sys.executable, "-c", PEAKS, report, json.dumps([list(map(str, c)) for c in commands])],
                       capture_output=True, text=True, env=env, timeout=600)
    results = json.loads(report.read_text()) if report.exists() else []
    assert r.returncode == 0 and len(results) == len(commands), r.stderr
    return [(rc, (tmp_path / f"peaks.json.{i}.err").read_text(), peak) for i, (rc, peak) in enumerate(results)]


@pytest.mark.slow
def test_boxes_and_wide_photos_cost_a_few_times_the_photo(aligned, tmp_path, subprocess_env):
    small = tmp_path / "small.png"
    Image.fromarray(np.full((512, 512, 3), 90, np.uint8)).save(small)
    hole = np.zeros((512, 512), np.uint8)
    hole[200:260, 200:300] = 255
    Image.fromarray(hole).save(tmp_path / "small-mask.png")

    # 16000 x 4000 (64 megapixels, the limit): the face at the left end, a small hole at the right.
    face = Image.open(aligned / "000003.jpg").convert("RGB")
    face = np.asarray(face.resize((face.width * 2, face.height * 2), Image.BICUBIC))      # 512 x 512
    wide = np.full((4000, 16000, 3), 120, np.uint8)
    wide[100:100 + face.shape[0], 100:100 + face.shape[1]] = face
    hole = np.zeros((4000, 16000), np.uint8)
    hole[2000:2040, 15700:15800] = 255
    wide[hole > 0] = 255                                   # the hole painted white: the fill must replace it
    Image.fromarray(wide).save(tmp_path / "wide.bmp")
    Image.fromarray(hole).save(tmp_path / "wide-mask.png", compress_level=1)
    del wide, hole

    # The wide photo first, in the process as it starts; then boxes far outside the small photo.
    outside = ("6000,6000,10,10", "30000,30000,10,10")
    (rc, err, peak), *refused = _cli_peaks(
        tmp_path, subprocess_env,
        ["inpaint", tmp_path / "wide.bmp", "--mask", tmp_path / "wide-mask.png", "-o", tmp_path / "wide-out.png",
         "--method", "lsgan", "--box", "100,100,512,512"],
        *(["inpaint", small, "--mask", tmp_path / "small-mask.png", "-o", tmp_path / "out.png", "--method", "lsgan",
           "--box", box] for box in outside))
    assert rc == 0, err
    assert peak < 1500, f"{peak} MB"
    out, before = np.asarray(Image.open(tmp_path / "wide-out.png")), np.asarray(Image.open(tmp_path / "wide.bmp"))
    changed = (out != before).any(axis=2)
    assert changed[2000:2040, 15700:15800].all()          # the whole hole is filled ...
    assert changed.sum() == 40 * 100                      # ... and nothing else changed
    for box, (rc, err, peak) in zip(outside, refused):
        assert rc == 1 and err.count("\n") == 1 and "outside the 512x512 image" in err, (box, err)
        assert peak < 1500, (box, peak)


def test_the_server_answers_a_box_outside_the_photo_with_400(aligned):
    import io

    from fastapi.testclient import TestClient

    from ganfill.server.app import ServerConfig, create_app

    def png(array):
        buf = io.BytesIO()
        Image.fromarray(array).save(buf, format="PNG")
        return buf.getvalue()

    img = load_image(aligned / "000001.jpg")
    m = eyes_mask(img.shape[:2])
    # One worker: the requests come one after the other, and each worker process imports torch.
    client = TestClient(create_app(ServerConfig(method="telea", warm_up=False, workers=1, threads=1)))
    files = {"image": ("i.png", png(img)), "mask": ("m.png", png(m.astype(np.uint8) * 255))}
    for box in ("6000,6000,10,10", "30000,30000,10,10"):
        r = client.post("/api/inpaint", files=files, data={"box": box})   # telea: the box is checked all the same
        assert r.status_code == 400 and "outside the 256x256 image" in r.json()["detail"], r.text
