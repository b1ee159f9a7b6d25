"""ganfill: semantic inpainting of faces with a least-squares GAN prior and an autoencoder refiner.

Conventions used everywhere in the package (written down once, here):

* Images are RGB.  At the file / user boundary they are ``uint8`` arrays of shape ``(H, W, 3)``;
  inside the networks they are float tensors of shape ``(N, 3, S, S)`` in ``[-1, 1]``, ``S`` the
  model's side (64 for the thesis's models, 128 for the default's photo refiner).
* Masks are ``(H, W)`` arrays (or ``(N, 1, H, W)`` tensors) where **1 / white / nonzero = hole**,
  the pixels to fill, and 0 / black = known pixels that are kept exactly, as in OpenCV,
  LaMa, IOPaint and diffusers.  Mask image files are thresholded at 127.
"""

__version__ = "0.1.0"
__all__ = ["Pipeline", "__version__"]


def __getattr__(name: str):
    # ``ganfill.Pipeline`` is imported on first use, so that ``import ganfill`` (and every CLI
    # command that does not inpaint) stays free of torch and the models.
    if name == "Pipeline":
        from .pipeline import Pipeline

        return Pipeline
    raise AttributeError(f"module 'ganfill' has no attribute {name!r}")


def __dir__() -> list[str]:
    # Lists the lazy ``Pipeline`` too, for dir() and tab completion.
    return sorted(set(globals()) | set(__all__))
