"""Semantic inpainting: Yeh et al.'s losses, the latent search, blending, the Inpainter and the CLI.

Every network here is tiny (``GAN_PRESETS["tiny"]``, ``ENCODER_PRESETS["tiny"]``) and every search
runs a handful of iterations, so the whole file takes seconds on one CPU thread.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from ganfill.data import load_image, make_mask, mask_to_tensor, save_image_atomic, to_tensor
from ganfill.inpaint import (BLEND_MODES, LatentSearchConfig, PRESETS, InpaintOutput, Inpainter, binary_weights,
                             blend, contextual_loss, importance_weights, latent_search, perceptual_loss)
from ganfill.models.encoder import ENCODER_PRESETS, LatentEncoder
from ganfill.models.gan import GAN_PRESETS, Discriminator, Generator


# ---------------------------------------------------------------- helpers and fixtures

def lively(module: nn.Module, gain: float) -> nn.Module:
    """Re-initialise conv / linear weights with a larger spread than DCGAN's N(0, 0.02).

    A freshly built tiny generator with DCGAN's init gives an almost constant grey image (outputs
    ~1e-6), so z would hardly matter; with these weights G(z) visibly depends on z."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, a=0.2)
            m.weight.data.mul_(gain)
    return module


def tiny_nets(seed: int = 0) -> tuple[Generator, Discriminator, LatentEncoder]:
    torch.manual_seed(seed)
    config = copy.deepcopy(GAN_PRESETS["tiny"])
    G = lively(Generator(config.generator), 2.0).eval()
    D = lively(Discriminator(config.discriminator), 1.0).eval()
    E = LatentEncoder(copy.deepcopy(ENCODER_PRESETS["tiny"])).eval()
    return G, D, E


@pytest.fixture
def nets():
    return tiny_nets()


def preset(name: str, iterations: int, **changes):
    config = copy.deepcopy(PRESETS[name])
    config.search.iterations = iterations
    for key, value in changes.items():
        setattr(config.search if hasattr(config.search, key) else config, key, value)
    return config


@pytest.fixture
def two_faces(faces) -> np.ndarray:
    return faces[:2].copy()


CENTER = make_mask("center")


# ---------------------------------------------------------------- importance / binary weights

def _mask(h: int, w: int, holes) -> torch.Tensor:
    m = torch.zeros(1, 1, h, w)
    for y, x in holes:
        m[0, 0, y, x] = 1.0
    return m


def test_importance_weights_single_central_hole():
    W = importance_weights(_mask(9, 9, [(4, 4)]), window=3)[0, 0]
    expected = torch.zeros(9, 9)
    expected[3:6, 3:6] = 1 / 9          # each 8-neighbour sees 1 hole among 9 pixels
    expected[4, 4] = 0.0                # the hole itself weighs nothing
    assert torch.allclose(W, expected, atol=1e-7)


def test_importance_weights_count_only_pixels_inside_the_image():
    # a hole in the corner: the neighbours on the image's edge have only 6 pixels in their window
    W = importance_weights(_mask(9, 9, [(0, 0)]), window=3)[0, 0]
    expected = torch.zeros(9, 9)
    expected[0, 1] = expected[1, 0] = 1 / 6
    expected[1, 1] = 1 / 9
    assert torch.allclose(W, expected, atol=1e-7)

    # window 5: (0, 2) sees rows 0-2 x cols 0-4 = 15 pixels, (2, 2) a full 25, (1, 1) 4 x 4 = 16
    W5 = importance_weights(_mask(9, 9, [(0, 0)]), window=5)[0, 0]
    assert W5[0, 2].item() == pytest.approx(1 / 15, abs=1e-7)
    assert W5[2, 2].item() == pytest.approx(1 / 25, abs=1e-7)
    assert W5[1, 1].item() == pytest.approx(1 / 16, abs=1e-7)
    assert W5[0, 0].item() == 0.0
    assert W5[0, 3].item() == 0.0 and W5[3, 3].item() == 0.0   # outside the window: no weight


