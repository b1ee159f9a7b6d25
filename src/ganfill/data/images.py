"""Reading and writing images and masks safely: one-line errors, EXIF orientation, colour profiles."""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .colour import SRGB, icc_for, metadata, profile_of, rgb_profile, transform
from .files import atomic_write

# Refuse decompression bombs with a clear error rather than exhausting memory.
MAX_IMAGE_PIXELS = 64_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


class ImageError(ValueError):
    """A file that cannot be used as an image or mask; the message is one line, fit for a user."""


def _open(source: str | os.PathLike | bytes, label: str = "upload") -> Image.Image:
    """Open a file, or the bytes of one (an upload; named ``label`` in messages)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        path = label
        if len(source) == 0:
            raise ImageError(f"{label}: empty file")
        opened = io.BytesIO(bytes(source))
    else:
        path = opened = Path(source)
        if not path.exists():
            raise ImageError(f"{path}: no such file")
        if path.is_dir():
            raise ImageError(f"{path}: is a folder, not an image")
        if path.stat().st_size == 0:
            raise ImageError(f"{path}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(opened)
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise ImageError(
                    f"{path}: image is {img.width}x{img.height}, over the limit of {MAX_IMAGE_PIXELS:,} pixels")
            img.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{path}: image too large ({exc})") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file (or a format that cannot be read)") from None
    except MemoryError:
        raise ImageError(f"{path}: not enough memory to decode this image") from None
    except Exception as exc:
        # PIL's decoders fail in many ways on bad bytes: OSError, SyntaxError, ValueError, but also
        # NotImplementedError (a DDS file with an unknown pixel format), EOFError, struct.error,
        # IndexError, ... Whatever it is, it is this file's fault, never the program's.
        raise ImageError(f"{path}: not a readable image ({_one_line(exc)})") from None
    return img


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _decode(source: str | os.PathLike | bytes, label: str) -> tuple[Image.Image, str]:
    """:func:`_open`, then turned upright by its EXIF orientation; returns the image and its name."""
    img = _open(source, label)
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block should not make an otherwise good image unusable
        pass
    return img, (label if isinstance(source, (bytes, bytearray, memoryview)) else str(source))


def _converted(name: str, convert, *args):
    """Run a pixel conversion; a file whose decoded pixels cannot be converted is that file's error."""
    try:
        return convert(*args)
    except ImageError:
        raise
    except MemoryError:
        raise ImageError(f"{name}: not enough memory to convert this image") from None
    except Exception as exc:
        raise ImageError(f"{name}: not a usable image ({_one_line(exc)})") from None


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode to 8-bit RGB; transparent pixels are composited on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        # 16-bit modes span 0-65535 whatever the content; mode "I" does not say its depth.
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        if not np.isfinite(arr).all():
            raise ValueError(f"{int((~np.isfinite(arr)).sum()):,} pixels are NaN or infinite")
        img = Image.fromarray(np.clip(np.round(arr * (255.0 if arr.max() <= 1.0 else 1.0)), 0, 255).astype(np.uint8),
                              "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("RGB")


def _srgb(img: Image.Image, profile) -> np.ndarray:
    """The image as the model sees it: 8-bit RGB, composited on white, in sRGB."""
    rgb = np.array(_to_rgb(img), dtype=np.uint8)
    return transform(profile, SRGB, rgb) if profile is not None else rgb


def load_image(path: str | os.PathLike | bytes, label: str = "upload") -> np.ndarray:
    """Read an image file (or its bytes) as ``uint8`` sRGB ``(H, W, 3)``, honouring the EXIF orientation.

    A photo with an RGB ICC profile (Adobe RGB, Display P3, ...) is converted to sRGB, the colours
    the models were trained on; :func:`load_photo` also keeps what is needed to write it back."""
    img, name = _decode(path, label)
    return _converted(name, _srgb, img, rgb_profile(img))


@dataclass
class Photo:
    """A photo as the methods see it (``rgb``, sRGB) and as its file holds it (``pixels`` in ``mode``).

    ``mode`` is "L" (8-bit grey, ``(H, W)``), "RGB" or "RGBA" (``(H, W, 4)``, alpha kept); other
    kinds (16-bit, CMYK, palette, ...) are held as their 8-bit RGB conversion.  Results are written
    back in ``mode``, so that the pixels outside the hole stay exactly what was read.

    ``icc`` is the file's ICC profile: with an RGB profile, ``rgb`` is the photo converted to sRGB
    for the model and the fill is converted back into the profile (:meth:`with_fill`), so both the
    model and the output see the right colours.  ``exif`` (orientation reset to 1, since the pixels
    are already upright), ``dpi`` and ``icc`` are written into the output by :meth:`save`.
    """

    rgb: np.ndarray
    pixels: np.ndarray
    mode: str
    icc: bytes | None = None
    exif: bytes | None = None
    dpi: tuple[float, float] | None = None

    def with_fill(self, filled_rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``pixels`` with the hole taken from ``filled_rgb`` (uint8 sRGB ``(H, W, 3)``), in ``mode``."""
        profile = profile_of(self.icc) if self.mode in ("RGB", "RGBA") else None
        if profile is not None and mask.any():
            # Only the hole's bounding box goes back through the profile: the rest is not used.
            ys, xs = np.nonzero(mask)
            y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            filled_rgb = filled_rgb.copy()
            filled_rgb[y0:y1, x0:x1] = transform(SRGB, profile, filled_rgb[y0:y1, x0:x1])
        if self.mode == "L":
            fill = np.asarray(Image.fromarray(filled_rgb).convert("L"))
            return np.where(mask, fill, self.pixels)
        if self.mode == "RGBA":
            out = self.pixels.copy()
            out[..., :3] = np.where(mask[..., None], filled_rgb, self.pixels[..., :3])
            return out
        return np.where(mask[..., None], filled_rgb, self.pixels)

    def save(self, array: np.ndarray, path: str | os.PathLike) -> list[str]:
        """Write a result of :meth:`with_fill` to ``path`` (atomically) with the photo's ICC profile,
        EXIF and DPI; returns warnings for the user (an empty list when nothing was lost).

        WebP is written lossless and PNG/TIFF are lossless, so the pixels outside the hole stay
        byte-identical; JPEG cannot keep them (the caller warns).  RGBA to a format without alpha
        (JPEG, BMP) is composited on white, exactly as the model saw the photo, and says so."""
        path = Path(path)
        warn = []
        array = np.asarray(array)
        if array.ndim == 3 and array.shape[2] == 4 and _format(path) in ("JPEG", "BMP"):
            rgba = Image.fromarray(array, "RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            array = np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
            warn.append(f"{path.name}: {path.suffix} holds no transparency; the transparent parts are "
                        f"composited on white, as the model saw them (write .png to keep the alpha)")
        save_image_atomic(array, path, icc=self.icc, exif=self.exif, dpi=self.dpi)
        return warn


def load_photo(path: str | os.PathLike | bytes, label: str = "upload") -> Photo:
    """Read an image file (or its bytes) as a :class:`Photo`, honouring the EXIF orientation."""
    img, name = _decode(path, label)
    exif, icc, dpi = metadata(img)
    profile = rgb_profile(img)
    own = _converted(name, lambda: np.array(_to_rgb(img), dtype=np.uint8))     # in the file's colours
    rgb = _converted(name, transform, profile, SRGB, own) if profile is not None else own
    if img.mode == "L":
        return Photo(rgb, np.array(img, dtype=np.uint8), "L", icc_for(icc, "GRAY"), exif, dpi)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = _converted(name, lambda: np.array(img.convert("RGBA"), dtype=np.uint8))
        return Photo(rgb, rgba, "RGBA", icc if profile is not None else None, exif, dpi)
    # The file's own pixels, in its own profile: the output keeps them, and the profile with them.
    return Photo(rgb, own, "RGB", icc if profile is not None else None, exif, dpi)


#: The one rule for what counts as hole, wherever a mask comes from (CLI, API, page, Python):
#: **white = hole**.  In a mask file or a PIL image, a pixel brighter than HOLE_LEVEL (of 255; with
#: an alpha channel, also opaque above HOLE_LEVEL); in an array, a nonzero / True value.  Said in
#: every help text as MASK_RULE.
HOLE_LEVEL = 127
MASK_RULE = "white = hole: in a mask image, pixels brighter than 127 (of 255); in an array, nonzero / True"
#: above this share of the photo, a hole is more likely an inverted mask than what was meant
MOST_OF_THE_PHOTO = 0.5


def load_mask(path: str | os.PathLike | bytes, size: tuple[int, int] | None = None, label: str = "upload",
              notes: list[str] | None = None) -> np.ndarray:
    """Read a mask file as a ``bool`` ``(H, W)`` array, True = hole (:data:`MASK_RULE`).

    If ``size`` = ``(H, W)`` is given and differs, the mask is resized with nearest neighbour.
    ``path`` may also be the file's bytes.  ``notes``: a list that gets a warning when the file has
    paint but none of it bright enough to count as hole (a stroke painted in grey).
    """
    img, name = _decode(path, label)    # the same pixel frame as load_image gives the photo
    return _converted(name, _mask_array, img, size, notes)


def _mask_array(img: Image.Image, size: tuple[int, int] | None, notes: list[str] | None = None) -> np.ndarray:
    if img.mode == "PA" or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")  # a palette layer with transparency is a painted layer too
    if img.mode in ("RGBA", "LA"):
        # A painted layer: the hole is wherever paint is opaque and bright.
        gray = np.asarray(img.convert("L"), dtype=np.uint8)
        alpha = np.asarray(img.getchannel("A"), dtype=np.uint8)
        arr = np.where(alpha > HOLE_LEVEL, gray, 0).astype(np.uint8)
    else:
        arr = np.asarray(_to_rgb(img).convert("L"), dtype=np.uint8)
    mask = arr > HOLE_LEVEL
    if notes is not None and not mask.any():
        # JPEG noise around black stays below a few levels; paint is well above it.
        painted = arr > 16
        if painted.any():
            notes.append(f"the mask has paint ({int(painted.sum()):,} pixels, at most grey {int(arr.max())}) but "
                         f"none counts as hole: only pixels brighter than {HOLE_LEVEL} do; paint the hole white")
    if size is not None and mask.shape != tuple(size):
        mask = resize_mask(mask, size)
    return mask


def coverage_warning(mask: np.ndarray) -> str | None:
    """A warning when the hole (bool ``(H, W)``) covers most of the photo: an inverted mask."""
    share = float(np.count_nonzero(mask)) / mask.size
    if share <= MOST_OF_THE_PHOTO:
        return None
    return (f"the hole covers {share:.0%} of the photo; is the mask inverted? ({MASK_RULE})")


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a bool mask to ``(H, W)``."""
    h, w = size
    img = Image.fromarray(mask.astype(np.uint8) * 255, "L").resize((w, h), Image.NEAREST)
    return np.asarray(img) > 127


FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".png": "PNG", ".bmp": "BMP",
           ".tif": "TIFF", ".tiff": "TIFF"}


def _format(path: Path) -> str | None:
    return FORMATS.get(path.suffix.lower())


def save_image_atomic(array: np.ndarray, path: str | os.PathLike, *, icc: bytes | None = None,
                      exif: bytes | None = None, dpi: tuple[float, float] | None = None) -> None:
    """Write a uint8 image to ``path`` via a temp file and a rename, so a crash never leaves half a file.

    WebP is written lossless (the pixels given are the pixels stored, as with PNG); JPEG at
    quality 95.  ``icc``, ``exif`` and ``dpi`` are stored where the format can hold them.
    On any failure or interruption the temp file is removed and ``path`` is left as it was."""
    path = Path(path)
    fmt = _format(path)
    if fmt is None:
        raise ImageError(f"{path}: unsupported output format {path.suffix!r} (use .png, .jpg or .webp)")
    array = np.asarray(array)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    options: dict = {"JPEG": {"quality": 95}, "WEBP": {"lossless": True, "exact": True}}.get(fmt, {}).copy()
    if icc and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        options["icc_profile"] = icc
    if exif and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        options["exif"] = exif
    if dpi and fmt in ("JPEG", "PNG", "TIFF", "BMP"):
        options["dpi"] = dpi
    image = Image.fromarray(array)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            image.save(fh, format=fmt, **options)

    atomic_write(path, write)
