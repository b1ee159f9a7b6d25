"""Image folders, preprocessing and mask generators.  Imports nothing from the rest of ganfill.

Names are imported from their modules on first use, so that what needs only a size or a box
(``ganfill methods``, the option checks) does not load torch.
"""

from .lazy import lazy_exports

_WHERE = {
    **dict.fromkeys(["ImageError", "Photo", "load_image", "load_mask", "load_photo", "resize_mask",
                     "save_image_atomic"], "images"),
    **dict.fromkeys(["NonFiniteError", "mask_to_tensor", "to_tensor", "to_uint8"], "tensors"),
    **dict.fromkeys(["WILD_VALIDATION", "ArrayFaces", "FaceFolder", "check_faces", "default_data_root", "list_images",
                     "preprocess", "scan_images", "wild_validation_faces", "without_wild_validation"], "dataset"),
    **dict.fromkeys(["MODEL_SIZE", "WILD_SIZE"], "sizes"),
    **dict.fromkeys(["IMAGE_MASK_KINDS", "MASK_KINDS", "make_mask", "make_masks", "off_face_masks"], "masks"),
}
__all__ = list(_WHERE)

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
