"""Reading and writing images and masks safely, and converting between uint8 arrays and tensors."""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

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
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{path}: not a readable image ({type(exc).__name__}: {exc})") from None
    return img


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode to 8-bit RGB; transparent pixels are composited on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        # 16-bit modes span 0-65535 whatever the content; mode "I" does not say its depth.
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        img = Image.fromarray(np.clip(arr * (255.0 if arr.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("RGB")


def load_image(path: str | os.PathLike | bytes, label: str = "upload") -> np.ndarray:
    """Read an image file (or its bytes) as ``uint8`` RGB ``(H, W, 3)``, honouring the EXIF orientation."""
    img = _open(path, label)
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block should not make an otherwise good image unusable
        pass
    return np.array(_to_rgb(img), dtype=np.uint8)


@dataclass
class Photo:
    """A photo as the methods see it (``rgb``) and as its file holds it (``pixels`` in ``mode``).

    ``mode`` is "L" (8-bit grey, ``(H, W)``), "RGB" or "RGBA" (``(H, W, 4)``, alpha kept); other
    kinds (16-bit, CMYK, palette, ...) are held as their 8-bit RGB conversion.  Results are written
    back in ``mode``, so that the pixels outside the hole stay exactly what was read.
    """

    rgb: np.ndarray
    pixels: np.ndarray
    mode: str

    def with_fill(self, filled_rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``pixels`` with the hole taken from ``filled_rgb`` (uint8 ``(H, W, 3)``), in ``mode``."""
        if self.mode == "L":
            fill = np.asarray(Image.fromarray(filled_rgb).convert("L"))
            return np.where(mask, fill, self.pixels)
        if self.mode == "RGBA":
            out = self.pixels.copy()
            out[..., :3] = np.where(mask[..., None], filled_rgb, self.pixels[..., :3])
            return out
        return np.where(mask[..., None], filled_rgb, self.pixels)


def load_photo(path: str | os.PathLike | bytes, label: str = "upload") -> Photo:
    """Read an image file (or its bytes) as a :class:`Photo`, honouring the EXIF orientation."""
    img = _open(path, label)
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:
        pass
    rgb = np.array(_to_rgb(img), dtype=np.uint8)
    if img.mode == "L":
        return Photo(rgb, np.array(img, dtype=np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return Photo(rgb, np.array(img.convert("RGBA"), dtype=np.uint8), "RGBA")
    return Photo(rgb, rgb, "RGB")


def load_mask(path: str | os.PathLike | bytes, size: tuple[int, int] | None = None, label: str = "upload"
              ) -> np.ndarray:
    """Read a mask file as a ``bool`` ``(H, W)`` array, True = hole (pixel value > 127).

    If ``size`` = ``(H, W)`` is given and differs, the mask is resized with nearest neighbour.
    ``path`` may also be the file's bytes.
    """
    img = _open(path, label)
    try:
        img = ImageOps.exif_transpose(img)  # the same pixel frame as load_image gives the photo
    except Exception:
        pass
    if img.mode == "PA" or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")  # a palette layer with transparency is a painted layer too
    if img.mode in ("RGBA", "LA"):
        # A painted layer: the hole is wherever paint is opaque and bright.
        gray = np.asarray(img.convert("L"), dtype=np.uint8)
        alpha = np.asarray(img.getchannel("A"), dtype=np.uint8)
        arr = np.where(alpha > 127, gray, 0).astype(np.uint8)
    else:
        arr = np.asarray(_to_rgb(img).convert("L"), dtype=np.uint8)
    mask = arr > 127
    if size is not None and mask.shape != tuple(size):
        mask = resize_mask(mask, size)
    return mask


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a bool mask to ``(H, W)``."""
    h, w = size
    img = Image.fromarray(mask.astype(np.uint8) * 255, "L").resize((w, h), Image.NEAREST)
    return np.asarray(img) > 127


def save_image_atomic(array: np.ndarray, path: str | os.PathLike) -> None:
    """Write a uint8 image to ``path`` via a temp file and a rename, so a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".png": "PNG", ".bmp": "BMP",
           ".tif": "TIFF", ".tiff": "TIFF"}.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(f"{path}: unsupported output format {path.suffix!r} (use .png, .jpg or .webp)")
    array = np.asarray(array)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            Image.fromarray(array).save(fh, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` or ``(N, H, W, 3)`` -> float ``(N, 3, H, W)`` in ``[-1, 1]``."""
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    t = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2).float()
    return t / 127.5 - 1.0


def to_uint8(tensor: torch.Tensor) -> np.ndarray:
    """float ``(N, 3, H, W)`` in ``[-1, 1]`` -> uint8 ``(N, H, W, 3)``, rounded to nearest."""
    t = ((tensor.detach().float().cpu().clamp(-1, 1) + 1.0) * 127.5).round()
    return t.permute(0, 2, 3, 1).to(torch.uint8).numpy()


def mask_to_tensor(masks: np.ndarray) -> torch.Tensor:
    """bool/0-1 ``(H, W)`` or ``(N, H, W)`` -> float ``(N, 1, H, W)`` with 1 = hole."""
    arr = np.asarray(masks)
    if arr.ndim == 2:
        arr = arr[None]
    return torch.from_numpy((arr > 0).astype(np.float32))[:, None]
