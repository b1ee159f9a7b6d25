"""``portrait``: every part of a hole filled by the method that suits it.

A portrait's holes lie anywhere: on a face, on the wall behind it, on a shirt, in a corner.  The
face model only knows faces (a blob on a flat sky comes out skin-toned and streaky), and a general
inpainter knows no faces.  So the photo path (:mod:`ganfill.photo`) splits the hole: each connected
part of it that touches a detected face's crop goes to the face model in that face's own crop,
every other part (and the whole hole of a photo with no face) to :attr:`PortraitMethod.general`.
"""

from __future__ import annotations

from .refine import WildRefineMethod


class PortraitMethod(WildRefineMethod):
    """``lsgan+ae-wild`` on the faces, ``classical`` off them: OpenCV's FSR on small parts of the
    hole in texture, Navier-Stokes on the rest (docs/results.md, "Portraits")."""

    name = "portrait"

    # The same options as lsgan+ae-wild, spelled out: the registry reads a method's options from
    # its signature.
    def __init__(self, device: str = "auto", iterations: int | None = None, lam: float | None = None,
                 lr: float | None = None, gan_weights=None, encoder_weights=None, refiner_weights=None,
                 flip: bool | None = None):
        super().__init__(device, iterations, lam, lr, gan_weights, encoder_weights, refiner_weights, flip)
        from ..baselines.classical import Classical

        #: the method for the parts of the hole on no face; any size, one answer
        self.general = Classical()
