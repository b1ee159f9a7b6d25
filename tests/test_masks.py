"""The seeded mask generators: True = hole, reproducible, and each kind's promised geometry."""

from __future__ import annotations

import numpy as np
import pytest

from ganfill.data import MASK_KINDS, make_mask, make_masks

KINDS = list(MASK_KINDS)
SEEDS = range(40)


def test_the_six_kinds():
    assert set(KINDS) == {"center", "box", "free", "half", "pixels", "portrait"}


def test_portrait_blobs_lie_anywhere_and_off_face_blobs_touch_no_face(wild_dir):
    from ganfill.data import load_image, off_face_masks
    from ganfill.data.detect import detect_faces
    from ganfill.data.faces import FACE_SCALE

    masks = make_masks("portrait", 200, 256, seed=0)
    covered = masks.mean(axis=0)
    # every quarter of the frame (corners included) gets holes
    assert all(covered[ys, xs].mean() > 0.02 for ys in (slice(0, 64), slice(192, 256))
               for xs in (slice(0, 64), slice(192, 256)))
    faces = np.stack([load_image(wild_dir / f"{i}.jpg") for i in range(22711, 22715)])
    off = off_face_masks(faces, seed=0)
    assert off.shape == (4, 256, 256) and off.any(axis=(1, 2)).all()
    for image, mask in zip(faces, off):
        box = detect_faces(image)[0].square(FACE_SCALE)
        assert not mask[max(box.y, 0):box.y + box.h, max(box.x, 0):box.x + box.w].any()
    assert np.array_equal(off, off_face_masks(faces, seed=0))


@pytest.mark.parametrize("kind", KINDS)
def test_shape_dtype_and_holes(kind):
    for seed in range(10):
        m = make_mask(kind, 64, seed)
        assert m.shape == (64, 64) and m.dtype == bool
        assert m.any(), "a mask with no hole"
        assert not m.all(), "a mask that hides everything"


@pytest.mark.parametrize("kind", KINDS)
def test_make_masks_shape_dtype(kind):
    ms = make_masks(kind, 5, seed=1)
    assert ms.shape == (5, 64, 64) and ms.dtype == bool
    assert make_masks(kind, 3, size=32, seed=1).shape == (3, 32, 32)
    empty = make_masks(kind, 0)
    assert empty.shape == (0, 64, 64) and empty.dtype == bool


@pytest.mark.parametrize("kind", KINDS)
def test_reproducible_under_seed(kind):
    assert np.array_equal(make_mask(kind, 64, 7), make_mask(kind, 64, 7))
    assert np.array_equal(make_masks(kind, 6, seed=7), make_masks(kind, 6, seed=7))
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    assert np.array_equal(make_mask(kind, 64, rng_a), make_mask(kind, 64, rng_b))


@pytest.mark.parametrize("kind", ["box", "free", "pixels"])
def test_different_seeds_differ(kind):
    masks = [make_mask(kind, 64, s).tobytes() for s in range(10)]
    assert len(set(masks)) == 10
    batch = make_masks(kind, 10, seed=0)
    assert len({m.tobytes() for m in batch}) == 10
    assert not np.array_equal(make_masks(kind, 4, seed=0), make_masks(kind, 4, seed=1))


def test_half_seeds_cover_all_four_halves():
    masks = {make_mask("half", 64, s).tobytes() for s in SEEDS}
    assert len(masks) == 4


def test_center_is_the_same_for_every_seed():
    ref = make_mask("center", 64, 0)
    for seed in range(5):
        assert np.array_equal(make_mask("center", 64, seed), ref)


def test_center_is_the_central_32_square():
    m = make_mask("center", 64, 0)
    expected = np.zeros((64, 64), dtype=bool)
    expected[16:48, 16:48] = True
    assert np.array_equal(m, expected)
    rows, cols = np.nonzero(m)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (16, 47, 16, 47)
    assert m.sum() == 32 * 32


def test_box_is_one_rectangle_of_10_to_50_percent():
    for seed in SEEDS:
        m = make_mask("box", 64, seed)
        rows, cols = np.nonzero(m)
        r0, r1, c0, c1 = rows.min(), rows.max(), cols.min(), cols.max()
        assert m[r0:r1 + 1, c0:c1 + 1].all(), "not a filled rectangle"
        assert m.sum() == (r1 - r0 + 1) * (c1 - c0 + 1)
        # 10-50% of the area, up to the rounding of the sides to whole pixels.
        assert 0.095 <= m.mean() <= 0.505, (seed, m.mean())


def test_half_is_exactly_half():
    for seed in SEEDS:
        m = make_mask("half", 64, seed)
        assert m.sum() == 64 * 32
        halves = [m[:, :32], m[:, 32:], m[:32, :], m[32:, :]]
        assert any(h.all() for h in halves)


def test_pixels_hides_about_80_percent():
    for seed in range(10):
        m = make_mask("pixels", 64, seed)
        assert abs(m.mean() - 0.8) <= 0.03


def test_free_never_covers_everything():
    for seed in range(200):
        m = make_mask("free", 64, seed)
        assert m.any() and not m.all()


def test_free_strokes_cover_the_whole_image_get_trimmed(monkeypatch):
    # Force the rare all-covering case: the top eighth must be given back.
    import ganfill.data.masks as masks_mod

    def fill_all(canvas, *args, **kwargs):
        canvas[:] = 255

    monkeypatch.setattr(masks_mod.cv2, "line", fill_all)
    m = masks_mod.free_mask(64, np.random.default_rng(0), "thick")
    assert not m[:8].any() and m[8:].all()


@pytest.mark.parametrize("kind", KINDS)
def test_mask_i_does_not_depend_on_count(kind):
    few = make_masks(kind, 3, seed=11)
    many = make_masks(kind, 9, seed=11)
    for i in range(3):
        assert np.array_equal(few[i], many[i])


@pytest.mark.parametrize("kind", KINDS)
def test_other_sizes(kind):
    m = make_mask(kind, 32, 0)
    assert m.shape == (32, 32) and m.any() and not m.all()


def test_unknown_kind_raises_value_error():
    with pytest.raises(ValueError, match="unknown mask kind 'circle'") as info:
        make_mask("circle")
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="unknown mask kind"):
        make_masks("circle", 3)
    with pytest.raises(ValueError, match="unknown mask kind"):
        make_masks("circle", 0)
