"""The metrics, checked against scikit-image and against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ganfill.data import make_mask
from ganfill.metrics import METRIC_NAMES, PSNR_CAP, hole_l1, hole_psnr, psnr, score, score_batch, ssim


def _pair(seed=0, shape=(64, 64, 3)):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=shape, dtype=np.uint8), rng.integers(0, 256, size=shape, dtype=np.uint8)


@pytest.mark.parametrize("seed", range(3))
def test_psnr_matches_skimage(seed):
    a, b = _pair(seed)
    assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(b, a, data_range=255), abs=1e-9)


def test_psnr_matches_skimage_on_a_close_pair(faces):
    noisy = np.clip(faces[0].astype(int) + np.random.default_rng(0).integers(-3, 4, faces[0].shape), 0, 255)
    noisy = noisy.astype(np.uint8)
    assert psnr(noisy, faces[0]) == pytest.approx(peak_signal_noise_ratio(faces[0], noisy, data_range=255))


@pytest.mark.parametrize("seed", range(3))
def test_ssim_matches_skimage(seed):
    a, b = _pair(seed)
    expected = structural_similarity(b, a, channel_axis=-1, data_range=255)
    assert ssim(a, b) == pytest.approx(expected, abs=1e-12)


def test_ssim_of_real_faces(faces):
    assert ssim(faces[0], faces[0]) == pytest.approx(1.0)
    expected = structural_similarity(faces[1], faces[0], channel_axis=-1, data_range=255)
    assert ssim(faces[0], faces[1]) == pytest.approx(expected)
    assert ssim(faces[0], faces[1]) < 0.9


def test_psnr_known_value_off_by_one():
    a = np.random.default_rng(0).integers(0, 255, size=(32, 32, 3), dtype=np.uint8)
    b = a + 1
    expected = 10 * math.log10(255**2)
    assert expected == pytest.approx(48.1308, abs=1e-4)
    assert psnr(a, b) == pytest.approx(expected, abs=1e-9)
    assert psnr(b, a) == pytest.approx(expected, abs=1e-9)
    mask = np.ones((32, 32), dtype=bool)
    assert hole_psnr(b, a, mask) == pytest.approx(expected, abs=1e-9)
    assert hole_l1(b, a, mask) == 1.0


def test_identical_images_give_the_cap():
    a, _ = _pair()
    mask = make_mask("center")
    assert psnr(a, a) == PSNR_CAP
    assert hole_psnr(a, a, mask) == PSNR_CAP
    assert hole_l1(a, a, mask) == 0.0
    assert ssim(a, a) == pytest.approx(1.0)


def test_hole_metrics_look_only_at_the_hole():
    truth, _ = _pair(1)
    mask = make_mask("center")
    result = truth.copy()
    result[mask] = np.clip(truth[mask].astype(int) + 4, 0, 255).astype(np.uint8)
    l1, hp = hole_l1(result, truth, mask), hole_psnr(result, truth, mask)

    diff = result[mask].astype(float) - truth[mask].astype(float)
    assert l1 == pytest.approx(np.abs(diff).mean())
    assert hp == pytest.approx(10 * math.log10(255**2 / np.mean(diff**2)))

    # Changing known pixels changes the whole-image scores but not the hole scores.
    spoiled = result.copy()
    spoiled[~mask] = 255 - spoiled[~mask]
    assert hole_l1(spoiled, truth, mask) == l1
    assert hole_psnr(spoiled, truth, mask) == hp
    assert psnr(spoiled, truth) < psnr(result, truth)


def test_hole_metrics_known_values():
    truth = np.zeros((4, 4, 3), dtype=np.uint8)
    result = truth.copy()
    mask = np.zeros((4, 4), dtype=bool)
    mask[0, :2] = True
    result[0, 0] = 10   # the two hole pixels differ by 10 and 0 in all channels
    result[3, 3] = 200  # a known pixel: ignored
    assert hole_l1(result, truth, mask) == pytest.approx(5.0)
    assert hole_psnr(result, truth, mask) == pytest.approx(10 * math.log10(255**2 / 50.0))


def test_empty_hole():
    a, b = _pair()
    none = np.zeros((64, 64), dtype=bool)
    assert hole_psnr(a, b, none) == PSNR_CAP
    assert hole_l1(a, b, none) == 0.0


def test_psnr_is_capped():
    a = np.zeros((64, 64, 3), dtype=np.uint8)
    b = a.copy()
    b[0, 0, 0] = 1   # MSE = 1/12288: PSNR ~ 88.8, under the cap
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 * 12288))
    assert psnr(a, b) < PSNR_CAP


@pytest.mark.parametrize("fn", [psnr, ssim])
def test_bad_inputs(fn):
    a, b = _pair()
    with pytest.raises(ValueError):
        fn(a, b[:32])
    with pytest.raises(ValueError):
        fn(a.astype(np.float32), b)


def test_score_has_all_metrics():
    a, b = _pair()
    s = score(a, b, make_mask("center"))
    assert tuple(s) == METRIC_NAMES == ("psnr", "ssim", "hole_psnr", "hole_l1")


def test_score_batch_averages_per_image():
    rng = np.random.default_rng(4)
    truths = rng.integers(0, 256, size=(3, 64, 64, 3), dtype=np.uint8)
    results = truths.copy()
    results[0] = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    results[1, :8] = 0
    # results[2] is perfect: PSNR_CAP, which a pooled-over-pixels PSNR would not give.
    masks = np.stack([make_mask("box", 64, s) for s in range(3)])
    batch = score_batch(results, truths, masks)
    per = [score(r, t, m) for r, t, m in zip(results, truths, masks)]
    for k in METRIC_NAMES:
        assert batch[k] == pytest.approx(np.mean([p[k] for p in per]))
    assert per[2]["psnr"] == PSNR_CAP
