"""The photo-scale refiner's recipe (issue 12): the 64-px LSGAN's completion scaled up to 128 px,
a refiner at 128 px, and a patch discriminator trained with it (least squares)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from ganfill.data import make_masks, mask_to_tensor, to_tensor
from ganfill.models.refiner import REFINER_PRESETS, PatchDiscriminator, PatchDiscriminatorConfig
from ganfill.train.photo_refiner import (PhotoRefinerRecipe, PhotoRefinerTrainConfig, UpscaledLSGANCompleter,
                                         shrink, upscaled_completion)
from ganfill.train.seeding import seeded
from test_refiner import tiny_inpainter


@pytest.fixture(scope="module")
def wild128(data_root) -> torch.Tensor:
    from ganfill.data import FaceFolder

    folder = data_root / "celeba-wild" / "train"
    if not folder.is_dir():
        pytest.skip("no celeba-wild training faces")
    return to_tensor(FaceFolder(folder, size=128, limit=4, cache=False).images)


def test_patch_discriminator_scores_a_patch_per_8_pixels():
    D = PatchDiscriminator(PatchDiscriminatorConfig(width=1 / 16))
    assert D(torch.zeros(2, 3, 128, 128)).shape == (2, 1, 16, 16)
    assert D(torch.zeros(1, 3, 64, 96)).shape == (1, 1, 8, 12)       # any size


def test_shrink_keeps_every_hole_pixel():
    masks = mask_to_tensor(make_masks("free", 3, 128, seed=4))
    images = torch.rand(3, 3, 128, 128) * 2 - 1
    small, small_masks = shrink(images, masks, 64)
    assert small.shape == (3, 3, 64, 64) and torch.allclose(small, torch.nn.functional.avg_pool2d(images, 2))
    # a 64-px pixel is hole when any of its four pixels is
    assert torch.equal(small_masks, (torch.nn.functional.max_pool2d(masks, 2) > 0).float())


def test_the_upscaled_completion_keeps_the_known_pixels_and_fills_the_hole(wild128):
    inpainter = tiny_inpainter()
    masks = mask_to_tensor(make_masks("center", 4, 128))
    out = upscaled_completion(inpainter, wild128, masks, [0, 1, 2, 3], candidates=2)
    assert out.shape == (8, 3, 128, 128)
    known = (1 - masks).repeat_interleave(2, 0).bool().expand_as(out)
    assert torch.equal(out[known], wild128.repeat_interleave(2, 0)[known])
    hole = ~known
    assert (out[hole] - wild128.repeat_interleave(2, 0)[hole]).abs().mean() > 0.01     # G's face, not the truth
    # candidates 2.. start elsewhere: they differ from candidate 1 in the hole
    assert not torch.equal(out[0][hole[0]], out[1][hole[1]])


def test_a_step_trains_the_refiner_and_the_patch_discriminator(wild128):
    config = PhotoRefinerTrainConfig(refiner=copy.deepcopy(REFINER_PRESETS["tiny"]),
                                     discriminator=PatchDiscriminatorConfig(width=1 / 16), adv_weight=0.1)
    torch.manual_seed(0)
    recipe = PhotoRefinerRecipe(config, UpscaledLSGANCompleter(tiny_inpainter()))
    r_before = {k: v.clone() for k, v in recipe.R.state_dict().items()}
    d_before = {k: v.clone() for k, v in recipe.D.state_dict().items()}
    logs = recipe.train_step(wild128, seeded(0, "step"), 0)
    assert set(recipe.loss_keys) <= set(logs) and all(np.isfinite(v) for v in logs.values())
    assert logs["adv"] > 0 and logs["loss"] > logs["hole_l1"]          # the adversarial term counts
    assert any(not torch.equal(v, recipe.R.state_dict()[k]) for k, v in r_before.items())
    assert any(not torch.equal(v, recipe.D.state_dict()[k]) for k, v in d_before.items())
    # without the adversarial weight, D is left alone
    recipe = PhotoRefinerRecipe(PhotoRefinerTrainConfig(refiner=copy.deepcopy(REFINER_PRESETS["tiny"]),
                                                        discriminator=PatchDiscriminatorConfig(width=1 / 16),
                                                        adv_weight=0.0),
                                UpscaledLSGANCompleter(tiny_inpainter()))
    d_before = {k: v.clone() for k, v in recipe.D.state_dict().items()}
    logs = recipe.train_step(wild128, seeded(0, "step"), 0)
    assert logs["adv"] == 0 and logs["loss"] == pytest.approx(logs["hole_l1"])
    assert all(torch.equal(v, recipe.D.state_dict()[k]) for k, v in d_before.items())


def test_a_bad_config_is_refused():
    with pytest.raises(ValueError, match="multiple of 64"):
        PhotoRefinerTrainConfig(size=100)
    with pytest.raises(ValueError, match=">= 0"):
        PhotoRefinerTrainConfig(adv_weight=-1)
