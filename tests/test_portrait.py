"""The default method on portraits: each part of the hole filled by what suits it (the face model
on each face, Telea off the faces and on photos with no face), and the mask warnings, on the
CLI, the API and in Python."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data as samples

from conftest import run_ganfill
from ganfill.data import load_image
from ganfill.methods import DEFAULT_METHOD, get_method
from ganfill.metrics import psnr
from ganfill.photo import NoFaceError
from ganfill.pipeline import Pipeline
from ganfill.server.app import ServerConfig, create_app


@pytest.fixture(scope="module")
def pipe():
    return Pipeline.from_pretrained("portrait", device="cpu")


@pytest.fixture(scope="module")
def faces(wild_dir):
    """Two in-the-wild test faces (256 x 256, in no training set) that the detector finds."""
    return load_image(wild_dir / "22711.jpg"), load_image(wild_dir / "22713.jpg")


def eyes(shape) -> np.ndarray:
    h, w = shape
    mask = np.zeros((h, w), bool)
    mask[int(h * 0.44):int(h * 0.58), int(w * 0.28):int(w * 0.72)] = True
    return mask


def telea(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return get_method("telea")(image, mask)


def general(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """What the default fills the parts of a hole on no face with."""
    return get_method("classical")(image, mask)


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def test_portrait_is_the_default():
    assert DEFAULT_METHOD == "portrait"


@pytest.mark.slow
def test_two_masked_faces_are_each_filled_in_their_own_crop_as_well_as_alone(pipe, faces):
    a, b = faces
    two = np.concatenate([a, b], axis=1)                    # a couple's photo, 512 x 256
    hole = np.concatenate([eyes(a.shape[:2]), eyes(b.shape[:2])], axis=1)
    both = pipe(two, hole)
    assert both.faces == 2 and both.general is None and "2 faces" in both.summary()
    assert np.array_equal(both.images[0][~hole], two[~hole])
    for side, face in ((slice(0, 256), a), (slice(256, 512), b)):
        alone = pipe(face, eyes(face.shape[:2]))
        assert alone.faces == 1
        truth, m = face, eyes(face.shape[:2])
        together = psnr(both.images[0][:, side][m], truth[m])
        assert together > psnr(alone.images[0][m], truth[m]) - 0.5
        # and it is a face model's fill, not the general inpainter's
        assert together > psnr(telea(face, m)[m], truth[m])


def test_a_hole_off_the_face_goes_to_the_general_inpainter(pipe, faces):
    face = faces[0]
    hole = np.zeros(face.shape[:2], bool)
    hole[0:16, 0:60] = True                                 # the edges, outside the face's crop
    hole[240:256, 180:256] = True
    done = pipe(face, hole)
    assert done.faces == 0 and done.general == "classical" and done.warnings == []
    assert np.array_equal(done.images[0], general(face, hole))


def test_a_photo_with_no_face_is_filled_with_a_warning_unless_a_face_is_required(pipe):
    coffee = samples.coffee()
    hole = np.zeros(coffee.shape[:2], bool)
    hole[300:340, 40:160] = True                            # on the table top
    done = pipe(coffee, hole)
    assert done.faces == 0 and done.source == "full-size"
    assert any("no face found" in w for w in done.warnings)
    assert np.array_equal(done.images[0], general(coffee, hole))
    with pytest.raises(NoFaceError, match=r"box=\(x, y, w, h\).*require_face"):
        pipe(coffee, hole, require_face=True)


def test_an_inverted_mask_warns(faces):
    hole = ~eyes(faces[0].shape[:2])
    done = Pipeline("telea")(faces[0], hole)
    assert any("inverted" in w for w in done.warnings)
    assert not Pipeline("telea")(faces[0], ~hole).warnings


@pytest.mark.slow
def test_cli_no_face_warns_and_exits_0_and_require_face_is_the_error_in_flags(tmp_path):
    Image.fromarray(samples.coffee()).save(tmp_path / "coffee.png")
    mask = np.zeros((400, 600), np.uint8)
    mask[300:340, 40:160] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    r = run_ganfill("inpaint", tmp_path / "coffee.png", "--mask", tmp_path / "mask.png", "-o", tmp_path / "out.png")
    assert r.returncode == 0, r.stderr
    assert "no face found" in r.stderr and "warning" in r.stderr
    out = load_image(tmp_path / "out.png")
    assert np.array_equal(out, general(samples.coffee(), mask > 0))
    r = run_ganfill("inpaint", tmp_path / "coffee.png", "--mask", tmp_path / "mask.png", "-o", tmp_path / "req.png",
                "--require-face")
    assert r.returncode == 1 and len([line for line in r.stderr.splitlines() if "filling " not in line]) == 1
    assert "no face found" in r.stderr and "--box X,Y,W,H" in r.stderr and "--require-face" in r.stderr
    assert not (tmp_path / "req.png").exists()


@pytest.mark.slow
def test_cli_warns_about_an_inverted_mask_and_a_grey_stroke(faces, tmp_path):
    Image.fromarray(faces[0]).save(tmp_path / "face.png")
    inverted = np.where(eyes((256, 256)), 0, 255).astype(np.uint8)
    Image.fromarray(inverted).save(tmp_path / "inverted.png")
    r = run_ganfill("inpaint", tmp_path / "face.png", "--mask", tmp_path / "inverted.png", "-o", tmp_path / "a.png",
                "--method", "telea")
    assert r.returncode == 0 and "inverted" in r.stderr and f"{(inverted > 127).mean():.0%}" in r.stderr
    grey = np.where(eyes((256, 256)), 100, 0).astype(np.uint8)       # painted, but at grey 100
    Image.fromarray(grey).save(tmp_path / "grey.png")
    r = run_ganfill("inpaint", tmp_path / "face.png", "--mask", tmp_path / "grey.png", "-o", tmp_path / "b.png",
                "--method", "telea")
    assert r.returncode == 0 and "grey 100" in r.stderr and "brighter than 127" in r.stderr


@pytest.mark.slow
def test_api_warns_and_words_require_face_in_form_fields(faces):
    # One server with the default method; the mask warnings are asked of telea (they come before
    # any method runs).
    portrait = TestClient(create_app(ServerConfig(method="portrait")))
    face = faces[0]

    def post(mask, **form):
        return portrait.post("/api/inpaint", files={"image": ("i.png", png(face)), "mask": ("m.png", png(mask))},
                             data={"format": "json", "method": "telea", **form})

    r = post(np.where(eyes((256, 256)), 0, 255).astype(np.uint8))
    assert r.status_code == 200 and any("inverted" in w for w in r.json()["warnings"])
    assert "inverted" in r.headers["X-Ganfill-Warning"]
    r = post(np.where(eyes((256, 256)), 100, 0).astype(np.uint8))
    assert r.status_code == 200 and any("brighter than 127" in w for w in r.json()["warnings"])
    coffee = samples.coffee()
    hole = np.zeros(coffee.shape[:2], np.uint8)
    hole[300:340, 40:160] = 255

    def post_coffee(**form):
        return portrait.post("/api/inpaint", files={"image": ("c.png", png(coffee)), "mask": ("m.png", png(hole))},
                             data={"format": "json", **form})

    r = post_coffee()
    assert r.status_code == 200 and any("no face found" in w for w in r.json()["warnings"])
    r = post_coffee(require_face="true")
    detail = r.json()["detail"]
    assert r.status_code == 400 and "form field box=x,y,w,h" in detail and "require_face" in detail
    assert "--" not in detail
    assert post_coffee(require_face="maybe").status_code == 422