def test_importance_weights_two_holes_and_batch():
    m = torch.cat([_mask(9, 9, [(4, 3), (4, 5)]), _mask(9, 9, [])])
    W = importance_weights(m, window=3)
    assert W.shape == m.shape
    assert W[0, 0, 4, 4].item() == pytest.approx(2 / 9)     # between the two holes
    assert W[0, 0, 3, 4].item() == pytest.approx(2 / 9)
    assert W[0, 0, 3, 2].item() == pytest.approx(1 / 9)
    assert W[0, 0, 4, 3].item() == 0.0 and W[0, 0, 4, 5].item() == 0.0
    assert torch.count_nonzero(W[1]) == 0                   # no hole: no context weighs anything


def test_importance_weights_on_real_mask_are_in_unit_range():
    m = mask_to_tensor(np.stack([CENTER, make_mask("free", seed=3)]))
    W = importance_weights(m, window=7)
    assert W.min() >= 0 and W.max() <= 1
    assert torch.all(W[m.bool()] == 0)
    assert torch.all(W[~m.bool()] < 1)                      # a known pixel is never all-hole around
    # only a band around the hole carries weight: the far corner of a centre mask does not
    assert W[0, 0, 0, 0] == 0 and W[0, 0, 15, 32] > 0


@pytest.mark.parametrize("window", [0, 2, 4, -3])
def test_importance_window_must_be_odd_and_positive(window):
    with pytest.raises(ValueError, match="odd"):
        importance_weights(_mask(9, 9, [(4, 4)]), window=window)


def test_binary_weights_are_one_minus_mask():
    m = mask_to_tensor(make_mask("free", seed=1))
    W = binary_weights(m)
    assert torch.equal(W, 1 - m)
    assert torch.all(W[m.bool()] == 0) and torch.all(W[~m.bool()] == 1)


# ---------------------------------------------------------------- losses

def test_contextual_loss_is_weighted_l1_per_image():
    g = torch.zeros(2, 3, 4, 4)
    y = torch.zeros(2, 3, 4, 4)
    W = torch.zeros(2, 1, 4, 4)
    g[0] = 1.0
    W[0] = 1.0                              # image 0: 3 channels x 16 pixels x |1 - 0| = 48
    g[1, 0, 1, 2] = 2.0
    g[1, 1, 1, 2] = -3.0                    # signs must not cancel: | 0.5 * 2 | + | 0.5 * -3 | = 2.5
    g[1, 2, 0, 0] = 7.0                     # weight 0 there: ignored
    W[1, 0, 1, 2] = 0.5
    y[1, 2, 3, 3] = 1.0
    W[1, 0, 3, 3] = 0.25                    # + 0.25 * |0 - 1| = 0.25
    loss = contextual_loss(g, y, W)
    assert loss.shape == (2,)
    assert torch.allclose(loss, torch.tensor([48.0, 2.75]))


def test_perceptual_loss_lsq_and_log():
    d = torch.tensor([-4.0, -0.5, 0.0, 1.0, 3.0, 8.0], dtype=torch.float64)
    assert torch.allclose(perceptual_loss(d, "lsq"), (d - 1) ** 2)
    assert torch.allclose(perceptual_loss(d, "lsq", target=0.0), d ** 2)
    assert torch.allclose(perceptual_loss(d, "log"), torch.log(1 - torch.sigmoid(d)), atol=1e-10)
    # the log form is numerically stable where log(1 - sigmoid) in float32 gives -inf
    big = perceptual_loss(torch.tensor([40.0]), "log")
    assert torch.isfinite(big).all() and big.item() == pytest.approx(-40.0, abs=1e-6)
    # lower when D finds the image more real
    assert torch.all(perceptual_loss(d, "log").diff() < 0)


def test_perceptual_loss_unknown_kind():
    with pytest.raises(ValueError, match="unknown perceptual loss"):
        perceptual_loss(torch.zeros(2), "wasserstein")


# ---------------------------------------------------------------- latent search

