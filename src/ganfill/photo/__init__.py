"""Filling the hole of a photo of any size, in the three steps the data goes through.

The learned methods work on square face crops at their own size (``fixed_size``: 64 or 128 px),
so for them a photo goes through:

1. :mod:`.crop`: the square around the detected face (``crop="face"``), around the hole
   (``crop="hole"``), or a given box; widened if needed so that it holds the whole hole; resized
   to the model's size (area averaging; a model pixel is hole if any of its photo pixels is);
2. :mod:`.fill`: the method, on the crops of every photo of a batch at once, K candidates each;
3. :mod:`.paste`: each candidate scaled back up (bicubic, over the hole's window only), the photo's
   own fine detail added where the crop is larger than the model's size, and Poisson-blended into
   the hole of the full-size photo, so the seam follows the photo's colours.

Classical methods (``telea``, ...) work at any size and run on the photo (or the window around the
hole they read) directly.  In every case only hole pixels change: outside the mask the result is the
input, byte for byte.  :class:`ganfill.Pipeline` runs the steps; this package holds no state.
"""

from .crop import CROP_MODES, NoFaceError, PreparedPhoto, choose_crop, prepare
from .fill import fill
from .paste import PhotoResult, paste_back

__all__ = ["CROP_MODES", "NoFaceError", "PhotoResult", "PreparedPhoto", "choose_crop", "fill", "paste_back",
           "prepare"]
