"""The one base class of every inpainting method, and how randomness reaches a method.

It lives here, below the packages that implement it (``inpaint``, ``baselines``), so that none of
them imports the registry above them (``ganfill.methods``).

Randomness is per call and per image, never per object: image ``i`` of a call gets the seed
``image_seed(seed, start + i)``, so a result depends on the image, its seed and its index only,
not on the batch size or on what the method was asked before.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .catalog import CATALOG, MethodInfo


def image_seed(seed: int, index: int) -> int:
    """The seed of image ``index`` of a run seeded with ``seed`` (a 63-bit int, stable across machines)."""
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFFFFFF, int(index)]).generate_state(
        1, np.uint64)[0] >> np.uint64(1))


def image_seeds(seed: int, start: int, n: int) -> list[int]:
    """The seeds of images ``start .. start + n - 1`` of a run seeded with ``seed``."""
    return [image_seed(seed, start + i) for i in range(n)]


class InpaintMethod:
    """Fills holes in RGB images: faces of a fixed side for the learned methods (``fixed_size``: 64,
    or 128 for ``lsgan+ae-wild``), any size for the classical ones.

    Subclasses implement :meth:`inpaint_one` (deterministic, one image) or :meth:`fill` (a batch,
    K candidates, one seed per image).  Every method returns the known pixels exactly as given.
    """

    name: str = "method"
    # The fields of :class:`~ganfill.inpaint.catalog.MethodInfo`: a registered method's come from its
    # catalog entry (its class's ``name``); these are the defaults for any other subclass.
    fixed_size: int | None = None
    description: str = ""
    gives_candidates: bool = False
    speed: str = "fast"
    bounded_cost: bool = True
    #: for a full-size method, how many pixels around the hole it reads (None: the whole image);
    #: the photo path then runs it on that window only, so a wide photo costs the hole's size
    context: int | None = None
    #: for a fixed-size method, whether the photo path adds the photo's own fine detail by default
    #: where the face crop is larger than ``fixed_size`` (:mod:`ganfill.inpaint.detail`); the
    #: caller's ``detail=`` overrides it
    adds_detail: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        info = CATALOG.get(cls.__dict__.get("name"))
        if info is not None:
            for field in MethodInfo.__dataclass_fields__:
                if field != "target":
                    setattr(cls, field, getattr(info, field))

    def inpaint_one(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fill(self, images: np.ndarray, masks: np.ndarray, seeds: Sequence[int], k: int = 1) -> np.ndarray:
        """uint8 ``(N, H, W, 3)`` images, bool ``(N, H, W)`` masks (True = hole) and one seed per image
        -> uint8 ``(N, k, H, W, 3)``, best first (``k`` is 1 unless :attr:`gives_candidates`)."""
        return np.stack([self.inpaint_one(img, m) for img, m in zip(images, masks)])[:, None]

    @classmethod
    def check_candidates(cls, k: int) -> None:
        """A ValueError if this method cannot give ``k`` different results."""
        if k > 1 and not cls.gives_candidates:
            raise ValueError(f"method {cls.name!r} gives a single answer; several candidates need a method "
                             f"with randomness (an lsgan method)")

    def _checked(self, images, masks) -> tuple[np.ndarray, np.ndarray, bool]:
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 (0-255), got {images.dtype}")
        masks = np.asarray(masks).astype(bool)
        single = images.ndim == 3
        if single:
            images, masks = images[None], masks[None]
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f"images must be RGB (N, H, W, 3) or (H, W, 3), got {images.shape}")
        if images.shape[:3] != masks.shape:
            raise ValueError(f"images {images.shape[1:3]} and masks {masks.shape[1:]} differ in size")
        if self.fixed_size is not None:
            from ..data import check_faces

            check_faces(images, masks, self.fixed_size, f"method {self.name!r}")
        return images, masks, single

    def candidates(self, images: np.ndarray, masks: np.ndarray, k: int, seed: int = 0,
                   start: int | Sequence[int] = 0) -> np.ndarray:
        """``k`` completions per image, best first: uint8 ``(N, k, H, W, 3)`` (``(k, H, W, 3)`` for one
        ``(H, W, 3)`` image).  Image ``i`` is seeded from ``(seed, start + i)``, or from
        ``(seed, start[i])`` when ``start`` is a sequence of indices, one per image (a batch of a
        folder's photos with some left out keeps each photo's own index)."""
        self.check_candidates(k)
        images, masks, single = self._checked(images, masks)
        if isinstance(start, (int, np.integer)):
            seeds = image_seeds(seed, int(start), len(images))
        elif len(start) == len(images):
            seeds = [image_seed(seed, int(i)) for i in start]
        else:
            raise ValueError(f"{len(start)} indices for {len(images)} images")
        out = self.fill(images, masks, seeds, k)
        out = np.where(masks[:, None, :, :, None], out, images[:, None])   # the known pixels, exactly
        return out[0] if single else out

    def __call__(self, images: np.ndarray, masks: np.ndarray, seed: int = 0, start: int = 0) -> np.ndarray:
        """One completion per image: uint8 of the input's shape (``(N, H, W, 3)`` or ``(H, W, 3)``)."""
        out = self.candidates(images, masks, 1, seed, start)
        return out[..., 0, :, :, :] if out.ndim == 5 else out[0]