def _search_problem(G, n: int = 2, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        target = G(torch.rand(n, G.config.z_dim, generator=gen) * 2 - 1)     # reachable faces
    mask = mask_to_tensor(np.stack([CENTER] * n))
    z0 = torch.rand(n, G.config.z_dim, generator=gen) * 2 - 1
    return target, mask, z0


def _total_loss(G, D, target, mask, z, config):
    W = importance_weights(mask, config.window) if config.weighting == "importance" else binary_weights(mask)
    with torch.no_grad():
        x = G(z)
        return contextual_loss(x, target, W) + config.lam * perceptual_loss(D(x), config.perceptual)


@pytest.mark.parametrize("weighting,perceptual", [("importance", "lsq"), ("binary", "log")])
def test_latent_search_lowers_the_loss(nets, weighting, perceptual):
    G, D, _ = nets
    target, mask, z0 = _search_problem(G)
    config = LatentSearchConfig(iterations=25, lr=0.05, weighting=weighting, perceptual=perceptual)
    result = latent_search(G, D, target, mask, z0, config, record=True)
    assert result.iterations_run == 25 and len(result.history) == 25
    assert result.history[-1] < result.history[0]
    assert result.z.shape == z0.shape and result.loss.shape == (2,)
    # the best z is kept: its loss is no worse than any iteration's, and it is the loss of that z
    assert result.loss.mean().item() <= min(result.history) + 1e-5
    assert torch.allclose(result.loss, _total_loss(G, D, target, mask, result.z, config), rtol=1e-5, atol=1e-4)
    start = _total_loss(G, D, target, mask, z0, config)
    assert torch.all(result.loss < start)


def test_latent_search_keeps_z_in_prior_range_and_leaves_networks_alone(nets):
    G, D, _ = nets
    target, mask, _ = _search_problem(G, n=3)
    z0 = torch.randn(3, G.config.z_dim, generator=torch.Generator().manual_seed(2)) * 3   # far outside [-1, 1]
    G.net[0].weight.requires_grad_(False)          # a mixed state that must come back exactly
    flags = [p.requires_grad for p in (*G.parameters(), *D.parameters())]
    before = {k: v.clone() for k, v in [*G.state_dict().items(), *[("D." + k, v) for k, v in D.state_dict().items()]]}
    result = latent_search(G, D, target, mask, z0, LatentSearchConfig(iterations=15, lr=0.5), record=True)
    assert result.z.min() >= -1 and result.z.max() <= 1
    assert (result.z.abs() == 1).any()             # the big steps did run into the clip
    assert [p.requires_grad for p in (*G.parameters(), *D.parameters())] == flags
    after = {k: v for k, v in [*G.state_dict().items(), *[("D." + k, v) for k, v in D.state_dict().items()]]}
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in (*G.parameters(), *D.parameters()))
    assert not G.training and not D.training


def test_latent_search_on_frozen_networks_moves_z_and_toggles_nothing(nets):
    from ganfill.models.device import frozen

    G, D, _ = nets
    G, D = frozen(copy.deepcopy(G)), frozen(copy.deepcopy(D))
    target, mask, z0 = _search_problem(G)
    result = latent_search(G, D, target, mask, z0, LatentSearchConfig(iterations=5, lr=0.05))
    assert not torch.equal(result.z, z0.clamp(-1, 1))      # the gradient reached z through frozen nets
    assert not any(p.requires_grad for p in (*G.parameters(), *D.parameters()))
    with pytest.raises(RuntimeError):
        latent_search(G, D, target[:, :, :32], mask, z0, LatentSearchConfig(iterations=3))  # shapes clash
    assert not any(p.requires_grad for p in (*G.parameters(), *D.parameters()))


def test_latent_search_unknown_weighting(nets):
    G, D, _ = nets
    target, mask, z0 = _search_problem(G)
    with pytest.raises(ValueError, match="weighting"):
        latent_search(G, D, target, mask, z0, LatentSearchConfig(iterations=3, weighting="gaussian"))


def test_latent_search_early_stopping(nets):
    G, D, _ = nets
    target, mask, z0 = _search_problem(G)
    stopped = latent_search(G, D, target, mask, z0, LatentSearchConfig(iterations=60, patience=2, tol=0.5),
                            record=True)
    assert stopped.iterations_run < 60
    assert len(stopped.history) == stopped.iterations_run
    full = latent_search(G, D, target, mask, z0, LatentSearchConfig(iterations=8, patience=0), record=True)
    assert full.iterations_run == 8 and len(full.history) == 8


