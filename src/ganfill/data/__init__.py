"""Image folders, preprocessing and mask generators.  Imports nothing from the rest of ganfill."""

from .images import (ImageError, Photo, load_image, load_mask, load_photo, mask_to_tensor, resize_mask, save_image_atomic,
                     to_tensor, to_uint8)
from .dataset import (MODEL_SIZE, WILD_SIZE, WILD_VALIDATION, ArrayFaces, FaceFolder, check_faces, default_data_root,
                      list_images, preprocess, scan_images, wild_validation_faces, without_wild_validation)
from .masks import MASK_KINDS, make_mask, make_masks

__all__ = [
    "ImageError", "Photo", "load_image", "load_mask", "load_photo", "mask_to_tensor", "resize_mask", "save_image_atomic",
    "to_tensor", "to_uint8",
    "MODEL_SIZE", "WILD_SIZE", "WILD_VALIDATION", "ArrayFaces", "FaceFolder", "check_faces", "default_data_root",
    "list_images", "preprocess", "scan_images", "wild_validation_faces", "without_wild_validation",
    "MASK_KINDS", "make_mask", "make_masks",
]
