"""Detail above the model's size (contextual residual aggregation): the photo's own fine detail,
copied into the hole of a scaled-up fill, and nothing else changed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ganfill.data.faces import Box
from ganfill.inpaint.base import InpaintMethod
from ganfill.inpaint.detail import add_detail, detail_residual
from ganfill.metrics import laplacian_energy
from ganfill.pipeline import Pipeline

SIDE, SMALL = 256, 64


def centre_hole(side: int) -> np.ndarray:
    hole = np.zeros((side, side), bool)
    hole[side // 4:3 * side // 4, side // 4:3 * side // 4] = True
    return hole


def striped(side: int, amplitude: float = 40.0) -> np.ndarray:
    """Vertical stripes of a 4-pixel period on grey: detail that a 64-px model cannot hold at 256 px
    (area downsampling averages each period to flat grey)."""
    x = np.arange(side)
    row = 128 + amplitude * np.where(x % 4 < 2, 1.0, -1.0)
    return np.repeat(np.repeat(row[None, :, None], side, axis=0), 3, axis=2).clip(0, 255).astype(np.uint8)


def textured(side: int) -> np.ndarray:
    """Fine grey-level grain, like skin or hair at a high resolution: no period, no structure."""
    grain = cv2.GaussianBlur(np.random.default_rng(side).normal(0, 1, (side, side, 3)), (0, 0), 0.8)
    return (128 + 25 * grain / grain.std()).clip(0, 255).astype(np.uint8)


def flat_fill(crop: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What a model that knows nothing of the texture gives: the crop at 64 px, its hole the mean colour."""
    small = cv2.resize(crop, (SMALL, SMALL), interpolation=cv2.INTER_AREA)
    hole_small = cv2.resize(hole.astype(np.uint8), (SMALL, SMALL), interpolation=cv2.INTER_AREA) > 0
    small[hole_small] = small[~hole_small].mean(axis=0).round().astype(np.uint8)
    return small, hole_small


def test_stripes_around_the_hole_give_stripes_in_it():
    crop, hole = striped(SIDE), centre_hole(SIDE)
    small, hole_small = flat_fill(crop, hole)
    plain = add_detail(crop, hole, small, hole_small)
    # without detail the hole is flat; with it, the photo's stripes continue, in phase
    up = cv2.resize(small, (SIDE, SIDE), interpolation=cv2.INTER_CUBIC).astype(np.float64)
    inner = np.zeros_like(hole)
    inner[80:176, 80:176] = True
    assert laplacian_energy(up.clip(0, 255).astype(np.uint8), inner) < 1
    result = plain.clip(0, 255).astype(np.uint8)
    ratio = laplacian_energy(result, inner) / laplacian_energy(crop, inner)
    assert 0.8 < ratio < 1.2
    added = (plain - up)[inner][:, 0]
    truth = crop.astype(np.float64)[inner][:, 0] - 128
    assert np.corrcoef(added, truth)[0, 1] > 0.95


def test_a_flat_photo_gives_no_detail():
    crop = np.full((SIDE, SIDE, 3), (90, 140, 200), np.uint8)
    hole = centre_hole(SIDE)
    crop[hole] = 255                      # whatever the hole holds is never read
    small, hole_small = flat_fill(crop, hole)
    assert np.abs(detail_residual(crop, hole, small, hole_small)).max() < 1e-3


@pytest.mark.parametrize("side, cell", [(256, 1), (256, 4), (200, 2)])
def test_the_hole_pixels_of_the_crop_are_never_read(side, cell):
    crop, hole = textured(side), centre_hole(side)
    small, hole_small = flat_fill(crop, hole)
    other = crop.copy()
    other[hole] = np.random.default_rng(0).integers(0, 256, (int(hole.sum()), 3))
    assert np.array_equal(detail_residual(crop, hole, small, hole_small, cell=cell),
                          detail_residual(other, hole, small, hole_small, cell=cell))