class _ConstantCritic(nn.Module):
    """A discriminator that scores every image ``value``, whatever it is."""

    def __init__(self, value: float):
        super().__init__()
        self.scale = nn.Parameter(torch.zeros(()))
        self.value = value

    def forward(self, x):
        return x.flatten(1).sum(1) * self.scale + self.value


@pytest.mark.parametrize("perceptual,score", [("lsq", 3.0), ("log", 50.0)])
def test_latent_search_stalled_loss_stops_after_patience(nets, perceptual, score):
    """z0 already fits the context exactly and D is constant, so the loss never improves: the search
    stops after ``patience`` iterations whether the total loss is positive (lsq) or negative (log)."""
    G, _, _ = nets
    z0 = torch.rand(2, G.config.z_dim, generator=torch.Generator().manual_seed(5)) * 2 - 1
    with torch.no_grad():
        target = G(z0)
    mask = mask_to_tensor(np.stack([CENTER] * 2))
    config = LatentSearchConfig(iterations=40, lam=1.0, perceptual=perceptual, patience=3, tol=1e-3)
    result = latent_search(G, _ConstantCritic(score), target, mask, z0, config, record=True)
    assert (result.loss < 0).all() if perceptual == "log" else (result.loss > 0).all()
    assert result.iterations_run == 4        # improved at 1, then 3 iterations without progress
    assert torch.equal(result.z, z0)


# ---------------------------------------------------------------- blending

def _offset_pair(seed: int, offset: int = 37):
    rng = np.random.default_rng(seed)
    known = rng.integers(50, 201, size=(64, 64, 3)).astype(np.uint8)
    return known, (known.astype(np.int64) + offset).astype(np.uint8)


@pytest.mark.parametrize("mode", BLEND_MODES)
def test_blend_keeps_known_pixels_and_fills_hole(faces, mode):
    known, generated = faces[0], faces[1]
    for mask in (CENTER, make_mask("free", seed=4), make_mask("half", seed=2)):
        out = blend(known, generated, mask, mode)
        assert out.dtype == np.uint8 and out.shape == known.shape
        assert np.array_equal(out[~mask], known[~mask])
        assert not np.array_equal(out[mask], known[mask])
    if mode == "paste":
        assert np.array_equal(blend(known, generated, CENTER, "paste")[CENTER], generated[CENTER])


@pytest.mark.parametrize("kind,seed", [("center", 0), ("free", 7), ("box", 3), ("box", 11)])
def test_poisson_reproduces_image_from_offset_guidance(kind, seed):
    """G(z) = y + c has y's gradients, so the Poisson solution with y's border is y itself."""
    known, generated = _offset_pair(seed)
    mask = make_mask(kind, seed=seed)
    out = blend(known, generated, mask, "poisson")
    assert np.abs(out.astype(int) - known.astype(int)).max() <= 1
    # paste, for contrast, keeps the offset: the seam Poisson removes
    pasted = blend(known, generated, mask, "paste")
    assert np.all(pasted[mask].astype(int) - known[mask].astype(int) == 37)


@pytest.mark.parametrize("seed", range(4))          # the four sides of the half mask
def test_poisson_hole_touching_the_border(seed):
    known, generated = _offset_pair(seed, offset=-41)
    mask = make_mask("half", seed=seed)
    out = blend(known, generated, mask, "poisson")
    assert np.array_equal(out[~mask], known[~mask])
    assert np.abs(out.astype(int) - known.astype(int)).max() <= 1


def test_poisson_hole_in_a_corner_and_empty_hole():
    known, generated = _offset_pair(9, offset=20)
    mask = np.zeros((64, 64), dtype=bool)
    mask[:10, :13] = True
    assert np.abs(blend(known, generated, mask, "poisson").astype(int) - known).max() <= 1
    assert np.array_equal(blend(known, generated, np.zeros((64, 64), bool), "poisson"), known)


def test_poisson_needs_a_known_pixel_and_blend_needs_a_known_mode():
    known, generated = _offset_pair(0)
    with pytest.raises(ValueError, match="known pixel"):
        blend(known, generated, np.ones((64, 64), dtype=bool), "poisson")
    with pytest.raises(ValueError, match="unknown blend mode"):
        blend(known, generated, CENTER, "alpha")


