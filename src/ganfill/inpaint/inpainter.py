"""The Inpainter: latent search with the LSGAN prior, then blending; and its registry methods."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from ..data import MODEL_SIZE, check_faces, mask_to_tensor, to_tensor, to_uint8
from ..models.device import frozen, resolve_device
from .base import InpaintMethod, image_seeds
from .blending import blend
from .optimize import LatentSearchConfig, LatentSearchResult, latent_search


@dataclass
class InpainterConfig:
    search: LatentSearchConfig = field(default_factory=LatentSearchConfig)
    init: str = "encoder"       # "encoder": start from E(y, M); "random": from the prior (Yeh et al.)
    blend: str = "poisson"      # "poisson" or "paste"
    # The extra candidates (2..K) start at E's answer moved this fraction of the way towards a
    # fresh draw from the prior: 0 = E's answer again, 1 = Yeh's random start.  Mixing (not adding
    # noise and clipping) keeps every start inside the prior's cube, where G was trained.
    spread: float = 1.0


PRESETS: dict[str, InpainterConfig] = {
    # Yeh et al.'s protocol: a random z, 1,500 Adam iterations, Poisson blending.
    "yeh": InpainterConfig(LatentSearchConfig(iterations=1500), init="random"),
    # The fast path: start from the latent encoder's answer and refine it for a few iterations.
    # Tuned on 64 held-back training faces (docs/results.md, "Tuning the latent search"): 10 iterations
    # at lr 0.01 beat 1, 20, 30 and 60, and lr 0.03; PSNR is flat for λ from 0.003 to 10.
    "fast": InpainterConfig(LatentSearchConfig(iterations=10, lr=0.01, patience=5), init="encoder"),
}


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Images in ``[-1, 1]`` rounded to the 256 levels of uint8: exactly ``to_tensor(to_uint8(x))``."""
    return torch.round((x.clamp(-1, 1) + 1) * 127.5) / 127.5 - 1


@dataclass
class Completion:
    images: torch.Tensor        # float (N, K, 3, 64, 64): blended completions, best first
    generated: torch.Tensor     # float (N, K, 3, 64, 64): G(ẑ) before blending, on uint8 levels
    losses: torch.Tensor        # float (N, K): the latent search's final loss per candidate
    history: list[float]        # mean loss per iteration (with record=True)


@dataclass
class InpaintOutput:
    images: np.ndarray          # uint8 (N, K, 64, 64, 3): blended completions, best first
    generated: np.ndarray       # uint8 (N, K, 64, 64, 3): G(ẑ) before blending
    losses: np.ndarray          # float (N, K): the latent search's final loss per candidate
    history: list[float]        # mean loss per iteration (with record=True)


