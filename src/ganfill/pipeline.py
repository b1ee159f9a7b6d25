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

from .data.faces import Box
from . import inputs, methods
from .methods import InpaintMethod
from .models.device import resolve_device
from .photo import PhotoResult, PreparedPhoto, as_method, inpaint_photos, prepare_photo

__all__ = ["Pipeline"]


class Pipeline:
    """An inpainting method of the registry, loaded once, that fills photos of any size."""

    def __init__(self, method: InpaintMethod | str, detail: bool | None = None):
        self.method = as_method(method)
        #: add the photo's own fine detail above the model's size (see :func:`ganfill.photo.inpaint_photo`);
        #: None: the method's default
        self.detail = detail if detail is None else bool(detail)

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

    def prepare(self, image, mask, box: Box | None = None, crop: str = "face") -> PreparedPhoto:
        """Check one photo and cut the crop the model sees (see :func:`ganfill.photo.prepare_photo`);
        ValueError with a one-line message for bad input.  For callers that want each photo's
        error on its own (a folder) before :meth:`run` fills the good ones in one batch."""
        return prepare_photo(image, mask, self.method, box, crop)

    def run(self, prepared: Sequence[PreparedPhoto], candidates: int = 1, seed: int = 0,
            indices: Sequence[int] | None = None) -> list[PhotoResult]:
        """Fill prepared photos, the model called once on all their crops; photo ``i`` is seeded
        from ``(seed, indices[i])`` (default: its place in ``prepared``)."""
        return inpaint_photos(prepared, self.method, candidates, seed, indices, self.detail)

    def __call__(self, image, mask, candidates: int = 1, seed: int | None = None, generator=None,
                 box: Box | Sequence[Box | None] | None = None, crop: str = "face", index: int = 0
                 ) -> PhotoResult | list[PhotoResult]:
        """Fill the hole of a photo, or of a list of photos in one batch.

        Args:
            image: the photo, ``(H, W, 3)`` RGB of any size: uint8 0-255; uint16 (16-bit) and float
                in ``[0, 1]`` are converted to uint8, greyscale ``(H, W)`` is repeated into RGB, a
                PIL image is converted; other floats or ranges are a ValueError.  Or a list of such
                photos, each its own size.
            mask: the hole, ``(H, W)`` of the photo's size: **True / nonzero = hole** (the pixels to
                fill; white in a mask file or a PIL image), False / 0 = known pixels, returned
                byte-identical.  A list of masks with a list of photos.
            candidates: K results per photo, 1 to 8, best first (K > 1 needs a method with randomness:
                ``lsgan``, ``lsgan+ae``, ...).
            seed: the call's seed, 0 to 2**63 - 1 (default 0).  Photo ``i`` of the call is seeded from
                ``(seed, index + i)``, so a photo's result depends on it, its seed and its index
                only, never on the batch it came in or on earlier calls.
            generator: a ``torch.Generator`` that draws the seed instead (not with ``seed``).
            box: the face's box in photo pixels, overriding the face detector (it must overlap the
                photo): a ``Box(x, y, w, h)``, a tuple of four ints or ``"x,y,w,h"``; with a list
                of photos, one box for all or a list.
            crop: ``"face"`` (the detected face's square) or ``"hole"`` (a square around the hole).
            index: the index of the first photo (its place in a folder), for its seed.

        Returns:
            a :class:`~ganfill.photo.PhotoResult` (``images``: K uint8 ``(H, W, 3)`` arrays, best
            first; ``box``: the crop the model saw; ``source``: how it was chosen), or a list of
            them for a list of photos.

        Raises:
            ValueError: bad input, no face found (:class:`~ganfill.photo.NoFaceError`), a box
                outside the photo; one line each.
        """
        if seed is not None and generator is not None:
            raise ValueError("give either seed or generator, not both")
        if generator is not None:
            import torch

            seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        seed = inputs.check_seed(0 if seed is None else seed)
        candidates = inputs.check_candidates(candidates)
        if isinstance(image, (list, tuple)):
            if not isinstance(mask, (list, tuple)) or len(mask) != len(image):
                raise ValueError("a list of photos needs a list of masks of the same length")
            one_box = box is None or isinstance(box, (Box, str)) or (isinstance(box, tuple) and len(box) == 4
                                                                      and all(isinstance(v, int) for v in box))
            boxes = [inputs.as_box(b) for b in ([box] * len(image) if one_box else list(box))]
            if len(boxes) != len(image):
                raise ValueError(f"{len(boxes)} boxes for {len(image)} photos")
            prepared = []
            for i, (img, m, b) in enumerate(zip(image, mask, boxes)):
                try:
                    prepared.append(self.prepare(img, m, b, crop))
                except ValueError as exc:
                    raise type(exc)(f"photo {i}: {exc}") from None
            return self.run(prepared, candidates, seed, range(index, index + len(prepared)))
        return self.run([self.prepare(image, mask, inputs.as_box(box), crop)], candidates, seed, [index])[0]

    def __repr__(self) -> str:
        return f"Pipeline(method={self.name!r})"
