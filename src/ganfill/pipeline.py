"""``ganfill.Pipeline``: a method loaded once and called many times, in the style of diffusers.

    >>> import ganfill
    >>> pipe = ganfill.Pipeline.from_pretrained("lsgan+ae", device="auto")   # doctest: +SKIP
    >>> result = pipe(photo, hole, candidates=3, seed=7)                      # doctest: +SKIP
    >>> result.images[0]                                                       # doctest: +SKIP

The CLI, the web server and the Python API all fill photos through it.  Randomness belongs to the
call (a seed or a ``torch.Generator``), never to the object; the models are frozen when loaded and
nothing about them changes per call, so threads may share one pipeline.
"""

from __future__ import annotations

from typing import Sequence

from . import inputs, methods
from .data.faces import Box
from .inpaint.base import InpaintMethod
from .models.device import resolve_device
from .photo import NoFaceError, PhotoResult, fill, prepare

__all__ = ["Pipeline", "PhotoResult"]


def as_method(method) -> InpaintMethod:
    """A registry name or an :class:`~ganfill.methods.InpaintMethod` -> the method; a clear error
    for anything else (``None`` included)."""
    if isinstance(method, InpaintMethod) or callable(getattr(method, "candidates", None)):
        return method       # a method, or an object that behaves as one (a stand-in in a test)
    if isinstance(method, str):
        return methods.get_method(method)
    raise TypeError(f"method must be a registry name (see `ganfill methods`) or an InpaintMethod, "
                    f"got {type(method).__name__}")