# ---------------------------------------------------------------- the Inpainter

def test_inpainter_shapes_and_known_pixels(nets, two_faces):
    G, D, E = nets
    inp = Inpainter(G, D, E, preset("fast", 3))
    masks = np.stack([CENTER, make_mask("free", seed=2)])

    one = inp(two_faces[0], CENTER)
    assert one.shape == (64, 64, 3) and one.dtype == np.uint8
    assert np.array_equal(one[~CENTER], two_faces[0][~CENTER])

    batch = inp(two_faces, masks)
    assert batch.shape == (2, 64, 64, 3)
    assert np.array_equal(batch[~masks], two_faces[~masks])

    cands = inp(two_faces[0], CENTER, candidates=3)
    assert cands.shape == (3, 64, 64, 3)
    assert all(np.array_equal(c[~CENTER], two_faces[0][~CENTER]) for c in cands)

    cands = inp(two_faces, masks * 255, candidates=2)     # a nonzero mask value means hole, too
    assert cands.shape == (2, 2, 64, 64, 3)
    for k in range(2):
        assert np.array_equal(cands[:, k][~masks], two_faces[~masks])

    out = inp.complete(two_faces, masks, candidates=2, record=True)
    assert isinstance(out, InpaintOutput)
    assert out.images.shape == out.generated.shape == (2, 2, 64, 64, 3)
    assert out.losses.shape == (2, 2) and len(out.history) == 3


@pytest.mark.parametrize("blend_mode", BLEND_MODES)
def test_inpainter_is_deterministic_under_a_seed(nets, two_faces, blend_mode):
    G, D, _ = nets
    inp = Inpainter(G, D, None, preset("yeh", 3, blend=blend_mode))
    masks = np.stack([CENTER, CENTER])
    a = inp(two_faces, masks, generator=torch.Generator().manual_seed(11))
    b = inp(two_faces, masks, generator=torch.Generator().manual_seed(11))
    c = inp(two_faces, masks, generator=torch.Generator().manual_seed(12))
    assert np.array_equal(a, b)
    assert not np.array_equal(a[:, CENTER], c[:, CENTER])
    assert np.array_equal(inp(two_faces, masks), inp(two_faces, masks))   # default generator is seeded


@pytest.mark.parametrize("init", ["random", "encoder"])
def test_inpainter_candidates_differ_and_are_sorted_by_loss(nets, faces, init):
    G, D, E = nets
    name = "yeh" if init == "random" else "fast"
    inp = Inpainter(G, D, E if init == "encoder" else None, preset(name, 4, blend="paste"))
    masks = np.stack([CENTER, make_mask("box", seed=1)])
    out = inp.complete(faces[2:4], masks, candidates=3, seeds=[0, 1])
    assert np.all(np.diff(out.losses, axis=1) >= 0)
    for i in range(2):
        for a in range(3):
            for b in range(a + 1, 3):
                assert not np.array_equal(out.generated[i, a], out.generated[i, b])
        # each reported loss belongs to the image shown with it: rescore the (rounded) G(z)
        y = to_tensor(faces[2 + i]).repeat(3, 1, 1, 1)
        m = mask_to_tensor(np.stack([masks[i]] * 3))
        W = importance_weights(m, inp.config.search.window)
        with torch.no_grad():
            x = to_tensor(out.generated[i])
            rescored = contextual_loss(x, y, W) + inp.config.search.lam * perceptual_loss(D(x), "lsq")
        assert np.argmin(rescored.numpy()) == 0
        assert np.allclose(rescored.numpy(), out.losses[i], rtol=0.02)
        # paste: the hole is G(z) itself
        assert np.array_equal(out.images[i][:, masks[i]], out.generated[i][:, masks[i]])