def test_detail_lands_in_the_hole_only_and_is_deterministic():
    rng = np.random.default_rng(1)
    crop = cv2.GaussianBlur(rng.integers(0, 256, (SIDE, SIDE, 3)).astype(np.uint8), (0, 0), 1.0)
    hole = np.zeros((SIDE, SIDE), bool)
    hole[40:120, 100:230] = True
    small, hole_small = flat_fill(crop, hole)
    residual = detail_residual(crop, hole, small, hole_small)
    assert np.abs(residual[hole]).mean() > 1 and not residual[~hole].any()
    assert np.array_equal(residual, detail_residual(crop, hole, small, hole_small))
    assert np.allclose(detail_residual(crop, hole, small, hole_small, strength=0.5), residual / 2, atol=1e-4)
    filled = add_detail(crop, hole, small, hole_small)
    assert np.array_equal(filled[~hole], crop[~hole].astype(np.float64))


def test_no_detail_at_the_models_own_size():
    crop, hole = striped(SMALL + 16), centre_hole(SMALL + 16)      # 1.25x: bicubic already has it
    small = cv2.resize(crop, (SMALL, SMALL), interpolation=cv2.INTER_AREA)
    hole_small = cv2.resize(hole.astype(np.uint8), (SMALL, SMALL), interpolation=cv2.INTER_AREA) > 0
    assert not detail_residual(crop, hole, small, hole_small).any()


class FlatFill(InpaintMethod):
    """A stand-in 64-px model: the mean colour of the known pixels in the hole (no texture at all)."""

    fixed_size = SMALL

    def inpaint_one(self, image, mask):
        out = image.copy()
        out[mask] = image[~mask].mean(axis=0).round().astype(np.uint8)
        return out


# a whole and a non-whole upscale factor: the blocks of the second do not tile the photo exactly
# (offsets are rounded), so its detail's strength is less exact
@pytest.mark.parametrize("side, least, most", [(256, 0.7, 1.3), (200, 0.5, 1.5)])
def test_the_photo_path_adds_the_photos_detail_and_keeps_every_known_pixel(side, least, most):
    photo, hole = textured(side), centre_hole(side)
    box = Box(0, 0, side, side)
    off = Pipeline(FlatFill(), detail=False)(photo, hole, box=box).images[0]
    on = Pipeline(FlatFill(), detail=True)(photo, hole, box=box).images[0]
    assert np.array_equal(on[~hole], photo[~hole]) and np.array_equal(off[~hole], photo[~hole])
    inner = cv2.erode(hole.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    truth = laplacian_energy(photo, inner)
    assert laplacian_energy(off, inner) < 0.05 * truth < least * truth < laplacian_energy(on, inner) < most * truth
    assert np.array_equal(on, Pipeline(FlatFill(), detail=True)(photo, hole, box=box).images[0])


def test_the_evaluator_and_the_cli_switch_detail_on_and_off():
    from ganfill.cli import build_parser
    from ganfill.evaluate import run_method

    images = np.stack([textured(128)] * 2)
    masks = np.stack([centre_hole(128)] * 2)
    on, off = (run_method(FlatFill(), images, masks, detail=d)[:, 0] for d in (True, False))
    assert np.array_equal(on[~masks], off[~masks]) and not np.array_equal(on, off)
    parser = build_parser()
    for command in (["evaluate"], ["inpaint", "x.png", "-o", "y.png"]):
        assert parser.parse_args(command + ["--detail"]).detail is True
        assert parser.parse_args(command + ["--no-detail"]).detail is False
        assert parser.parse_args(command).detail is None


class FlatFillWithDetail(FlatFill):
    adds_detail = True


def test_detail_defaults_to_the_methods_own_choice_and_the_caller_overrides_it():
    from ganfill import Pipeline
    from ganfill.methods import method_class

    assert method_class("lsgan+ae-wild").adds_detail and not method_class("lsgan+ae").adds_detail
    photo, hole = textured(256), centre_hole(256)
    box = Box(0, 0, 256, 256)
    fill = lambda method, detail=None: Pipeline(method, detail)(photo, hole, box=box).images[0]  # noqa: E731
    with_detail, without = fill(FlatFill(), detail=True), fill(FlatFill(), detail=False)
    assert not np.array_equal(with_detail, without)
    assert np.array_equal(fill(FlatFill()), without)                        # its default: off
    assert np.array_equal(fill(FlatFillWithDetail()), with_detail)          # its default: on
    assert np.array_equal(fill(FlatFillWithDetail(), detail=False), without)
    assert np.array_equal(Pipeline(FlatFillWithDetail())(photo, hole, box=box).images[0], with_detail)
    assert np.array_equal(Pipeline(FlatFillWithDetail(), detail=False)(photo, hole, box=box).images[0], without)
