"""Colour profiles and metadata: photos in Adobe RGB or Display P3 go to the models in sRGB and
come back in their own profile; EXIF, DPI and the profile travel with the result."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageCms


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def profile_of(icc: bytes | None):
    """The ImageCms profile of ICC bytes, or None when there are none or they cannot be parsed."""
    if not icc:
        return None
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except Exception:
        return None


def rgb_profile(img: Image.Image):
    """The image's embedded ICC profile if it is an RGB one and the image is RGB-like, else None.

    Grey profiles need no conversion for a grey model input that is used as is, and a CMYK
    profile cannot be written back into an RGB output, so only RGB profiles take part."""
    if img.mode not in ("RGB", "RGBA", "P", "PA"):
        return None
    profile = profile_of(img.info.get("icc_profile"))
    if profile is None or profile.profile.xcolor_space.strip() != "RGB":
        return None
    return profile


def icc_for(icc: bytes | None, space: str) -> bytes | None:
    profile = profile_of(icc)
    return icc if profile is not None and profile.profile.xcolor_space.strip() == space else None


def transform(source, target, rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB pixels from one ICC profile to another (relative colorimetric, as browsers show photos)."""
    img = ImageCms.profileToProfile(Image.fromarray(np.ascontiguousarray(rgb), "RGB"), source, target,
                                    renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, outputMode="RGB")
    return np.asarray(img, dtype=np.uint8)


def metadata(img: Image.Image) -> tuple[bytes | None, bytes | None, tuple[float, float] | None]:
    """EXIF (orientation reset to 1: the pixels are upright now), ICC profile and DPI of an image."""
    exif = None
    try:
        tags = img.getexif()
        if len(tags):
            tags[0x0112] = 1        # "upright": exif_transpose has already turned the pixels
            exif = tags.tobytes()
    except Exception:       # a broken EXIF block is dropped, not fatal
        exif = None
    dpi = img.info.get("dpi")
    try:
        dpi = (float(dpi[0]), float(dpi[1])) if dpi and float(dpi[0]) > 0 and float(dpi[1]) > 0 else None
    except (TypeError, ValueError, IndexError):
        dpi = None
    return exif, img.info.get("icc_profile") or None, dpi