def test_inpainter_rejects_bad_input(nets, two_faces):
    G, D, E = nets
    inp = Inpainter(G, D, E, preset("fast", 2))
    with pytest.raises(ValueError, match="whole image"):
        inp(two_faces[0], np.ones((64, 64), dtype=bool))
    with pytest.raises(ValueError, match="whole image"):          # one full mask in a batch is enough
        inp(two_faces, np.stack([CENTER, np.ones((64, 64), dtype=bool)]))
    with pytest.raises(ValueError, match="64, 64, 3"):
        inp(two_faces[0, :32, :32], CENTER[:32, :32])
    with pytest.raises(ValueError, match="64, 64, 3"):
        inp(two_faces[0], make_mask("center", 32))
    with pytest.raises(ValueError, match="encoder"):
        Inpainter(G, D, None, preset("fast", 2))
    Inpainter(G, D, None, preset("fast", 2, init="random"))       # a random start needs no encoder


# ---------------------------------------------------------------- weights files and the registry

@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory, train_dir):
    """A tiny LSGAN trained for 3 steps and a tiny encoder for one short epoch, exported through the CLI."""
    from ganfill.cli import main

    root = tmp_path_factory.mktemp("tiny-weights")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANFILL_CACHE", str(root / "cache"))
        mp.setenv("GANFILL_THREADS", "1")
        gan_run, enc_run = root / "gan-run", root / "enc-run"
        gan, enc = root / "gan.safetensors", root / "encoder.safetensors"
        assert main(["train-gan", "--config", "tiny", "--limit", "64", "--batch-size", "16", "--max-steps", "3",
                     "--out", str(gan_run), "--no-progress", "--data", str(train_dir)]) == 0
        assert main(["export-gan", str(gan_run / "checkpoint.safetensors"), "-o", str(gan)]) == 0
        assert main(["train-encoder", "--gan", str(gan), "--config", "tiny", "--limit", "32", "--batch-size", "16",
                     "--epochs", "1", "--out", str(enc_run), "--no-progress", "--data", str(train_dir)]) == 0
        assert main(["export-encoder", str(enc_run / "checkpoint.safetensors"), "-o", str(enc)]) == 0
    return gan, enc


def test_lsgan_methods_from_the_registry(tiny_weights, faces):
    from ganfill.methods import get_method

    gan, enc = tiny_weights
    images = faces[:2]
    masks = np.stack([CENTER, make_mask("box", seed=5)])
    method = get_method("lsgan", gan_weights=gan, encoder_weights=enc, iterations=3)
    assert method.name == "lsgan"
    assert method.inpainter.config.search.iterations == 3 and method.inpainter.encoder is not None
    out = method(images, masks)
    assert out.shape == images.shape and out.dtype == np.uint8
    assert np.array_equal(out[~masks], images[~masks])
    cands = method.candidates(images, masks, 2)
    assert cands.shape == (2, 2, 64, 64, 3)
    for k in range(2):
        assert np.array_equal(cands[:, k][~masks], images[~masks])

    yeh = get_method("lsgan-yeh", gan_weights=gan, iterations=2, blend="paste")   # random start: no encoder
    assert yeh.inpainter.encoder is None and yeh.inpainter.config.blend == "paste"
    out = yeh(images[0], CENTER)
    assert np.array_equal(out[~CENTER], images[0][~CENTER])


def test_from_pretrained_options(tiny_weights):
    gan, enc = tiny_weights
    before = copy.deepcopy(PRESETS["fast"])
    inp = Inpainter.from_pretrained("fast", gan_weights=gan, encoder_weights=enc, iterations=4, lam=0.5, blend="paste")
    assert (inp.config.search.iterations, inp.config.search.lam, inp.config.blend) == (4, 0.5, "paste")
    assert PRESETS["fast"] == before and PRESETS["fast"].blend == "poisson"   # preset untouched
    with pytest.raises(ValueError, match="unknown inpainting preset"):
        Inpainter.from_pretrained("slow", gan_weights=gan, encoder_weights=enc)
    with pytest.raises(ValueError, match="unknown inpainting option"):
        Inpainter.from_pretrained("fast", gan_weights=gan, encoder_weights=enc, momentum=0.9)


# ---------------------------------------------------------------- the `ganfill inpaint` command

@pytest.fixture
def face_file(test_dir):
    return test_dir / "16001.jpg"


def _run(argv, capsys):
    from ganfill.cli import main

    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ganfill: error:")
    return lines[0]