class Inpainter:
    """Semantic inpainting of 64x64 faces with an LSGAN prior (Yeh et al. 2017, as in the thesis).

    Example::

        >>> import numpy as np
        >>> from ganfill.inpaint import Inpainter
        >>> from ganfill.data import load_image, make_mask, default_data_root
        >>> face = load_image(default_data_root() / "celeba/test/16001.jpg")   # uint8 (64, 64, 3)
        >>> hole = make_mask("center", 64)                                      # bool (64, 64), True = hole
        >>> filled = Inpainter.from_pretrained("fast")(face, hole)             # uint8 (64, 64, 3)
        >>> bool((filled[~hole] == face[~hole]).all())
        True
    """

    def __init__(self, G: torch.nn.Module, D: torch.nn.Module, encoder: torch.nn.Module | None = None,
                 config: InpainterConfig | None = None, device: str | torch.device = "auto"):
        self.device = resolve_device(device)
        # Frozen once here: the search differentiates with respect to z only, and no call toggles
        # anything on the networks, so threads may share one Inpainter.
        self.G = frozen(G.to(self.device))
        self.D = frozen(D.to(self.device))
        self.encoder = frozen(encoder.to(self.device)) if encoder is not None else None
        self.config = copy.deepcopy(config) if config is not None else InpainterConfig()
        if self.config.init == "encoder" and self.encoder is None:
            raise ValueError("the encoder start needs a latent encoder; pass one or use init='random'")

    @classmethod
    def from_pretrained(cls, preset: str = "fast", device: str | torch.device = "auto",
                        gan_weights=None, encoder_weights=None, **overrides) -> "Inpainter":
        """The shipped LSGAN (and latent encoder) with a named preset: ``fast`` or ``yeh``.

        ``overrides`` set fields of the search config (``iterations=…``, ``lam=…``) or of the
        inpainter config (``blend=…``, ``init=…``).
        """
        from ..weights import load_encoder, load_gan

        device = resolve_device(device)
        if preset not in PRESETS:
            raise ValueError(f"unknown inpainting preset {preset!r}; choose from {', '.join(PRESETS)}")
        config = copy.deepcopy(PRESETS[preset])
        for key, value in overrides.items():
            if value is None:
                continue
            target = config.search if hasattr(config.search, key) else config
            if not hasattr(target, key):
                raise ValueError(f"unknown inpainting option {key!r}")
            setattr(target, key, value)
        G, D = load_gan(gan_weights, device)
        encoder = load_encoder(encoder_weights, device) if config.init == "encoder" else None
        return cls(G, D, encoder, config, device)

    @torch.no_grad()
    def _starts(self, y: torch.Tensor, m: torch.Tensor, k: int, seeds: Sequence[int]) -> torch.Tensor:
        """K starting latents per image, image ``i``'s drawn from its own ``seeds[i]`` only."""
        z_dim = self.G.config.z_dim
        draws = torch.stack([torch.rand(k, z_dim, generator=torch.Generator().manual_seed(int(s))) * 2 - 1
                             for s in seeds]).to(self.device)                      # (N, K, z_dim)
        if self.config.init == "random":
            return draws.flatten(0, 1)
        z_enc = self.encoder(y, m).unsqueeze(1)                                     # (N, 1, z_dim)
        spread = torch.full((k, 1), float(self.config.spread), device=self.device)
        spread[0] = 0        # the first candidate is E's answer itself
        return (z_enc + spread * (draws - z_enc)).flatten(0, 1)

    def generate(self, y: torch.Tensor, m: torch.Tensor, candidates: int = 1, seeds: Sequence[int] | None = None,
                 record: bool = False) -> tuple[LatentSearchResult, torch.Tensor]:
        """The latent search on tensors, with no blending: ``y`` float ``(N, 3, 64, 64)`` in ``[-1, 1]``
        and ``m`` float ``(N, 1, 64, 64)`` (1 = hole), on this inpainter's device; one seed per image
        (default: :func:`~ganfill.inpaint.base.image_seeds` of 0).

        Returns the search result and G(ẑ) ``(N·K, 3, 64, 64)``, the K candidates of each image
        adjacent and in start order (not ranked).
        """
        seeds = image_seeds(0, 0, y.shape[0]) if seeds is None else seeds
        if len(seeds) != y.shape[0]:
            raise ValueError(f"{len(seeds)} seeds for {y.shape[0]} images")
        k = candidates
        z0 = self._starts(y, m, k, seeds)
        result: LatentSearchResult = latent_search(
            self.G, self.D, y.repeat_interleave(k, 0), m.repeat_interleave(k, 0), z0, self.config.search, record)
        with torch.no_grad():
            generated = self.G(result.z)
        return result, generated

    def complete_tensor(self, y: torch.Tensor, m: torch.Tensor, candidates: int = 1,
                        seeds: Sequence[int] | None = None, record: bool = False) -> Completion:
        """The LSGAN completion on tensors, the one path of training (the refiner's input) and
        inference: ``y`` float ``(N, 3, 64, 64)`` in ``[-1, 1]``, ``m`` float ``(N, 1, 64, 64)``
        (1 = hole), on this inpainter's device; ``candidates`` = K restarts per image, ranked best
        (lowest loss) first; one seed per image (default: ``image_seeds(0, 0, N)``).

        G(ẑ) is rounded to the uint8 levels, then pasted into the hole on the device, or
        Poisson-blended (on the CPU, image by image) when the config's ``blend`` is ``poisson``.
        """
        if (m.flatten(1) > 0.5).all(1).any():
            raise ValueError("a mask covers the whole image: there is nothing to condition on")
        n, k = y.shape[0], candidates
        result, generated = self.generate(y, m, k, seeds, record)
        generated = quantize(generated).view(n, k, *y.shape[1:])
        losses = result.loss.detach().view(n, k)
        order = torch.sort(losses, dim=1, stable=True).indices
        generated = torch.take_along_dim(generated, order[:, :, None, None, None], dim=1)
        losses = torch.take_along_dim(losses, order, dim=1)
        hole = m[:, None] > 0.5                                                  # (N, 1, 1, H, W)
        if self.config.blend == "paste":
            images = torch.where(hole, generated, y[:, None])
        else:
            known, gen_u8, holes = to_uint8(y), to_uint8(generated.flatten(0, 1)), hole[:, 0, 0].cpu().numpy()
            images = torch.stack([to_tensor(np.stack([blend(known[i], gen_u8[i * k + j], holes[i], self.config.blend)
                                                      for j in range(k)])) for i in range(n)]).to(y.device)
        return Completion(images, generated, losses, result.history)

    def complete(self, images: np.ndarray, masks: np.ndarray, candidates: int = 1,
                 seeds: Sequence[int] | None = None, record: bool = False) -> InpaintOutput:
        """Fill ``images`` uint8 ``(N, 64, 64, 3)`` where ``masks`` bool ``(N, 64, 64)`` is True:
        :meth:`complete_tensor` on uint8 arrays."""
        images = np.asarray(images, dtype=np.uint8)
        masks = np.asarray(masks).astype(bool)
        check_faces(images, masks, MODEL_SIZE, "the LSGAN inpainter")
        done = self.complete_tensor(to_tensor(images).to(self.device), mask_to_tensor(masks).to(self.device),
                                    candidates, seeds, record)
        n, k = done.losses.shape
        shape = (n, k, MODEL_SIZE, MODEL_SIZE, 3)
        return InpaintOutput(to_uint8(done.images.flatten(0, 1)).reshape(shape),
                             to_uint8(done.generated.flatten(0, 1)).reshape(shape),
                             done.losses.cpu().numpy(), done.history)

    def __call__(self, image: np.ndarray, mask: np.ndarray, candidates: int = 1,
                 generator: torch.Generator | None = None) -> np.ndarray:
        """Fill the hole of one face or a batch of faces.

        Args:
            image: uint8 RGB, ``(64, 64, 3)`` or ``(N, 64, 64, 3)``, values 0-255.
            mask: ``(64, 64)`` or ``(N, 64, 64)``; nonzero / True = hole to fill, 0 = known pixel.
            candidates: K completions per image from K starts, best first.
            generator: a ``torch.Generator`` that draws each image's seed for its random starts
                (default: image ``i`` is seeded from ``(0, i)``).

        Returns:
            uint8 images of the input's shape, or with a K axis after N when ``candidates > 1``
            (``(K, 64, 64, 3)`` for one image).  Known pixels are returned unchanged.
        """
        image = np.asarray(image)
        single = image.ndim == 3
        images = image[None] if single else image
        masks = np.asarray(mask)[None] if single else np.asarray(mask)
        seeds = None if generator is None else \
            torch.randint(0, 2**62, (len(images),), generator=generator).tolist()
        out = self.complete(images, masks, candidates, seeds).images
        if candidates == 1:
            out = out[:, 0]
        return out[0] if single else out


class LSGANMethod(InpaintMethod):
    """The LSGAN inpainter in the method registry (``lsgan`` = fast path, ``lsgan-yeh`` = Yeh protocol)."""

    name = "lsgan"
    preset = "fast"

    def __init__(self, device: str = "auto", iterations: int | None = None, lam: float | None = None,
                 lr: float | None = None, blend: str | None = None, weighting: str | None = None,
                 gan_weights=None, encoder_weights=None):
        self.inpainter = Inpainter.from_pretrained(self.preset, device=device, iterations=iterations, lam=lam,
                                                   lr=lr, blend=blend, weighting=weighting, gan_weights=gan_weights,
                                                   encoder_weights=encoder_weights)

    def fill(self, images: np.ndarray, masks: np.ndarray, seeds: Sequence[int], k: int = 1) -> np.ndarray:
        return self.inpainter.complete(images, masks, k, seeds).images


class LSGANYehMethod(LSGANMethod):
    name = "lsgan-yeh"
    preset = "yeh"
