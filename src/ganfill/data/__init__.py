"""Image folders, preprocessing and mask generators.  Imports nothing from the rest of ganfill.

Names are imported from their modules on first use, so that what needs only a size or a box
(``ganfill methods``, the option checks) does not load torch.
"""

import importlib

_WHERE = {
    **dict.fromkeys(["ImageError", "Photo", "load_image", "load_mask", "load_photo", "mask_to_tensor", "resize_mask",
                     "save_image_atomic", "to_tensor", "to_uint8"], "images"),
    **dict.fromkeys(["WILD_VALIDATION", "ArrayFaces", "FaceFolder", "check_faces", "default_data_root", "list_images",
                     "preprocess", "scan_images", "wild_validation_faces", "without_wild_validation"], "dataset"),
    **dict.fromkeys(["MODEL_SIZE", "WILD_SIZE"], "sizes"),
    **dict.fromkeys(["MASK_KINDS", "make_mask", "make_masks"], "masks"),
}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