class Pipeline:
    """An inpainting method of the registry, loaded once, that fills photos of any size."""

    def __init__(self, method: InpaintMethod | str, detail: bool | None = None):
        self.method = as_method(method)
        #: add the photo's own fine detail where the face crop is larger than the model's size;
        #: None: the method's default (``adds_detail``)
        self.detail = bool(getattr(self.method, "adds_detail", False)) if detail is None else bool(detail)

    @classmethod
    def from_pretrained(cls, method: str = methods.DEFAULT_METHOD, device: str = "auto", detail: bool | None = None,
                        **options) -> "Pipeline":
        """Load method ``method`` (a name of ``ganfill methods``) with the shipped weights.

        ``device``: ``"auto"`` (a CUDA GPU if there is one, else the CPU), ``"cpu"`` or ``"cuda"``;
        methods without networks ignore it.  ``options`` go to the method (``iterations=…``, weights
        files, ...); an option the method does not take is a ValueError.  ``detail``: add the
        photo's own fine detail where the face crop is larger than the model's size (None: the
        method's default, on for ``lsgan+ae-wild``).
        """
        if not isinstance(method, str):
            raise TypeError(f"method must be a registry name (see `ganfill methods`), got {type(method).__name__}"
                            + ("; to wrap a loaded method, use Pipeline(method)"
                               if isinstance(method, InpaintMethod) else ""))
        if "device" in methods.method_options(method):
            options["device"] = resolve_device(device)
        else:
            resolve_device(device)    # a bad device name is an error even for a method that ignores it
        return cls(methods.get_method(method, **options), detail)

    @property
    def name(self) -> str:
        return getattr(self.method, "name", type(self.method).__name__)

    def __call__(self, image, mask, candidates: int = 1, seed: int | None = None, generator=None,
                 box: Box | Sequence[Box | None] | None = None, crop: str = "face", index: int | Sequence[int] = 0,
                 errors: str = "raise", require_face: bool = False) -> PhotoResult | list[PhotoResult]:
        """Fill the hole of a photo, or of a list of photos in one batch.

        Args:
            image: the photo, ``(H, W, 3)`` RGB of any size: uint8 0-255; uint16 (16-bit) and float
                in ``[0, 1]`` are converted to uint8, greyscale ``(H, W)`` is repeated into RGB, a
                PIL image is converted, a file path is read as ``ganfill inpaint`` reads it; other
                floats or ranges are a ValueError.  Or a list of such photos, each its own size.
            mask: the hole, ``(H, W)``: **True / nonzero = hole** (the pixels to fill; in a mask
                file or a PIL image, pixels brighter than 127 of 255), False / 0 = known pixels,
                returned byte-identical; a mask of another size than the photo is resized (nearest
                neighbour) with a warning.  A list of masks with a list of photos.
            candidates: K results per photo, 1 to 8, best first (K > 1 needs a method with randomness:
                ``lsgan``, ``lsgan+ae``, ...).
            seed: the call's seed, 0 to 2**63 - 1 (default 0).  Photo ``i`` of the call is seeded from
                ``(seed, index + i)``, so a photo's result depends on it, its seed and its index
                only, never on the batch it came in or on earlier calls.
            generator: a ``torch.Generator`` that draws the seed instead (not with ``seed``).
            box: the face's box in photo pixels, overriding the face detector (it must overlap the
                photo): a ``Box(x, y, w, h)``, a tuple of four ints or ``"x,y,w,h"``; with a list
                of photos, one box for all or a list.
            crop: ``"face"`` (the detected face's square; for ``portrait``, each face's square and
                the general inpainter off the faces) or ``"hole"`` (a square around the hole).
            index: the index of the first photo (its place in a folder), for its seed; or one
                index per photo of a list.
            errors: with a list of photos, ``"raise"`` (the first bad photo's error is raised) or
                ``"return"`` (a bad photo's ValueError takes its place in the returned list and the
                others are filled in one batch: what a folder run wants).
            require_face: for a method that fills photos without a face too (``portrait``): a
                photo with no face found is a :class:`~ganfill.photo.NoFaceError` instead of a
                fill by the general inpainter with a warning.

        Returns:
            a :class:`~ganfill.photo.PhotoResult` (``images``: K uint8 ``(H, W, 3)`` arrays, best
            first; ``box``: the crop the model saw (the first face's for ``portrait``);
            ``source``: how it was chosen; ``faces``: how many faces the face model filled;
            ``warnings``: lines for the user, such as a hole over half the photo (an inverted
            mask?) or no face found), or a list of them for a list of photos.

        Raises:
            ValueError: bad input, no face found (:class:`~ganfill.photo.NoFaceError`), a box
                outside the photo; one line each.  TypeError: a value of the wrong type.
        """
        if seed is not None and generator is not None:
            raise ValueError("give either seed or generator, not both")
        if generator is not None:
            import torch

            seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        seed = inputs.check_seed(0 if seed is None else seed)
        candidates = inputs.check_candidates(candidates)
        self.method.check_candidates(candidates)
        many = isinstance(image, (list, tuple))
        images, masks = (list(image), mask) if many else ([image], [mask])
        if many and (not isinstance(mask, (list, tuple)) or len(mask) != len(image)):
            raise ValueError("a list of photos needs a list of masks of the same length")
        one_box = box is None or isinstance(box, (Box, str)) or (isinstance(box, tuple) and len(box) == 4
                                                                  and all(isinstance(v, int) for v in box))
        boxes = [inputs.as_box(b) for b in ([box] * len(images) if one_box or not many else list(box))]
        if len(boxes) != len(images):
            raise ValueError(f"{len(boxes)} boxes for {len(images)} photos")
        indices = ([int(i) for i in index] if isinstance(index, (list, tuple, range))
                   else list(range(int(index), int(index) + len(images))))
        if len(indices) != len(images):
            raise ValueError(f"{len(indices)} indices for {len(images)} photos")
        if errors not in ("raise", "return"):
            raise ValueError(f"errors must be 'raise' or 'return', got {inputs.quote(errors)}")
        prepared, failed = [], {}
        for i, (img, m, b) in enumerate(zip(images, masks, boxes)):
            try:
                photo = inputs.as_image(img)
                prepared.append(prepare(photo, inputs.as_mask(m, photo.shape[:2]), self.method, b, crop,
                                        bool(require_face)))
            except ValueError as exc:
                if errors == "raise" or not many:
                    where = f"photo {i}: " if many else ""
                    if isinstance(exc, NoFaceError):
                        raise NoFaceError(exc.routed, exc.general, where) from None
                    raise type(exc)(f"{where}{exc}") from None
                failed[i] = exc
        good = [i for i in range(len(images)) if i not in failed]
        filled = iter(fill(prepared, self.method, candidates, seed, [indices[i] for i in good], self.detail))
        results = [failed[i] if i in failed else next(filled) for i in range(len(images))]
        return results if many else results[0]

    def __repr__(self) -> str:
        return f"Pipeline(method={self.name!r})"