def test_cli_inpaint_telea(face_file, tmp_path, capsys):
    mask_path, out = tmp_path / "mask.png", tmp_path / "out.png"
    save_image_atomic(CENTER, mask_path)
    code, stdout, _ = _run(["inpaint", face_file, "--mask", mask_path, "-o", out, "--method", "telea"], capsys)
    assert code == 0 and str(out) in stdout
    image, result = load_image(face_file), load_image(out)
    assert result.shape == image.shape == (64, 64, 3)
    assert np.array_equal(result[~CENTER], image[~CENTER])
    assert not np.array_equal(result[CENTER], image[CENTER])


def test_cli_inpaint_candidates_need_an_lsgan_method(face_file, tmp_path, capsys):
    mask_path, out = tmp_path / "mask.png", tmp_path / "out.png"
    save_image_atomic(CENTER, mask_path)
    code, _, err = _run(["inpaint", face_file, "--mask", mask_path, "-o", out, "--method", "telea",
                         "--candidates", "2"], capsys)
    assert code != 0
    assert "candidates" in _error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mask.png"]


def test_cli_inpaint_resizes_a_mask_of_another_size(face_file, tmp_path, capsys):
    mask_path, out = tmp_path / "mask.png", tmp_path / "out.png"
    save_image_atomic(make_mask("center", 128), mask_path)
    code, _, err = _run(["inpaint", face_file, "--mask", mask_path, "-o", out, "--method", "telea"], capsys)
    assert code == 0
    assert "warning" in err and "128x128" in err
    image, result = load_image(face_file), load_image(out)
    assert np.array_equal(result[~CENTER], image[~CENTER])        # the 128 centre square shrinks onto the 64 one
    assert not np.array_equal(result[CENTER], image[CENTER])


def test_cli_inpaint_all_white_mask_is_an_error(face_file, tmp_path, capsys):
    mask_path, out = tmp_path / "mask.png", tmp_path / "out.png"
    save_image_atomic(np.ones((64, 64), dtype=bool), mask_path)
    code, _, err = _run(["inpaint", face_file, "--mask", mask_path, "-o", out, "--method", "telea"], capsys)
    assert code != 0
    assert "whole image" in _error_line(err)
    assert not out.exists()


def test_cli_inpaint_all_black_mask_returns_the_input(face_file, tmp_path, capsys):
    mask_path, out = tmp_path / "mask.png", tmp_path / "out.png"
    save_image_atomic(np.zeros((64, 64), dtype=bool), mask_path)
    code, _, err = _run(["inpaint", face_file, "--mask", mask_path, "-o", out, "--method", "telea"], capsys)
    assert code == 0 and "no hole" in err
    assert np.array_equal(load_image(out), load_image(face_file))


def test_a_large_hole_is_blended_at_low_resolution_and_exactly_at_its_edge():
    """Above DIRECT_MAX_PIXELS the blend is solved coarse and then exactly along the hole's edge:
    the seam agrees with the direct solve to a fraction of a level, the inside within one level."""
    import cv2

    from ganfill.inpaint import blending as blend_module
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:190, 0:190] / 190
    known = np.stack([120 + 60 * np.sin(3 * xx + c) * np.cos(2 * yy) for c in range(3)], -1)
    known += rng.normal(0, 2, known.shape)
    generated = known[::-1] * 0.8 + 30 + rng.normal(0, 2, known.shape)     # another picture, another brightness
    mask = np.zeros((190, 190), bool)
    mask[20:170, 25:175] = True                                             # 22,500 pixels
    mask[60:80, 5:25] = True                                                # and a notch
    assert mask.sum() > blend_module.DIRECT_MAX_PIXELS
    fast = blend_module.poisson(known, generated, mask)
    exact = blend_module._poisson_direct(known, generated, mask)
    assert np.array_equal(fast[~mask], known[~mask])
    diff = np.abs(fast - exact).max(axis=-1)
    edge = mask & (cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3) <= 3)
    assert diff[edge].max() < 0.25 and diff[mask].max() < 1.0
    assert np.abs(fast - generated)[mask].mean() > 10                        # the blend did move the fill
    out = blend(known.astype(np.uint8), generated.clip(0, 255).astype(np.uint8), mask, "poisson")
    assert np.array_equal(out[~mask], known.astype(np.uint8)[~mask])
